"""Browser end-to-end tests: real Chromium (driven by Playwright) against real daphne servers.

Each test opens one or more browser contexts (each a separate anonymous member with its own
session cookie) and checks what a member sees and can do. Every page is watched for console
errors, uncaught exceptions and Content-Security-Policy violations; any of them fails the test.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import (
    TIMEOUT_MS,
    assert_fits,
    check_accessibility,
    django_shell,
    forward,
    screenshot,
    unique,
    with_dark_colours,
)

pytestmark = pytest.mark.e2e

# A handle with a phone number in it, which the "You" page must refuse.
PHONE_HANDLE = "call me 07700 900123"


# --- 1. two members talk ---------------------------------------------------------------------

def test_two_members_exchange_messages_with_their_own_handles(visitor):
    from playwright.sync_api import expect

    alice, bob = visitor(), visitor()
    response = alice.goto("/rooms/the-lounge/")
    csp = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    alice.wait_connected()
    alice.accept_rules()
    bob.open_room("the-lounge")
    assert alice.handle != bob.handle, "two first visits got the same handle"
    expect(alice.page.get_by_label(f"Message as {alice.handle}")).to_be_visible()
    expect(bob.page.locator("#presence-list")).to_contain_text(alice.handle, timeout=TIMEOUT_MS)

    hello = unique("Hello from the first member")
    alice.send(hello)
    bob.wait_for_message(hello)
    reply = unique("Hi! I typed <b>bold</b> & <i>italic</i>")
    bob.send(reply)
    alice.wait_for_message(reply)
    later = unique("Thanks, that helps")
    alice.send(later)
    bob.wait_for_message(later)
    alice.wait_for_message(later)

    expected = [(alice.handle, hello), (bob.handle, reply), (alice.handle, later)]
    for member in (alice, bob):
        seen = [(handle, text) for _seq, handle, text in member.conversation()]
        assert seen[-3:] == expected, seen
        member.assert_in_order_without_duplicates()
        # What a member typed is text: no element was made from it.
        messages = member.page.locator("#messages")
        expect(messages.locator("b, i")).to_have_count(0)
        assert "&lt;b&gt;bold&lt;/b&gt;" in messages.inner_html()
        assert not member.page.locator("#messages li.pending").count()
    # Each member's own messages are marked as theirs, and only those.
    expect(alice.delivered(hello)).to_have_class(re.compile(r"\bmine\b"))
    expect(bob.delivered(hello)).not_to_have_class(re.compile(r"\bmine\b"))


# --- 2. offline, then back -------------------------------------------------------------------

def test_member_who_drops_offline_catches_up_without_losing_or_repeating(visitor):
    from playwright.sync_api import expect

    alice, bob = visitor(), visitor()
    alice.open_room("low-days")
    bob.open_room("low-days")
    before = unique("Before going offline")
    alice.send(before)
    bob.wait_for_message(before)

    bob.context.set_offline(True)
    expect(bob.page.locator("#connection-state")).not_to_have_text("Connected")
    stranded = unique("Typed while offline")
    bob.send(stranded)
    expect(bob.with_text(stranded)).to_have_count(1)
    expect(bob.with_text(stranded)).to_contain_text("Sending…")

    missed = [unique("While you were away") for _ in range(3)]
    for body in missed:
        alice.send(body)
        alice.wait_for_message(body)
    expect(bob.page.locator("#messages")).not_to_contain_text(missed[0])

    bob.context.set_offline(False)
    bob.wait_connected()
    for body in [*missed, stranded]:
        bob.wait_for_message(body)
        alice.wait_for_message(body)
    expect(bob.page.locator("#messages li.pending")).to_have_count(0)
    for member in (alice, bob):
        for body in [before, *missed, stranded]:
            expect(member.with_text(body)).to_have_count(1)
        member.assert_in_order_without_duplicates()
        texts = [text for _seq, _handle, text in member.conversation()]
        positions = [texts.index(body) for body in [before, *missed]]
        assert positions == sorted(positions), texts
    # A moment later nothing has been added twice by a late resume or a retried send.
    bob.page.wait_for_timeout(1500)
    for body in [*missed, stranded]:
        expect(bob.with_text(body)).to_have_count(1)
    bob.assert_in_order_without_duplicates()


def test_lost_broadcast_is_recovered_from_the_heartbeat(visitor):
    """A live message that never arrives is noticed from the heartbeat's head_seq and fetched."""
    from playwright.sync_api import expect

    alice, bob = visitor(), visitor()
    dropped = unique("This broadcast is lost on the way")
    seen_drop: list[str] = []

    def lossy(socket: Any) -> None:
        def to_page(message: Any, socket: Any, server: Any) -> None:
            if (isinstance(message, str) and '"type":"message"' in message
                    and dropped in message and not seen_drop):
                seen_drop.append(message)  # swallow the first copy only
                return
            socket.send(message)

        forward(socket, to_page)

    bob.page.route_web_socket(re.compile(r"/ws/rooms/"), lossy)
    alice.open_room("grief-and-loss")
    bob.open_room("grief-and-loss")
    alice.send(dropped)
    alice.wait_for_message(dropped)
    bob.wait_for_message(dropped)
    assert seen_drop, "the broadcast was not intercepted"
    expect(bob.with_text(dropped)).to_have_count(1)
    bob.assert_in_order_without_duplicates()


