"""Hosted-session pages: the directory's session list, the .ics download (parsed back), the
hosts' own feedback page and the admins' trends page, each with its refusals."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from chat.models import Member, Role
from rooms.feedback import MIN_ANSWERS_SHOWN, submit_feedback
from rooms.models import HostedSession, Recurrence, RoomKind, SessionState
from rooms.schedule import next_occurrence, schedule_session
from tests.factories import make_room, make_staff
from tests.staff_auth import sign_in_staff

pytestmark = pytest.mark.django_db


def sign_in(client, staff):
    sign_in_staff(client, staff)  # the password, then the second factor if the role needs one


def make_session(*, title="Evening anxiety circle", room=None, host=None,
                 zone="Europe/London", first_date: date | None = None,
                 recurrence=Recurrence.WEEKLY, start=time(19, 0), minutes=60):
    today = timezone.now().date()
    return schedule_session(
        room=room or make_room(kind=RoomKind.HOSTED),
        title=title, host=host or make_staff(Role.PEER_SUPPORTER), time_zone=zone,
        first_date=first_date or today + timedelta(days=10), start_time=start,
        duration_minutes=minutes, recurrence=recurrence)


# --- the directory -------------------------------------------------------------------------

def test_the_directory_lists_upcoming_sessions_with_utc_instants_and_a_calendar_link(client):
    session = make_session(first_date=date(2027, 11, 2))
    html = client.get("/").content.decode()
    match = re.search(r'<li class="session-card"[^>]*>.*?</li>', html, re.S)
    assert match is not None
    card = match.group(0)
    assert f'data-session-id="{session.pk}"' in card
    assert 'data-starts-at="2027-11-02T19:00:00+00:00"' in card
    assert 'data-ends-at="2027-11-02T20:00:00+00:00"' in card
    assert 'data-live="false"' in card
    assert f'href="/sessions/{session.pk}.ics"' in card and "Add to calendar" in card
    # Without the script the times still read correctly, in UTC.
    assert "Tue 2 Nov, 19:00\u201320:00 UTC" in card
    assert f'href="{session.room.get_absolute_url()}"' in card


def test_the_session_list_has_no_inline_script_or_style(client):
    make_session()
    html = client.get("/").content.decode()
    assert 'id="hosted-sessions"' in html
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
    assert " style=" not in html and "<style" not in html
    assert "on" + "click=" not in html


def test_closed_rooms_and_finished_one_offs_are_not_listed(client):
    make_session(title="Closed", room=make_room(is_active=False, kind=RoomKind.HOSTED))
    make_session(title="Finished", recurrence=Recurrence.ONCE,
                 first_date=timezone.now().date() - timedelta(days=3))
    html = client.get("/").content.decode()
    assert 'id="hosted-sessions"' not in html
    assert "Closed" not in html and "Finished" not in html


def test_a_live_session_shows_on_now(client):
    session = make_session()
    HostedSession.objects.filter(pk=session.pk).update(state=SessionState.LIVE,
                                                       started_at=timezone.now())
    html = client.get("/").content.decode()
    assert 'data-live="true"' in html and "On now" in html


# --- the calendar file ---------------------------------------------------------------------

def parse_icalendar(raw: bytes) -> list[tuple[str, dict[str, str], str]]:
    """A small RFC 5545 reader: checks line endings and line lengths, unfolds, and splits
    each content line into name, parameters and value."""
    text = raw.decode("utf-8")
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "") and "\r" not in text.replace("\r\n", "")
    physical = text[:-2].split("\r\n")
    assert all(len(line.encode("utf-8")) <= 75 for line in physical)
    logical: list[str] = []
    for line in physical:
        if line.startswith((" ", "\t")):
            logical[-1] += line[1:]
        else:
            logical.append(line)
    parsed = []
    for line in logical:
        head, _sep, value = line.partition(":")
        name, *params = head.split(";")
        parsed.append((name, dict(param.split("=", 1) for param in params), value))
    return parsed


def unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])",
                  lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def event_of(parsed) -> dict[str, tuple[dict[str, str], str]]:
    names = [name for name, _params, _value in parsed]
    assert names[0] == "BEGIN" and parsed[0][2] == "VCALENDAR"
    assert names[-1] == "END" and parsed[-1][2] == "VCALENDAR"
    begin = parsed.index(("BEGIN", {}, "VEVENT"))
    end = parsed.index(("END", {}, "VEVENT"))
    calendar = {name: value for name, _params, value in parsed[:begin]}
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    event = {name: (params, value) for name, params, value in parsed[begin + 1:end]}
    assert len(event) == end - begin - 1, "a property appears twice"
    return event


def test_the_calendar_file_is_a_weekly_event_in_the_hosts_zone(client):
    title = "Evening circle; calm, kind \u2013 and a long name to make the line fold: " + "é" * 30
    session = make_session(title=title, first_date=date(2027, 11, 2))
    response = client.get(f"/sessions/{session.pk}.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="hearth-session-{session.pk}.ics"')
    raw = response.content
    assert any(len(line.encode()) > 75 for line in
               raw.decode().replace("\r\n ", "").split("\r\n")), "nothing was long enough to fold"
    event = event_of(parse_icalendar(raw))
    assert event["DTSTART"] == ({"TZID": "Europe/London"}, "20271102T190000")
    assert event["DURATION"][1] == "PT60M"
    assert event["RRULE"][1] == "FREQ=WEEKLY"
    assert event["UID"][1] == f"hosted-session-{session.pk}@testserver"
    assert re.fullmatch(r"\d{8}T\d{6}Z", event["DTSTAMP"][1])
    assert unescape(event["SUMMARY"][1]) == title
    assert "\\;" in event["SUMMARY"][1] and "\\," in event["SUMMARY"][1]
    room_url = f"http://testserver{session.room.get_absolute_url()}"
    assert event["URL"][1] == room_url
    assert room_url in unescape(event["DESCRIPTION"][1])


def test_a_running_weekly_session_starts_its_calendar_at_the_next_occurrence(client):
    first = timezone.now().date() - timedelta(days=30)
    session = make_session(zone="America/New_York", first_date=first, start=time(15, 0))
    bounds = next_occurrence(session, now=timezone.now())
    assert bounds is not None
    start = bounds[0]
    event = event_of(parse_icalendar(client.get(f"/sessions/{session.pk}.ics").content))
    local = start.astimezone(ZoneInfo("America/New_York"))
    assert event["DTSTART"] == ({"TZID": "America/New_York"},
                                local.strftime("%Y%m%dT150000"))


def test_a_one_off_has_no_repeat_rule(client):
    session = make_session(recurrence=Recurrence.ONCE, minutes=90)
    event = event_of(parse_icalendar(client.get(f"/sessions/{session.pk}.ics").content))
    assert "RRULE" not in event and event["DURATION"][1] == "PT90M"


def test_newlines_in_a_title_are_escaped_not_sent_raw(client):
    session = make_session()
    HostedSession.objects.filter(pk=session.pk).update(title="Line one\nLine two, \\ three")
    event = event_of(parse_icalendar(client.get(f"/sessions/{session.pk}.ics").content))
    assert event["SUMMARY"][1] == "Line one\\nLine two\\, \\\\ three"
    assert unescape(event["SUMMARY"][1]) == "Line one\nLine two, \\ three"


def test_unknown_closed_or_finished_sessions_have_no_calendar_file(client):
    closed = make_session(room=make_room(is_active=False, kind=RoomKind.HOSTED))
    finished = make_session(recurrence=Recurrence.ONCE,
                            first_date=timezone.now().date() - timedelta(days=2))
    for path in ("/sessions/999999.ics", f"/sessions/{closed.pk}.ics",
                 f"/sessions/{finished.pk}.ics"):
        assert client.get(path).status_code == 404, path
    assert client.get("/sessions/abc.ics").status_code == 404
    assert client.post(f"/sessions/{make_session().pk}.ics").status_code == 405


def test_downloading_a_calendar_file_makes_no_member(client):
    session = make_session()
    before = Member.objects.count()
    client.get(f"/sessions/{session.pk}.ics")
    assert Member.objects.count() == before


# --- feedback pages ------------------------------------------------------------------------

def answered_session(host, *, answers: int, title: str = "Circle"):
    """A weekly session that began two weeks before yesterday, with answers about yesterday."""
    occurrence = timezone.now().date() - timedelta(days=1)
    session = make_session(title=title, host=host, first_date=occurrence - timedelta(days=14),
                           zone="UTC", start=time(0, 0))
    for n in range(answers):
        submit_feedback(session_id=session.pk, occurrence_on=occurrence, mood_before=2,
                        mood_after=3 + n % 2, helpful=True, tags=["felt_heard"], comment="")
    return session


def test_a_host_sees_sums_for_their_own_sessions_only(client):
    host, other = make_staff(Role.PEER_SUPPORTER), make_staff(Role.PEER_SUPPORTER)
    mine = answered_session(host, answers=MIN_ANSWERS_SHOWN + 1, title="My circle")
    small = answered_session(host, answers=1, title="Tiny circle")
    answered_session(other, answers=5, title="Their circle")
    sign_in(client, host)
    response = client.get("/sessions/feedback/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "My circle" in html and "Tiny circle" in html and "Their circle" not in html
    rows = {row["session"].pk: row["aggregates"] for row in response.context["rows"]}
    assert set(rows) == {mine.pk, small.pk}
    assert rows[mine.pk].count == 4 and rows[mine.pk].mood_before_mean == 2.0
    assert "100.0%" in html and "I felt heard: 4" in html
    # The single answer's sums are held back so it cannot be told apart.
    match = re.search(rf'<tr data-session-id="{small.pk}">.*?</tr>', html, re.S)
    assert match is not None
    tiny = match.group(0)
    assert "Shown from 3 answers" in tiny and "%" not in tiny
    assert response.context["overall"].count == 5
    assert "/sessions/feedback/trends/" not in html


def test_a_host_without_sessions_is_told_so(client):
    sign_in(client, make_staff(Role.PEER_SUPPORTER))
    html = client.get("/sessions/feedback/").content.decode()
    assert 'id="no-hosted-sessions"' in html


def test_members_cannot_see_host_feedback(client):
    client.post("/me/join/")
    response = client.get("/sessions/feedback/")
    assert response.status_code == 403
    assert "sign in" in response.content.decode()


@pytest.mark.parametrize("role", [None, Role.PEER_SUPPORTER, Role.MODERATOR])
def test_only_admins_see_trends(client, role):
    if role is None:
        client.post("/me/join/")
    else:
        sign_in(client, make_staff(role))
    assert client.get("/sessions/feedback/trends/").status_code == 403


def test_admins_see_trends_per_room_and_per_host(client):
    host = make_staff(Role.PEER_SUPPORTER)
    session = answered_session(host, answers=3)
    admin = make_staff(Role.ADMIN)
    sign_in(client, admin)
    response = client.get("/sessions/feedback/trends/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="trends-room"' in html and 'id="trends-host"' in html
    assert f'data-key="{session.room.slug}"' in html and f'data-key="{host.handle}"' in html
    assert response.context["total"] == 3
    assert "/sessions/feedback/trends/" in client.get("/sessions/feedback/").content.decode()
    assert client.post("/sessions/feedback/trends/").status_code == 405



@pytest.mark.django_db
def test_staff_find_the_dashboard_and_their_session_feedback_in_the_menu(client):
    from chat.models import Role
    from tests.factories import make_staff

    client.post("/me/join/")
    page = client.get("/").content.decode()
    assert "/sessions/feedback/" not in page and ">Dashboard<" not in page
    staff = make_staff(Role.PEER_SUPPORTER)
    assert staff.user is not None
    sign_in_staff(client, staff)
    page = client.get("/").content.decode()
    assert 'href="/sessions/feedback/"' in page and 'href="/moderation/"' in page
