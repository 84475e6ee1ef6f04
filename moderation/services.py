"""Moderation writes: screening a message, reports, mutes and every moderator action.

Each moderator action checks the role, changes the database in one transaction, writes
exactly one audit row, and schedules the live events (hide from every screen, a notice to
the member, the queue update) for after the commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from chat.errors import ErrorCode, HearthError
from chat.events import (
    broadcast_to_room_sync,
    room_group,
    send_to_group_sync,
    staff_broadcast_sync,
    tell_member_sockets_sync,
)
from chat.handles import handle_key
from chat.models import Member, Message, MessageStatus
from chat.protocol import RemovalReason, encode, message_removed_frame
from chat.selectors import collapsed_frame, frame_for_message
from hearth.hotcache import TimedCache
from moderation import audit, distress, escalations, notices, support
from moderation.models import (
    AuditAction,
    AuditEntry,
    GroundRule,
    Mute,
    Report,
    ReportReason,
    ReviewItem,
    ReviewState,
    Sanction,
    SanctionKind,
    ScreeningAction,
    ScreeningPolicy,
)
from moderation.permissions import Action, require, require_moderator, require_staff
from moderation.policy import CRISIS_DETECTOR, PolicyActions, Verdict, decide, urgency_of
from moderation.rules import has_accepted, prefetch_acceptances
from moderation.sanctions import ensure_may_post, prefetch_stale_posting_sanctions
from moderation.screening import normalize_text, screen_message
from moderation.screening.types import DetectorName, ScreeningContext, Severity, Signal, SignalKind
from moderation.selectors import queue_item_frame
from rooms.models import Room

logger = logging.getLogger(__name__)

NOTE_MAX_CHARS = 500
HARASSMENT_DETECTOR = DetectorName.HARASSMENT
MAX_TIMEOUT = timedelta(days=30)


# --- before a message is stored --------------------------------------------------------------

def _load_policy_actions(room_id: int) -> PolicyActions:
    policy = (ScreeningPolicy.objects.filter(room_id=room_id).first()
              or ScreeningPolicy.objects.filter(room__isnull=True).first())
    if policy is None:
        return PolicyActions()
    return PolicyActions(contact=policy.contact, harassment=policy.harassment,
                         spam=policy.spam, crisis=policy.crisis)


# Read on every post; forgotten when any policy is saved (moderation/signals.py).
policy_cache: TimedCache[int, PolicyActions] = TimedCache("policy", _load_policy_actions)


def policy_actions(*, room_id: int) -> PolicyActions:
    return policy_cache.get(room_id)


def prefetch_for_posts(pairs: list[tuple[int, int]]) -> None:
    """What ensure_may_post_here reads for these (member, room) pairs and has not cached,
    read in one query each (a batch of posts)."""
    prefetch_acceptances(pairs)
    prefetch_stale_posting_sanctions(pairs)


def ensure_may_post_here(*, member_id: int, room_id: int) -> None:
    """Rules accepted and no timeout or ban in force; raises the matching error."""
    if not has_accepted(member_id=member_id, room_id=room_id):
        raise HearthError(ErrorCode.RULES_NOT_ACCEPTED)
    ensure_may_post(member_id=member_id, room_id=room_id)


def screen(*, text: str, room_id: int, recent_bodies: tuple[str, ...] = ()) -> Verdict:
    """The one function chat calls: every detector, then this room's policy. The verdict
    carries the normalised words the learned detector reads next."""
    normalized = normalize_text(text)
    signals = screen_message(text=text, context=ScreeningContext(recent_bodies=recent_bodies),
                             normalized=normalized)
    verdict = decide(text=text, signals=signals, actions=policy_actions(room_id=room_id))
    return replace(verdict, model_text=normalized.words.text)


def status_for(verdict: Verdict) -> str:
    if verdict.collapsed:
        return MessageStatus.COLLAPSED
    return MessageStatus.HELD if verdict.action == ScreeningAction.HOLD else MessageStatus.VISIBLE


def needs_review(verdict: Verdict) -> bool:
    """Held messages, crisis signals and severe signals go to the moderators' queue."""
    return verdict.action == ScreeningAction.HOLD or any(
        s.detector == CRISIS_DETECTOR or s.severity >= Severity.CRITICAL
        for s in verdict.signals)


