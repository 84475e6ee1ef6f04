"""Browser end-to-end test of a hosted session (issue 5, acceptance 5): a peer supporter hosts
a short session from the console beside the chat and a member takes part from the session
panel, each in a browser context of their own.

The member sees the scheduled start in their own time zone; the host starts the session and
walks it through all four phases; the member raises a hand, is called, shares and ends the
turn while the host sends a reaction; the host uses pause, slow mode, lock and pin; ends the
session; the member sends anonymous feedback. axe-core checks the panel and the console in
light and dark colours, and the console is driven by keyboard alone for next phase, call
next, pause/resume and end session (Tab to the control, Enter; Escape closes the dialog).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import STAFF_PASSWORD
from tests.e2e.helpers import (
    TIMEOUT_MS,
    Visitor,
    assert_fits,
    check_accessibility,
    django_shell,
    screenshot,
    unique,
    with_dark_colours,
)

pytestmark = pytest.mark.e2e

HOST_USERNAME = "sessionhost1"
MEMBER_ZONE = "America/New_York"

# A hosted room of its own and a session in it, starting in {minutes} minutes on the host's
# clock (Europe/London), hosted by the peer supporter's handle; prints the room's slug.
MAKE_SESSION = """
from datetime import timedelta
from zoneinfo import ZoneInfo
from django.utils import timezone
from chat.models import Member
from rooms.models import Room, RoomKind, SessionTemplate
from rooms.schedule import schedule_session
host = Member.objects.get(user__username={username!r})
room = Room.objects.create(slug={slug!r}, title="Evening circle", kind=RoomKind.HOSTED,
    description="A small group hosted by a trained peer supporter.", focus_area="general",
    capacity=12)
starts = (timezone.now() + timedelta(minutes={minutes})).astimezone(ZoneInfo("Europe/London"))
schedule_session(room=room, title="Evening anxiety circle", host=host,
    time_zone="Europe/London", first_date=starts.date(),
    start_time=starts.time().replace(second=0, microsecond=0), duration_minutes=60,
    recurrence="once", capacity=10, template=SessionTemplate.objects.order_by("pk").first())
print(room.slug)
"""
TEMPLATE_TEXTS = """
import json
from rooms.models import SessionTemplate
t = SessionTemplate.objects.order_by("pk").first()
print(json.dumps({"welcome": t.welcome_text, "intro": t.introductions_prompt,
                  "closing": t.closing_prompt, "grounding": t.grounding_text}))
"""
HIGHEST_ESCALATION = """
from django.db.models import Max
from moderation.models import Escalation
print(Escalation.objects.aggregate(m=Max("pk"))["m"] or 0)
"""
# What these tests opened would sit in later tests' dashboards and directory.
CLOSE_WHAT_THE_TEST_OPENED = """
from django.utils import timezone
from moderation.models import Escalation
from rooms.models import Room
Escalation.objects.filter(pk__gt={escalations}, resolved_at__isnull=True).update(
    resolved_at=timezone.now(), resolution_note="Closed at the end of a browser test.")
Room.objects.filter(slug__startswith="circle-").update(is_active=False)
"""
FEEDBACK_FOR = """
import json
from rooms.models import SessionFeedback
rows = SessionFeedback.objects.filter(session__room__slug={slug!r})
print(json.dumps([{{"mood_before": f.mood_before, "mood_after": f.mood_after,
                    "helpful": f.helpful, "tags": f.tags, "comment": f.comment}} for f in rows]))
