"""Escalations: someone may be in danger, and a person from the team must look now.

The row is the record and is written in the same transaction as the message that raised it;
live alerts only announce it. Each worker's watcher (moderation.watch) re-escalates an alert
nobody acknowledged in time and hands it to the operator's fallback (moderation.fallback).
"""

from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from chat.errors import ErrorCode, HearthError
from chat.events import STAFF_GROUP, send_to_group_sync
from chat.handles import handle_key
from chat.models import Member, Message, MessageStatus
from chat.protocol import encode
from chat.rendering import render_message_html
from hearth import counters
from moderation import audit
from moderation.models import (
    AuditAction,
    Escalation,
    EscalationSource,
    EscalationTier,
)
from moderation.permissions import require_staff
from moderation.screening.types import Severity, Signal, SignalKind
from rooms.models import Room
from rooms.selectors import host_ids, live_session

logger = logging.getLogger(__name__)

CONTEXT_BEFORE: Final = 4
NOTE_MAX_CHARS: Final = 1000
SLA_WINDOW_DAYS: Final = 30
# Which tier wins when an open escalation is raised again.
_RANK: Final = {EscalationTier.ASKED: 0, EscalationTier.STAFF_CONCERN: 1,
                EscalationTier.WORRIED_ABOUT_SOMEONE: 1, EscalationTier.HIGH_RISK: 2,
                EscalationTier.IMMINENT: 3}
# Events only on-duty staff are alerted to; the rest go to every staff dashboard.
ON_DUTY_EVENTS: Final = frozenset({"new", "updated"})


def escalation_tier(signals: tuple[Signal, ...]) -> EscalationTier | None:
    """High risk and imminent words from the writer, or a serious worry about someone else.

    "Concern" (hopelessness) gets the support card but no alert: a room where every sad
    message pages the team would soon be a room where no page is read.
    """
    kinds = {signal.kind for signal in signals}
    if SignalKind.IMMINENT in kinds:
        return EscalationTier.IMMINENT
    if SignalKind.HIGH_RISK in kinds:
        return EscalationTier.HIGH_RISK
    if any(signal.kind == SignalKind.WORRIED_ABOUT_SOMEONE and signal.severity >= Severity.HIGH
           for signal in signals):
        return EscalationTier.WORRIED_ABOUT_SOMEONE
    return None


def _context_before(message: Message) -> list[dict[str, Any]]:
    earlier = (Message.objects.filter(room_id=message.room_id, seq__lt=message.seq,
                                      seq__gte=message.seq - CONTEXT_BEFORE,
                                      status=MessageStatus.VISIBLE)
               .select_related("author").order_by("seq"))
    return [{"seq": m.seq, "handle": m.author.handle, "role": m.author.role, "html": m.html}
            for m in earlier]


def _raise_or_open(*, member_id: int, room_id: int, tier: EscalationTier,
                   source: EscalationSource, message: Message | None,
                   asked: bool) -> tuple[Escalation, str]:
    """Inside a transaction: update this member's open escalation in the room, or open one."""
    now = timezone.now()
    current = (Escalation.objects.select_for_update()
               .filter(member_id=member_id, room_id=room_id, resolved_at__isnull=True).first())
    if current is None:
        escalation = Escalation.objects.create(
            room_id=room_id, member_id=member_id, message=message, tier=tier, source=source,
            context=_context_before(message) if message is not None else [],
            member_asked_at=now if asked else None)
        return escalation, "new"
    event = "updated"
    if _RANK[EscalationTier(tier)] > _RANK[EscalationTier(current.tier)]:
        current.tier = tier
        if current.acknowledged_at is not None:
            # Worse than when someone took it: everyone on the team hears, on duty or not.
            event = "raised"
    if message is not None:
        current.message = message
        current.context = _context_before(message)
    if asked:
        current.member_asked_at = now
    current.save()
    return current, event