def open_review_for_screening(*, message: Message, verdict: Verdict) -> ReviewItem:
    """Called inside the transaction that stores the message."""
    return ReviewItem.objects.create(
        message=message, urgency=urgency_of(verdict.signals, 0),
        signals=[{"detector": s.detector, "kind": s.kind, "rule": s.rule,
                  "severity": int(s.severity)} for s in verdict.signals])


# --- members: reports and mutes ---------------------------------------------------------------

def visible_message_for(*, viewer: Member, room_id: int, seq: int) -> Message:
    message = (Message.objects.select_related("author", "room")
               .filter(room_id=room_id, seq=seq).first())
    if message is None or (message.status != MessageStatus.VISIBLE
                           and message.author_id != viewer.pk):
        raise HearthError(ErrorCode.MESSAGE_NOT_FOUND)
    return message


@dataclass(frozen=True)
class ReportReceipt:
    report_id: int
    seq: int


def report_message(*, reporter: Member, room_id: int, seq: int, reason: str,
                   note: str) -> ReportReceipt:
    if reason not in ReportReason.values:
        raise HearthError(ErrorCode.INVALID_FIELD,
                          f"reason must be one of: {', '.join(ReportReason.values)}")
    if len(note) > NOTE_MAX_CHARS:
        raise HearthError(ErrorCode.NOTE_TOO_LONG)
    message = visible_message_for(viewer=reporter, room_id=room_id, seq=seq)
    if message.author_id == reporter.pk:
        raise HearthError(ErrorCode.CANNOT_REPORT_SELF)
    try:
        with transaction.atomic():
            report = Report.objects.create(message=message, reporter=reporter, reason=reason,
                                           note=note.strip())
            item, _created = ReviewItem.objects.select_for_update().get_or_create(
                message=message)
            item.report_count = Report.objects.filter(message=message).count()
            if item.state == ReviewState.RESOLVED:
                item.state, item.resolved_at, item.resolution = ReviewState.OPEN, None, ""
            # Any "I'm worried" report keeps the item first, whatever later reports say.
            worried = Report.objects.filter(message=message,
                                            reason=ReportReason.WORRIED).exists()
            base = urgency_of(_signals_of(item), item.report_count)
            item.urgency = base + (100 if worried else 0)
            item.save()
            transaction.on_commit(lambda: push_queue_item(item.pk))
    except IntegrityError:
        raise HearthError(ErrorCode.ALREADY_REPORTED) from None
    return ReportReceipt(report_id=report.pk, seq=seq)


def _signals_of(item: ReviewItem) -> tuple[Signal, ...]:
    return tuple(Signal(detector=s["detector"], kind=s["kind"], rule=s["rule"],
                        severity=Severity(s["severity"])) for s in item.signals)


def mute_member(*, member: Member, handle: str) -> Member:
    target = Member.objects.filter(handle_key=handle_key(handle)).first()
    if target is None:
        raise HearthError(ErrorCode.MEMBER_NOT_FOUND)
    if target.pk == member.pk:
        raise HearthError(ErrorCode.INVALID_FIELD, "You can't mute yourself.")
    Mute.objects.get_or_create(member=member, muted=target)
    return target


def unmute_member(*, member: Member, handle: str) -> None:
    Mute.objects.filter(member=member, muted__handle_key=handle_key(handle)).delete()


def muted_member_ids(*, member_id: int) -> set[int]:
    return muted_ids_by_member(member_ids=[member_id])[member_id]


def muted_ids_by_member(*, member_ids: list[int]) -> dict[int, set[int]]:
    """Whom each of these members muted (one query for a burst of joins)."""
    muted: dict[int, set[int]] = {member_id: set() for member_id in member_ids}
    for member_id, muted_id in Mute.objects.filter(member_id__in=member_ids).values_list(
            "member_id", "muted_id"):
        muted[member_id].add(muted_id)
    return muted


# --- moderators -------------------------------------------------------------------------------

def _audit(*, actor: Member, action: AuditAction, target: Member | None = None,
           message: Message | None = None, room_slug: str = "", rule: str = "",
           reason: str = "", member_in_distress: bool = False) -> AuditEntry:
    return audit.record(actor=actor, action=action, target=target, message=message,
                        room_slug=room_slug, rule=rule, reason=reason,
                        member_in_distress=member_in_distress)