def test_send_whose_ack_is_lost_with_the_connection_shows_once(visitor):
    """The server stores a message but the connection dies before the ack and broadcast arrive:
    after reconnecting, the resume brings the message and the retried send is acknowledged as
    a duplicate. The sender must see it exactly once, never once as sent and once as pending."""
    from playwright.sync_api import expect

    alice, bob = visitor(), visitor()
    body = unique("Stored, but the answer was lost")
    cut: list[str] = []

    def on_socket(socket: Any) -> None:
        def to_page(message: Any, socket: Any, server: Any) -> None:
            if cut and socket in cut:
                return  # this connection is dead: nothing more reaches the page
            if isinstance(message, str) and '"type":"ack"' in message and not cut:
                cut.append(socket)
                socket.close(code=1012, reason="restarting")
                server.close()
                return
            socket.send(message)

        forward(socket, to_page)

    alice.page.route_web_socket(re.compile(r"/ws/rooms/"), on_socket)
    alice.open_room("one-day-at-a-time")
    bob.open_room("one-day-at-a-time")
    alice.send(body)
    alice.wait_for_message(body)
    bob.wait_for_message(body)
    assert cut, "the ack was never cut off"
    alice.wait_connected()
    expect(alice.with_text(body)).to_have_count(1)
    expect(alice.page.locator("#messages li.pending")).to_have_count(0)
    alice.page.wait_for_timeout(1500)  # a late duplicate ack or resume must not add a copy
    expect(alice.with_text(body)).to_have_count(1)
    alice.assert_in_order_without_duplicates()


def test_history_arrives_even_if_the_first_connection_drops_before_it(visitor):
    alice, bob = visitor(), visitor()
    alice.open_room("after-trauma")
    earlier = unique("Said before you arrived")
    alice.send(earlier)
    alice.wait_for_message(earlier)
    cut: list[bool] = []

    def on_socket(socket: Any) -> None:
        def to_page(message: Any, socket: Any, server: Any) -> None:
            if isinstance(message, str) and '"type":"history"' in message and not cut:
                cut.append(True)
                socket.close(code=1012, reason="restarting")
                server.close()
                return
            socket.send(message)

        forward(socket, to_page)

    bob.page.route_web_socket(re.compile(r"/ws/rooms/"), on_socket)
    bob.goto("/rooms/after-trauma/")
    bob.wait_for_message(earlier)
    assert cut, "the history reply was never cut off"
    bob.wait_connected()
    bob.assert_in_order_without_duplicates()


# --- 3. directory and the "You" page ---------------------------------------------------------

