"""Writes for members and messages. Every change to these models goes through here."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from chat.errors import ErrorCode, HearthError
from chat.events import broadcast_to_room_sync, tell_member_sockets_sync
from chat.handles import generate_handle, handle_key, validate_handle
from chat.models import Member, Message, Role
from chat.rendering import render_message_html
from moderation import duty, escalations, support
from moderation import services as moderation
from moderation.models import ScreeningAction
from moderation.policy import Verdict
from rooms import sessions
from rooms.models import Room

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
        member.role = Role.ADMIN
        member.save(update_fields=["role"])
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


def post_message(*, member: Member, room: Room, client_id: str, body: str,
                 recent_bodies: tuple[str, ...] = ()) -> PostResult:
    """Authorise, screen and store a message with the room's next sequence number, once per
    client_id.

    Returns after the commit, so the caller may broadcast. A retry with the same client_id
    returns the stored message (same seq) and creates nothing. Screening runs before anything
    is stored: a blocked message raises MessageBlockedError and leaves no row.
    """
    existing = _message_for_client_id(member_id=member.pk, client_id=client_id)
    if existing is not None:
        return _as_retry(existing, room)
    if not Member.objects.filter(pk=member.pk).exists():
        raise HearthError(ErrorCode.MEMBER_ERASED)
    # Screening comes first: someone in crisis whose message cannot be posted (not their
    # turn, a paused session, a staffed-only room, a timeout) still gets the support card,
    # and the team is alerted with their words.
    verdict = moderation.screen(text=body, room_id=room.pk, recent_bodies=recent_bodies)
    try:
        moderation.ensure_may_post_here(member_id=member.pk, room_id=room.pk)
        duty.ensure_room_open(room=room)
        sessions.ensure_may_post(member_id=member.pk, room=room)
    except HearthError as refusal:
        refusal.support_tier = support.card_tier(verdict.signals)
        if refusal.support_tier is not None:
            escalations.record_for_unposted(member=member, room=room, body=verdict.body,
                                            signals=verdict.signals)
        raise
    if verdict.action == ScreeningAction.BLOCK:
        moderation.log_blocked(verdict)
        raise MessageBlockedError(verdict)
    review_item_id: int | None = None
    escalation_id: int | None = None
    try:
        with transaction.atomic():
            author = Member.objects.filter(pk=member.pk).first()
            if author is None:
                raise HearthError(ErrorCode.MEMBER_ERASED)
            # The row lock on the room orders writers, so seq is gap-free and increasing.
            locked_room = Room.objects.select_for_update().filter(pk=room.pk,
                                                                   is_active=True).first()
            if locked_room is None:
                raise HearthError(ErrorCode.ROOM_NOT_FOUND)
            seq = locked_room.last_seq + 1
            Room.objects.filter(pk=room.pk).update(last_seq=seq)
            message = Message.objects.create(
                room=locked_room, seq=seq, author=author, client_id=client_id,
                body=verdict.body, html=render_message_html(verdict.body),
                status=moderation.status_for(verdict),
            )
            if moderation.needs_review(verdict):
                review_item_id = moderation.open_review_for_screening(
                    message=message, verdict=verdict).pk
            # In this transaction: the escalation exists if the message does, whatever
            # becomes of the live alert.
            escalation = escalations.record_for_message(message=message,
                                                        signals=verdict.signals)
            escalation_id = escalation.pk if escalation else None
    except IntegrityError:
        # Two sockets raced with the same client_id; the other one stored it first.
        existing = _message_for_client_id(member_id=member.pk, client_id=client_id)
        if existing is None:
            raise
        return _as_retry(existing, room)
    return PostResult(message=message, created=True, verdict=verdict,
                      review_item_id=review_item_id, escalation_id=escalation_id)


def _message_for_client_id(*, member_id: int, client_id: str) -> Message | None:
    return (Message.objects.filter(author_id=member_id, client_id=client_id)
            .select_related("author", "room").first())


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
                broadcast_to_room_sync(room_id, {"type": "message_removed", "room": slug,
                                                 "seqs": sorted(seqs), "reason": "erased"})
            tell_member_sockets_sync(member_id, {"type": "member.erased"})

        transaction.on_commit(announce)
    logger.info("member erased", extra={"rooms": len(seqs_by_room)})
