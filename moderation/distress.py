"""Signs that a member is in distress, so a sanction against them is never given by accident.

Distress is never sanctioned automatically (docs/operations.md, "Crisis path"); a moderator
may still need to time out or ban someone who is also struggling, but only on purpose: with
a reason, a confirmation, and an audit row that says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from django.db.models import Q
from django.utils import timezone

from chat.errors import ErrorCode, HearthError
from moderation.models import Escalation, ReviewItem
from moderation.policy import CRISIS_DETECTOR

# A crisis signal this recent still counts, even with no escalation open.
DISTRESS_WINDOW: Final = timedelta(hours=1)
# Review items looked at per check: a member with more in an hour is plainly in distress.
_RECENT_ITEMS: Final = 50


@dataclass(frozen=True)
class DistressState:
    open_escalation_id: int | None
    tier: str | None
    last_signal_at: datetime | None

    def as_frame_field(self) -> dict[str, Any]:
        return {"open_escalation_id": self.open_escalation_id, "tier": self.tier,
                "last_signal_at": self.last_signal_at.isoformat()
                if self.last_signal_at else None}


class MemberInDistressError(HearthError):
    """A timeout or ban of someone in distress, without an explicit confirmation."""

    def __init__(self, state: DistressState) -> None:
        super().__init__(ErrorCode.MEMBER_IN_DISTRESS)
        self.state = state


def distress_state(*, member_id: int, now: datetime | None = None) -> DistressState | None:
    """An open escalation, or a crisis signal in the last hour; None when neither."""
    since = (now or timezone.now()) - DISTRESS_WINDOW
    escalation = (Escalation.objects.filter(member_id=member_id)
                  .filter(Q(resolved_at__isnull=True) | Q(updated_at__gte=since))
                  .order_by("resolved_at", "-updated_at").first())
    items = (ReviewItem.objects.filter(message__author_id=member_id, opened_at__gte=since)
             .order_by("-opened_at").values_list("signals", "opened_at")[:_RECENT_ITEMS])
    signal_at = next((opened for signals, opened in items
                      if any(s.get("detector") == CRISIS_DETECTOR for s in signals)), None)
    if escalation is None and signal_at is None:
        return None
    if escalation is not None and (signal_at is None or escalation.updated_at > signal_at):
        signal_at = escalation.updated_at
    return DistressState(
        open_escalation_id=escalation.pk if escalation and escalation.resolved_at is None
        else None,
        tier=escalation.tier if escalation else "concern", last_signal_at=signal_at)