def _open_item(item_id: int) -> ReviewItem:
    item = (ReviewItem.objects.select_for_update()
            .select_related("message", "message__author", "message__room")
            .filter(pk=item_id).first())
    if item is None:
        raise HearthError(ErrorCode.MESSAGE_NOT_FOUND)
    if item.state == ReviewState.RESOLVED:
        raise HearthError(ErrorCode.ALREADY_RESOLVED)
    return item


def _resolve(item: ReviewItem, resolution: str) -> None:
    item.state, item.resolution, item.resolved_at = (ReviewState.RESOLVED, resolution,
                                                     timezone.now())
    item.save(update_fields=["state", "resolution", "resolved_at"])


def _check_reason(reason: str) -> str:
    if len(reason) > NOTE_MAX_CHARS:
        raise HearthError(ErrorCode.NOTE_TOO_LONG)
    return reason.strip()


def _check_rule(rule: str) -> str:
    # Every decision cites a ground rule: the member's notice and the audit row name it.
    if not rule.strip():
        raise HearthError(ErrorCode.MISSING_FIELD, "Every decision cites a ground rule.")
    if not GroundRule.objects.filter(code=rule.strip(), is_active=True).exists():
        raise HearthError(ErrorCode.INVALID_FIELD, "That is not one of the ground rules.")
    return rule.strip()


def restore_message(*, moderator: Member, item_id: int, rule: str, reason: str) -> Message:
    require_moderator(moderator)
    reason = _check_reason(reason)
    rule = _check_rule(rule)
    with transaction.atomic():
        item = _open_item(item_id)
        message = item.message
        was_hidden_from_room = message.status != MessageStatus.VISIBLE
        message.status = MessageStatus.VISIBLE
        message.save(update_fields=["status"])
        _resolve(item, "restored")
        _audit(actor=moderator, action=AuditAction.RESTORE, target=message.author,
               message=message, rule=rule, reason=reason)

        def announce() -> None:
            if was_hidden_from_room:
                # `released`: a moderator let it through (the room may uncover it).
                broadcast_to_room_sync(message.room_id,
                                       {**frame_for_message(message), "released": True},
                                       author_id=message.author_id)
            tell_member_sockets_sync(message.author_id, notices.event(
                notices.restored(message=message)))
            _push_queue_removed(item.pk)

        transaction.on_commit(announce)
    return message


def hide_message(*, moderator: Member, item_id: int, rule: str, reason: str) -> Message:
    require_moderator(moderator)
    reason = _check_reason(reason)
    rule = _check_rule(rule)
    with transaction.atomic():
        item = _open_item(item_id)
        message = item.message
        # Method details stay hidden from the room, never from the person who wrote them:
        # their words about their own life are not taken away (crisis path, never punitive).
        kept_for_author = message.status == MessageStatus.COLLAPSED
        message.status = MessageStatus.HELD if kept_for_author else MessageStatus.HIDDEN
        message.save(update_fields=["status"])
        _resolve(item, "hidden")
        _audit(actor=moderator, action=AuditAction.HIDE, target=message.author,
               message=message, rule=rule, reason=reason)

        def announce() -> None:
            if kept_for_author:
                _remove_for_everyone_but_the_author(message)
                tell_member_sockets_sync(message.author_id, notices.event(
                    notices.kept_for_author(seq=message.seq)))
            else:
                broadcast_to_room_sync(message.room_id, message_removed_frame(
                    room_slug=message.room.slug, seqs=[message.seq],
                    reason=RemovalReason.HIDDEN))
                tell_member_sockets_sync(message.author_id, notices.event(
                    notices.hidden(message=message, rule=rule)))
            _push_queue_removed(item.pk)

        transaction.on_commit(announce)
    return message


def dismiss_item(*, moderator: Member, item_id: int, reason: str) -> None:
    require_moderator(moderator)
    reason = _check_reason(reason)
    with transaction.atomic():
        item = _open_item(item_id)
        message = item.message
        if message.status in (MessageStatus.HELD, MessageStatus.COLLAPSED):
            # Dismissing a held message means it was fine: it goes out to the room.
            message.status = MessageStatus.VISIBLE
            message.save(update_fields=["status"])
        _resolve(item, "dismissed")
        _audit(actor=moderator, action=AuditAction.DISMISS, target=message.author,
               message=message, reason=reason)
        released = message.status == MessageStatus.VISIBLE

        def announce() -> None:
            if released:
                # `released`: a moderator let it through (the room may uncover it).
                broadcast_to_room_sync(message.room_id,
                                       {**frame_for_message(message), "released": True},
                                       author_id=message.author_id)
            _push_queue_removed(item.pk)

        transaction.on_commit(announce)


