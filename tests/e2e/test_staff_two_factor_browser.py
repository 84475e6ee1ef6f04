"""Browser tests of the staff second factor: a moderator's first sign-in sets up an
authenticator from a QR code (or its key) and shows recovery codes once; later sign-ins ask a
code from the app or an unused recovery code; a password alone reaches neither the dashboard
nor the admin."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

import pytest

from tests.e2e.conftest import AUTHENTICATORS, STAFF_PASSWORD, sign_in_staff
from tests.e2e.helpers import TIMEOUT_MS, Visitor, check_accessibility
from tests.staff_auth import Authenticator
from tests.system.servers import Servers

pytestmark = pytest.mark.e2e

_numbers = itertools.count(1)


def new_moderator(servers: Servers) -> str:
    username = f"twofactor{next(_numbers)}"
    servers.manage("add_staff", username, "--role", "moderator")
    return username


def enter_password(staff: Visitor, username: str, next_path: str = "/moderation/") -> None:
    staff.goto(f"/staff/login/?next={next_path}")
    staff.page.get_by_label("Username").fill(username)
    staff.page.get_by_label("Password").fill(STAFF_PASSWORD)
    staff.page.get_by_role("button", name="Sign in").click()
    staff.page.wait_for_url(lambda url: "/staff/login/" not in url)


def test_enrolment_shows_a_qr_code_and_recovery_codes_once(
        visitor: Callable[..., Visitor], servers: Servers) -> None:
    from playwright.sync_api import expect

    username = new_moderator(servers)
    staff = visitor()
    enter_password(staff, username)
    page = staff.page
    expect(page).to_have_url(f"{staff.base}/staff/two-factor/setup/")
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    check_accessibility(page, "the second factor's setup page")
    app = Authenticator.from_manual_key(page.locator("#manual-key").inner_text())
    page.get_by_label("Code from your app").fill(app.next_code())
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    check_accessibility(page, "the recovery codes")
    page.get_by_role("link", name="I've saved them, continue").click()
    expect(page).to_have_url(f"{staff.base}/moderation/")
    expect(page.locator("#connection-state")).to_have_text("Live", timeout=TIMEOUT_MS)
    # Shown once: the setup page now sends the moderator to the code step.
    staff.goto("/staff/two-factor/setup/")
    expect(page).not_to_have_url(re.compile(r"/setup/$"))


def test_sign_in_with_a_code_from_the_app(visitor: Callable[..., Visitor],
                                          servers: Servers) -> None:
    from playwright.sync_api import expect

    username = new_moderator(servers)
    sign_in_staff(visitor(), username, next_path="/moderation/")  # sets the app up
    staff = visitor()
    enter_password(staff, username)
    page = staff.page
    expect(page).to_have_url(f"{staff.base}/staff/two-factor/")
    check_accessibility(page, "the code step")
    page.get_by_label("Code", exact=True).fill(AUTHENTICATORS[(staff.base, username)].next_code())
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(f"{staff.base}/moderation/")
    expect(page.locator("#connection-state")).to_have_text("Live", timeout=TIMEOUT_MS)


def test_sign_in_with_a_recovery_code_that_then_works_no_more(
        visitor: Callable[..., Visitor], servers: Servers) -> None:
    from playwright.sync_api import expect

    username = new_moderator(servers)
    first = visitor()
    enter_password(first, username)
    app = Authenticator.from_manual_key(first.page.locator("#manual-key").inner_text())
    first.page.get_by_label("Code from your app").fill(app.next_code())
    first.page.get_by_role("button", name="Confirm").click()
    codes = first.page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    # The phone is lost: a recovery code instead.
    staff = visitor()
    enter_password(staff, username)
    staff.page.get_by_label("Code", exact=True).fill(codes[0])
    staff.page.get_by_role("button", name="Verify").click()
    expect(staff.page).to_have_url(f"{staff.base}/moderation/")
    expect(staff.page.locator(".flash")).to_contain_text("You used a recovery code; 9 left.")
    expect(staff.page.locator("#connection-state")).to_have_text("Live", timeout=TIMEOUT_MS)
    # The same code a second time is refused, clearly, and signs nobody in.
    again = visitor()
    enter_password(again, username)
    again.page.get_by_label("Code", exact=True).fill(codes[0])
    again.expect_console_error("status of 400")
    again.page.get_by_role("button", name="Verify").click()
    expect(again.page.get_by_role("alert")).to_contain_text("each recovery code works once")
    expect(again.page).to_have_url(f"{again.base}/staff/two-factor/")


def test_a_password_alone_reaches_neither_the_dashboard_nor_the_admin(
        visitor: Callable[..., Visitor], servers: Servers) -> None:
    from playwright.sync_api import expect

    username = new_moderator(servers)
    staff = visitor()
    enter_password(staff, username)
    expect(staff.page).to_have_url(f"{staff.base}/staff/two-factor/setup/")
    # A code from two minutes ago is refused as expired, and signs nobody in.
    app = Authenticator.from_manual_key(staff.page.locator("#manual-key").inner_text())
    staff.page.get_by_label("Code from your app").fill(app.expired_code())
    staff.expect_console_error("status of 400")
    staff.page.get_by_role("button", name="Confirm").click()
    expect(staff.page.get_by_role("alert")).to_contain_text("That code has expired")
    staff.expect_console_error("status of 403")
    response = staff.page.goto(f"{staff.base}/moderation/")
    assert response is not None and response.status == 403
    expect(staff.page.get_by_role("heading", name="This page is for moderators")).to_be_visible()
    expect(staff.page.locator("#connection-state")).to_have_count(0)
    staff.page.goto(f"{staff.base}/admin/")
    expect(staff.page).to_have_url(re.compile(r"/staff/login/\?next="))
