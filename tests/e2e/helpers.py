"""Shared pieces of the browser tests: a member in their own browser context, watched for
console errors, CSP violations and messages that show twice or vanish; and small helpers.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Generous for a loaded CI machine; a passing run takes a fraction of this.
TIMEOUT_MS = 15_000

# Runs in every page before its own scripts. CSP violations surface as console errors, and a
# watchdog records every moment the message list shows one text twice, or drops a text it showed
# (the sender's "Sending…" line must turn into the delivered message, never flicker or double).
WATCH_PAGE = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
});
window.hearthWatch = { shownTwice: [], vanished: [], seen: new Set() };
document.addEventListener("DOMContentLoaded", () => {
  const list = document.getElementById("messages");
  if (!list) return;
  const seen = window.hearthWatch.seen;
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

    def open_room(self, slug: str, *, accept_rules: bool = True) -> None:
        self.goto(f"/rooms/{slug}/")
        self.wait_connected()
        if accept_rules:
            self.accept_rules()

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

    # --- ground rules, notices, moderation -----------------------------------------------

    def accept_rules(self) -> None:
        """Read the room's ground rules panel and press "I agree", as every member must
        before their first message."""
        from playwright.sync_api import expect

        panel = self.page.locator("#rules-panel")
        expect(panel).to_be_visible()
        self.page.get_by_role("button", name="I agree").click()
        expect(panel).to_be_hidden()
        expect(self.page.locator("#composer-input")).to_be_enabled()

    def message_from(self, handle: str, containing: str) -> Any:
        """Delivered messages by `handle` whose text contains `containing`."""
        return self.page.locator("li.message[data-seq]").filter(
            has=self.page.locator(".msg-handle", has_text=re.compile(f"^{re.escape(handle)}$"))
        ).filter(has=self.page.locator(".msg-body", has_text=containing))

    def open_message_menu(self, message: Any) -> None:
        """Open a message's actions menu with the keyboard (it is never hover-only)."""
        from playwright.sync_api import expect

        toggle = message.get_by_role("button", name=re.compile("^Options for the message"))
        toggle.focus()
        self.page.keyboard.press("Enter")
        expect(toggle).to_have_attribute("aria-expanded", "true")

    def forgive_vanished(self, text: str) -> None:
        """A message that was meant to leave the screen (hidden, masked, given back) is not a
        watchdog failure."""
        self.page.evaluate(
            """text => { const w = window.hearthWatch;
                 for (const t of [...w.seen]) if (t.includes(text)) w.seen.delete(t);
                 w.vanished = w.vanished.filter(t => !t.includes(text)); }""", text)


# How many times one text may be sent in a run. The shipped model reads every message, so a
# random tag would give each run a different reading; "[n]" per text keeps them the same, and
# tests/e2e/test_texts.py checks every text with each tag up to this one reads the same way.
UNIQUE_REPEATS = 6
_times_sent: Counter[str] = Counter()


def unique(text: str) -> str:
    """`text` tagged so no other message in the run has it: "[1]" the first time, then "[2]"."""
    _times_sent[text] += 1
    repeat = _times_sent[text]
    assert repeat <= UNIQUE_REPEATS, f"{text!r} sent more than {UNIQUE_REPEATS} times in a run"
    return f"{text} [{repeat}]"


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


def django_shell(servers: Any, code: str) -> str:
    """Run Python in a Django shell against the servers' database; returns what it printed."""
    output: str = servers.manage("shell", "--no-imports", "-c", code)
    return output


def check_accessibility(page: Any, what: str) -> None:
    """Run axe-core on the page as it is now; every violation fails, with axe's report."""
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    results = Axe().run(page)
    assert results.violations_count == 0, f"axe on {what}:\n{results.generate_report()}"


def assert_fits(page: Any, what: str) -> None:
    """Nothing makes the page scroll sideways."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{what} scrolls sideways by {overflow}px"


def screenshot(page: Any, name: str, tmp_path: Path, *, full_page: bool = True) -> None:
    """Save a screenshot for people to look at: into HEARTH_SHOTS_DIR when set, else the
    test's temporary directory."""
    directory = Path(os.environ.get("HEARTH_SHOTS_DIR") or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(directory / f"{name}.png"), full_page=full_page)


def with_dark_colours(page: Any, check: Callable[[], None]) -> None:
    """Run a check with the page in the visitor's dark colour scheme, then switch back."""
    page.emulate_media(color_scheme="dark")
    try:
        check()
    finally:
        page.emulate_media(color_scheme="light")