SANCTION_AUDIT = {SanctionKind.WARNING: AuditAction.WARN, SanctionKind.TIMEOUT: AuditAction.TIMEOUT,
                  SanctionKind.BAN: AuditAction.BAN}


def sanction_member(*, moderator: Member, member_id: int, kind: SanctionKind, rule: str,
                    reason: str, room_id: int | None, duration: timedelta | None = None,
                    item_id: int | None = None, confirm_distress: bool = False) -> Sanction:
    """Warn, time out or ban. Timeouts end by themselves; a ban lasts until lifted.

    Never called by screening: no automatic sanction exists, least of all for distress. A
    timeout or ban of someone showing distress (moderation.distress) needs
    `confirm_distress` and a reason, and its audit row says so.
    """
    require_moderator(moderator)
    reason = _check_reason(reason)
    rule = _check_rule(rule)
    if kind == SanctionKind.TIMEOUT and (duration is None or not
                                         timedelta(0) < duration <= MAX_TIMEOUT):
        raise HearthError(ErrorCode.INVALID_FIELD,
                          "A timeout needs a duration between 1 minute and 30 days.")
    with transaction.atomic():
        target = Member.objects.select_for_update().filter(pk=member_id).first()
        if target is None:
            raise HearthError(ErrorCode.MEMBER_NOT_FOUND)
        require(moderator, Action.SANCTION, target=target,
                detail="Staff are managed by an administrator.")
        now = timezone.now()
        in_distress = (distress.distress_state(member_id=target.pk, now=now)
                       if kind != SanctionKind.WARNING else None)
        if in_distress is not None:
            _check_distress_confirmed(in_distress, confirmed=confirm_distress, reason=reason)
        item = _open_item(item_id) if item_id is not None else None
        was_collapsed = item is not None and item.message.status == MessageStatus.COLLAPSED
        withdrawn = item is not None and item.message.status in (MessageStatus.HELD,
                                                                 MessageStatus.COLLAPSED)
        if item is not None and withdrawn:
            # A sanction says the held message broke a rule: it never reaches the room. Method
            # details stay with their author, as with hide_message.
            item.message.status = (MessageStatus.HELD if was_collapsed
                                   else MessageStatus.HIDDEN)
            item.message.save(update_fields=["status"])
        sanction = Sanction.objects.create(
            member=target, room_id=room_id, kind=kind, rule=rule, reason=reason,
            issued_by=moderator, starts_at=now, message=item.message if item else None,
            ends_at=now + duration if kind == SanctionKind.TIMEOUT and duration else (
                now if kind == SanctionKind.WARNING else None))
        if item is not None:
            _resolve(item, kind)
        _audit(actor=moderator, action=SANCTION_AUDIT[kind], target=target,
               message=item.message if item else None, rule=rule, reason=reason,
               member_in_distress=in_distress is not None)

        def announce() -> None:
            tell_member_sockets_sync(target.pk, notices.event(
                notices.sanctioned(sanction=sanction)))
            if item is not None and was_collapsed:
                # The room saw its placeholder: it goes from every screen but the author's.
                _remove_for_everyone_but_the_author(item.message)
            elif item is not None and withdrawn:
                held = item.message
                tell_member_sockets_sync(target.pk, {
                    "type": "room.frame", "room_id": held.room_id,
                    "text": encode(message_removed_frame(room_slug=held.room.slug,
                                                         seqs=[held.seq],
                                                         reason=RemovalReason.HIDDEN))})
            if item is not None:
                _push_queue_removed(item.pk)

        transaction.on_commit(announce)
    return sanction


def _check_distress_confirmed(state: distress.DistressState, *, confirmed: bool,
                              reason: str) -> None:
    if not confirmed:
        raise distress.MemberInDistressError(state)
    if not reason:
        raise HearthError(ErrorCode.MISSING_FIELD,
                          "A timeout or ban of someone in distress needs a reason.")


