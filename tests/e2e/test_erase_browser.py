"""The "You" page in a browser: the download of one's own data, and "erase me", which says
what will go and erases only once the member confirms."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.e2e.helpers import TIMEOUT_MS, check_accessibility, unique

pytestmark = pytest.mark.e2e


def test_erase_me_asks_first_and_the_download_holds_only_my_own_words(visitor):
    from playwright.sync_api import expect

    alice, bob = visitor(), visitor()
    alice.open_room("the-lounge")
    bob.open_room("the-lounge")
    mine = unique("Going to rest now, see you all tomorrow")
    alice.send(mine)
    bob.wait_for_message(mine)
    theirs = unique("Sleep well, take care of yourself")
    bob.send(theirs)
    alice.wait_for_message(theirs)
    handle = alice.handle
    page = alice.page

    alice.goto("/me/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download my data (JSON)").click()
    export = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert export["you"]["handle"] == handle
    assert [m["text"] for room in export["messages"] for m in room["messages"]] == [mine]
    assert bob.handle not in json.dumps(export) and theirs not in json.dumps(export)

    # Erasing is never one click: a page says what will go and asks.
    page.get_by_role("link", name="Erase me…").click()
    expect(page).to_have_url(re.compile(r"/me/forget/$"))
    what_goes = page.locator("#erase-list")
    expect(what_goes).to_contain_text(handle)
    expect(what_goes).to_contain_text("1 message you wrote, in 1 room")
    check_accessibility(page, "the erase confirmation page")

    # Without the box ticked: a clear refusal, and nothing is gone.
    alice.expect_console_error("status of 400")
    page.get_by_role("button", name="Erase everything").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Please tick the box to confirm. Nothing has been erased.")
    expect(page.get_by_label(re.compile("^I understand"))).to_have_attribute(
        "aria-invalid", "true")
    expect(bob.delivered(mine)).to_have_count(1)
    alice.goto("/me/")
    expect(page.locator("#you-link .handle")).to_have_text(handle)

    # Confirmed: the handle and the message go, from the other member's screen too.
    page.get_by_role("link", name="Erase me…").click()
    page.get_by_label(re.compile("^I understand")).check()
    page.get_by_role("button", name="Erase everything").click()
    expect(page.get_by_role("heading", name="Take care")).to_be_visible()
    expect(bob.with_text(mine)).to_have_count(0, timeout=TIMEOUT_MS)
    bob.forgive_vanished(mine)
    expect(bob.delivered(theirs)).to_have_count(1)
    alice.goto("/me/")
    expect(page.locator("#no-handle")).to_be_visible()
