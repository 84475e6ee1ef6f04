"""When hosted sessions happen: occurrences in the host's time zone, the upcoming list for the
directory, and the one check every schedule goes through before it is saved.

A schedule is kept as a local date and clock time in an IANA zone ("Tuesdays 19:00
Europe/London"), so the clock time stays put across daylight-saving changes and the UTC
instant moves. Everything leaving this module is an aware datetime in UTC; browsers show it
in their own zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.db import transaction
from django.db.models import QuerySet

from chat.errors import ErrorCode, HearthError
from chat.models import Member
from moderation.permissions import Action, can
from rooms.models import (
    HostedSession,
    Recurrence,
    Room,
    RoomKind,
    SessionState,
    SessionTemplate,
)

# A weekly session must end before the next one starts; a day is plenty for any session.
MAX_DURATION_MINUTES = 24 * 60
TITLE_MAX_CHARS = 120
UPCOMING_LIMIT = 20

Bounds = tuple[datetime, datetime]


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_time_zone(name: str) -> ZoneInfo:
    """The zone for an IANA name such as "Europe/London", or a clear refusal."""
    if not isinstance(name, str) or name not in _known_zones():
        raise HearthError(ErrorCode.INVALID_FIELD, (
            f"\"{name}\" is not a time zone we know. Use a name from the IANA time zone "
            "database, such as Europe/London or America/New_York."))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # listed, but its file went missing
        raise HearthError(ErrorCode.INVALID_FIELD,
                          f"The time zone \"{name}\" could not be loaded.") from None


def validate_duration(minutes: int) -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int) \
            or not 1 <= minutes <= MAX_DURATION_MINUTES:
        raise HearthError(ErrorCode.INVALID_FIELD,
                          f"A session lasts from 1 to {MAX_DURATION_MINUTES} minutes.")
    return minutes


def session_zone(session: HostedSession) -> ZoneInfo:
    return validate_time_zone(session.time_zone)


def is_occurrence(session: HostedSession, on: date) -> bool:
    """Whether the session happens on this local date (in its own zone)."""
    if session.recurrence == Recurrence.ONCE:
        return on == session.first_date
    return on >= session.first_date and on.weekday() == session.first_date.weekday()


def occurrence_bounds(session: HostedSession, on: date) -> Bounds:
    """Start and end, in UTC, of the session's occurrence on the local date `on`.

    A clock time that does not exist that day (the hour skipped in spring) starts at the
    same UTC instant as the clock time before the change would; a clock time that happens
    twice (the hour repeated in autumn) is its first one. The end is the start plus the
    duration, so a session is never longer or shorter than planned.
    """
    if not is_occurrence(session, on):
        raise HearthError(ErrorCode.INVALID_FIELD,
                          f"The session \"{session.title}\" does not happen on {on.isoformat()}.")
    start_local = datetime.combine(on, session.start_time, tzinfo=session_zone(session))
    start = start_local.astimezone(UTC)
    return start, start + timedelta(minutes=session.duration_minutes)


def next_occurrence(session: HostedSession, *, now: datetime) -> Bounds | None:
    """The occurrence happening now, else the next one; None when there is none ahead.

    An occurrence counts until it ends, unless its host ended it early.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    if session.recurrence == Recurrence.ONCE:
        candidates: list[date] = [session.first_date]
    else:
        # Start a day early: an evening session may still be running past local midnight.
        since = max(session.first_date, now.astimezone(session_zone(session)).date()
                    - timedelta(days=1))
        first = since + timedelta(days=(session.first_date.weekday() - since.weekday()) % 7)
        candidates = [first, first + timedelta(days=7), first + timedelta(days=14)]
    for on in candidates:
        start, end = occurrence_bounds(session, on)
        ended_early = session.ended_at is not None and session.ended_at >= start
        if end > now and not ended_early:
            return start, end
    return None


def occurrence_on_for(session: HostedSession, start: datetime) -> date:
    """The local date of the occurrence starting at `start` (the date feedback names)."""
    return start.astimezone(session_zone(session)).date()


@dataclass(frozen=True)
class UpcomingSession:
    session: HostedSession
    starts_at: datetime
    ends_at: datetime
    live: bool

    @property
    def occurrence_on(self) -> date:
        return occurrence_on_for(self.session, self.starts_at)


def listed_sessions() -> QuerySet[HostedSession]:
    """Sessions members can see: those in open rooms."""
    return (HostedSession.objects.filter(room__is_active=True)
            .select_related("room", "host"))


