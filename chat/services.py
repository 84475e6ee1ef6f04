"""Writes for members and messages. Every change to these models goes through here."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction

from chat import statements
from chat.errors import ErrorCode, HearthError
from chat.events import broadcast_to_room_sync, tell_member_sockets_sync
from chat.handles import generate_handle, handle_key, validate_handle
from chat.models import Member, Message, Role
from chat.protocol import RemovalReason, message_removed_frame
from chat.rendering import render_message_html
from moderation import audit, duty, escalations, settings_history, support
from moderation import services as moderation
from moderation.models import ScreeningAction
from moderation.policy import Verdict
from rooms import sessions
from rooms.models import Room
from rooms.services import claim_seqs

logger = logging.getLogger(__name__)

_HANDLE_ATTEMPTS = 20


@dataclass(frozen=True)
class PostResult:
    message: Message
    created: bool  # False when this client_id was already stored: a retry, same seq
    verdict: Verdict | None  # None for a retry (screened the first time)
    review_item_id: int | None = None
    escalation_id: int | None = None


class MessageBlockedError(HearthError):
    """Screening refused the message; nothing was stored."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(ErrorCode.MESSAGE_BLOCKED)
        self.verdict = verdict


def _create_member_with_fresh_handle(*, role: str, user: User | None) -> Member:
    for _attempt in range(_HANDLE_ATTEMPTS):
        handle = generate_handle()
        try:
            with transaction.atomic():
                return Member.objects.create(handle=handle, handle_key=handle_key(handle),
                                             role=role, user=user)
        except IntegrityError:
            continue  # that handle is taken; draw another
    raise RuntimeError("could not find a free handle; extend the word lists")


def create_anonymous_member() -> Member:
    return _create_member_with_fresh_handle(role=Role.MEMBER, user=None)


def member_for_staff_user(*, user: User) -> Member:
    """The handle a staff user appears under; made on first login if an operator has not."""
    member = Member.objects.filter(user_id=user.pk).first()
    if member is None:
        role = Role.ADMIN if user.is_superuser else Role.MEMBER
        member = _create_member_with_fresh_handle(role=role, user=user)
    elif user.is_superuser and member.role != Role.ADMIN:
        before = settings_history.snapshot(member)
        member.role = Role.ADMIN
        member.save(update_fields=["role"])
        settings_history.record_setting_change(actor=settings_history.SIGN_IN_ACTOR,
                                               record=member, before=before,
                                               after=settings_history.snapshot(member))
    return member


def add_staff(*, username: str, password: str, role: Role) -> Member:
    """Create a staff login and its handle (used by the add_staff command and tests)."""
    if role == Role.MEMBER:
        raise ValueError("staff need a staff role")
    with transaction.atomic():
        user = User.objects.create_user(username=username, password=password,
                                              is_staff=role == Role.ADMIN,
                                              is_superuser=role == Role.ADMIN)
        return _create_member_with_fresh_handle(role=role, user=user)


def set_staff_role(*, username: str, role: Role, actor: audit.Actor) -> Member:
    """Give a staff login another staff role (admins are also Django superusers, as
    add_staff makes them), recorded in the history of settings."""
    if role == Role.MEMBER:
        raise ValueError("staff need a staff role")
    with transaction.atomic():
        user = User.objects.select_for_update().filter(username=username).first()
        if user is None:
            raise ValueError(f"no staff login is called {username!r}")
        member = Member.objects.select_for_update().filter(user_id=user.pk).first()
        if member is None:
            member = _create_member_with_fresh_handle(role=Role.MEMBER, user=user)
        before = settings_history.snapshot(member)
        member.role = role
        member.save(update_fields=["role"])
        user.is_staff = user.is_superuser = role == Role.ADMIN
        user.save(update_fields=["is_staff", "is_superuser"])
        member.user = user
        settings_history.record_setting_change(actor=actor, record=member, before=before,
                                               after=settings_history.snapshot(member))
    return member


def change_handle(*, member: Member, new_handle: str) -> Member:
    handle = validate_handle(new_handle)
    key = handle_key(handle)
    if Member.objects.filter(handle_key=key).exclude(pk=member.pk).exists():
        raise HearthError(ErrorCode.HANDLE_TAKEN)
    try:
        with transaction.atomic():
            updated = Member.objects.filter(pk=member.pk).update(handle=handle, handle_key=key)
    except IntegrityError:
        raise HearthError(ErrorCode.HANDLE_TAKEN) from None
    if not updated:
        raise HearthError(ErrorCode.MEMBER_ERASED)
    member.handle, member.handle_key = handle, key
    return member