def test_directory_groups_counts_and_filters_without_reload(visitor):
    from playwright.sync_api import expect

    guest, browsing = visitor(), visitor()
    guest.open_room("carers-cafe")

    browsing.goto("/")
    page = browsing.page
    # Looking around makes nobody: the handle comes with joining a room.
    expect(page.locator("#you-item")).to_be_hidden()
    expect(page.locator(".lede")).to_contain_text("You'll get a made-up handle when you join")
    headings = page.locator(".room-group h2").all_inner_texts()
    assert headings == ["Depression", "Anxiety", "Grief and loss", "Trauma", "Substance use",
                        "General support"]
    for section in page.locator(".room-group").all():
        focus = section.get_attribute("data-focus")
        cards = section.locator(".room-card")
        assert cards.count() >= 1
        for card in cards.all():
            assert card.get_attribute("data-focus") == focus
    expect(page.locator('.presence-count[data-slug="carers-cafe"]')).to_have_text("1 here now")
    expect(page.locator('.presence-count[data-slug="low-days"]')).to_have_text(
        re.compile(r"^\d+ here now$"))

    page.evaluate("window.hearthNotReloaded = true")
    visible_cards = page.locator(".room-card:visible")
    page.get_by_label("Focus").select_option("anxiety")
    expect(page).to_have_url(re.compile(r"\?focus_area=anxiety$"))
    expect(visible_cards).to_have_count(2)
    for card in visible_cards.all():
        assert card.get_attribute("data-focus") == "anxiety"
    expect(page.locator(".room-group:visible h2")).to_have_text(["Anxiety"])

    page.get_by_label("For").select_option("carers")
    expect(visible_cards).to_have_count(0)
    expect(page.locator("#no-rooms")).to_be_visible()

    page.get_by_label("Focus").select_option("")
    expect(visible_cards).to_have_count(2)
    assert sorted(card.get_attribute("data-slug") for card in visible_cards.all()) == [
        "carers-cafe", "carers-grief"]
    expect(page.locator("#no-rooms")).to_be_hidden()
    expect(page.locator(".room-group:visible h2")).to_have_text(
        ["Grief and loss", "General support"])
    assert page.evaluate("window.hearthNotReloaded") is True, "filtering reloaded the page"

    # The same filters work from the address bar (and without the script).
    browsing.goto("/?focus_area=grief")
    expect(visible_cards).to_have_count(2)
    expect(page.get_by_label("Focus")).to_have_value("grief")


def test_member_changes_handle_and_contact_details_are_refused(visitor):
    from playwright.sync_api import expect

    member = visitor()
    member.open_room("the-lounge", accept_rules=False)  # joining gives the handle
    original = member.handle
    page = member.page
    page.locator("#you-link").click()
    expect(page).to_have_url(re.compile(r"/me/$"))
    expect(page.get_by_role("heading", name="You", exact=True)).to_be_visible()

    field_ = page.get_by_label("New handle")
    field_.fill(PHONE_HANDLE)
    # The refused form comes back as 400 Bad Request, which Chromium logs as a console error.
    member.expect_console_error("status of 400")
    page.get_by_role("button", name="Save handle").click()
    error = page.get_by_role("alert")
    expect(error).to_contain_text("can't carry contact details")
    expect(field_).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#you-link .handle")).to_have_text(original)

    new_handle = f"Reader_{secrets.token_hex(2)}"
    field_.fill(new_handle)
    page.get_by_role("button", name="Save handle").click()
    expect(page.locator(".flash")).to_contain_text(f"You're now {new_handle}.")
    expect(page.locator("#you-link .handle")).to_have_text(new_handle)
    member.open_room("the-lounge")
    expect(page.get_by_label(f"Message as {new_handle}")).to_be_visible()


# --- 4. keyboard and screen readers ----------------------------------------------------------

def test_keyboard_sending_and_live_announcements(visitor):
    from playwright.sync_api import expect

    alice, bob = visitor(), visitor()
    alice.open_room("anxious-minds", accept_rules=False)
    bob.open_room("anxious-minds")
    page = alice.page

    # The first Tab reaches the skip link, which is then on screen.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()

    # "I agree" works from the keyboard and leaves the focus in the composer.
    composer = page.get_by_label(f"Message as {alice.handle}")
    agree = page.get_by_role("button", name="I agree")
    agree.focus()
    page.keyboard.press("Enter")
    expect(composer).to_be_enabled()
    expect(composer).to_be_focused()
    typed = unique("Sent with the keyboard")
    page.keyboard.type(typed)
    page.keyboard.press("Enter")
    alice.wait_for_message(typed)
    expect(composer).to_have_value("")
    expect(composer).to_be_focused()

    # Shift+Enter is a new line inside one message, not a send.
    page.keyboard.type("first line")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second line")
    expect(alice.page.locator("#messages")).not_to_contain_text("first line")
    page.keyboard.press("Enter")
    two_lines = alice.page.locator("li.message[data-seq] .msg-body", has_text="second line")
    expect(two_lines).to_have_count(1)
    assert two_lines.inner_text() == "first line\nsecond line"
    expect(two_lines.locator("br")).to_have_count(1)

    # Tab moves from the composer to the Send button, which sends too.
    again = unique("Sent with the button")
    composer.fill(again)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send")).to_be_focused()
    page.keyboard.press("Enter")
    alice.wait_for_message(again)

    announcer = bob.page.locator("#announcer")
    expect(announcer).to_have_attribute("aria-live", "polite")
    bob.wait_for_message(again)
    expect(announcer).to_contain_text(f"{alice.handle}: {again}", timeout=TIMEOUT_MS)
    for member in (alice, bob):
        member.assert_in_order_without_duplicates()


