"""Browser test of the schedule (issue 5, acceptance 3): sessions a host schedules in
Europe/London show in the directory at the right local time for a member whose browser says
America/New_York, on both sides of the week between the UK's and the US's daylight-saving
changes, with "starts in … min" / "On now", and a calendar file to download.

The server lists each session's next occurrence by its own clock, so the sessions are put on
dates after today: the Tuesdays around the next UK change (last Sunday of October) and US
change (first Sunday of November). The browser's clock is not touched.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.helpers import TIMEOUT_MS, check_accessibility, django_shell, screenshot

pytestmark = pytest.mark.e2e

LONDON, NEW_YORK = ZoneInfo("Europe/London"), ZoneInfo("America/New_York")
DASH = "\u2013"  # between the start and end times

# A hosted room of its own and sessions in it; prints {label: session id} as JSON.
MAKE_SESSIONS = """
import json
from datetime import date, time
from chat.models import Member, Role
from rooms.models import Room, RoomKind
from rooms.schedule import schedule_session
host, _ = Member.objects.get_or_create(handle_key="tzhost9", defaults={{
    "handle": "TzHost9", "role": Role.PEER_SUPPORTER}})
room = Room.objects.create(slug={slug!r}, title="Time zone circle", kind=RoomKind.HOSTED,
    description="Sessions across daylight-saving changes.", focus_area="anxiety")
made = {{}}
for label, zone, day, clock, recurrence in {specs!r}:
    made[label] = schedule_session(room=room, title=label, host=host, time_zone=zone,
        first_date=date.fromisoformat(day), start_time=time.fromisoformat(clock),
        duration_minutes=60, recurrence=recurrence).pk
