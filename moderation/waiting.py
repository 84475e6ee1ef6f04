"""Members waiting for the team: after a while with nobody acknowledging their alert, tell
them, once, that we are still reaching someone, and give them the helpline again.

Run by each worker's watcher (moderation.watch). The row is claimed with a conditional
update before anything is sent, so two workers, or a restart, never tell a member twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Final

from django.conf import settings
from django.utils import timezone

from chat.events import tell_member_sockets_sync
from chat.protocol import encode
from moderation.models import Escalation, EscalationTier
from moderation.support import still_reaching_frame

logger = logging.getLogger(__name__)

# The member's own words said they may be at risk; other tiers have their own answers.
NOTICE_TIERS: Final = (EscalationTier.HIGH_RISK, EscalationTier.IMMINENT)


def notice_deadline(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.HEARTH_ESCALATION_MEMBER_NOTICE_SECONDS)


def tell_waiting_members(*, now: datetime | None = None) -> list[int]:
    """The escalations whose member was told just now (each claimed by one caller only)."""
    now = now or timezone.now()
    waiting = list(Escalation.objects.select_related("room").filter(
        tier__in=NOTICE_TIERS, acknowledged_at__isnull=True, resolved_at__isnull=True,
        member_notified_at__isnull=True, created_at__lte=notice_deadline(now)))
    told: list[int] = []
    for escalation in waiting:
        won = Escalation.objects.filter(pk=escalation.pk, member_notified_at__isnull=True,
                                        acknowledged_at__isnull=True).update(
            member_notified_at=now)
        if not won:
            continue
        told.append(escalation.pk)
        frame = still_reaching_frame(room_slug=escalation.room.slug,
                                     room_title=escalation.room.title)
        # Every open page of theirs: they may have moved to another room since.
        tell_member_sockets_sync(escalation.member_id, {"type": "room.frame",
                                                         "text": encode(frame)})
        logger.info("member told the team is still being reached",
                    extra={"escalation": escalation.pk})
    return told
