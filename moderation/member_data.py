"""What Hearth stores about one member, read for them alone: the download on their "You"
page and the list of what "erase me" takes away.

Only the member's own data goes out. Where a row also concerns someone else (a report on
another member's message, a take-aside with a staff member, a mute), the export keeps the
member's own part (their reason, their lines, when) and leaves out the other person: no other
handle and no other member's words ever appear in it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from chat.models import Member, Message
from moderation.models import (
    AsideMessage,
    Escalation,
    Mute,
    Report,
    ReviewItem,
    RulesAcceptance,
    Sanction,
    TakeAside,
)
from rooms.models import SessionParticipant

EXPORT_FORMAT = "hearth-member-export/1"

ABOUT = ("Everything Hearth stores about you, as of the time above. Other people's handles and "
         "words are left out: where something also concerns someone else, only your part is "
         "here.")
HANDLE_NOTE = "Hearth keeps only your current handle; earlier ones are not stored."
FEEDBACK_NOTE = ("Your answers to session feedback are stored with nothing that links them to "
                 "you, so they can't be found to include here.")


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def member_export(*, member: Member) -> dict[str, Any]:
    """Everything stored about `member`, in plain JSON types, their own data only."""
    return {
        "format": EXPORT_FORMAT,
        "exported_at": timezone.now().isoformat(),
        "about": ABOUT,
        "you": {
            "handle": member.handle,
            "role": member.role,
            "member_since": _when(member.created_at),
            "handle_history": HANDLE_NOTE,
        },
        "messages": _messages(member),
        "ground_rules_accepted": [
            {"room": acceptance.room.slug, "version": acceptance.version,
             "accepted_at": _when(acceptance.accepted_at)}
            for acceptance in RulesAcceptance.objects.filter(member=member)
            .select_related("room").order_by("room__slug")],
        # The reported message is someone else's: only the member's own reason and note.
        "reports_made": [
            {"room": report.message.room.slug, "reason": report.reason, "note": report.note,
             "made_at": _when(report.created_at)}
            for report in Report.objects.filter(reporter=member)
            .select_related("message__room").order_by("created_at", "pk")],
        "moderation_decisions": [
            {"kind": sanction.kind, "room": sanction.room.slug if sanction.room else None,
             "rule": sanction.rule, "reason": sanction.reason,
             "starts_at": _when(sanction.starts_at), "ends_at": _when(sanction.ends_at)}
            for sanction in Sanction.objects.filter(member=member)
            .select_related("room").order_by("starts_at", "pk")],
        "appeals": [
            {"room": item.message.room.slug, "message_seq": item.message.seq,
             "your_words": item.appeal_note, "state": item.state}
            for item in ReviewItem.objects.filter(message__author=member)
            .exclude(appeal_note="").select_related("message__room").order_by("pk")],
        # Times the team was asked to check on the member; the messages of others that were
        # around it (kept for the team) are not the member's and stay out.
        "support_alerts": [
            {"room": alert.room.slug, "level": alert.tier, "raised_at": _when(alert.created_at),
             "state": alert.state}
            for alert in Escalation.objects.filter(member=member)
            .select_related("room").order_by("created_at", "pk")],
        "private_conversations": _asides(member),
        "hosted_sessions_joined": [
            {"room": part.session.room.slug, "session": part.session.title,
             "joined_at": _when(part.joined_at)}
            for part in SessionParticipant.objects.filter(member=member)
            .select_related("session__room").order_by("joined_at", "pk")],
        # Whom they muted is another member's handle: only that they did, and when.
        "mutes": [{"since": _when(created)} for created in
                  Mute.objects.filter(member=member).order_by("created_at")
                  .values_list("created_at", flat=True)],
        "session_feedback": FEEDBACK_NOTE,
    }


def _messages(member: Member) -> list[dict[str, Any]]:
    by_room: dict[str, list[dict[str, Any]]] = defaultdict(list)
    titles: dict[str, str] = {}
    for message in (Message.objects.filter(author=member).select_related("room")
                    .order_by("room__slug", "seq")):
        titles[message.room.slug] = message.room.title
        row: dict[str, Any] = {"seq": message.seq, "sent_at": _when(message.created_at),
                               "text": message.original_body or message.body,
                               "status": message.status}
        if message.original_body:
            row["shown_to_others"] = message.body
        by_room[message.room.slug].append(row)
    return [{"room": slug, "room_title": titles[slug], "messages": rows}
            for slug, rows in by_room.items()]


def _asides(member: Member) -> list[dict[str, Any]]:
    # Only the member's own lines: the staff member's handle and words are theirs.
    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for line in (AsideMessage.objects.filter(aside__member=member, author=member)
                 .order_by("aside_id", "seq")):
        lines[line.aside_id].append({"sent_at": _when(line.created_at), "text": line.body})
    return [{"room": aside.room.slug if aside.room else None, "state": aside.state,
             "started_at": _when(aside.created_at), "your_lines": lines[aside.pk]}
            for aside in TakeAside.objects.filter(member=member).select_related("room")
            .order_by("created_at", "pk")]


@dataclass(frozen=True)
class ErasureSummary:
    """What "erase me" takes away, counted, for the confirmation page."""

    messages: int
    rooms: int
    reports: int
    decisions: int
    private_conversations: int

    @property
    def is_empty(self) -> bool:
        return not (self.messages or self.reports or self.decisions
                    or self.private_conversations)


def erasure_summary(*, member: Member) -> ErasureSummary:
    messages = Message.objects.filter(author=member)
    return ErasureSummary(
        messages=messages.count(),
        rooms=messages.values("room_id").distinct().count(),
        reports=Report.objects.filter(reporter=member).count(),
        decisions=Sanction.objects.filter(member=member).count(),
        private_conversations=TakeAside.objects.filter(member=member).count(),
    )