print(json.dumps(made))
"""


def last_sunday_of_october(year: int) -> date:
    day = date(year, 10, 31)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def first_sunday_of_november(year: int) -> date:
    day = date(year, 11, 1)
    return day + timedelta(days=(6 - day.weekday()) % 7)


def dst_tuesdays(today: date) -> tuple[date, date, date]:
    """The Tuesday before the next UK change, the one between it and the US change, and the
    one after both, all after today."""
    year = today.year
    while last_sunday_of_october(year) - timedelta(days=5) <= today + timedelta(days=1):
        year += 1
    uk, us = last_sunday_of_october(year), first_sunday_of_november(year)
    before, between, after = uk - timedelta(days=5), uk + timedelta(days=2), us + timedelta(days=2)
    assert uk < between < us < after, (uk, between, us, after)
    # The window this test is about: London back on UTC, New York still on summer time.
    assert datetime(between.year, between.month, between.day, 19,
                    tzinfo=LONDON).utcoffset() == timedelta(0)
    assert datetime(between.year, between.month, between.day, 15,
                    tzinfo=NEW_YORK).utcoffset() == timedelta(hours=-4)
    return before, between, after


@pytest.fixture(scope="module")
def scheduled(servers: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    before, between, after = dst_tuesdays(now.date())
    soon = (now + timedelta(minutes=25)).replace(second=0, microsecond=0)
    running = (now - timedelta(minutes=10)).replace(second=0, microsecond=0)
    specs = [
        ("Before both changes", "Europe/London", before.isoformat(), "19:00", "once"),
        ("Between the changes", "Europe/London", between.isoformat(), "19:00", "once"),
        ("After both changes", "Europe/London", after.isoformat(), "19:00", "once"),
        ("Weekly from between", "Europe/London", between.isoformat(), "19:00", "weekly"),
        ("Starting soon", "UTC", soon.date().isoformat(), soon.time().isoformat(), "once"),
        ("Running now", "UTC", running.date().isoformat(), running.time().isoformat(), "once"),
    ]
    output = django_shell(servers, MAKE_SESSIONS.format(slug="time-zone-circle", specs=specs))
    ids = json.loads(output.strip().splitlines()[-1])
    return {"ids": ids, "before": before, "between": between, "after": after}


def card(page: Any, session_id: int) -> Any:
    return page.locator(f'.session-card[data-session-id="{session_id}"]')


def when_text(page: Any, session_id: int) -> str:
    from playwright.sync_api import expect

    when = card(page, session_id).locator(".session-when")
    # The script replaces the server's UTC fallback text.
    expect(when).not_to_contain_text("UTC", timeout=TIMEOUT_MS)
    text: str = when.inner_text()
    # Newer ICU puts a narrow no-break space before AM/PM.
    return re.sub(r"[\u202f\u00a0\s]+", " ", text).strip()


def day_label(day: date, *, us: bool) -> str:
    weekday, month = day.strftime("%a"), day.strftime("%b")
    return f"{weekday}, {month} {day.day}" if us else f"{weekday} {day.day} {month}"


def test_a_new_york_browser_sees_london_sessions_at_its_own_local_times(visitor, scheduled,
                                                                       tmp_path: Path):
    from playwright.sync_api import expect

    ids, before, between, after = (scheduled["ids"], scheduled["before"],
                                   scheduled["between"], scheduled["after"])
    member = visitor(timezone_id="America/New_York", locale="en-US")
    member.goto("/")
    page = member.page
    expect(page.locator("#sessions-zone")).to_have_text(
        "Times are shown in your time zone (America/New York).")

    # The server sends UTC instants; 19:00 in London moves in UTC with the UK change...
    assert card(page, ids["Before both changes"]).get_attribute("data-starts-at") == (
        f"{before.isoformat()}T18:00:00+00:00")
    assert card(page, ids["Between the changes"]).get_attribute("data-starts-at") == (
        f"{between.isoformat()}T19:00:00+00:00")
    # ...and New York's clock moves with the US one: 14:00, then 15:00, then 14:00 again.
    assert when_text(page, ids["Before both changes"]) == (
        f"{day_label(before, us=True)}, 2:00 PM{DASH}3:00 PM")
    assert when_text(page, ids["Between the changes"]) == (
        f"{day_label(between, us=True)}, 3:00 PM{DASH}4:00 PM")
    assert when_text(page, ids["After both changes"]) == (
        f"{day_label(after, us=True)}, 2:00 PM{DASH}3:00 PM")
    assert when_text(page, ids["Weekly from between"]) == (
        f"{day_label(between, us=True)}, 3:00 PM{DASH}4:00 PM")
    for label in ("Before both changes", "Between the changes", "After both changes"):
        expect(card(page, ids[label]).locator(".session-status")).to_be_hidden()

    expect(card(page, ids["Starting soon"]).locator(".session-status")).to_have_text(
        re.compile(r"^Starts in (2[3-6]) min$"))
    expect(card(page, ids["Running now"]).locator(".session-status")).to_have_text("On now")
    check_accessibility(page, "the directory with hosted sessions")
    screenshot(page, "directory-sessions-new-york", tmp_path)

    # The calendar link downloads the session as an event in the host's zone.
    with page.expect_download() as download_info:
        card(page, ids["Between the changes"]).get_by_role(
            "link", name=re.compile("^Add to calendar")).click()
    text = Path(download_info.value.path()).read_bytes().decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n")
    assert f"DTSTART;TZID=Europe/London:{between.strftime('%Y%m%d')}T190000\r\n" in text


def test_a_24_hour_locale_and_the_hosts_own_zone(visitor, scheduled):
    ids, between, after = scheduled["ids"], scheduled["between"], scheduled["after"]
    new_yorker = visitor(timezone_id="America/New_York", locale="en-GB")
    new_yorker.goto("/")
    assert when_text(new_yorker.page, ids["Between the changes"]) == (
        f"{day_label(between, us=False)}, 15:00{DASH}16:00")
    assert when_text(new_yorker.page, ids["After both changes"]) == (
        f"{day_label(after, us=False)}, 14:00{DASH}15:00")

    # In London the clock time never moves.
    londoner = visitor(timezone_id="Europe/London", locale="en-GB")
    londoner.goto("/")
    for label in ("Before both changes", "Between the changes", "After both changes"):
        assert when_text(londoner.page, ids[label]).endswith(f", 19:00{DASH}20:00"), label


# Feedback on a session the admin hosts, about yesterday's occurrence; three answers, so the
# sums are shown.
MAKE_FEEDBACK = """
from datetime import time, timedelta
from django.utils import timezone
from chat.models import Member
from rooms.feedback import submit_feedback
from rooms.models import Room
from rooms.schedule import schedule_session
host = Member.objects.get(user__username={username!r})
yesterday = timezone.now().date() - timedelta(days=1)
session = schedule_session(room=Room.objects.get(slug="time-zone-circle"),
    title="Admin's circle", host=host, time_zone="UTC", first_date=yesterday,
    start_time=time(0, 0), recurrence="once")
for before, after, helpful in ((2, 4, True), (3, 3, True), (1, None, False)):
    submit_feedback(session_id=session.pk, occurrence_on=yesterday, mood_before=before,
        mood_after=after, helpful=helpful, tags=["felt_heard"], comment="")
print(session.pk)
"""


def test_feedback_pages_for_hosts_and_admins_are_accessible(visitor, servers, scheduled):
    from playwright.sync_api import expect

    from tests.e2e.conftest import sign_in_staff

    servers.manage("add_staff", "trendsadmin", "--role", "admin")
    session_id = django_shell(servers, MAKE_FEEDBACK.format(username="trendsadmin")).split()[-1]
    admin = visitor()
    sign_in_staff(admin, "trendsadmin", next_path="/sessions/feedback/")  # with its 2nd factor
    page = admin.page
    row = page.locator(f'#host-feedback tr[data-session-id="{session_id}"]')
    expect(row).to_contain_text("Admin's circle")
    expect(row).to_contain_text("66.7%")
    expect(row).to_contain_text("I felt heard: 3")
    check_accessibility(page, "a host's session feedback")

    page.get_by_role("link", name="Trends for every room and host").click()
    expect(page.locator("#trends-room")).to_contain_text("Time zone circle")
    expect(page.locator("#trends-host")).to_be_visible()
    check_accessibility(page, "feedback trends")