def upcoming_sessions(*, now: datetime, limit: int = UPCOMING_LIMIT) -> list[UpcomingSession]:
    """Live sessions and the next occurrence of every scheduled one, soonest first."""
    upcoming = []
    for session in listed_sessions():
        bounds = next_occurrence(session, now=now)
        live = session.state == SessionState.LIVE
        if bounds is None and not live:
            continue
        if bounds is None:  # running past its planned end: it is still on now
            started = session.started_at or now
            bounds = (started, max(now, started + timedelta(minutes=session.duration_minutes)))
        upcoming.append(UpcomingSession(session=session, starts_at=bounds[0],
                                        ends_at=bounds[1], live=live))
    upcoming.sort(key=lambda item: (not item.live, item.starts_at, item.session.pk))
    return upcoming[:limit]


def schedule_session(*, room: Room, title: str, host: Member, time_zone: str,
                     first_date: date, start_time: time, duration_minutes: int = 60,
                     recurrence: str = Recurrence.WEEKLY, capacity: int = 10,
                     co_hosts: tuple[Member, ...] = (),
                     template: SessionTemplate | None = None) -> HostedSession:
    """Put a session on the schedule after checking everything the admin form checks."""
    validate_time_zone(time_zone)
    validate_duration(duration_minutes)
    if recurrence not in Recurrence.values:
        raise HearthError(ErrorCode.INVALID_FIELD,
                          f"recurrence must be one of: {', '.join(Recurrence.values)}")
    title = title.strip()
    if not title or len(title) > TITLE_MAX_CHARS:
        raise HearthError(ErrorCode.INVALID_FIELD,
                          f"A session needs a title of up to {TITLE_MAX_CHARS} characters.")
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise HearthError(ErrorCode.INVALID_FIELD, "capacity must be at least 1.")
    if room.kind != RoomKind.HOSTED:
        # Turns, pause and lock are enforced only in hosted rooms.
        raise HearthError(ErrorCode.INVALID_FIELD, "Sessions run in rooms of kind hosted.")
    if not all(can(person, Action.HOST_SESSIONS) for person in (host, *co_hosts)):
        raise HearthError(ErrorCode.INVALID_FIELD,
                          "Hosts and co-hosts need a peer supporter, moderator or admin role.")
    with transaction.atomic():
        session = HostedSession.objects.create(
            room=room, title=title, host=host, time_zone=time_zone, first_date=first_date,
            start_time=start_time, duration_minutes=duration_minutes, recurrence=recurrence,
            capacity=capacity, template=template,
            share_seconds=template.share_seconds if template else 180)
        session.co_hosts.set(co_hosts)
    return session


# --- iCalendar (RFC 5545) ------------------------------------------------------------------
#
# DTSTART names the session's IANA zone (TZID=Europe/London) with no VTIMEZONE block: Google,
# Apple and Microsoft calendars resolve IANA names from their own, updated time zone data
# (RFC 7809 describes exactly this), while a VTIMEZONE written today would freeze today's
# daylight-saving rules into the member's calendar for every future week. UTC sessions use
# plain UTC times ("...Z"), which need no zone at all.

ICAL_LINE_OCTETS = 75


def ical_escape(text: str) -> str:
    """TEXT value escaping: backslash, semicolon, comma and newlines."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def ical_fold(line: str) -> str:
    """Fold a content line into pieces of at most 75 octets, never inside a UTF-8 character;
    each continuation starts with one space (which counts toward its 75)."""
    pieces: list[str] = []
    current, size, limit = "", 0, ICAL_LINE_OCTETS
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size, limit = "", 0, ICAL_LINE_OCTETS - 1
        current += ch
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def _ical_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def session_icalendar(session: HostedSession, *, room_url: str, uid_domain: str,
                      now: datetime) -> str:
    """The session as a calendar event: weekly sessions repeat from their next occurrence."""
    zone = session_zone(session)
    upcoming = next_occurrence(session, now=now)
    on = occurrence_on_for(session, upcoming[0]) if upcoming else session.first_date
    if session.time_zone == "UTC":
        dtstart = f"DTSTART:{_ical_utc(occurrence_bounds(session, on)[0])}"
    else:
        local = datetime.combine(on, session.start_time, tzinfo=zone)
        dtstart = f"DTSTART;TZID={session.time_zone}:{local.strftime('%Y%m%dT%H%M%S')}"
    description = (f"A hosted peer-support session in \"{session.room.title}\" on Hearth, "
                   f"with a trained peer supporter. Join here: {room_url}")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Hearth//Hosted sessions//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:hosted-session-{session.pk}@{uid_domain}",
        f"DTSTAMP:{_ical_utc(now)}",
        dtstart,
        f"DURATION:PT{session.duration_minutes}M",
        *(["RRULE:FREQ=WEEKLY"] if session.recurrence == Recurrence.WEEKLY else []),
        f"SUMMARY:{ical_escape(session.title)}",
        f"DESCRIPTION:{ical_escape(description)}",
        f"URL:{room_url}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(f"{ical_fold(line)}\r\n" for line in lines)
