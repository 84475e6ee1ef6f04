"""Fixtures for the browser tests: one set of real servers and one Chromium for the whole run
(each test still gets fresh members in fresh browser contexts), and a moderator's login."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import skip_or_fail
from tests.e2e.helpers import CHROMIUM_ARGS, TIMEOUT_MS, WATCH_PAGE, Visitor
from tests.staff_auth import Authenticator
from tests.system.servers import Servers, run_servers

STAFF_PASSWORD = "a-long-test-password-for-mod1"
MODERATOR_USERNAME = "mod1"


@pytest.fixture(scope="package")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    # A one-second heartbeat makes silent gaps and dead sockets show up within seconds.
    with run_servers(tmp_path_factory.mktemp("e2e"),
                     extra_env={"HEARTH_HEARTBEAT_SECONDS": "1",
                                # Tests change ground rules from another process, which a
                                # worker would otherwise see up to 2 s late.
                                "HEARTH_HOT_CACHE_SECONDS": "0",
                                "HEARTH_STAFF_PASSWORD": STAFF_PASSWORD}) as running:
        yield running


# Package scope, not session: Playwright's sync API keeps an event loop running while it is
# open, and the asyncio system tests that run after tests/e2e cannot start their own.
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium")
    if executable is None:
        skip_or_fail("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS,
                                              headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def visitor(browser: Any, servers: Servers) -> Iterator[Callable[..., Visitor]]:
    """Make members; on teardown, fail if any page logged an error or broke the CSP."""
    made: list[Visitor] = []

    def make(**context_options: Any) -> Visitor:
        context = browser.new_context(**context_options)
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(WATCH_PAGE)
        page = context.new_page()
        member = Visitor(context=context, page=page, base=servers.http())

        def on_console(message: Any) -> None:
            if message.type == "error":
                member.note_console_error(message.text)

        page.on("console", on_console)
        page.on("pageerror", lambda error: member.problems.append(f"page error: {error}"))
        made.append(member)
        return member

    yield make
    for member in made:
        member.check_watchdog()
    problems = [problem for member in made for problem in member.problems]
    for member in made:
        member.context.close()
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="package")
def moderator_account(servers: Servers) -> str:
    """A moderator login, made once with the add_staff command (password from the env)."""
    servers.manage("add_staff", MODERATOR_USERNAME, "--role", "moderator")
    return MODERATOR_USERNAME


# Each staff login's authenticator app, by server and username: set up through the real
# enrolment page at its first sign-in, then asked for a code at every later one.
AUTHENTICATORS: dict[tuple[str, str], Authenticator] = {}


def sign_in_staff(staff: Visitor, username: str, *, next_path: str,
                  password: str = STAFF_PASSWORD) -> None:
    """Sign in on the staff pages as a person does: username and password, then the second
    factor if the role needs one (scanning is typing the page's key into the "app" here)."""
    from playwright.sync_api import expect

    staff.goto(f"/staff/login/?next={next_path}")
    staff.page.get_by_label("Username").fill(username)
    staff.page.get_by_label("Password").fill(password)
    staff.page.get_by_role("button", name="Sign in").click()
    staff.page.wait_for_url(lambda url: "/staff/login/" not in url)
    if "/staff/two-factor/setup/" in staff.page.url:
        expect(staff.page.locator("#qr-code svg")).to_be_visible()
        app = Authenticator.from_manual_key(staff.page.locator("#manual-key").inner_text())
        AUTHENTICATORS[(staff.base, username)] = app
        staff.page.get_by_label("Code from your app").fill(app.next_code())
        staff.page.get_by_role("button", name="Confirm").click()
        expect(staff.page.locator("#recovery-codes li")).to_have_count(10)
        staff.page.get_by_role("link", name="I've saved them, continue").click()
    elif "/staff/two-factor/" in staff.page.url:
        app = AUTHENTICATORS[(staff.base, username)]
        staff.page.get_by_label("Code", exact=True).fill(app.next_code())
        staff.page.get_by_role("button", name="Verify").click()
    expect(staff.page).to_have_url(f"{staff.base}{next_path}")


@pytest.fixture
def moderator(visitor: Callable[..., Visitor], moderator_account: str) -> Callable[..., Visitor]:
    """A moderator signed in through the staff login page and the second factor, in a browser
    context of their own."""

    def sign_in(**context_options: Any) -> Visitor:
        from playwright.sync_api import expect

        staff = visitor(**context_options)
        sign_in_staff(staff, moderator_account, next_path="/moderation/")
        expect(staff.page.locator("#connection-state")).to_have_text("Live", timeout=TIMEOUT_MS)
        return staff

    return sign_in