@dataclass(frozen=True)
class PostRequest:
    member: Member
    room: Room
    client_id: str
    body: str
    recent_bodies: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Screened:
    request: PostRequest
    verdict: Verdict


def post_message(*, member: Member, room: Room, client_id: str, body: str,
                 recent_bodies: tuple[str, ...] = ()) -> PostResult:
    """Authorise, screen and store a message with the room's next sequence number, once per
    client_id.

    Returns after the commit, so the caller may broadcast. A retry with the same client_id
    returns the stored message (same seq) and creates nothing. Screening runs before anything
    is stored: a blocked message raises MessageBlockedError and leaves no row.
    """
    [outcome] = post_messages([PostRequest(member=member, room=room, client_id=client_id,
                                           body=body, recent_bodies=recent_bodies)])
    if isinstance(outcome, HearthError):
        raise outcome
    return outcome


def post_messages(requests: Sequence[PostRequest]) -> list[PostResult | HearthError]:
    """post_message for several messages at once, stored in one transaction (one commit, so
    one disk flush on PostgreSQL, for all of them) by a few statements whatever their number.
    Each gets its own outcome, in order: its result, or the refusal post_message would have
    raised. Seqs follow the list's order within each room.
    """
    senders = statements.senders([(r.member.pk, r.client_id) for r in requests])
    moderation.prefetch_for_posts([(r.member.pk, r.room.pk) for r in requests])
    outcomes: list[PostResult | HearthError | _Screened] = [
        _screen_and_authorise(request, senders) for request in requests]
    to_store = [(i, o) for i, o in enumerate(outcomes) if isinstance(o, _Screened)]
    if len(to_store) == 1:
        index, screened = to_store[0]
        outcomes[index] = _store_alone(screened)
    elif to_store:
        try:
            stored = list(zip((i for i, _s in to_store),
                              _store([screened for _i, screened in to_store]), strict=True))
        except IntegrityError:
            # A client_id raced in from another socket, came twice in this batch, or an
            # author was erased: the rolled-back batch is stored one by one, each with its
            # own answer.
            stored = [(i, _store_alone(screened)) for i, screened in to_store]
        for index, outcome in stored:
            outcomes[index] = outcome
    return [o for o in outcomes if not isinstance(o, _Screened)]


def _screen_and_authorise(request: PostRequest, senders: statements.Senders
                          ) -> PostResult | HearthError | _Screened:
    member, room = request.member, request.room
    retried_message_id = senders.retried.get((member.pk, request.client_id))
    if retried_message_id is not None:
        try:
            return _as_retry(_stored_message(retried_message_id), room)
        except HearthError as refusal:
            return refusal
    if member.pk not in senders.present:
        return HearthError(ErrorCode.MEMBER_ERASED)
    # Screening comes first: someone in crisis whose message cannot be posted (not their
    # turn, a paused session, a staffed-only room, a timeout) still gets the support card,
    # and the team is alerted with their words.
    verdict = moderation.screen(text=request.body, room_id=room.pk,
                                recent_bodies=request.recent_bodies)
    try:
        moderation.ensure_may_post_here(member_id=member.pk, room_id=room.pk)
        duty.ensure_room_open(room=room)
        sessions.ensure_may_post(member_id=member.pk, room=room)
    except HearthError as refusal:
        refusal.support_tier = support.card_tier(verdict.signals)
        if refusal.support_tier is not None:
            escalations.record_for_unposted(member=member, room=room, body=verdict.body,
                                            signals=verdict.signals)
        return refusal
    if verdict.action == ScreeningAction.BLOCK:
        moderation.log_blocked(verdict)
        return MessageBlockedError(verdict)
    return _Screened(request=request, verdict=verdict)


def _store(batch: Sequence[_Screened]) -> list[PostResult | HearthError]:
    """Write screened messages in one transaction. An author erased since the check before
    screening fails the foreign key (IntegrityError), which the callers answer."""
    drafts = [statements.Draft(room=s.request.room, author=s.request.member,
                               client_id=s.request.client_id, body=s.verdict.body,
                               original_body=_authors_copy(s),
                               html=render_message_html(s.verdict.body),
                               status=moderation.status_for(s.verdict)) for s in batch]
    together = connection.vendor == "postgresql"
    # On PostgreSQL the claims and the insert go as one message, which is a transaction of
    # its own: a batch whose messages need nothing more stored (most) costs one round trip
    # instead of BEGIN, a claim per room, the insert and COMMIT, each waiting for its answer.
    own_transaction = together and not connection.in_atomic_block and not any(
        _has_follow_ups(s.verdict) for s in batch)
    with nullcontext() if own_transaction else transaction.atomic():
        stored = (statements.claim_and_insert_together(drafts) if together
                  else _claim_then_insert(drafts))
        return [HearthError(ErrorCode.ROOM_NOT_FOUND) if message is None
                else _after_storing(message, screened.verdict)
                for message, screened in zip(stored, batch, strict=True)]


