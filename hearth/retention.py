"""The retention purge: every kind of record past its period, deleted a batch at a time.

`manage.py purge` runs it (daily from deploy/systemd/hearth-purge.timer), or each worker's
watcher once a day with HEARTH_RETENTION_PURGE_IN_PROCESS. The periods are settings
(docs/operations.md, "Retention"); each app deletes its own rows (chat.retention,
rooms.retention, moderation.retention).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from chat import retention as chat_retention
from moderation import retention as moderation_retention
from rooms import retention as rooms_retention

logger = logging.getLogger(__name__)

# The kinds a purge reports, in the order it deletes them (sessions before members: a member
# whose session just expired can go in the same run).
KINDS = ("messages", "review_items", "reports", "escalations", "transcripts", "feedback",
         "sanctions", "audit_rows", "audit_rows_reduced", "sessions", "members")


@dataclass(frozen=True)
class RetentionPeriods:
    """Days each kind is kept; read from settings (hearth/settings.py) in this one place."""

    messages: int
    reviews: int
    transcripts: int
    feedback: int
    sanctions: int
    audit: int
    audit_identify: int
    idle_members: int
    batch_size: int

    @classmethod
    def from_settings(cls) -> RetentionPeriods:
        return cls(
            messages=settings.HEARTH_RETENTION_MESSAGE_DAYS,
            reviews=settings.HEARTH_RETENTION_REVIEW_DAYS,
            transcripts=settings.HEARTH_RETENTION_TRANSCRIPT_DAYS,
            feedback=settings.HEARTH_RETENTION_FEEDBACK_DAYS,
            sanctions=settings.HEARTH_RETENTION_SANCTION_DAYS,
            audit=settings.HEARTH_RETENTION_AUDIT_DAYS,
            audit_identify=settings.HEARTH_RETENTION_AUDIT_IDENTIFY_DAYS,
            idle_members=settings.HEARTH_RETENTION_IDLE_MEMBER_DAYS,
            batch_size=settings.HEARTH_RETENTION_BATCH_SIZE,
        )


@dataclass(frozen=True)
class PurgeReport:
    counts: dict[str, int]
    dry_run: bool

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def purge(*, now: datetime | None = None, dry_run: bool = False,
          periods: RetentionPeriods | None = None) -> PurgeReport:
    """Delete (or, with `dry_run`, only count) everything past its period as of `now`.

    A real run that changed anything writes one audit row with the counts per kind.
    """
    now = now or timezone.now()
    periods = periods or RetentionPeriods.from_settings()
    batch = periods.batch_size
    counts: dict[str, int] = {}
    counts["messages"] = chat_retention.purge_messages(
        now=now, site_days=periods.messages, batch_size=batch, dry_run=dry_run)
    counts.update(moderation_retention.purge_reviews(
        now=now, days=periods.reviews, batch_size=batch, dry_run=dry_run))
    counts["transcripts"] = moderation_retention.purge_transcripts(
        now=now, days=periods.transcripts, batch_size=batch, dry_run=dry_run)
    counts["feedback"] = rooms_retention.purge_feedback(
        now=now, days=periods.feedback, batch_size=batch, dry_run=dry_run)
    counts["sanctions"] = moderation_retention.purge_sanctions(
        now=now, days=periods.sanctions, batch_size=batch, dry_run=dry_run)
    counts.update(moderation_retention.purge_audit(
        now=now, days=periods.audit, identify_days=periods.audit_identify,
        batch_size=batch, dry_run=dry_run))
    counts["sessions"] = chat_retention.purge_expired_sessions(
        now=now, batch_size=batch, dry_run=dry_run)
    counts["members"] = chat_retention.purge_idle_members(
        now=now, days=periods.idle_members, batch_size=batch, dry_run=dry_run)
    report = PurgeReport(counts={kind: counts[kind] for kind in KINDS}, dry_run=dry_run)
    if not dry_run and report.total:
        moderation_retention.record_purge(counts=report.counts)
    logger.info("retention purge%s", " (dry run)" if dry_run else "", extra=report.counts)
    return report


class DailyPurge:
    """The in-process schedule (HEARTH_RETENTION_PURGE_IN_PROCESS): a purge when the watcher
    first ticks, then one a day. Kept in memory: a restart purges again, which is harmless."""

    EVERY = timedelta(days=1)

    def __init__(self) -> None:
        self.next_run_at: datetime | None = None

    def due(self, *, now: datetime) -> bool:
        if not settings.HEARTH_RETENTION_PURGE_IN_PROCESS:
            return False
        return self.next_run_at is None or now >= self.next_run_at

    def run(self, *, now: datetime) -> PurgeReport:
        self.next_run_at = now + self.EVERY
        return purge(now=now)