def record_for_message(*, message: Message, signals: tuple[Signal, ...]) -> Escalation | None:
    """Called inside the transaction that stores the message; alerts after the commit."""
    tier = escalation_tier(signals)
    if tier is None:
        return None
    escalation, event = _raise_or_open(member_id=message.author_id, room_id=message.room_id,
                                       tier=tier, source=EscalationSource.SCREENING,
                                       message=message, asked=False)
    escalation_id = escalation.pk
    transaction.on_commit(lambda: push_escalation(escalation_id, event))
    return escalation


def record_for_unposted(*, member: Member, room: Room, body: str,
                        signals: tuple[Signal, ...]) -> Escalation | None:
    """Words of distress in a message that could not be posted: the team still sees them,
    as the last line of the escalation's context (the room never does)."""
    tier = escalation_tier(signals)
    if tier is None:
        return None
    with transaction.atomic():
        Room.objects.select_for_update().filter(pk=room.pk).first()
        escalation, event = _raise_or_open(member_id=member.pk, room_id=room.pk, tier=tier,
                                           source=EscalationSource.SCREENING, message=None,
                                           asked=False)
        escalation.context = [*escalation.context[-CONTEXT_BEFORE:], {
            "seq": None, "handle": member.handle, "role": member.role,
            "html": render_message_html(body), "not_posted": True}]
        escalation.save(update_fields=["context", "updated_at"])
        escalation_id = escalation.pk
        transaction.on_commit(lambda: push_escalation(escalation_id, event))
    return escalation


def ask_for_support(*, member: Member, room: Room, seq: int | None) -> Escalation:
    """The member pressed "talk to someone here"."""
    message: Message | None = None
    if seq is not None:
        message = Message.objects.filter(room=room, seq=seq, author=member).first()
        if message is None:
            raise HearthError(ErrorCode.MESSAGE_NOT_FOUND)
    with transaction.atomic():
        # The room's row lock orders this with the member's messages (post_message takes
        # it too), so the two never open two escalations side by side.
        Room.objects.select_for_update().filter(pk=room.pk).first()
        escalation, event = _raise_or_open(
            member_id=member.pk, room_id=room.pk, tier=EscalationTier.ASKED,
            source=EscalationSource.MEMBER, message=message, asked=True)
        escalation_id = escalation.pk
        transaction.on_commit(lambda: push_escalation(escalation_id, event))
    return escalation


def member_in_room(*, room_slug: str, handle: str) -> tuple[Member, Room]:
    """A member by handle, for staff acting from a room (the host's console)."""
    room = Room.objects.filter(slug=room_slug, is_active=True).first()
    if room is None:
        raise HearthError(ErrorCode.ROOM_NOT_FOUND)
    member = Member.objects.filter(handle_key=handle_key(handle)).first()
    if member is None:
        raise HearthError(ErrorCode.MEMBER_NOT_FOUND)
    return member, room


def escalate_by_staff(*, staff: Member, room_slug: str, handle: str,
                      seq: int | None = None) -> Escalation:
    """A host or staff member is worried about someone in their room: alert the team."""
    require_staff(staff)
    member, room = member_in_room(room_slug=room_slug, handle=handle)
    if member.pk == staff.pk:
        raise HearthError(ErrorCode.INVALID_FIELD, "That's you.")
    message = None
    if seq is not None:
        message = Message.objects.filter(room=room, seq=seq, author=member).first()
        if message is None:
            raise HearthError(ErrorCode.MESSAGE_NOT_FOUND)
    with transaction.atomic():
        Room.objects.select_for_update().filter(pk=room.pk).first()
        escalation, event = _raise_or_open(
            member_id=member.pk, room_id=room.pk, tier=EscalationTier.STAFF_CONCERN,
            source=EscalationSource.STAFF, message=message, asked=False)
        escalation_id = escalation.pk
        transaction.on_commit(lambda: push_escalation(escalation_id, event))
    return escalation


def _audit(*, actor: Member, action: AuditAction, escalation: Escalation,
           reason: str = "") -> None:
    audit.record(actor=actor, action=action, target=escalation.member,
                 message_id_ref=escalation.message_id, room_slug=escalation.room.slug,
                 rule="crisis-support", reason=reason)


