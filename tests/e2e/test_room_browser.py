"""Browser end-to-end tests: real Chromium (driven by Playwright) against real daphne servers.

Each test opens one or more browser contexts (each a separate anonymous member with its own
session cookie) and checks what a member sees and can do. Every page is watched for console
errors, uncaught exceptions and Content-Security-Policy violations; any of them fails the test.
"""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import skip_or_fail
from tests.system.servers import Servers, run_servers

pytestmark = pytest.mark.e2e

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Generous for a loaded CI machine; a passing run takes a fraction of this.
TIMEOUT_MS = 15_000
# A handle with a phone number in it, which the "You" page must refuse.
PHONE_HANDLE = "call me 07700 900123"

# Runs in every page before its own scripts. CSP violations surface as console errors, and a
# watchdog records every moment the message list shows one text twice, or drops a text it showed
# (the sender's "Sending…" line must turn into the delivered message, never flicker or double).
WATCH_PAGE = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
});
window.hearthWatch = { shownTwice: [], vanished: [] };
document.addEventListener("DOMContentLoaded", () => {
  const list = document.getElementById("messages");
  if (!list) return;
  const seen = new Set();
  new MutationObserver(() => {
    const counts = new Map();
    for (const body of list.querySelectorAll(":scope > li .msg-body")) {
      counts.set(body.innerText, (counts.get(body.innerText) || 0) + 1);
    }
    for (const [text, count] of counts) {
      if (count > 1) window.hearthWatch.shownTwice.push(text);
    }
    for (const text of seen) {
      if (!counts.has(text)) window.hearthWatch.vanished.push(text);
    }
    for (const text of counts.keys()) seen.add(text);
  }).observe(list, { childList: true });
});
"""


@dataclass
class Visitor:
    """One member in their own browser context (own cookies, own storage)."""

    context: Any
    page: Any
    base: str
    problems: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)

    def expect_console_error(self, text: str) -> None:
        """The next console error containing `text` is expected (once), not a problem."""
        self.expected.append(text)

    def note_console_error(self, text: str) -> None:
        for allowed in self.expected:
            if allowed in text:
                self.expected.remove(allowed)
                return
        self.problems.append(f"console error on {self.page.url}: {text}")

    def check_watchdog(self) -> None:
        """Fail on any moment this room page showed a message twice or lost one it showed."""
        if self.page.is_closed() or "/rooms/" not in self.page.url:
            return
        watch = self.page.evaluate("window.hearthWatch")
        if watch["shownTwice"]:
            self.problems.append(f"shown twice at some moment: {sorted(set(watch['shownTwice']))}")
        if watch["vanished"]:
            self.problems.append(f"shown, then gone: {sorted(set(watch['vanished']))}")

    def goto(self, path: str) -> Any:
        response = self.page.goto(self.base + path)
        assert response is not None, path
        assert response.ok, f"{path}: {response.status}"
        return response

    def open_room(self, slug: str) -> None:
        self.goto(f"/rooms/{slug}/")
        self.wait_connected()

    def wait_connected(self) -> None:
        from playwright.sync_api import expect

        expect(self.page.locator("#connection-state")).to_have_text("Connected",
                                                                     timeout=TIMEOUT_MS)

    @property
    def handle(self) -> str:
        text: str = self.page.locator("#you-link .handle").inner_text().strip()
        assert text, "the header shows no handle"
        return text

    def send(self, body: str) -> None:
        composer = self.page.locator("#composer-input")
        composer.fill(body)
        composer.press("Enter")

    def delivered(self, body: str) -> Any:
        """Messages the server has numbered (not pending) whose text is exactly `body`."""
        return self.page.locator("li.message[data-seq]").filter(
            has=self.page.locator(".msg-body", has_text=re.compile(f"^{re.escape(body)}$")))

    def with_text(self, body: str) -> Any:
        """Every list item, pending or delivered, whose text is exactly `body`."""
        return self.page.locator("#messages > li").filter(
            has=self.page.locator(".msg-body", has_text=re.compile(f"^{re.escape(body)}$")))

    def wait_for_message(self, body: str) -> None:
        from playwright.sync_api import expect

        expect(self.delivered(body)).to_have_count(1, timeout=TIMEOUT_MS)

    def conversation(self) -> list[tuple[int, str, str]]:
        """(seq, handle, text) of every delivered message, in DOM order."""
        rows: list[list[Any]] = self.page.eval_on_selector_all(
            "#messages > li.message[data-seq]",
            """items => items.map(li => [Number(li.dataset.seq),
                 li.querySelector('.msg-handle').textContent,
                 li.querySelector('.msg-body').innerText])""")
        return [(int(seq), str(handle), str(text)) for seq, handle, text in rows]

    def assert_in_order_without_duplicates(self) -> None:
        seqs = [seq for seq, _handle, _text in self.conversation()]
        assert seqs == sorted(seqs), f"messages out of order: {seqs}"
        assert len(seqs) == len(set(seqs)), f"a message is shown twice: {seqs}"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    # A one-second heartbeat makes silent gaps and dead sockets show up within seconds.
    with run_servers(tmp_path_factory.mktemp("e2e"),
                     extra_env={"HEARTH_HEARTBEAT_SECONDS": "1"}) as running:
        yield running


@pytest.fixture(scope="module")
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


def unique(text: str) -> str:
    return f"{text} [{secrets.token_hex(3)}]"


# --- 1. two members talk ---------------------------------------------------------------------

def test_two_members_exchange_messages_with_their_own_handles(visitor):
    from playwright.sync_api import expect

    alice, bob = visitor(), visitor()
    response = alice.goto("/rooms/the-lounge/")
    csp = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    alice.wait_connected()
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
    before = unique("Before the tunnel")
    alice.send(before)
    bob.wait_for_message(before)

    bob.context.set_offline(True)
    expect(bob.page.locator("#connection-state")).not_to_have_text("Connected")
    stranded = unique("Typed in the tunnel")
    bob.send(stranded)
    expect(bob.with_text(stranded)).to_have_count(1)
    expect(bob.with_text(stranded)).to_contain_text("Sending…")

    missed = [unique(f"While you were away {n}") for n in (1, 2, 3)]
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


def forward(socket: Any, to_page: Callable[[Any, Any, Any], None] | None = None) -> Any:
    """Connect a routed page socket to the real server; `to_page(message, socket, server)`
    decides what the server's frames do (default: pass them on)."""
    server = socket.connect_to_server()
    if to_page is None:
        server.on_message(socket.send)
    else:
        server.on_message(lambda message: to_page(message, socket, server))
    socket.on_message(server.send)
    return server


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
    expect(page.locator("#you-link .handle")).to_have_text(browsing.handle)
    expect(page.locator(".lede .handle")).to_have_text(browsing.handle)
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
    member.goto("/")
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
    alice.open_room("anxious-minds")
    bob.open_room("anxious-minds")
    page = alice.page

    # The first Tab reaches the skip link, which is then on screen.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()

    composer = page.get_by_label(f"Message as {alice.handle}")
    composer.focus()
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


# --- screenshots, for looking at the UI ------------------------------------------------------

@pytest.mark.parametrize(("name", "viewport"), [
    ("desktop", {"width": 1280, "height": 800}),
    ("phone", {"width": 390, "height": 844}),
])
def test_pages_render_at_desktop_and_phone_sizes(visitor, name, viewport, tmp_path: Path):
    """The directory and a room with messages lay out without horizontal scrolling."""
    from playwright.sync_api import expect

    alice = visitor(viewport=viewport)
    bob = visitor(viewport=viewport)
    alice.open_room("veterans-trauma")
    bob.open_room("veterans-trauma")
    for who, body in ((alice, "Evening all."), (bob, "Hey, good to see you here."),
                      (alice, "Rough week, but a better day today.")):
        text = unique(body)
        who.send(text)
        who.wait_for_message(text)
    for page_path in ("/rooms/veterans-trauma/", "/", "/me/"):
        if page_path != "/rooms/veterans-trauma/":
            alice.goto(page_path)
        page = alice.page
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{page_path} scrolls sideways at {name} size"
        expect(page.locator("main h1")).to_be_visible()
        page.screenshot(path=str(tmp_path / f"{name}{page_path.replace('/', '_')}.png"),
                        full_page=True)
