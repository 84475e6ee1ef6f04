"""Browser end-to-end tests of moderation: members report, mute and get screened; a moderator
signed in through the staff login works the live review queue at /moderation/.

Members and the moderator each have a browser context of their own. As in the room tests,
every page is watched for console errors and CSP violations, and axe-core checks the pages
for accessibility problems.
"""

from __future__ import annotations

import re
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

HOLD_CONTACT_DETAILS = """
from moderation.models import ScreeningPolicy
from rooms.models import Room
ScreeningPolicy.objects.update_or_create(room=Room.objects.get(slug="young-adults-mood"),
                                         defaults={"contact": "hold"})
"""


def queue_item(moderator, text: str):
    return moderator.page.locator("li.queue-item").filter(has_text=text)


def test_report_reaches_the_moderator_live_and_hiding_removes_it_everywhere(visitor, moderator):
    from playwright.sync_api import expect

    mod = moderator()
    page = mod.page
    page.evaluate("window.hearthNotReloaded = true")
    alice, bob = visitor(), visitor()
    alice.open_room("lgbtq-lounge")
    bob.open_room("lgbtq-lounge")
    before = unique("Long day, glad to be here")
    alice.send(before)
    bob.wait_for_message(before)
    # Nothing the screening acts on, but it stings: a member reports it.
    hurtful = unique("Ugh, not this topic again")
    bob.send(hurtful)
    alice.wait_for_message(hurtful)
    after = unique("That's not true, we do")
    alice.send(after)
    bob.wait_for_message(after)

    # Alice reports Bob's message from its actions menu.
    alice.open_message_menu(alice.delivered(hurtful))
    alice.page.get_by_role("button", name="Report message").press("Enter")
    dialog = alice.page.get_by_role("dialog", name="Report a message")
    expect(dialog).to_be_visible()
    expect(dialog.locator("blockquote")).to_contain_text(hurtful)
    expect(dialog).to_contain_text(f"{bob.handle} won't be told who sent it")
    check_accessibility(alice.page, "a room with the report dialog open")
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Please choose")
    dialog.get_by_label("Harassment or bullying").check()
    dialog.get_by_label(re.compile("^Anything else")).fill("It felt like a dig at me")
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.get_by_role("status")).to_contain_text("Thank you for telling us")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    # Reporting the same message twice is answered plainly.
    alice.open_message_menu(alice.delivered(hurtful))
    alice.page.get_by_role("button", name="Report message").click()
    dialog.get_by_label("Spam").check()
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.get_by_role("alert")).to_contain_text("already reported")
    dialog.get_by_role("button", name="Cancel").click()

    # The moderator sees it arrive without reloading, with its context and reasons.
    item = queue_item(mod, hurtful)
    expect(item).to_have_count(1, timeout=TIMEOUT_MS)
    expect(item.get_by_role("heading")).to_contain_text(f"LGBTQ+ lounge: message from {bob.handle}")
    expect(item).to_contain_text("Reported once: Harassment or bullying")
    subject = item.locator(".context-line.subject")
    expect(subject).to_contain_text(hurtful)
    expect(subject).to_contain_text("This message")
    expect(item.locator(".context-line:not(.subject)", has_text=before)).to_have_count(1)
    expect(item.locator(".context-line:not(.subject)", has_text=after)).to_have_count(1)
    expect(item).to_contain_text("Suggested next step for")
    expect(item.locator(".item-suggested")).to_contain_text("Warning")
    expect(item.get_by_role("button", name="Warn (suggested)")).to_be_visible()
    expect(item.get_by_label("Ground rule")).to_have_value("respect")
    assert page.evaluate("window.hearthNotReloaded") is True, "the queue reloaded the page"
    check_accessibility(page, "the moderation dashboard with an item")

    # Filters work on the page.
    page.get_by_label("Room", exact=True).select_option("the-lounge")
    expect(item).to_be_hidden()
    page.get_by_label("Room", exact=True).select_option("lgbtq-lounge")
    page.get_by_label("Reason", exact=True).select_option("report:spam")
    expect(item).to_be_hidden()
    page.get_by_label("Reason", exact=True).select_option("report:harassment")
    expect(item).to_be_visible()
    page.get_by_label("Reason", exact=True).select_option("")

    # History is one (logged) click away.
    expect(item).to_contain_text("Opening a member's history is logged.")
    item.get_by_role("button", name=f"Show {bob.handle}'s history").click()
    history = item.get_by_role("list", name=re.compile(f"^Recent messages by {bob.handle}"))
    expect(history).to_contain_text(hurtful)

    # An action needs a rule.
    item.get_by_label("Ground rule").select_option("")
    item.get_by_role("button", name="Hide").click()
    expect(item.get_by_role("alert")).to_contain_text("Choose the ground rule")
    expect(item.get_by_label("Ground rule")).to_be_focused()
    item.get_by_label("Ground rule").select_option("respect")
    item.get_by_label("Reason (optional)").fill("Unkind to another member")
    item.get_by_role("button", name="Hide").click()
    expect(item).to_have_count(0)

    # Gone from both members' screens; the author is told which rule, and how to appeal.
    for member in (alice, bob):
        expect(member.with_text(hurtful)).to_have_count(0)
        member.forgive_vanished(hurtful)
        expect(member.delivered(before)).to_have_count(1)
    notice = bob.page.locator(".notice-hidden")
    expect(notice).to_contain_text("A moderator hid one of your messages")
    expect(notice).to_contain_text("Ground rule: Be kind and respectful")
    expect(notice.get_by_role("link", name="Ask for a review")).to_have_attribute(
        "href", "/me/#appeals")