def locked_open_escalation(escalation_id: int) -> Escalation:
    # Only the escalation's row: post_message locks the room first, then this row.
    escalation = (Escalation.objects.select_for_update(of=("self",))
                  .select_related("member", "room").filter(pk=escalation_id).first())
    if escalation is None:
        raise HearthError(ErrorCode.ESCALATION_NOT_FOUND)
    if escalation.resolved_at is not None:
        raise HearthError(ErrorCode.ALREADY_RESOLVED)
    return escalation


def mark_acknowledged(escalation: Escalation, staff: Member) -> bool:
    """Inside a transaction, on a locked row; False when someone already had."""
    if escalation.acknowledged_at is not None:
        return False
    escalation.acknowledged_by, escalation.acknowledged_at = staff, timezone.now()
    escalation.save(update_fields=["acknowledged_by", "acknowledged_at", "updated_at"])
    _audit(actor=staff, action=AuditAction.ACKNOWLEDGE, escalation=escalation)
    waited = (escalation.acknowledged_at - escalation.created_at).total_seconds()
    transaction.on_commit(lambda: counters.observe_acknowledged(waited))
    return True


def acknowledge(*, staff: Member, escalation_id: int) -> Escalation:
    """"I'm on it." A second acknowledgement changes nothing and is not audited again."""
    require_staff(staff)
    with transaction.atomic():
        escalation = locked_open_escalation(escalation_id)
        if mark_acknowledged(escalation, staff):
            transaction.on_commit(lambda: push_escalation(escalation_id, "acknowledged"))
    return escalation


def resolve(*, staff: Member, escalation_id: int, note: str) -> Escalation:
    require_staff(staff)
    note = note.strip()
    if not note:
        raise HearthError(ErrorCode.MISSING_FIELD, "Please add a short note on how it ended.")
    if len(note) > NOTE_MAX_CHARS:
        raise HearthError(ErrorCode.NOTE_TOO_LONG,
                          f"Please keep the note to {NOTE_MAX_CHARS} characters.")
    with transaction.atomic():
        escalation = locked_open_escalation(escalation_id)
        mark_acknowledged(escalation, staff)
        escalation.resolved_by, escalation.resolved_at = staff, timezone.now()
        escalation.resolution_note = note
        # Nothing is left to chase.
        escalation.fallback_next_attempt_at = None
        escalation.save()
        _audit(actor=staff, action=AuditAction.RESOLVE, escalation=escalation, reason=note)
        transaction.on_commit(lambda: push_escalation(escalation_id, "resolved"))
    return escalation


# --- reads ----------------------------------------------------------------------------------