# --- 5. ground rules, screening notices, mutes ------------------------------------------------

ADD_ROOM_RULE = """
from moderation.models import GroundRule
from rooms.models import Room
GroundRule.objects.get_or_create(room=Room.objects.get(slug="carers-grief"), code="carers-own-pace",
    defaults={"title": "Go at your own pace", "position": 0,
              "text": "Nobody has to explain their loss. Share as much or as little as you like."})
"""


def test_ground_rules_come_first_and_the_room_own_rules_are_marked(visitor, servers):
    from playwright.sync_api import expect

    django_shell(servers, ADD_ROOM_RULE)
    alice, bob = visitor(), visitor()
    alice.open_room("carers-grief", accept_rules=False)
    page = alice.page
    panel = page.get_by_role("region", name="Our ground rules")
    expect(panel).to_be_visible()
    composer = page.get_by_label(f"Message as {alice.handle}")
    expect(composer).to_be_disabled()
    expect(page.locator("#composer-hint")).to_contain_text("I agree")
    expect(panel.get_by_role("heading", name="Everywhere on Hearth")).to_be_visible()
    expect(panel.get_by_role("heading", name="Just for this room")).to_be_visible()
    expect(panel.locator(".rule")).not_to_have_count(0)
    own = panel.locator(".rule-room")
    expect(own).to_have_count(1)
    expect(own).to_contain_text("Go at your own pace")
    expect(own).to_contain_text("This room")
    expect(panel.locator(".rule-site", has_text="No contact details")).to_have_count(1)
    check_accessibility(page, "a room with the ground rules panel open")

    page.get_by_role("button", name="I agree").click()
    expect(panel).to_be_hidden()
    expect(composer).to_be_enabled()
    expect(composer).to_be_focused()
    bob.open_room("carers-grief")
    hello = unique("Evening, everyone")
    bob.send(hello)
    alice.wait_for_message(hello)
    check_accessibility(page, "a room after accepting the rules, with a message")

    # The rules stay one button away, to read again without agreeing again.
    toggle = page.get_by_role("button", name="Ground rules")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("button", name="I agree")).to_be_hidden()
    panel.get_by_role("button", name="Close").click()
    expect(panel).to_be_hidden()
    expect(toggle).to_be_focused()
    # Accepting is remembered: a reload goes straight to the conversation.
    alice.open_room("carers-grief", accept_rules=False)
    expect(panel).to_be_hidden()
    expect(composer).to_be_enabled()


BUMP_RULES = """
import json
from moderation.models import GroundRule
from moderation.rules import room_rules, rules_changed
from rooms.models import Room
room = Room.objects.get(slug="lgbtq-recovery")
GroundRule.objects.get_or_create(room=room, code="go-gently", defaults={
    "title": "Go gently", "text": "Take breaks when you need them."})
rules_changed(room=room)
rules = room_rules(room_id=room.pk)
print(json.dumps({"type": "rules_changed", "version": rules.version, "accepted": False,
                  "rules": rules.rules}))
"""


