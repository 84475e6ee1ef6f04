"""The crisis safety path end to end on one real daphne worker, over real websockets: a
method-detail message collapsed for everyone but its author until a moderator releases or
hides it, a staffed-only room that opens and closes with the on-duty roster, and a private
take-aside from an escalation that nobody else in the room hears.

Runs on SQLite by default and on PostgreSQL when DATABASE_URL points at one; no Redis needed.
The helpers at the top (an inbox that keeps every frame, staff on the staff socket, reading
the servers' database) are shared with test_crisis_redis.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.system.client import TIMEOUT, join, unique
from tests.system.servers import Servers, new_session_cookies, run_servers, send_frame
from tests.system.test_moderation_flow import (
    MODERATION_ENV,
    add_moderator,
    open_staff_socket,
    staff_login,
)

# Also on SQLite in CI: with no REDIS_URL these servers run the quick start's embedded mode
# (SQLite and the in-memory layer), which the other system tests leave to PostgreSQL.
pytestmark = [pytest.mark.system, pytest.mark.both_databases]

Frame = dict[str, Any]
HIGH_RISK_TEXT = "I want to kill myself"
# Own wording, never how-to content: a means with an amount, or a lethality question, in a
# message about wanting to die. The detector is being retuned, so the test picks the first
# of these it flags as method_detail (see method_detail_text).
METHOD_DETAIL_CANDIDATES = (
    "I want to die and I have saved up 40 tablets for tonight",
    "what is the lethal dose, i can't keep going",
    "i want to end it all, i have a whole bottle of pills next to me",
)


# --- shared helpers ------------------------------------------------------------------------------

class Inbox:
    """One socket's frames, all of them kept: a test waits for the frame it wants without
    losing the ones that arrived first, and can later check what a socket never got."""

    def __init__(self, ws: Any, name: str) -> None:
        self.ws = ws
        self.name = name
        self.received: list[Frame] = []
        self._unclaimed: list[Frame] = []

    def pass_over(self, unwanted: Callable[[Frame], bool]) -> None:
        """Frames already here that must not answer a request about to be sent (the duty
        frame sent on connect says "off" too, and would answer a check-out at once)."""
        self._unclaimed = [frame for frame in self._unclaimed if not unwanted(frame)]

    async def wait_for(self, what: str, wanted: Callable[[Frame], bool],
                       timeout: float = TIMEOUT) -> Frame:
        for index, earlier in enumerate(self._unclaimed):
            if wanted(earlier):
                return self._unclaimed.pop(index)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"{self.name}: no {what} within {timeout} s; got "
                                   f"{[f.get('type') for f in self.received]}")
            try:
                frame: Frame = json.loads(await asyncio.wait_for(self.ws.recv(),
                                                                 remaining))
            except TimeoutError:
                continue
            self.received.append(frame)
            if wanted(frame):
                return frame
            self._unclaimed.append(frame)

    async def frame(self, frame_type: str, timeout: float = TIMEOUT, **fields: Any) -> Frame:
        """The next frame of this type whose top-level fields have these values."""
        def wanted(frame: Frame) -> bool:
            return frame.get("type") == frame_type and all(
                frame.get(key) == value for key, value in fields.items())

        described = frame_type + (f" {fields}" if fields else "")
        return await self.wait_for(described, wanted, timeout)

    async def drain(self, seconds: float) -> None:
        """Read whatever arrives for a while (to check later what never came)."""
        with contextlib.suppress(TimeoutError):
            await self.wait_for("nothing", lambda _frame: False, timeout=seconds)

    def got(self, frame_type: str) -> list[Frame]:
        return [frame for frame in self.received if frame.get("type") == frame_type]

    async def close(self) -> None:
        await self.ws.close()


@dataclass
class Person:
    """A member's room socket."""

    inbox: Inbox
    welcome: Frame
    cookie: str

    @property
    def handle(self) -> str:
        return str(self.welcome["you"]["handle"])

    async def try_send(self, body: str, client_id: str | None = None) -> Frame:
        """Send a message; the ack or error answering it."""
        client_id = client_id or unique("c")
        await send_frame(self.inbox.ws, {"type": "send", "client_id": client_id, "body": body})
        return await self.inbox.wait_for(
            f"reply to {client_id}",
            lambda f: f.get("type") in {"ack", "error"} and f.get("client_id") == client_id)

    async def send(self, body: str) -> Frame:
        reply = await self.try_send(body)
        assert reply["type"] == "ack", reply
        return reply

    async def message(self, seq: int, timeout: float = TIMEOUT) -> Frame:
        return await self.inbox.frame("message", timeout=timeout, seq=seq)