def test_dashboard_is_only_for_moderators(visitor):
    from playwright.sync_api import expect

    member = visitor()
    member.expect_console_error("status of 403")
    response = member.page.goto(member.base + "/moderation/")
    assert response is not None and response.status == 403
    expect(member.page.get_by_role("heading", name="This page is for moderators")).to_be_visible()
    expect(member.page.locator("#queue")).to_have_count(0)


def test_dashboard_reconnects_and_reads_the_queue_again(visitor, moderator):
    """The staff socket drops and stays away while a report comes in; once it is back, the
    queue the server sends on connect brings the item in."""
    from playwright.sync_api import expect

    mod = moderator()
    refusing: list[bool] = []
    live: list[Any] = []

    def on_socket(socket: Any) -> None:
        if refusing:
            socket.close(code=1011, reason="try again later")
            return
        live.append((socket, forward(socket)))

    mod.page.route_web_socket(re.compile(r"/ws/staff/"), on_socket)
    mod.page.reload()
    state = mod.page.locator("#connection-state")
    expect(state).to_have_text("Live")
    assert live, "the staff socket was not routed"

    refusing.append(True)
    socket, server = live[-1]
    socket.close(code=1012, reason="restarting")
    server.close()
    expect(state).to_contain_text("Reconnecting")
    alice, bob = visitor(), visitor()
    alice.open_room("lgbtq-lounge")
    bob.open_room("lgbtq-lounge")
    said = unique("Posted while the dashboard was away")
    alice.send(said)
    bob.wait_for_message(said)
    bob.open_message_menu(bob.delivered(said))
    bob.page.get_by_role("button", name="Report message").click()
    bob.page.get_by_label("Spam").check()
    bob.page.get_by_role("button", name="Send report").click()
    expect(bob.page.get_by_role("dialog").get_by_role("status")).to_contain_text("Thank you")
    expect(queue_item(mod, said)).to_have_count(0)

    refusing.clear()
    expect(state).to_have_text("Live", timeout=TIMEOUT_MS)
    item = queue_item(mod, said)
    expect(item).to_have_count(1)
    item.get_by_role("button", name="Dismiss").click()
    expect(item).to_have_count(0)


def test_phone_number_is_masked_for_others_and_the_sender_is_told(visitor):
    from playwright.sync_api import expect

    alice, bob = visitor(), visitor()
    alice.open_room("grief-and-loss")
    bob.open_room("grief-and-loss")
    typed = unique("If you ever want to talk my number is 07700 900123")
    alice.send(typed)
    masked = bob.message_from(alice.handle, "•••")
    expect(masked).to_have_count(1, timeout=TIMEOUT_MS)
    expect(masked).not_to_contain_text("900123")
    expect(bob.page.locator("#messages")).not_to_contain_text("07700")
    # Its author reads every word they wrote; the notice says the room saw it masked.
    expect(alice.message_from(alice.handle, "07700 900123")).to_have_count(1,
                                                                         timeout=TIMEOUT_MS)
    expect(alice.page.locator("#messages")).not_to_contain_text("•••")
    alice.forgive_vanished(typed)  # the "Sending…" line becomes the stored message
    notice = alice.page.get_by_role("status").locator(".notice-masked")
    expect(notice).to_contain_text("Part of your message was hidden")
    expect(notice).to_contain_text("Ground rule: No contact details")
    expect(bob.page.locator(".notice")).to_have_count(0)