def test_changed_rules_are_shown_again_and_nothing_typed_is_lost(visitor, servers):
    """`rules_changed` arrives: the panel comes back with a note and the new rules, the
    composer waits, and a message sent in between goes out once the member agrees."""
    from playwright.sync_api import expect

    alice = visitor()
    page_sockets: list[Any] = []

    def on_socket(socket: Any) -> None:
        page_sockets.append(socket)
        forward(socket)

    alice.page.route_web_socket(re.compile(r"/ws/rooms/"), on_socket)
    alice.open_room("lgbtq-recovery")
    before = unique("Under the old rules")
    alice.send(before)
    alice.wait_for_message(before)

    changed = django_shell(servers, BUMP_RULES).strip().splitlines()[-1]
    # The live event comes from the server process that changed the rules (the admin); here a
    # separate process changed them, so the test delivers the frame (as the server sends it).
    page_sockets[-1].send(changed)
    panel = alice.page.get_by_role("region", name="Our ground rules")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Go gently")  # the new rule, shown without reconnecting
    expect(alice.page.locator("#rules-changed")).to_contain_text("updated")
    expect(alice.page.locator("#composer-input")).to_be_disabled()
    # The rules were changed by another process: this worker may go on serving the old
    # version for up to HEARTH_HOT_CACHE_SECONDS, and answer "I agree" to the new one with
    # "the ground rules have just changed". A member then agrees again, and so does the test.
    agree = alice.page.get_by_role("button", name="I agree")
    rules_panel = alice.page.locator("#rules-panel")
    for _attempt in range(3):
        agree.click()
        try:
            expect(rules_panel).to_be_hidden(timeout=3000)
            break
        except AssertionError:
            expect(rules_panel.get_by_role("alert")).to_contain_text("just changed")
    expect(rules_panel).to_be_hidden()
    expect(alice.page.locator("#composer-input")).to_be_enabled()
    after = unique("Under the new rules")
    alice.send(after)
    alice.wait_for_message(after)
    alice.assert_in_order_without_duplicates()


def test_blocked_message_comes_back_to_the_composer_with_a_kind_notice(visitor):
    from playwright.sync_api import expect

    alice = visitor()
    # Not lgbtq-recovery: the test before changes its rules from another process, and this
    # worker may serve the old version for up to HEARTH_HOT_CACHE_SECONDS, so "I agree" could
    # be answered with "the rules have just changed".
    alice.open_room("one-day-at-a-time")
    page = alice.page
    unkind = unique("you are a stupid idiot")
    alice.send(unkind)
    composer = page.locator("#composer-input")
    expect(composer).to_have_value(unkind)
    expect(composer).to_be_focused()
    notice = page.get_by_role("alert").locator(".notice-blocked")
    expect(notice).to_contain_text("Your message wasn't posted")
    expect(notice).to_contain_text("Ground rule: Be kind and respectful")
    expect(notice).to_contain_text("You're welcome to say it another way")
    expect(alice.with_text(unkind)).to_have_count(0)
    alice.forgive_vanished(unkind)
    check_accessibility(page, "a room with a notice")
    notice.get_by_role("button", name=re.compile("^Dismiss")).click()
    expect(notice).to_have_count(0)
    expect(composer).to_be_focused()
    # Said another way, it goes out.
    kinder = unique("I really don't agree with you")
    alice.send(kinder)
    alice.wait_for_message(kinder)


def test_member_mutes_and_unmutes_a_handle_with_the_keyboard(visitor):
    from playwright.sync_api import expect

    alice, bob = visitor(), visitor()
    alice.open_room("evening-anxiety-circle")
    bob.open_room("evening-anxiety-circle")
    first = unique("Does anyone else get the 3am spiral?")
    alice.send(first)
    bob.wait_for_message(first)

    page = bob.page
    bob.open_message_menu(bob.delivered(first))
    expect(page.get_by_role("button", name="Report message")).to_be_focused()
    page.keyboard.press("Tab")
    mute = page.get_by_role("button", name=f"Mute {alice.handle}")
    expect(mute).to_be_focused()
    page.keyboard.press("Enter")
    expect(bob.delivered(first)).to_be_hidden()
    muted_list = page.get_by_role("list", name="You've muted")
    expect(muted_list).to_contain_text(alice.handle)
    expect(page.locator("#notices")).to_contain_text(f"You won't see messages from {alice.handle}")

    while_muted = unique("A short walk helps me a little")
    alice.send(while_muted)
    alice.wait_for_message(while_muted)
    page.wait_for_timeout(800)
    expect(bob.with_text(while_muted)).to_have_count(0)

    # Escape closes a menu and puts focus back on its button.
    other = unique("Me too, most evenings")
    hello_from_carol = visitor()
    hello_from_carol.open_room("evening-anxiety-circle")
    hello_from_carol.send(other)
    bob.wait_for_message(other)
    bob.open_message_menu(bob.delivered(other))
    page.keyboard.press("Escape")
    toggle = bob.delivered(other).get_by_role("button", name=re.compile("^Options"))
    expect(toggle).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "false")

    muted_list.get_by_role("button", name=f"Unmute {alice.handle}").click()
    expect(bob.delivered(first)).to_be_visible()
    bob.wait_for_message(while_muted)  # sent while muted, fetched again
    expect(page.locator("#muted-section")).to_be_hidden()
    bob.assert_in_order_without_duplicates()