async def enter(servers: Servers, room: str, cookie: str, *, worker: int = 0,
                language: str | None = None, name: str = "member") -> Person:
    """Join a room (rules accepted), optionally with the browser's Accept-Language."""
    headers = {"Accept-Language": language} if language else None
    chatter = await join(servers, room, cookie, worker=worker, headers=headers)
    return Person(inbox=Inbox(chatter.ws, name), welcome=chatter.welcome, cookie=cookie)


@dataclass
class Staff:
    """A staff member's /ws/staff/ socket."""

    inbox: Inbox
    handle: str

    async def act(self, frame: Frame) -> Frame:
        """Send a staff action; its action_done, take_aside_state or error answer."""
        await send_frame(self.inbox.ws, frame)
        answers = {"acknowledge": "action_done", "resolve": "action_done",
                   "moderate": "action_done", "open_take_aside": "take_aside_state"}
        expected = answers[frame["type"]]
        return await self.inbox.wait_for(
            f"answer to {frame['type']}", lambda f: f.get("type") in {expected, "error"})

    async def check_in(self) -> None:
        self.inbox.pass_over(lambda f: f.get("type") == "duty")
        await send_frame(self.inbox.ws, {"type": "check_in"})
        await self.inbox.wait_for("duty on", lambda f: f.get("type") == "duty"
                                  and f["on_duty"] is True)

    async def check_out(self) -> None:
        self.inbox.pass_over(lambda f: f.get("type") == "duty")
        await send_frame(self.inbox.ws, {"type": "check_out"})
        await self.inbox.wait_for("duty off", lambda f: f.get("type") == "duty"
                                  and f["on_duty"] is False)

    async def escalation(self, event: str, *, member: str | None = None,
                         escalation_id: int | None = None,
                         timeout: float = TIMEOUT) -> Frame:
        """The `escalation` frame with this event, about this member or escalation."""
        def wanted(frame: Frame) -> bool:
            if frame.get("type") != "escalation" or frame["event"] != event:
                return False
            item = frame["escalation"]
            return ((member is None or item["member"]["handle"] == member)
                    and (escalation_id is None or item["id"] == escalation_id))

        return await self.inbox.wait_for(f"escalation {event}", wanted, timeout)

    async def close(self) -> None:
        await self.inbox.close()


async def staff_socket(servers: Servers, username: str, *, worker: int = 0,
                       cookie: str | None = None) -> Staff:
    cookie = cookie or await staff_login(servers, username, worker=worker)
    opened = await open_staff_socket(servers, cookie, worker=worker)
    return Staff(inbox=Inbox(opened.ws, f"staff {username}"),
                 handle=str(opened.queue["you"]["handle"]))


async def close_all(*sockets: Person | Staff) -> None:
    for socket in sockets:
        await (socket.inbox if isinstance(socket, Person) else socket).close()