def sanction_for_session(*, host: Member, member: Member, room: Room, remove: bool,
                         reason: str, until: datetime) -> Sanction:
    """A host mutes (a timeout) or removes (a room ban) someone until the session ends.

    The caller (rooms.sessions) has checked that `host` hosts the live session; the reason
    is required, audited, and shown to the member with the way to ask for a review.
    """
    require_staff(host)
    reason = _check_reason(reason)
    if not reason:
        raise HearthError(ErrorCode.MISSING_FIELD, "Please give a short reason.")
    kind = SanctionKind.BAN if remove else SanctionKind.TIMEOUT
    now = timezone.now()
    sanction = Sanction.objects.create(member=member, room=room, kind=kind,
                                       rule="mutual-support", reason=reason, issued_by=host,
                                       starts_at=now, ends_at=until)
    _audit(actor=host, action=SANCTION_AUDIT[kind], target=member, room_slug=room.slug,
           rule="mutual-support", reason=reason)
    transaction.on_commit(lambda: tell_member_sockets_sync(member.pk, notices.event(
        notices.sanctioned(sanction=sanction))))
    return sanction


def _remove_for_everyone_but_the_author(message: Message) -> None:
    send_to_group_sync(room_group(message.room_id), {
        "type": "room.frame", "author_id": message.author_id, "except_author": True,
        "text": encode(message_removed_frame(room_slug=message.room.slug, seqs=[message.seq],
                                             reason=RemovalReason.HIDDEN))})


def read_member_history(*, moderator: Member, member_id: int,
                        limit: int = 50) -> tuple[Member, list[Message]]:
    """A member's recent messages, for a moderator; every read is audited."""
    require_moderator(moderator)
    target = Member.objects.filter(pk=member_id).first()
    if target is None:
        raise HearthError(ErrorCode.MEMBER_NOT_FOUND)
    messages = list(Message.objects.filter(author=target).select_related("room")
                    .order_by("-created_at")[:limit])
    _audit(actor=moderator, action=AuditAction.READ_HISTORY, target=target)
    return target, messages


def read_original(*, moderator: Member, item_id: int) -> Message:
    """The words a member wrote, where screening masked what the room saw; audited."""
    require_moderator(moderator)
    item = (ReviewItem.objects.select_related("message", "message__author", "message__room")
            .filter(pk=item_id).first())
    if item is None:
        raise HearthError(ErrorCode.MESSAGE_NOT_FOUND)
    _audit(actor=moderator, action=AuditAction.READ_ORIGINAL, target=item.message.author,
           message=item.message)
    return item.message


# --- appeals ----------------------------------------------------------------------------------

APPEAL_MAX_CHARS = 1000


def appeal_decision(*, member: Member, text: str, sanction_id: int | None = None,
                    message_id: int | None = None) -> ReviewItem:
    """A member asks for a sanction or a hidden message to be looked at again: the message
    goes back into the moderators' queue with the member's words."""
    text = text.strip()
    if not text:
        raise HearthError(ErrorCode.EMPTY_BODY, "Please tell us in a few words why.")
    if len(text) > APPEAL_MAX_CHARS:
        raise HearthError(ErrorCode.NOTE_TOO_LONG,
                          f"Please keep it to {APPEAL_MAX_CHARS} characters.")
    message: Message | None = None
    if sanction_id is not None:
        sanction = Sanction.objects.filter(pk=sanction_id, member=member).first()
        message = sanction.message if sanction else None
    elif message_id is not None:
        message = Message.objects.filter(pk=message_id, author=member,
                                         status=MessageStatus.HIDDEN).first()
    if message is None:
        raise HearthError(ErrorCode.MESSAGE_NOT_FOUND)
    with transaction.atomic():
        item, _created = ReviewItem.objects.select_for_update().get_or_create(message=message)
        if item.state == ReviewState.OPEN and item.appeal_note:
            raise HearthError(ErrorCode.APPEAL_PENDING)
        item.state, item.resolved_at, item.resolution = ReviewState.OPEN, None, ""
        item.appeal_note = text
        item.save()
        transaction.on_commit(lambda: push_queue_item(item.pk))
    return item


# --- live queue -------------------------------------------------------------------------------

def push_queue_item(item_id: int) -> None:
    """Send an open item (new, reported, appealed) to every moderator's dashboard."""
    item = ReviewItem.objects.filter(pk=item_id).select_related(
        "message", "message__author", "message__room").first()
    if item is not None and item.state == ReviewState.OPEN:
        staff_broadcast_sync({"type": "queue_item", "item": queue_item_frame(item)})


