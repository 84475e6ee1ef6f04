"""Moderation reads: the review queue with its context."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from chat.models import Message, MessageStatus
from moderation.models import Report, ReviewItem, ReviewState, Sanction
from moderation.sanctions import LADDER_LOOKBACK, suggested_step

CONTEXT_BEFORE = 3
CONTEXT_AFTER = 2
QUEUE_LIMIT = 200


def open_queue(*, room_slug: str | None = None, limit: int = QUEUE_LIMIT) -> list[ReviewItem]:
    items = (ReviewItem.objects.filter(state=ReviewState.OPEN)
             .select_related("message", "message__author", "message__room")
             .order_by("-urgency", "opened_at"))
    if room_slug:
        items = items.filter(message__room__slug=room_slug)
    return list(items[:limit])


def _context(message: Message) -> list[dict[str, Any]]:
    around = (Message.objects.filter(room_id=message.room_id,
                                     seq__gte=message.seq - CONTEXT_BEFORE,
                                     seq__lte=message.seq + CONTEXT_AFTER)
              .select_related("author").order_by("seq"))
    return [{"seq": m.seq, "handle": m.author.handle, "role": m.author.role, "html": m.html,
             "status": m.status, "is_subject": m.pk == message.pk} for m in around]


def queue_item_frame(item: ReviewItem) -> dict[str, Any]:
    message = item.message
    reasons = list(Report.objects.filter(message=message).values_list("reason", flat=True))
    rules = sorted({s["rule"] for s in item.signals})
    care = needs_care(item.signals, reasons)
    step = None if care else suggested_step(member_id=message.author_id)
    return {
        "id": item.pk,
        "urgency": item.urgency,
        "opened_at": item.opened_at.isoformat(),
        "room": {"slug": message.room.slug, "title": message.room.title},
        "message": {"seq": message.seq, "html": message.html, "status": message.status,
                    "held": message.status == MessageStatus.HELD,
                    # What the room saw was masked: the original is one audited read away.
                    "masked": bool(message.original_body),
                    "sent_at": message.created_at.isoformat()},
        "author": {"id": message.author_id, "handle": message.author.handle,
                   "role": message.author.role},
        "signals": item.signals,
        "rules": rules,
        "report_count": item.report_count,
        "appeal": item.appeal_note,
        "report_reasons": sorted(set(reasons)),
        "context": _context(message),
        # Someone who may be struggling needs a person, not the sanction ladder.
        "needs_care": care,
        "suggested": None if step is None else {
            "kind": step.kind.value, "label": step.label,
            "duration_minutes": int(step.duration.total_seconds() // 60)
            if step.duration else None},
    }


def needs_care(signals: list[dict[str, Any]], report_reasons: list[str]) -> bool:
    """Only signs of distress (crisis signals, "I'm worried" reports) and nothing else."""
    distress = any(s["detector"] == "crisis" for s in signals) or "worried" in report_reasons
    other = (any(s["detector"] != "crisis" for s in signals)
             or any(reason != "worried" for reason in report_reasons))
    return distress and not other


def decisions_for_member(*, member_id: int) -> dict[str, list[Any]]:
    """What a member can ask to have looked at again: recent sanctions and hidden messages."""
    since = timezone.now() - LADDER_LOOKBACK
    return {
        "sanctions": list(Sanction.objects.filter(member_id=member_id, starts_at__gte=since)
                          .select_related("room", "message").order_by("-starts_at")),
        "hidden": list(Message.objects.filter(author_id=member_id, status=MessageStatus.HIDDEN)
                       .select_related("room").order_by("-created_at")[:20]),
    }
