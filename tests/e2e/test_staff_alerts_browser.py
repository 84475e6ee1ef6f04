"""Browser tests of alerts that reach a person (issue 14): on the staff dashboard a new
escalation raises a desktop notification (room only, never anyone's words), plays a generated
chime, and counts in the tab's title until acknowledged; the chime's toggle survives a reload;
a banner says when nobody is on duty; the member is told, after the configured wait with
nobody acknowledging, that we are still reaching someone, with their helpline; and a timeout of
someone in distress asks for a confirmation and a reason first.

These tests run their own servers: a two-second member notice and a fast watcher would
change what the other crisis tests see.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import sign_in_staff
from tests.e2e.helpers import TIMEOUT_MS, Visitor, unique
from tests.system.servers import Servers, run_servers

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-test-password-for-alerts"
USERNAME = "alerts-mod"
CRISIS = "i can't do this anymore, i just want to sleep and not wake up"
BASE_TITLE = "Hearth staff"
# Records every desktop notification and every tone the page makes, before its scripts run.
RECORD_ALERTS = """
window.__notes = [];
window.__tones = 0;
if (window.Notification) {
  const Real = window.Notification;
  window.Notification = class extends Real {
    constructor(title, options) {
      window.__notes.push({ title, body: options && options.body });
      super(title, options);
    }
  };
}
if (window.AudioContext) {
  const create = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () {
    window.__tones += 1;
    return create.call(this);
  };
}
"""


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with run_servers(tmp_path_factory.mktemp("alerts"), extra_env={
            "HEARTH_HEARTBEAT_SECONDS": "1", "HEARTH_STAFF_PASSWORD": PASSWORD,
            "HEARTH_ESCALATION_MEMBER_NOTICE_SECONDS": "2", "HEARTH_WATCH_SECONDS": "0.5",
            "HEARTH_FALLBACK_WEBHOOK_URL": "", "HEARTH_FALLBACK_EMAIL": ""}) as running:
        running.manage("add_staff", USERNAME, "--role", "moderator")
        yield running


@pytest.fixture
def staff(visitor: Callable[..., Visitor]) -> Callable[[], Visitor]:
    def sign_in() -> Visitor:
        from playwright.sync_api import expect

        mod = visitor(permissions=["notifications"])
        mod.context.add_init_script(RECORD_ALERTS)
        sign_in_staff(mod, USERNAME, next_path="/moderation/", password=PASSWORD)
        expect(mod.page.locator("#connection-state")).to_have_text("Live", timeout=TIMEOUT_MS)
        return mod

    return sign_in


def test_an_escalation_reaches_the_person_on_duty_and_the_member_is_told(
        visitor: Callable[..., Visitor], staff: Callable[[], Visitor], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    mod = staff()
    page = mod.page
    expect(page.locator("#nobody-on-duty")).to_be_visible()
    expect(page).to_have_title(BASE_TITLE)
    page.get_by_role("button", name="Check in").click()
    expect(page.locator("#duty-you")).to_contain_text("You're on duty")
    expect(page.locator("#nobody-on-duty")).to_be_hidden()
    assert page.evaluate("Notification.permission") == "granted"
    expect(page.locator("#alert-sound")).to_be_checked()

    alice = visitor(locale="en-GB")
    alice.open_room("low-days")
    said = unique(CRISIS)
    alice.send(said)
    expect(alice.page.locator("#support-card")).to_contain_text("Samaritans")

    # The dashboard: the count in the title, a notification naming the room only, a chime.
    expect(page).to_have_title(re.compile(r"^\(1\) "), timeout=TIMEOUT_MS)
    page.wait_for_function("window.__notes.length > 0")
    notes: list[dict[str, Any]] = page.evaluate("window.__notes")
    assert notes[0]["body"] == "A member may need help now — Low days"
    assert all(said not in str(note) and alice.handle not in str(note) for note in notes)
    page.wait_for_function("window.__tones > 0")

    # The member, with nobody acknowledging for two seconds: told warmly, their line again.
    card = alice.page.locator("#support-card")
    expect(alice.page.locator("#support-title")).to_have_text("We haven't forgotten you",
                                                               timeout=TIMEOUT_MS)
    expect(card).to_contain_text("still trying to reach someone from our team")
    expect(card).to_contain_text("Samaritans")
    expect(card.get_by_role("button", name="Talk to someone here")).to_be_hidden()

    # The review item of a crisis offers a person first; a timeout asks before it goes.
    item = page.locator("li.queue-item").filter(has_text=alice.handle)
    expect(item.get_by_role("button", name="Take aside")).to_be_visible()
    expect(item.get_by_role("button", name="Hide")).to_have_class(re.compile("secondary"))
    item.get_by_label("Ground rule").select_option("respect")
    item.get_by_role("button", name="Time out").click()
    confirm = item.locator(".distress-confirm")
    expect(confirm).to_contain_text("open escalation")
    expect(item.get_by_role("alert")).to_contain_text("signs of distress")
    item.get_by_role("button", name="Time out").click()
    expect(item.get_by_role("alert")).to_contain_text("Tick the box")
    confirm.get_by_role("checkbox").check()
    item.get_by_role("button", name="Time out").click()
    expect(item.get_by_role("alert")).to_contain_text("Write a reason")

    # Acknowledged: the title stops counting.
    alert = page.locator("li.escalation").filter(has_text=alice.handle)
    alert.get_by_role("button", name="Acknowledge").click()
    expect(page).to_have_title(BASE_TITLE, timeout=TIMEOUT_MS)
    alert.get_by_label("Resolution note (required)").fill("Browser test: checked in with them.")
    alert.get_by_role("button", name="Resolve").click()
    expect(alert).to_have_count(0)


def test_the_sound_toggle_is_remembered_across_a_reload(staff: Callable[[], Visitor]) -> None:
    from playwright.sync_api import expect

    mod = staff()
    toggle = mod.page.get_by_label("Play a sound for new alerts while I'm on duty")
    expect(toggle).to_be_checked()
    toggle.uncheck()
    mod.page.reload()
    expect(mod.page.locator("#connection-state")).to_have_text("Live", timeout=TIMEOUT_MS)
    expect(toggle).not_to_be_checked()
    toggle.check()
    mod.page.reload()
    expect(toggle).to_be_checked()
