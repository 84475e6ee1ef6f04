"""Anonymous feedback after a hosted session: the one write, and the sums hosts and admins see.

Anonymous by construction: a row holds the session, the local date of the occurrence and the
answers, under a random key. Nothing here takes a member, so nothing can store one; whether a
member already answered is kept in their own browser session by the caller.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from django.db.models import Q, QuerySet
from django.utils import timezone

from chat.errors import ErrorCode, HearthError
from chat.models import Member
from chat.protocol import ProtocolError, clean_body
from rooms.models import FeedbackTag, HostedSession, SessionFeedback
from rooms.schedule import is_occurrence, occurrence_bounds
from rooms.sessions import occurrence_date

MOOD_MIN, MOOD_MAX = 1, 5
COMMENT_MAX_CHARS = 500
# Feedback is for the session someone was just in; a week is time enough to answer.
FEEDBACK_WINDOW = timedelta(days=7)
# Below this many answers, sums are not shown: a host of a small group could otherwise tell
# who said what.
MIN_ANSWERS_SHOWN = 3


def _mood(name: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) \
            or not MOOD_MIN <= value <= MOOD_MAX:
        raise HearthError(ErrorCode.INVALID_FIELD,
                          f"{name} must be a whole number from {MOOD_MIN} to {MOOD_MAX}.")
    return value


def _helpful(value: object) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise HearthError(ErrorCode.INVALID_FIELD, "helpful must be true, false or left out.")
    return value


def _tags(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise HearthError(ErrorCode.INVALID_FIELD, "tags must be a list.")
    tags: list[str] = []
    for tag in value:
        if not isinstance(tag, str) or tag not in FeedbackTag.values:
            raise HearthError(ErrorCode.INVALID_FIELD,
                              f"tags can only be: {', '.join(FeedbackTag.values)}")
        if tag not in tags:
            tags.append(tag)
    return tags


def _comment(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise HearthError(ErrorCode.INVALID_FIELD, "comment must be text.")
    if len(value) > COMMENT_MAX_CHARS:
        raise HearthError(ErrorCode.NOTE_TOO_LONG,
                          f"Please keep your comment to {COMMENT_MAX_CHARS} characters.")
    if not value.strip():
        return ""
    try:  # the message rules for control and direction-changing characters, in one place
        return clean_body(value, max_chars=COMMENT_MAX_CHARS).strip()
    except ProtocolError as error:
        raise HearthError(error.code, error.detail) from None


def _occurrence_date(value: object) -> date:
    if isinstance(value, datetime) or not isinstance(value, date | str):
        raise HearthError(ErrorCode.INVALID_FIELD, "occurrence_on must be a date (YYYY-MM-DD).")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HearthError(ErrorCode.INVALID_FIELD,
                          "occurrence_on must be a date (YYYY-MM-DD).") from None


def submit_feedback(*, session_id: int, occurrence_on: date | str, mood_before: int | None,
                    mood_after: int | None, helpful: bool | None, tags: Sequence[str] | None,
                    comment: str | None, now: datetime | None = None) -> SessionFeedback:
    """Store one anonymous answer about an occurrence that has started, within a week of its
    end. Refusals carry ErrorCode values: invalid_field, note_too_long, control_characters,
    invalid_phase (too early or too late)."""
    if isinstance(session_id, bool) or not isinstance(session_id, int):
        raise HearthError(ErrorCode.INVALID_FIELD, "session_id must be a whole number.")
    on = _occurrence_date(occurrence_on)
    answers: dict[str, Any] = {
        "mood_before": _mood("mood_before", mood_before),
        "mood_after": _mood("mood_after", mood_after),
        "helpful": _helpful(helpful),
        "tags": _tags(tags),
        "comment": _comment(comment),
    }
    session = HostedSession.objects.filter(pk=session_id).first()
    if session is None:
        raise HearthError(ErrorCode.INVALID_FIELD, "That session doesn't exist.")
    now = now or timezone.now()
    # The occurrence the host actually ran counts from when they started it (a host may
    # start early, or run a session on another day); otherwise the schedule decides.
    ran = session.started_at is not None and occurrence_date(session, session.started_at) == on
    if ran and session.started_at is not None:
        start, end = session.started_at, session.ended_at or now
    elif is_occurrence(session, on):
        start, end = occurrence_bounds(session, on)
    else:
        raise HearthError(ErrorCode.INVALID_FIELD,
                          "That session didn't take place on that day.")
    if now < start:
        raise HearthError(ErrorCode.INVALID_PHASE,
                          "Feedback opens once the session has started.")
    if now > end + FEEDBACK_WINDOW:
        raise HearthError(ErrorCode.INVALID_PHASE,
                          "Feedback for that session has closed. Thank you all the same.")
    return SessionFeedback.objects.create(id=uuid.uuid4(), session=session, occurrence_on=on,
                                          **answers)


# --- reading ------------------------------------------------------------------------------

@dataclass(frozen=True)
class FeedbackAggregates:
    """Sums over some answers. Means are over the answers that gave that value (None when
    none did); the mood change is over answers that gave both moods."""

    count: int
    mood_before_mean: float | None
    mood_after_mean: float | None
    mood_change_mean: float | None
    helpful_percent: float | None
    answered_helpful: int
    tag_counts: dict[str, int] = field(default_factory=dict)

    @property
    def shown(self) -> bool:
        return self.count >= MIN_ANSWERS_SHOWN

    def tag_rows(self) -> list[tuple[str, int]]:
        """(label, count) for every tag, in the order the card offers them."""
        return [(str(label), self.tag_counts.get(value, 0))
                for value, label in FeedbackTag.choices]


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def aggregate(rows: Iterable[SessionFeedback]) -> FeedbackAggregates:
    rows = list(rows)
    before = [row.mood_before for row in rows if row.mood_before is not None]
    after = [row.mood_after for row in rows if row.mood_after is not None]
    change = [row.mood_after - row.mood_before for row in rows
              if row.mood_before is not None and row.mood_after is not None]
    helpful = [row.helpful for row in rows if row.helpful is not None]
    tag_counts = dict.fromkeys(FeedbackTag.values, 0)
    for row in rows:
        # Stored rows went through submit_feedback; anything else in the column is ignored.
        for tag in set(row.tags if isinstance(row.tags, list) else ()):
            if tag in tag_counts:
                tag_counts[tag] += 1
    return FeedbackAggregates(
        count=len(rows), mood_before_mean=_mean(before), mood_after_mean=_mean(after),
        mood_change_mean=_mean(change),
        helpful_percent=round(100 * sum(helpful) / len(helpful), 1) if helpful else None,
        answered_helpful=len(helpful), tag_counts=tag_counts)


def aggregates_for_session(session: HostedSession) -> FeedbackAggregates:
    return aggregate(SessionFeedback.objects.filter(session=session))


def sessions_hosted_by(member: Member) -> QuerySet[HostedSession]:
    """Sessions a member hosts or co-hosts: theirs to see feedback on."""
    return (HostedSession.objects.filter(Q(host=member) | Q(co_hosts=member)).distinct()
            .select_related("room").order_by("room__title", "title", "pk"))


def aggregates_for_host(member: Member) -> FeedbackAggregates:
    return aggregate(SessionFeedback.objects.filter(session__in=sessions_hosted_by(member)))


def week_of(day: date) -> date:
    """The Monday of the week a date falls in."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class TrendRow:
    key: str  # the room's slug or the host's handle
    label: str
    week: date
    aggregates: FeedbackAggregates


def trends(*, by: Literal["room", "host"], since: date | None = None) -> list[TrendRow]:
    """Sums per room or per (main) host and week of the occurrence, oldest week first."""
    if by not in ("room", "host"):
        raise HearthError(ErrorCode.INVALID_FIELD, "trends are by \"room\" or \"host\".")
    rows = SessionFeedback.objects.select_related("session__room", "session__host")
    if since is not None:
        rows = rows.filter(occurrence_on__gte=since)
    groups: dict[tuple[str, str, date], list[SessionFeedback]] = defaultdict(list)
    for row in rows:
        if by == "room":
            key, label = row.session.room.slug, row.session.room.title
        else:
            key, label = row.session.host.handle, row.session.host.handle
        groups[(key, label, week_of(row.occurrence_on))].append(row)
    return [TrendRow(key=key, label=label, week=week, aggregates=aggregate(group))
            for (key, label, week), group in sorted(groups.items(),
                                                    key=lambda item: (item[0][1], item[0][2]))]
