"""rooms.schedule: occurrences in the host's zone (the clock time stays, UTC moves), the next
occurrence, the upcoming list, validation, the iCalendar text, the admin form and the demo."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from chat.errors import ErrorCode, HearthError
from chat.models import Member, Role
from chat.services import change_handle
from rooms.admin import HostedSessionForm
from rooms.demo import DEMO_HOST_HANDLE, seed_demo_rooms, seed_demo_session
from rooms.models import HostedSession, Recurrence, RoomKind, SessionState
from rooms.schedule import (
    ical_escape,
    ical_fold,
    is_occurrence,
    next_occurrence,
    occurrence_bounds,
    schedule_session,
    session_icalendar,
    upcoming_sessions,
    validate_duration,
    validate_time_zone,
)
from tests.factories import make_member, make_room, make_staff

pytestmark = pytest.mark.django_db

# 2026: the UK leaves summer time on Sunday 25 October, the US on Sunday 1 November.
TUE_BEFORE_BOTH = date(2026, 10, 20)   # London UTC+1, New York UTC-4
TUE_BETWEEN = date(2026, 10, 27)       # London UTC+0, New York UTC-4
TUE_AFTER_BOTH = date(2026, 11, 3)     # London UTC+0, New York UTC-5


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def next_start(session: HostedSession, now: datetime) -> datetime:
    bounds = next_occurrence(session, now=now)
    assert bounds is not None
    return bounds[0]


def make_session(*, zone: str = "Europe/London", first_date: date = TUE_BEFORE_BOTH,
                 start: time = time(19, 0), minutes: int = 60,
                 recurrence: str = Recurrence.WEEKLY, room=None, host=None,
                 title: str = "Evening anxiety circle") -> HostedSession:
    return schedule_session(
        room=room or make_room(kind=RoomKind.HOSTED), title=title,
        host=host or make_staff(Role.PEER_SUPPORTER), time_zone=zone, first_date=first_date,
        start_time=start, duration_minutes=minutes, recurrence=recurrence)


# --- occurrences across daylight-saving changes ------------------------------------------

@pytest.mark.parametrize(("on", "start_utc"), [
    (TUE_BEFORE_BOTH, utc(2026, 10, 20, 18, 0)),
    (TUE_BETWEEN, utc(2026, 10, 27, 19, 0)),
    (TUE_AFTER_BOTH, utc(2026, 11, 3, 19, 0)),
])
def test_london_tuesdays_keep_their_clock_time_and_move_in_utc(on, start_utc):
    session = make_session()
    assert occurrence_bounds(session, on) == (start_utc, start_utc + timedelta(hours=1))


@pytest.mark.parametrize(("on", "start_utc"), [
    (TUE_BEFORE_BOTH, utc(2026, 10, 20, 19, 0)),
    (TUE_BETWEEN, utc(2026, 10, 27, 19, 0)),
    (TUE_AFTER_BOTH, utc(2026, 11, 3, 20, 0)),
])
def test_new_york_sessions_move_with_the_us_change(on, start_utc):
    session = make_session(zone="America/New_York", start=time(15, 0))
    assert occurrence_bounds(session, on)[0] == start_utc


def test_the_next_occurrence_walks_across_both_changes():
    session = make_session()
    monday = utc(2026, 10, 19, 12, 0)
    assert next_occurrence(session, now=monday) == (utc(2026, 10, 20, 18), utc(2026, 10, 20, 19))
    after_first = utc(2026, 10, 20, 19, 0)  # the end is not "in progress" any more
    assert next_start(session, after_first) == utc(2026, 10, 27, 19)
    assert next_start(session, utc(2026, 10, 28, 9)) == utc(2026, 11, 3, 19)
    # From another zone's point of view nothing changes: instants are instants.
    assert next_start(session, utc(2026, 11, 1, 6)) == utc(2026, 11, 3, 19)


def test_an_occurrence_in_progress_is_next_until_it_ends():
    session = make_session()
    during = utc(2026, 10, 27, 19, 59)
    assert next_start(session, during) == utc(2026, 10, 27, 19)
    assert next_start(session, utc(2026, 10, 27, 20)) == utc(2026, 11, 3, 19)


def test_an_occurrence_the_host_ended_early_is_no_longer_next():
    session = make_session()
    session.ended_at = utc(2026, 10, 27, 19, 40)
    assert next_start(session, utc(2026, 10, 27, 19, 45)) == utc(2026, 11, 3, 19)
    # Last week's ending does not hide this week's session.
    assert next_start(session, utc(2026, 11, 3, 19, 10)) == utc(2026, 11, 3, 19)


def test_a_session_running_past_local_midnight_is_still_in_progress():
    session = make_session(zone="America/New_York", first_date=date(2026, 11, 3),
                           start=time(23, 30), minutes=90)
    # 00:15 on Wednesday in New York (05:15 UTC): Tuesday's session is still on.
    now = utc(2026, 11, 4, 5, 15)
    assert next_occurrence(session, now=now) == (utc(2026, 11, 4, 4, 30), utc(2026, 11, 4, 6))


def test_before_the_first_date_the_first_date_is_next():
    session = make_session(first_date=date(2027, 11, 2))
    assert next_start(session, utc(2026, 11, 21)) == utc(2027, 11, 2, 19)


def test_a_one_off_session_is_next_until_it_ends_then_never():
    session = make_session(recurrence=Recurrence.ONCE, first_date=TUE_BETWEEN)
    assert next_start(session, utc(2026, 10, 1)) == utc(2026, 10, 27, 19)
    assert next_start(session, utc(2026, 10, 27, 19, 30)) == utc(2026, 10, 27, 19)
    assert next_occurrence(session, now=utc(2026, 10, 27, 20)) is None
    assert not is_occurrence(session, TUE_AFTER_BOTH)


def test_clock_times_skipped_or_repeated_by_a_change_are_well_defined():
    # 01:30 on 28 March 2027 does not exist in London; it lands where 01:30 GMT would.
    spring = make_session(first_date=date(2027, 3, 28), start=time(1, 30))
    assert occurrence_bounds(spring, date(2027, 3, 28))[0] == utc(2027, 3, 28, 1, 30)
    # 01:30 on 25 October 2026 happens twice; the first one (still BST) counts.
    autumn = make_session(first_date=date(2026, 10, 25), start=time(1, 30), minutes=45)
    assert occurrence_bounds(autumn, date(2026, 10, 25)) == (utc(2026, 10, 25, 0, 30),
                                                              utc(2026, 10, 25, 1, 15))


@pytest.mark.parametrize("on", [date(2026, 10, 21), date(2026, 10, 13)])
def test_a_day_the_session_does_not_happen_is_refused(on):
    session = make_session()
    with pytest.raises(HearthError) as caught:
        occurrence_bounds(session, on)
    assert caught.value.code == ErrorCode.INVALID_FIELD


def test_now_must_be_aware():
    with pytest.raises(ValueError, match="aware"):
        next_occurrence(make_session(), now=datetime(2026, 10, 1, 12))  # noqa: DTZ001


# --- validation ------------------------------------------------------------------------------

@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York", "UTC", "Asia/Kolkata"])
def test_known_zones_are_accepted(zone):
    assert str(validate_time_zone(zone)) == zone


@pytest.mark.parametrize("zone", ["", "Mars/Olympus_Mons", "europe/london", "GMT+25",
                                  "../../etc/passwd", "Europe/London ", None, 7])
def test_unknown_zones_are_refused_clearly(zone):
    with pytest.raises(HearthError) as caught:
        validate_time_zone(zone)
    assert caught.value.code == ErrorCode.INVALID_FIELD
    assert "IANA" in caught.value.detail


@pytest.mark.parametrize("minutes", [0, -5, 24 * 60 + 1, True, "60", None])
def test_durations_out_of_range_are_refused(minutes):
    with pytest.raises(HearthError):
        validate_duration(minutes)


@pytest.mark.parametrize(("change", "fragment"), [
    ({"time_zone": "Nowhere/Land"}, "time zone"),
    ({"duration_minutes": 0}, "minutes"),
    ({"recurrence": "daily"}, "recurrence"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 121}, "title"),
    ({"capacity": 0}, "capacity"),
])
def test_schedule_session_refuses_bad_input(change, fragment):
    arguments = {"room": make_room(kind=RoomKind.HOSTED), "title": "Circle",
                 "host": make_staff(Role.PEER_SUPPORTER),
                 "time_zone": "Europe/London", "first_date": TUE_BETWEEN,
                 "start_time": time(19, 0), **change}
    with pytest.raises(HearthError) as caught:
        schedule_session(**arguments)
    assert caught.value.code == ErrorCode.INVALID_FIELD
    assert fragment in caught.value.detail
    assert not HostedSession.objects.exists()


def test_only_staff_can_host_or_co_host():
    with pytest.raises(HearthError, match="invalid_field"):
        make_session(host=make_member())
    with pytest.raises(HearthError, match="invalid_field"):
        schedule_session(room=make_room(kind=RoomKind.HOSTED), title="Circle",
                         host=make_staff(Role.PEER_SUPPORTER),
                         time_zone="UTC", first_date=TUE_BETWEEN, start_time=time(19),
                         co_hosts=(make_member(),))


def test_the_admin_form_shows_a_bad_time_zone_next_to_the_field():
    room, host = make_room(kind=RoomKind.HOSTED), make_staff(Role.PEER_SUPPORTER)
    data = {"room": room.pk, "title": "Circle", "host": host.pk, "capacity": 10,
            "time_zone": "Europe/Londres", "first_date": "2026-10-27", "start_time": "19:00",
            "duration_minutes": 60, "recurrence": "weekly", "share_seconds": 180}
    form = HostedSessionForm(data=data)
    assert not form.is_valid()
    assert "not a time zone we know" in form.errors["time_zone"][0]
    form = HostedSessionForm(data={**data, "time_zone": "Europe/London",
                                   "duration_minutes": 0})
    assert not form.is_valid() and list(form.errors) == ["duration_minutes"]
    form = HostedSessionForm(data={**data, "time_zone": "Europe/London",
                                   "host": make_member().pk})
    assert not form.is_valid() and "peer supporter" in form.errors["__all__"][0]
    form = HostedSessionForm(data={**data, "time_zone": "Europe/London"})
    assert form.is_valid(), form.errors
    assert form.save().time_zone == "Europe/London"


def test_the_admin_lists_and_edits_sessions_templates_prompts_and_shows_feedback(admin_client):
    session = make_session()
    for path in ("/admin/rooms/hostedsession/", f"/admin/rooms/hostedsession/{session.pk}/change/",
                 "/admin/rooms/sessiontemplate/", "/admin/rooms/prompt/",
                 "/admin/rooms/sessionfeedback/", "/admin/rooms/hostedsession/add/"):
        assert admin_client.get(path).status_code == 200, path
    # Feedback is read-only: no adding, and the change page only shows it.
    assert admin_client.get("/admin/rooms/sessionfeedback/add/").status_code == 403
    response = admin_client.post(f"/admin/rooms/hostedsession/{session.pk}/change/", {
        "room": session.room_id, "title": session.title, "host": session.host_id,
        "capacity": 10, "time_zone": "Not/AZone", "first_date": "2026-10-20",
        "start_time": "19:00", "duration_minutes": 60, "recurrence": "weekly",
        "share_seconds": 180})
    assert response.status_code == 200
    assert "not a time zone we know" in response.content.decode()
    session.refresh_from_db()
    assert session.time_zone == "Europe/London"


# --- the upcoming list -------------------------------------------------------------------

def test_upcoming_sessions_lists_live_first_then_soonest_and_skips_closed_rooms():
    now = utc(2026, 10, 26, 12)
    later = make_session(title="Later", first_date=date(2026, 10, 29))
    sooner = make_session(title="Sooner", first_date=TUE_BETWEEN)
    make_session(title="Over", recurrence=Recurrence.ONCE, first_date=TUE_BEFORE_BOTH)
    make_session(title="Closed room", room=make_room(is_active=False, kind=RoomKind.HOSTED))
    live = make_session(title="Live", first_date=date(2026, 10, 30))
    HostedSession.objects.filter(pk=live.pk).update(state=SessionState.LIVE,
                                                    started_at=now - timedelta(minutes=5))
    listed = upcoming_sessions(now=now)
    assert [item.session.title for item in listed] == ["Live", "Sooner", "Later"]
    assert listed[0].live and not listed[1].live
    assert listed[1].starts_at == utc(2026, 10, 27, 19)
    assert listed[1].occurrence_on == TUE_BETWEEN
    assert {sooner.pk, later.pk} <= {item.session.pk for item in listed}


def test_a_live_session_running_past_its_planned_end_stays_on_now():
    session = make_session(recurrence=Recurrence.ONCE, first_date=TUE_BETWEEN)
    started = utc(2026, 10, 27, 19, 5)
    HostedSession.objects.filter(pk=session.pk).update(state=SessionState.LIVE,
                                                       started_at=started)
    now = utc(2026, 10, 27, 20, 10)
    [item] = upcoming_sessions(now=now)
    assert item.live and item.starts_at == started and item.ends_at >= now


# --- iCalendar text ----------------------------------------------------------------------

def test_text_values_are_escaped():
    assert ical_escape("a,b;c\\d\ne\r\nf") == "a\\,b\\;c\\\\d\\ne\\nf"


@pytest.mark.parametrize("text", ["x" * 200, "é" * 100, "日本語の" * 30, "a" * 74 + "😀" * 3])
def test_folded_lines_stay_within_75_octets_and_unfold_to_the_original(text):
    folded = ical_fold(f"SUMMARY:{text}")
    pieces = folded.split("\r\n")
    assert all(len(piece.encode()) <= 75 for piece in pieces)
    assert all(piece.startswith(" ") for piece in pieces[1:])
    assert folded.replace("\r\n ", "") == f"SUMMARY:{text}"


def test_utc_sessions_use_utc_times_and_one_offs_have_no_rule():
    session = make_session(zone="UTC", recurrence=Recurrence.ONCE, first_date=TUE_BETWEEN)
    text = session_icalendar(session, room_url="https://x.test/rooms/a/", uid_domain="x.test",
                             now=utc(2026, 10, 1))
    assert "DTSTART:20261027T190000Z\r\n" in text
    assert "RRULE" not in text and "TZID" not in text


# --- the demo session --------------------------------------------------------------------

def test_the_demo_session_is_seeded_once_with_a_login_free_peer_supporter():
    seed_demo_rooms()
    session = HostedSession.objects.get(room__slug="evening-anxiety-circle")
    assert (session.title, session.time_zone, session.start_time, session.duration_minutes,
            session.capacity, session.recurrence) == (
        "Evening anxiety circle", "Europe/London", time(19, 0), 60, 10, Recurrence.WEEKLY)
    assert session.first_date.weekday() == 1  # Tuesday
    assert session.host.handle == DEMO_HOST_HANDLE
    assert session.host.role == Role.PEER_SUPPORTER and session.host.user is None
    assert session.template is not None
    assert seed_demo_session() is None
    seed_demo_rooms()
    assert HostedSession.objects.count() == 1


def test_the_demo_session_leaves_an_operators_session_and_a_members_handle_alone():
    seed_demo_rooms()
    HostedSession.objects.all().delete()
    Member.objects.filter(handle=DEMO_HOST_HANDLE).update(handle="Other1",
                                                          handle_key="other1")
    change_handle(member=make_member(), new_handle=DEMO_HOST_HANDLE)
    assert seed_demo_session() is None
    assert not HostedSession.objects.exists()