def test_held_message_waits_then_a_timeout_pauses_posting(visitor, moderator, servers,
                                                         tmp_path: Path):
    from playwright.sync_api import expect

    django_shell(servers, HOLD_CONTACT_DETAILS)
    mod = moderator()
    alice, bob = visitor(), visitor()
    alice.open_room("young-adults-mood")
    bob.open_room("young-adults-mood")
    held = unique("Email me at sam.example@example.com if you want")
    alice.send(held)
    mine = alice.delivered(held)
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("Waiting for a moderator")
    expect(alice.page.locator(".notice-held")).to_contain_text(
        "Your message is waiting for a moderator")
    item = queue_item(mod, held)
    expect(item).to_contain_text("Held: only its author sees it")
    expect(item).to_contain_text("Contact details:")
    expect(bob.with_text(held)).to_have_count(0)
    screenshot(alice.page, "desktop-room-held", tmp_path)

    item.get_by_label("Ground rule").select_option("no-contact-details")
    item.get_by_role("button", name="Restore").click()
    expect(item).to_have_count(0)
    bob.wait_for_message(held)
    expect(mine).not_to_contain_text("Waiting for a moderator")
    expect(alice.page.locator(".notice-restored")).to_contain_text("Your message is back")
    expect(alice.page.locator(".notice-held")).to_have_count(0)  # no longer true

    # Bob reports it after all; the moderator pauses Alice's posting for five minutes.
    bob.open_message_menu(bob.delivered(held))
    bob.page.get_by_role("button", name="Report message").click()
    bob.page.get_by_label("Sharing contact details").check()
    bob.page.get_by_role("button", name="Send report").click()
    expect(bob.page.get_by_role("dialog").get_by_role("status")).to_contain_text("Thank you")
    bob.page.get_by_role("button", name="Close").click()
    expect(item).to_have_count(1, timeout=TIMEOUT_MS)
    item.get_by_label("Ground rule").select_option("no-contact-details")
    item.get_by_label("Timeout length in minutes").fill("5")
    item.get_by_role("button", name="Time out").click()
    expect(item).to_have_count(0)
    notice = alice.page.locator(".notice-timeout")
    expect(notice).to_contain_text("Posting is paused for a while")
    expect(notice).to_contain_text("Ground rule: No contact details")
    expect(notice).to_contain_text("You can post again at")
    paused = alice.page.locator("#composer-paused")
    expect(paused).to_contain_text("Posting is paused until")
    expect(alice.page.get_by_role("button", name="Send")).to_be_disabled()
    screenshot(alice.page, "desktop-room-paused", tmp_path)

    # After a reload the page doesn't know yet; the server's refusal gives the text back.
    alice.open_room("young-adults-mood", accept_rules=False)
    later = unique("Thanks, I'll keep that in mind")
    alice.send(later)
    expect(alice.page.locator("#composer-input")).to_have_value(later)
    expect(paused).to_contain_text("Posting is paused until")
    expect(alice.with_text(later)).to_have_count(0)
    alice.forgive_vanished(later)


@pytest.mark.parametrize(("name", "viewport"), [
    ("desktop", {"width": 1280, "height": 800}),
    ("phone", {"width": 390, "height": 844}),
])
def test_dashboard_renders_at_desktop_and_phone_sizes(visitor, moderator, name, viewport,
                                                      tmp_path: Path):
    from playwright.sync_api import expect

    mod = moderator(viewport=viewport)
    alice, bob = visitor(), visitor()
    alice.open_room("carers-cafe")
    bob.open_room("carers-cafe")
    said = unique("It has been a long week looking after mum")
    alice.send(said)
    bob.wait_for_message(said)
    bob.open_message_menu(bob.delivered(said))
    bob.page.get_by_role("button", name="Report message").click()
    bob.page.get_by_label("I'm worried about this person").check()
    bob.page.get_by_role("button", name="Send report").click()
    expect(bob.page.get_by_role("dialog").get_by_role("status")).to_contain_text("Thank you")
    item = queue_item(mod, said)
    expect(item).to_have_count(1, timeout=TIMEOUT_MS)
    expect(item.locator(".tag-urgent")).to_have_text("Urgent")
    # "I'm worried" reports go to the top.
    expect(mod.page.locator("li.queue-item").first).to_contain_text(said)
    # Someone who may be struggling is offered support, not a sanction.
    expect(item.locator(".item-care")).to_contain_text("may be struggling")
    expect(item.locator(".suggested")).to_have_count(0)
    assert_fits(mod.page, f"the dashboard at {name} size")
    screenshot(mod.page, f"{name}-dashboard", tmp_path)
    with_dark_colours(mod.page, lambda: check_accessibility(
        mod.page, f"the dashboard in dark colours at {name} size"))
    item.get_by_role("button", name="Dismiss").click()
    expect(item).to_have_count(0)