def query(servers: Servers, code: str) -> Any:
    """Run Python against the servers' database (a manage.py shell); `code` assigns the
    answer to `result`, which comes back through JSON."""
    out = servers.manage("shell", "--verbosity", "0", "-c",
                         f"import json\n{code}\nprint('RESULT ' + json.dumps(result))")
    line = next(line for line in reversed(out.splitlines()) if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def end_every_shift(servers: Servers) -> None:
    """Nobody on duty, whatever an earlier test left behind."""
    servers.manage("shell", "--verbosity", "0", "-c",
                   "from django.utils import timezone; from moderation.models import DutyShift; "
                   "DutyShift.objects.filter(ended_at__isnull=True).update("
                   "ended_at=timezone.now()); "
                   "from moderation.duty import announce_staffing; announce_staffing()")


def method_detail_text() -> str:
    """A message the current crisis detector flags as a method detail."""
    from moderation.screening import screen_message
    from moderation.screening.types import ScreeningContext, SignalKind

    for text in METHOD_DETAIL_CANDIDATES:
        signals = screen_message(text=text, context=ScreeningContext())
        if any(signal.kind == SignalKind.METHOD_DETAIL for signal in signals):
            return text
    raise AssertionError("none of METHOD_DETAIL_CANDIDATES is flagged method_detail any more; "
                         "add a wording the detector flags")


# --- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with run_servers(tmp_path_factory.mktemp("crisis"), extra_env=MODERATION_ENV) as running:
        yield running


@pytest.fixture(scope="module")
def moderator(servers: Servers) -> str:
    return add_moderator(servers)


# --- 4. method details: collapsed for the room, released or hidden by a moderator ---------------

async def _post_method_detail(servers: Servers, room: str, moderator: str
                              ) -> tuple[Staff, Person, Person, Frame, Frame, str]:
    text = method_detail_text()
    staff = await staff_socket(servers, moderator)
    cookies = await new_session_cookies(servers.http(), 2)
    author = await enter(servers, room, cookies[0], name="author")
    reader = await enter(servers, room, cookies[1], name="reader")
    ack = await author.send(text)
    assert ack["status"] == "collapsed", ack
    item = await staff.inbox.wait_for(
        "queue_item", lambda f: f.get("type") == "queue_item"
        and f["item"]["room"]["slug"] == room and f["item"]["message"]["seq"] == ack["seq"])
    return staff, author, reader, ack, item["item"], text


async def test_a_method_detail_is_collapsed_for_others_and_a_moderator_releases_it(
        servers: Servers, room: str, moderator: str) -> None:
    staff, author, reader, ack, item, text = await _post_method_detail(servers, room, moderator)
    try:
        # The author sees every word they wrote, and a gentle notice; never a sanction.
        own = await author.message(ack["seq"])
        assert (own["status"], own["body"]) == ("collapsed", text)
        notice = await author.inbox.frame("notice", kind="collapsed")
        assert (notice["rule"], notice["seq"]) == ("no-method-details", ack["seq"])
        assert (await author.inbox.frame("support", seq=ack["seq"]))["tier"] in {
            "concern", "high_risk", "imminent"}

        # Everyone else gets a placeholder: no words at all.
        placeholder = await reader.message(ack["seq"])
        assert placeholder["status"] == "collapsed" and placeholder["collapsed"] is True
        assert (placeholder["body"], placeholder["html"]) == ("", "")

        # A member who reconnects and resumes gets the placeholder too, never the words.
        again = await enter(servers, room, reader.cookie, name="reader again")
        await send_frame(again.inbox.ws, {"type": "resume", "after_seq": ack["seq"] - 1})
        replayed = await again.message(ack["seq"])
        await again.inbox.frame("resumed")
        assert (replayed["body"], replayed.get("collapsed")) == ("", True)
        assert text not in json.dumps(reader.inbox.received + again.inbox.received)

        # The moderator sees it for review and releases it: now the room reads it in full.
        assert item["message"]["status"] == "collapsed"
        assert "no-method-details" in item["rules"]
        done = await staff.act({"type": "moderate", "item_id": item["id"],
                                "action": "restore", "rule": "no-method-details"})
        assert done["type"] == "action_done", done
        for person in (reader, again):
            released = await person.message(ack["seq"])
            assert (released["status"], released["body"]) == ("visible", text)
            assert not released.get("collapsed")
        await again.inbox.close()
    finally:
        await close_all(staff, author, reader)


async def test_a_method_detail_a_moderator_keeps_hidden_leaves_the_room_not_its_author(
        servers: Servers, room: str, moderator: str) -> None:
    staff, author, reader, ack, item, text = await _post_method_detail(servers, room, moderator)
    try:
        await reader.message(ack["seq"])
        done = await staff.act({"type": "moderate", "item_id": item["id"], "action": "hide",
                                "rule": "no-method-details"})
        assert done["type"] == "action_done", done
        removed = await reader.inbox.frame("message_removed")
        assert (removed["seqs"], removed["reason"]) == ([ack["seq"]], "hidden")
        # The author keeps their words, with a kind word, never a removal.
        notice = await author.inbox.frame("notice")
        while notice["kind"] != "kept_for_author":
            notice = await author.inbox.frame("notice")
        assert notice["seq"] == ack["seq"]
        assert "message_removed" not in [f["type"] for f in author.inbox.received]
        # History no longer has it for the room, and the words never reached the reader.
        await send_frame(reader.inbox.ws, {"type": "history", "before_seq": ack["seq"] + 1,
                                           "limit": 10})
        page = await reader.inbox.frame("history")
        assert ack["seq"] not in [m["seq"] for m in page["messages"]]
        assert text not in json.dumps(reader.inbox.received)
    finally:
        await close_all(staff, author, reader)


# --- 5. staffed-only rooms ------------------------------------------------------------------------

async def test_a_staffed_only_room_is_read_only_until_someone_checks_in(
        servers: Servers, moderator: str) -> None:
    room = unique("staffed")
    servers.manage("add_room", room, "--title", "A staffed room")
    servers.manage("shell", "--verbosity", "0", "-c",
                   "from rooms.models import Room; "
                   f"Room.objects.filter(slug={room!r}).update(staffed_only=True)")
    end_every_shift(servers)
    cookies = await new_session_cookies(servers.http(), 1)
    member = await enter(servers, room, cookies[0], language="en-US,en;q=0.8")
    staff = await staff_socket(servers, moderator)
    try:
        staffing = member.welcome["staffing"]
        assert (staffing["staffed_only"], staffing["open"], staffing["on_duty"]) == (
            True, False, 0)
        assert staffing["helpline"]["phone"] == "988", staffing
        refused = await member.try_send("hello, is anyone around?")
        assert (refused["type"], refused["code"]) == ("error", "room_unstaffed")

        await staff.check_in()
        opened = await member.inbox.frame("staffing", open=True)
        assert opened["on_duty"] >= 1 and opened["helpline"] is None
        assert (await member.send("hello, is anyone around?"))["status"] == "visible"

        await staff.check_out()
        closed = await member.inbox.frame("staffing", open=False)
        assert closed["helpline"]["phone"] == "988"
        refused = await member.try_send("still here")
        assert refused["code"] == "room_unstaffed"
    finally:
        await close_all(staff, member)


# --- take-aside from an escalation ---------------------------------------------------------------

async def test_a_take_aside_is_private_to_the_member_and_the_moderator(
        servers: Servers, room: str, moderator: str) -> None:
    cookies = await new_session_cookies(servers.http(), 2)
    staff = await staff_socket(servers, moderator)
    member = await enter(servers, room, cookies[0], name="member")
    bystander = await enter(servers, room, cookies[1], name="bystander")
    try:
        await staff.check_in()
        ack = await member.send(HIGH_RISK_TEXT)
        alert = await staff.escalation("new", member=member.handle)
        escalation_id = alert["escalation"]["id"]
        assert alert["escalation"]["message"]["seq"] == ack["seq"]

        state = await staff.act({"type": "open_take_aside", "escalation_id": escalation_id})
        assert state["type"] == "take_aside_state", state
        aside = state["aside"]
        assert (aside["state"], aside["you"], aside["member"]["handle"]) == (
            "invited", "staff", member.handle)
        await staff.escalation("acknowledged", escalation_id=escalation_id)

        invite = (await member.inbox.frame("take_aside_invite"))["aside"]
        assert (invite["id"], invite["state"], invite["you"]) == (aside["id"], "invited",
                                                                  "member")
        assert invite["staff"]["handle"] == staff.handle and invite["detail"]
        await send_frame(member.inbox.ws, {"type": "take_aside_reply", "aside_id": aside["id"],
                                           "accept": True})
        for inbox in (member.inbox, staff.inbox):
            await inbox.wait_for("aside open", lambda f: f.get("type") == "take_aside_state"
                                 and f["aside"]["state"] == "open")

        words = {"staff": "Hi, I'm here. Would you like to talk about tonight?",
                 "member": "Thank you. I don't really know where to start."}
        for side, inbox in (("staff", staff.inbox), ("member", member.inbox)):
            client_id = unique(side)
            await send_frame(inbox.ws, {"type": "take_aside_send", "aside_id": aside["id"],
                                        "client_id": client_id, "body": words[side]})
            sent = await inbox.frame("take_aside_ack", client_id=client_id)
            assert sent["duplicate"] is False
            for receiver in (staff.inbox, member.inbox):
                got = await receiver.frame("take_aside_message", client_id=client_id)
                assert (got["from"], got["body"], got["seq"]) == (side, words[side],
                                                                 sent["seq"])

        # The room carries on; the bystander hears nothing of the aside.
        after = await member.send("thanks everyone")
        await bystander.message(after["seq"])
        await bystander.inbox.drain(0.5)
        leaked = [f for f in bystander.inbox.received if str(f.get("type")).startswith(
            "take_aside") or f.get("type") == "support"]
        assert leaked == []
        assert not any(text in json.dumps(bystander.inbox.received) for text in words.values())

        await send_frame(staff.inbox.ws, {"type": "take_aside_leave", "aside_id": aside["id"]})
        closed = await member.inbox.wait_for(
            "aside closed", lambda f: f.get("type") == "take_aside_state"
            and f["aside"]["state"] == "closed")
        assert closed["aside"]["id"] == aside["id"]
        audit = query(servers, "from moderation.models import AuditEntry\nresult = sorted("
                               "AuditEntry.objects.filter(reason="
                               f"'take-aside {aside['id']}').values_list('action', flat=True))")
        assert audit == ["aside_accept", "aside_close", "aside_open"]
        await staff.check_out()
    finally:
        await close_all(staff, member, bystander)


def test_the_server_logged_no_crash_and_no_crisis_words(servers: Servers) -> None:
    log = servers.log_text()
    assert "Traceback" not in log, log[-5000:]
    for text in (*METHOD_DETAIL_CANDIDATES, HIGH_RISK_TEXT):
        assert text not in log