def _seconds(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else round((end - start).total_seconds(), 1)


def escalation_frame_field(escalation: Escalation) -> dict[str, Any]:
    message = escalation.message
    # Prefetched by open_escalations: newest first, without a query per escalation.
    asides = sorted(escalation.asides.all(), key=lambda a: a.created_at, reverse=True)
    aside = asides[0] if asides else None
    return {
        "id": escalation.pk, "state": escalation.state, "tier": escalation.tier,
        "source": escalation.source,
        "room": {"slug": escalation.room.slug, "title": escalation.room.title},
        "member": {"handle": escalation.member.handle},
        "message": None if message is None else {
            "seq": message.seq, "html": message.html, "sent_at": message.created_at.isoformat()},
        "context": escalation.context,
        "created_at": escalation.created_at.isoformat(),
        "updated_at": escalation.updated_at.isoformat(),
        "member_asked_at": _iso(escalation.member_asked_at),
        "acknowledged_by": escalation.acknowledged_by.handle if escalation.acknowledged_by
        else None,
        "acknowledged_at": _iso(escalation.acknowledged_at),
        "resolved_by": escalation.resolved_by.handle if escalation.resolved_by else None,
        "resolved_at": _iso(escalation.resolved_at),
        "note": escalation.resolution_note,
        "re_escalated_at": _iso(escalation.re_escalated_at),
        "fallback_notified_at": _iso(escalation.fallback_notified_at),
        "seconds_to_acknowledge": _seconds(escalation.created_at, escalation.acknowledged_at),
        "seconds_to_resolve": _seconds(escalation.created_at, escalation.resolved_at),
        "aside": None if aside is None else {"id": aside.pk, "state": aside.state},
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _with_relations() -> Any:
    return (Escalation.objects.select_related("member", "room", "message", "acknowledged_by",
                                              "resolved_by").prefetch_related("asides"))


def open_escalations(*, limit: int = 200) -> list[Escalation]:
    return list(_with_relations().filter(resolved_at__isnull=True).order_by("-created_at")
                [:limit])


@dataclass(frozen=True)
class Sla:
    count: int
    median_seconds_to_acknowledge: float | None
    median_seconds_to_resolve: float | None

    def as_frame_field(self) -> dict[str, Any]:
        return {"window_days": SLA_WINDOW_DAYS, "count": self.count,
                "median_seconds_to_acknowledge": self.median_seconds_to_acknowledge,
                "median_seconds_to_resolve": self.median_seconds_to_resolve}


def sla(*, now: datetime | None = None) -> Sla:
    since = (now or timezone.now()) - timedelta(days=SLA_WINDOW_DAYS)
    rows = list(Escalation.objects.filter(created_at__gte=since).values_list(
        "created_at", "acknowledged_at", "resolved_at"))
    to_ack = [(ack - created).total_seconds() for created, ack, _done in rows if ack]
    to_resolve = [(done - created).total_seconds() for created, _ack, done in rows if done]
    return Sla(count=len(rows),
               median_seconds_to_acknowledge=round(statistics.median(to_ack), 1)
               if to_ack else None,
               median_seconds_to_resolve=round(statistics.median(to_resolve), 1)
               if to_resolve else None)


def escalations_frame() -> dict[str, Any]:
    return {"type": "escalations",
            "items": [escalation_frame_field(e) for e in open_escalations()],
            "sla": sla().as_frame_field()}


# --- live alerts ----------------------------------------------------------------------------

def push_escalation(escalation_id: int, event: str) -> None:
    escalation = _with_relations().filter(pk=escalation_id).first()
    if escalation is None:
        return
    frame = {"type": "escalation", "event": event,
             "escalation": escalation_frame_field(escalation)}
    send_to_group_sync(STAFF_GROUP, {"type": "staff.escalation", "text": encode(frame),
                                     "on_duty_only": event in ON_DUTY_EVENTS,
                                     "hosts": sorted(_hosts_of_live_session(escalation.room_id))})
    logger.info("escalation %s", event, extra={"escalation": escalation_id,
                                                "tier": escalation.tier})


def _hosts_of_live_session(room_id: int) -> set[int]:
    """The room's host and co-hosts, alerted whether or not they are on duty."""
    live = live_session(room_id=room_id)
    return host_ids(live) if live is not None else set()


# --- the watcher's work: overdue alerts -----------------------------------------------------

def ack_deadline(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.HEARTH_ESCALATION_ACK_SECONDS)


def re_escalate_overdue(*, now: datetime | None = None) -> list[int]:
    """Alert every staff dashboard about escalations nobody acknowledged in time, and queue
    the operator's fallback for them. Each is claimed by one worker only."""
    now = now or timezone.now()
    overdue = list(Escalation.objects.filter(
        acknowledged_at__isnull=True, resolved_at__isnull=True, re_escalated_at__isnull=True,
        created_at__lte=ack_deadline(now)).values_list("pk", flat=True))
    claimed: list[int] = []
    for escalation_id in overdue:
        won = Escalation.objects.filter(pk=escalation_id, re_escalated_at__isnull=True).update(
            re_escalated_at=now, fallback_next_attempt_at=now)
        if won:
            claimed.append(escalation_id)
            push_escalation(escalation_id, "re_escalated")
    return claimed