def _authors_copy(screened: _Screened) -> str:
    """What the author keeps beside a masked body (Message.original_body): "" when the room
    saw their words as written."""
    verdict = screened.verdict
    own = verdict.author_body if verdict.author_body is not None else screened.request.body
    return own if own != verdict.body else ""


def _claim_then_insert(drafts: Sequence[statements.Draft]) -> list[Message | None]:
    """Claim each draft's seq (in list order within each room) and insert them all: a
    statement per room and one insert. None for a draft whose room is gone or closed. Call
    inside a transaction."""
    per_room = Counter(draft.room.pk for draft in drafts)
    # In ascending room order, so that two batches never wait for each other's room locks.
    next_seqs = {room_id: claim_seqs(room_id=room_id, count=count)
                 for room_id, count in sorted(per_room.items())}
    rows: list[tuple[statements.Draft, int]] = []
    for draft in drafts:
        seq = next_seqs[draft.room.pk]
        if seq is not None:
            rows.append((draft, seq))
            next_seqs[draft.room.pk] = seq + 1
    inserted = iter(statements.insert_messages(rows))
    return [None if next_seqs[draft.room.pk] is None else next(inserted) for draft in drafts]


def _has_follow_ups(verdict: Verdict) -> bool:
    """Whether storing this message also stores a review item or an escalation, which must
    share its transaction."""
    return (moderation.needs_review(verdict)
            or escalations.escalation_tier(verdict.signals) is not None)


def _after_storing(message: Message, verdict: Verdict) -> PostResult:
    review_item_id: int | None = None
    if moderation.needs_review(verdict):
        review_item_id = moderation.open_review_for_screening(message=message,
                                                              verdict=verdict).pk
    # In this transaction: the escalation exists if the message does, whatever becomes of
    # the live alert.
    escalation = escalations.record_for_message(message=message, signals=verdict.signals)
    return PostResult(message=message, created=True, verdict=verdict,
                      review_item_id=review_item_id,
                      escalation_id=escalation.pk if escalation else None)


def _store_alone(screened: _Screened) -> PostResult | HearthError:
    request = screened.request
    try:
        [outcome] = _store([screened])
        return outcome
    except IntegrityError:
        # Two sockets raced with the same client_id and the other one stored it first, or
        # the author was erased while posting.
        existing = _message_for_client_id(member_id=request.member.pk,
                                          client_id=request.client_id)
        if existing is not None:
            try:
                return _as_retry(existing, request.room)
            except HearthError as refusal:
                return refusal
        if not Member.objects.filter(pk=request.member.pk).exists():
            return HearthError(ErrorCode.MEMBER_ERASED)
        raise


def _message_for_client_id(*, member_id: int, client_id: str) -> Message | None:
    message_id = statements.senders([(member_id, client_id)]).retried.get(
        (member_id, client_id))
    return None if message_id is None else _stored_message(message_id)


def _stored_message(message_id: int) -> Message:
    return Message.objects.select_related("author", "room").get(pk=message_id)


def _as_retry(existing: Message, room: Room) -> PostResult:
    if existing.room_id != room.pk:
        raise HearthError(ErrorCode.INVALID_FIELD,
                          "That client_id was already used for a message in another room.")
    return PostResult(message=existing, created=False, verdict=None)


def forget_member(*, member: Member) -> None:
    """Erase an anonymous member: the row, the handle and every message they wrote.

    Open screens drop the erased messages and the member's own sockets are closed.
    """
    if member.user_id is not None:
        raise HearthError(ErrorCode.INVALID_FIELD,
                          "Staff accounts are removed by an administrator, not erased here.")
    seqs_by_room: dict[tuple[int, str], list[int]] = defaultdict(list)
    with transaction.atomic():
        rows = Message.objects.filter(author=member).values_list("room_id", "room__slug", "seq")
        for room_id, slug, seq in rows:
            seqs_by_room[(room_id, slug)].append(seq)
        member_id = member.pk
        member.delete()

        def announce() -> None:
            for (room_id, slug), seqs in seqs_by_room.items():
                broadcast_to_room_sync(room_id, message_removed_frame(
                    room_slug=slug, seqs=seqs, reason=RemovalReason.ERASED))
            tell_member_sockets_sync(member_id, {"type": "member.erased"})

        transaction.on_commit(announce)
    logger.info("member erased", extra={"rooms": len(seqs_by_room)})