"""


@pytest.fixture(scope="module")
def host_account(servers: Any) -> str:
    servers.manage("add_staff", HOST_USERNAME, "--role", "peer_supporter")
    return HOST_USERNAME


@pytest.fixture(autouse=True)
def close_what_the_test_opened(servers: Any) -> Iterator[None]:
    escalations = int(last_line(django_shell(servers, HIGHEST_ESCALATION)))
    yield
    django_shell(servers, CLOSE_WHAT_THE_TEST_OPENED.format(escalations=escalations))


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def sign_in_to_room(host: Visitor, username: str, slug: str) -> None:
    from playwright.sync_api import expect

    host.goto(f"/staff/login/?next=/rooms/{slug}/")
    host.page.get_by_label("Username").fill(username)
    host.page.get_by_label("Password").fill(STAFF_PASSWORD)
    host.page.get_by_role("button", name="Sign in").click()
    expect(host.page).to_have_url(f"{host.base}/rooms/{slug}/")
    host.wait_connected()
    host.accept_rules()


SECONDS_LEFT_ABOVE = """limit => {
    const m = /^(\\d+):(\\d\\d) left$/.exec(document.getElementById("session-timer").textContent);
    return Boolean(m) && Number(m[1]) * 60 + Number(m[2]) > limit;
}"""


def seconds_left(text: str) -> int:
    match = re.match(r"^(\d+):(\d\d) left$", text)
    assert match, text
    return int(match[1]) * 60 + int(match[2])


def focus_visible(page: Any) -> bool:
    result: bool = page.evaluate("""() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        return el.matches(':focus-visible') && style.outlineStyle !== 'none'
               && parseFloat(style.outlineWidth) > 0;
    }""")
    return result


def tab_to(page: Any, name: str | re.Pattern[str], *, start: str = "#console-heading",
           backwards: bool = False, limit: int = 60) -> None:
    """From `start`, press Tab (or Shift+Tab) until a button with this accessible name has the
    focus, which must be visibly marked; fails if the keyboard never gets there."""
    if start:
        page.focus(start)
    pattern = name if isinstance(name, re.Pattern) else re.compile(f"^{re.escape(name)}$")
    key = "Shift+Tab" if backwards else "Tab"
    seen = []
    for _ in range(limit):
        page.keyboard.press(key)
        label = page.evaluate("""() => {
            const el = document.activeElement;
            if (!el || el.tagName !== 'BUTTON') return el ? `<${el.tagName.toLowerCase()}>` : '';
            return (el.getAttribute('aria-label') || el.textContent).replace(/\\s+/g, ' ').trim();
        }""")
        seen.append(label)
        if pattern.search(label):
            assert focus_visible(page), f"no visible focus on {label!r}"
            return
    raise AssertionError(f"the keyboard never reached {name!r}; tab order: {seen}")


def press(page: Any, name: str | re.Pattern[str], **kwargs: Any) -> None:
    tab_to(page, name, **kwargs)
    page.keyboard.press("Enter")


def phase_is(visitor: Visitor, number: int, label: str) -> None:
    from playwright.sync_api import expect

    expect(visitor.page.locator("#session-phase")).to_have_text(f"Phase {number} of 4: {label}",
                                                                timeout=TIMEOUT_MS)


def console(host: Visitor) -> Any:
    return host.page.get_by_role("complementary", name="Host console")


def panel(visitor: Visitor) -> Any:
    return visitor.page.get_by_role("region", name=re.compile("Evening anxiety circle"))


def check_both_schemes(visitor: Visitor, what: str) -> None:
    check_accessibility(visitor.page, what)
    with_dark_colours(visitor.page, lambda: check_accessibility(visitor.page, f"{what} (dark)"))


def make_session(servers: Any, host_username: str, *, minutes: int) -> str:
    slug = f"circle-{secrets.token_hex(3)}"
    made = django_shell(servers, MAKE_SESSION.format(username=host_username, slug=slug,
                                                     minutes=minutes))
    assert last_line(made) == slug
    return slug


def test_a_scheduled_session_shows_in_the_member_s_own_time(visitor, servers, host_account):
    from playwright.sync_api import expect

    slug = make_session(servers, host_account, minutes=25)
    member = visitor(locale="en-US", timezone_id=MEMBER_ZONE)
    member.open_room(slug)
    mp = member.page
    expect(panel(member)).to_be_visible()
    expect(mp.locator("#session-phase")).to_have_text("Not started yet")
    start = mp.locator("#session-schedule time")
    expect(start).to_be_visible()
    # The host's clock is London's; the member's is New York's, and that is what they see.
    starts_at = datetime.fromisoformat(start.get_attribute("datetime") or "")
    local = starts_at.astimezone(ZoneInfo(MEMBER_ZONE))
    expect(start).to_contain_text(local.strftime("%I:%M %p"))
    expect(start).to_contain_text(re.compile(r"\bE[SD]T\b"))
    expect(mp.locator("#session-schedule")).to_contain_text(re.compile(r"starts in 2[3-5] min"))
    expect(mp.locator("#session-schedule")).to_contain_text("(your time)")
    # Nothing to do yet: no hands, no reactions, and no console for a member.
    expect(mp.get_by_role("button", name="Raise my hand")).to_be_hidden()
    expect(mp.locator("#reactions")).to_be_hidden()
    expect(mp.get_by_role("complementary", name="Host console")).to_have_count(0)
    expect(mp.locator("#composer-input")).to_be_enabled()
    check_both_schemes(member, "a hosted room with a scheduled session")


def test_hosted_session_through_every_phase(visitor, servers, host_account, tmp_path: Path):
    from playwright.sync_api import expect

    # Due now (feedback opens at the scheduled start, so the host does not start early).
    slug = make_session(servers, host_account, minutes=0)
    texts = json.loads(last_line(django_shell(servers, TEMPLATE_TEXTS)))

    host = visitor(locale="en-GB", timezone_id="Europe/London")
    sign_in_to_room(host, host_account, slug)
    member = visitor(locale="en-US", timezone_id=MEMBER_ZONE)
    member.open_room(slug)
    me = member.handle
    # Someone else in the circle: they listen while the member shares, and send support.
    other = visitor(locale="en-GB", timezone_id="Europe/London")
    other.open_room(slug)
    hp, mp, op = host.page, member.page, other.page

    expect(panel(member)).to_be_visible()
    expect(mp.locator("#session-phase")).to_have_text("Not started yet")
    expect(mp.locator("#session-schedule")).to_contain_text("starting now")
    expect(mp.get_by_role("complementary", name="Host console")).to_have_count(0)
    expect(console(host)).to_be_visible()
    check_accessibility(hp, "the host console before the start")

    # --- opening --------------------------------------------------------------------------
    console(host).get_by_role("button", name="Start the session").click()
    phase_is(member, 1, "Opening")
    phase_is(host, 1, "Opening")
    expect(mp.locator("#session-phase-text")).to_contain_text(texts["welcome"][:60])
    if texts["intro"]:
        expect(mp.locator("#session-phase-text")).to_contain_text(texts["intro"][:60])
    expect(mp.locator("#announcer")).to_contain_text("The session has started", timeout=TIMEOUT_MS)
    hello = unique("Hi everyone, I'm here because evenings are hard")
    member.send(hello)
    host.wait_for_message(hello)

    # --- sharing (keyboard: next phase) ---------------------------------------------------
    press(hp, re.compile("^Next phase"))
    phase_is(member, 2, "Sharing")
    expect(console(host).locator("#console-phase")).to_have_text("Sharing")
    expect(hp.locator("#console-next-phase")).to_be_focused()
    mp.get_by_role("button", name="Raise my hand").click()
    expect(mp.get_by_role("button", name="Lower my hand")).to_be_visible()
    expect(mp.locator("#session-queue")).to_contain_text(me)
    row = hp.locator("#console-queue li").filter(has_text=me)
    expect(row).to_have_count(1)
    expect(row.get_by_role("button", name=f"Call {me}")).to_be_visible()
    expect(row.get_by_role("button", name=f"Skip {me}")).to_be_visible()
    check_both_schemes(host, "the host console with a raised hand")

    press(hp, "Call next")
    expect(mp.locator("#session-sharer")).to_contain_text("It's your turn to share")
    expect(hp.locator("#console-sharer")).to_contain_text(f"{me} is sharing")
    timer = mp.locator("#session-timer")
    expect(timer).to_have_text(re.compile(r"^\d:\d\d left$"))
    expect(timer).to_have_attribute("aria-live", "off")
    expect(mp.locator("#announcer")).to_contain_text("It's your turn to share")
    first = timer.inner_text()
    expect(timer).not_to_have_text(first, timeout=3000)  # it counts down
    console(host).get_by_role("button", name=re.compile("^Extend timer")).click()
    mp.wait_for_function(SECONDS_LEFT_ABOVE, arg=seconds_left(first) + 30)
    expect(mp.get_by_role("button", name="End my turn")).to_be_visible()
    expect(mp.get_by_role("button", name="Pass")).to_be_visible()

    # Everyone else listens: their composer says why it is closed, and they can react.
    expect(op.locator("#composer-input")).to_be_disabled()
    expect(op.locator("#composer-hint")).to_contain_text(f"{me} is sharing")
    expect(op.locator("#session-sharer")).to_contain_text(f"{me} is sharing")
    expect(op.get_by_role("button", name="Raise my hand")).to_be_visible()

    share = unique("This week I went for a walk most mornings")
    member.send(share)
    host.wait_for_message(share)
    other.wait_for_message(share)
    expect(op.locator("#reactions-target")).to_have_text(f"for {me}'s message")
    # Support for the sharer's message never interrupts the member.
    op.get_by_role("button", name="Hug").click()
    hp.get_by_role("button", name="Thank you").click()
    expect(mp.locator("#reaction-strip")).to_contain_text(f"{other.handle} sent a hug")
    expect(mp.locator("#reaction-strip")).to_contain_text(f"{host.handle} sent “thank you”")
    shared = member.delivered(share)
    expect(shared.get_by_role("img", name=f"{other.handle} sent a hug")).to_be_visible()
    expect(mp.locator("#composer-input")).to_be_focused()  # still typing where they were
    check_both_schemes(member, "the session panel during the member's own share")
    mp.get_by_role("button", name="End my turn").click()
    expect(mp.locator("#session-turn")).to_be_hidden()
    expect(hp.locator("#console-sharer")).to_have_text("Nobody is sharing.")
    expect(mp.get_by_role("button", name="Raise my hand")).to_be_focused()
    expect(op.locator("#composer-input")).to_be_enabled()

    # --- discussion: pause, slow mode, lock, pin, a prompt ----------------------------------
    press(hp, re.compile("^Next phase"))
    phase_is(member, 3, "Discussion")
    prompt = console(host).get_by_label("Prompt library")
    chosen = prompt.locator("option").nth(1).inner_text()
    prompt.select_option(label=chosen)
    console(host).get_by_role("button", name="Post prompt").click()
    expect(mp.locator("#session-phase-text")).to_have_text(f"Prompt: {chosen}")

    press(hp, "Pause")
    expect(mp.locator("#session-paused")).to_be_visible()
    expect(mp.locator("#session-grounding")).to_have_text(texts["grounding"])
    expect(mp.locator("#composer-input")).to_be_disabled()
    expect(mp.locator("#composer-hint")).to_contain_text("paused the session")
    expect(hp.locator("#console-pause")).to_have_text("Resume")
    expect(hp.locator("#console-pause")).to_be_focused()
    check_both_schemes(member, "the session panel while paused")
    hp.keyboard.press("Enter")  # the same button now resumes
    expect(mp.locator("#session-paused")).to_be_hidden()
    expect(mp.locator("#composer-input")).to_be_enabled()

    console(host).get_by_label("Slow mode").select_option("10")
    console(host).get_by_role("button", name="Set slow mode").click()
    expect(mp.locator("#session-notes")).to_contain_text("10 seconds between messages")
    # The first message may or may not be within 10 s of the member's last one; the second,
    # sent straight after, is refused either way, and its text goes back in the box.
    one = unique("The walk helped more than I expected")
    member.send(one)
    expect(member.delivered(one).or_(
        mp.locator("#composer-error", has_text="Slow mode"))).to_be_visible()
    member.forgive_vanished(one)
    two = unique("And the garden looked lovely afterwards")
    member.send(two)
    expect(mp.locator("#composer-error")).to_contain_text("Slow mode")
    expect(mp.locator("#composer-input")).to_have_value(two)  # nothing the member typed is lost
    member.forgive_vanished(two)
    console(host).get_by_label("Slow mode").select_option("0")
    console(host).get_by_role("button", name="Set slow mode").click()
    expect(mp.locator("#session-notes")).not_to_contain_text("between messages")

    console(host).get_by_role("button", name="Lock").click()
    expect(mp.locator("#session-notes")).to_contain_text("closed to newcomers")
    console(host).get_by_role("button", name="Unlock").click()
    expect(mp.locator("#session-notes")).not_to_contain_text("closed to newcomers")

    host.open_message_menu(host.delivered(share))
    hp.get_by_role("button", name="Pin message").click()
    expect(mp.locator("#session-pinned")).to_be_visible()
    expect(mp.locator("#session-pinned-body")).to_have_text(share)
    expect(hp.locator("#console-pinned")).to_contain_text(me)

    # Mute and remove need a reason; Escape closes the dialog and focus goes back.
    person = hp.locator("#console-people li").filter(has_text=me)
    mute = person.get_by_role("button", name=f"Mute {me}")
    mute.focus()
    hp.keyboard.press("Enter")
    dialog = hp.get_by_role("dialog", name=f"Mute {me} for this session?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label(re.compile("^Reason"))).to_be_focused()
    dialog.get_by_role("button", name="Mute").click()
    expect(dialog.locator("#console-dialog-error")).to_contain_text("reason")
    check_both_schemes(host, "the host console's mute dialog")
    hp.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(mute).to_be_focused()
    # A staff host takes someone aside or alerts the team, from the console.
    person.get_by_role("button", name=f"Take aside {me}").click()
    expect(hp.locator("#console-status")).to_contain_text(f"Invited {me} to a private chat")
    expect(mp.locator("#asides .aside-panel")).to_be_visible()
    mp.locator("#asides").get_by_role("button", name="Not now").click()
    them = other.handle
    hp.locator("#console-people li").filter(has_text=them).get_by_role(
        "button", name=f"Escalate {them}").click()
    expect(hp.locator("#console-status")).to_contain_text(
        f"the on-duty team has been alerted about {them}")
    check_both_schemes(member, "the session panel in discussion with a pinned message")
    check_both_schemes(host, "the host console in discussion")
    assert_fits(hp, "the room with the host console")
    size = hp.viewport_size
    hp.set_viewport_size({"width": 390, "height": 844})  # the console stacks on a phone
    assert_fits(hp, "the host console on a phone")
    hp.set_viewport_size(size)
    screenshot(hp, "session-console", tmp_path)
    screenshot(mp, "session-panel", tmp_path)

    # --- closing --------------------------------------------------------------------------
    press(hp, re.compile("^Next phase"))
    phase_is(member, 4, "Closing")
    expect(mp.locator("#session-phase-text")).to_contain_text(texts["closing"][:60])

    # --- end (keyboard; Escape first, then for real) ----------------------------------------
    press(hp, "End session")
    confirm = hp.get_by_role("dialog", name="End the session for everyone?")
    expect(confirm).to_be_visible()
    expect(confirm.get_by_role("button", name="Keep going")).to_be_focused()
    hp.keyboard.press("Escape")
    expect(confirm).to_be_hidden()
    expect(hp.locator("#console-end")).to_be_focused()
    hp.keyboard.press("Enter")
    expect(confirm).to_be_visible()
    hp.keyboard.press("Shift+Tab")
    expect(confirm.get_by_role("button", name="End session")).to_be_focused()
    hp.keyboard.press("Enter")
    expect(console(host)).to_be_hidden()
    expect(hp.locator("#session-title")).to_be_focused()

    # --- feedback -------------------------------------------------------------------------
    card = mp.get_by_role("form", name="How was the session?")
    expect(card).to_be_visible()
    expect(mp.locator("#session-phase")).to_have_text("This session has ended.")
    expect(mp.locator("#composer-input")).to_be_enabled()
    check_both_schemes(member, "the feedback card")
    card.get_by_role("group", name="How did you feel before the session?").get_by_label(
        "2 (low)").check()
    card.get_by_role("group", name="How do you feel now?").get_by_label("4 (good)").check()
    card.get_by_role("group", name="Was it helpful?").get_by_label("Yes").check()
    card.get_by_label("I felt heard").check()
    card.get_by_label(re.compile("^Anything you'd like to tell")).fill("Thank you for tonight.")
    card.get_by_role("button", name="Send feedback").click()
    expect(mp.locator("#feedback-thanks")).to_contain_text("Thank you")
    expect(mp.locator("#feedback-close")).to_be_focused()
    stored = json.loads(last_line(django_shell(servers, FEEDBACK_FOR.format(slug=slug))))
    assert stored == [{"mood_before": 2, "mood_after": 4, "helpful": True,
                       "tags": ["felt_heard"], "comment": "Thank you for tonight."}]
    member.assert_in_order_without_duplicates()
    host.assert_in_order_without_duplicates()