# --- screenshots, for looking at the UI ------------------------------------------------------

@pytest.mark.parametrize(("name", "viewport"), [
    ("desktop", {"width": 1280, "height": 800}),
    ("phone", {"width": 390, "height": 844}),
])
def test_pages_render_at_desktop_and_phone_sizes(visitor, name, viewport, tmp_path: Path):
    """The directory, the ground rules and a room with messages, a notice and an open menu lay
    out without horizontal scrolling."""
    from playwright.sync_api import expect

    alice = visitor(viewport=viewport)
    bob = visitor(viewport=viewport)
    alice.open_room("veterans-trauma", accept_rules=False)
    assert_fits(alice.page, f"the rules panel at {name} size")
    screenshot(alice.page, f"{name}-room-rules", tmp_path)
    with_dark_colours(alice.page, lambda: check_accessibility(
        alice.page, f"the rules panel in dark colours at {name} size"))
    alice.accept_rules()
    bob.open_room("veterans-trauma")
    for who, text in ((alice, unique("Evening all.")),
                      (bob, unique("Hey, good to see you here.")),
                      (alice, unique("Rough week, but a better day today."))):
        who.send(text)
        who.wait_for_message(text)
    masked = unique("Text me on 07700 900123 if you like")
    alice.send(masked)
    expect(alice.page.locator(".notice-masked")).to_be_visible()
    alice.forgive_vanished(masked)
    bob_sees = bob.message_from(alice.handle, "•••")
    expect(bob_sees).to_have_count(1)
    bob.open_message_menu(bob_sees)
    assert_fits(bob.page, f"a room with a message menu open at {name} size")
    screenshot(bob.page, f"{name}-room-menu", tmp_path)
    with_dark_colours(bob.page, lambda: check_accessibility(
        bob.page, f"a room with a notice and a menu in dark colours at {name} size"))
    bob.page.get_by_role("button", name="Report message").click()
    expect(bob.page.get_by_role("dialog")).to_be_visible()
    screenshot(bob.page, f"{name}-room-report", tmp_path, full_page=False)
    for page_path in ("/rooms/veterans-trauma/", "/", "/me/"):
        if page_path != "/rooms/veterans-trauma/":
            alice.goto(page_path)
        page = alice.page
        assert_fits(page, f"{page_path} at {name} size")
        expect(page.locator("main h1")).to_be_visible()
        label = {"/": "directory", "/me/": "you"}.get(page_path, "room")
        screenshot(page, f"{name}-{label}", tmp_path)


def test_a_socket_closed_for_good_explains_why_in_the_servers_words(visitor):
    """The words come from the server with the page (chat/protocol.py); a close after which
    reconnecting would not help stops the page reconnecting."""
    from playwright.sync_api import expect

    from chat.protocol import ROOM_FINAL_CLOSES, CloseCode

    opened: list[Any] = []

    def refuse(socket: Any) -> None:
        opened.append(socket)
        socket.close(code=CloseCode.ROOM_FULL, reason="full")

    alice = visitor()
    alice.page.route_web_socket(re.compile(r"/ws/rooms/"), refuse)
    alice.goto("/rooms/low-days/")
    state = alice.page.locator("#connection-state")
    expect(state).to_have_text(ROOM_FINAL_CLOSES[CloseCode.ROOM_FULL])
    alice.page.wait_for_timeout(1500)
    assert len(opened) == 1  # no reconnect after a final close