def _push_queue_removed(item_id: int) -> None:
    staff_broadcast_sync({"type": "queue_item_removed", "item_id": item_id})


def log_blocked(verdict: Verdict) -> None:
    # The code and rule only: never the text.
    logger.info("message blocked", extra={"rule": verdict.rule})


# --- after the learned detector has read a stored message ------------------------------------

@dataclass(frozen=True)
class ModelFollowUp:
    """What a model reading changed, for the socket that sent the message."""

    seq: int
    # The support card's tier when the model raised the writer's own tier ("" for none).
    card_tier: str
    collapsed: bool  # method details: now a placeholder for everyone but its author
    held: bool  # aimed harassment the rules missed: taken from the room for review


def apply_model_signals(*, message_id: int, signals: tuple[Signal, ...],
                        rules_signals: tuple[Signal, ...] = ()) -> ModelFollowUp | None:
    """The learned detector's additions (moderation.screening.combine.added_by_model) to a
    message already stored and delivered, followed up exactly as a rules signal would be: the
    escalation (alerts after the commit), the review item, method details collapsed for the
    room, aimed harassment held for review where the room's policy holds or blocks it. Never
    a sanction; a crisis signal never hides anything from its author; a moderator's decision
    on the message stands. None when the message has gone (erased) meanwhile.

    `rules_signals` are what screening found before it was stored: a card is sent only when
    the additions call for a stronger one than the author already got.
    """
    if not signals:
        return None
    with transaction.atomic():
        # The message row alone, as the posts lock it; its item next, as moderators do not
        # wait on a message lock (restore and hide lock the item first, then read).
        message = (Message.objects.select_for_update(of=("self",))
                   .select_related("author", "room").filter(pk=message_id).first())
        if message is None:
            return None
        item, created = ReviewItem.objects.select_for_update().get_or_create(
            message=message, defaults={"signals": []})
        decided = not created and item.state == ReviewState.RESOLVED
        escalations.record_for_message(message=message, signals=signals)
        visible = message.status == MessageStatus.VISIBLE and not decided
        collapse = visible and any(s.kind == SignalKind.METHOD_DETAIL for s in signals)
        # Only a reading sure enough (HIGH) takes a message from the room; a less sure one
        # (MEDIUM) puts it in front of a moderator and leaves it where it is.
        hold = (visible and not collapse
                and any(s.detector == HARASSMENT_DETECTOR and s.severity >= Severity.HIGH
                        for s in signals)
                and policy_actions(room_id=message.room_id).for_detector(HARASSMENT_DETECTOR)
                in (ScreeningAction.HOLD, ScreeningAction.BLOCK))
        if collapse or hold:
            message.status = MessageStatus.COLLAPSED if collapse else MessageStatus.HELD
            message.save(update_fields=["status"])
        if not decided:
            item.signals = [*item.signals, *({"detector": s.detector, "kind": s.kind,
                                              "rule": s.rule, "severity": int(s.severity),
                                              "model": True} for s in signals)]
            item.urgency = max(item.urgency, urgency_of(_signals_of(item), item.report_count))
            item.save()
            item_id = item.pk
            transaction.on_commit(lambda: push_queue_item(item_id))

        def announce() -> None:
            if collapse:
                send_to_group_sync(room_group(message.room_id), {
                    "type": "room.frame", "author_id": message.author_id,
                    "except_author": True, "text": encode(collapsed_frame(message))})
            elif hold:
                _remove_for_everyone_but_the_author(message)
                # Its author keeps it, marked as waiting for a moderator, and is told why.
                tell_member_sockets_sync(message.author_id, {
                    "type": "room.frame", "room_id": message.room_id, "text": encode(
                        frame_for_message(message, viewer_id=message.author_id))})
                rule = next(s.rule for s in signals if s.detector == HARASSMENT_DETECTOR)
                tell_member_sockets_sync(message.author_id, notices.event(
                    notices.held(rule=rule, seq=message.seq)))

        transaction.on_commit(announce)
    had = support.card_tier(rules_signals)
    now = support.card_tier((*rules_signals, *signals))
    # A later card never replaces a stronger one on the author's screen.
    stronger = now is not None and now != had
    return ModelFollowUp(seq=message.seq, card_tier=now if stronger and now else "",
                         collapsed=collapse, held=hold)
