"""Moderation end to end on one real daphne worker: ground rules before the first message,
contact details masked before anyone else sees them, insults blocked, and a moderator hiding,
timing out and banning from the staff socket.

Runs on SQLite by default and on PostgreSQL when DATABASE_URL points at one; no Redis needed.
The helpers at the top (staff login, staff socket) are shared with test_moderation_redis.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from tests.staff_auth import Authenticator
from tests.system.client import (
    Chatter,
    frames_until_close,
    http_request,
    join,
    set_cookies,
    unique,
)
from tests.system.servers import (
    SESSION_COOKIE,
    Servers,
    next_frame,
    open_socket,
    run_servers,
    send_frame,
)

pytestmark = pytest.mark.system

STAFF_PASSWORD = f"staff-{uuid.uuid4().hex}"
# Sends in these tests come faster than a person types; the rate limit has tests of its own.
MODERATION_ENV = {"HEARTH_STAFF_PASSWORD": STAFF_PASSWORD, "HEARTH_SEND_BURST": "100"}
TIMEOUT = 10.0  # an upper bound for events to arrive, never a timing assertion
_CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


# --- shared helpers ------------------------------------------------------------------------------

def add_moderator(servers: Servers, role: str = "moderator") -> str:
    """A staff login made with the add_staff command (password from the servers' env)."""
    username = unique(role)[:30].replace("-", "_")
    servers.manage("add_staff", username, "--role", role)
    return username


# Each staff login's authenticator, set up at its first sign-in (usernames are unique).
_AUTHENTICATORS: dict[str, Authenticator] = {}


async def staff_login(servers: Servers, username: str, *, worker: int = 0) -> str:
    """Sign in on /staff/login/ as a browser does (CSRF cookie and field, Origin), then with
    the second factor (setting up an authenticator from the page's key the first time), and
    return the session cookie that now carries the staff handle."""
    page = await http_request(servers, "GET", "/staff/login/", worker=worker)
    assert page.status == 200, page.status
    token = _CSRF_FIELD.search(page.body)
    csrf_cookie = set_cookies(page).get("csrftoken")
    assert token and csrf_cookie, "the staff login page has no CSRF token"
    headers = {"Origin": servers.origin(worker),
               "Referer": f"{servers.http(worker)}/staff/login/"}
    reply = await http_request(
        servers, "POST", "/staff/login/", cookies={"csrftoken": csrf_cookie},
        form={"csrfmiddlewaretoken": token.group(1), "username": username,
              "password": STAFF_PASSWORD},
        headers=headers, worker=worker)
    assert reply.status == 302, reply.body[:500]
    step = reply.headers["Location"]
    if step in ("/staff/two-factor/", "/staff/two-factor/setup/"):
        cookies = {"csrftoken": csrf_cookie, SESSION_COOKIE: set_cookies(reply)[SESSION_COOKIE]}
        if step.endswith("/setup/"):
            setup = await http_request(servers, "GET", step, cookies=cookies, worker=worker)
            assert setup.status == 200, setup.status
            _AUTHENTICATORS[username] = Authenticator.from_setup_page(setup.body)
        reply = await http_request(
            servers, "POST", step, cookies=cookies, headers=headers, worker=worker,
            form={"csrfmiddlewaretoken": token.group(1),
                  "code": _AUTHENTICATORS[username].next_code()})
        assert reply.status in (200, 302), reply.body[:500]
    session = set_cookies(reply).get(SESSION_COOKIE)
    assert session, "the login did not set a session cookie"
    return session


async def add_rule_in_admin(servers: Servers, cookie: str, room: str, **rule: str) -> None:
    """Add one of a room's ground rules through the Django admin, as an operator does."""
    path = "/admin/moderation/groundrule/add/"
    room_pk = servers.shell(f"from rooms.models import Room; "
                            f"print(Room.objects.get(slug={room!r}).pk)").strip()
    page = await http_request(servers, "GET", path, cookies={SESSION_COOKIE: cookie})
    assert page.status == 200, page.status
    token = _CSRF_FIELD.search(page.body)
    csrf_cookie = set_cookies(page).get("csrftoken")
    assert token and csrf_cookie, "the admin form has no CSRF token"
    reply = await http_request(
        servers, "POST", path, cookies={SESSION_COOKIE: cookie, "csrftoken": csrf_cookie},
        form={"csrfmiddlewaretoken": token.group(1), "room": room_pk, "position": "9",
              "is_active": "on", **rule},
        headers={"Origin": servers.origin(), "Referer": f"{servers.http()}{path}"})
    assert reply.status == 302, reply.body[:800]


class StaffSocket:
    """A moderator's dashboard socket, with the queue snapshot it opened with."""

    def __init__(self, ws: Any, queue: dict[str, Any]) -> None:
        self.ws = ws
        self.queue = queue

    async def frame(self, frame_type: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        return await next_frame(self.ws, frame_type, timeout)

    async def queue_item_for(self, room: str, seq: int,
                             timeout: float = TIMEOUT) -> dict[str, Any]:
        """The live queue_item about this message (skipping items about others)."""
        while True:
            item: dict[str, Any] = (await self.frame("queue_item", timeout))["item"]
            if item["room"]["slug"] == room and item["message"]["seq"] == seq:
                return item

    async def act(self, frame: dict[str, Any]) -> dict[str, Any]:
        """Send an action and return its answer (action_done or error)."""
        await send_frame(self.ws, frame)
        while True:
            reply = await next_frame(self.ws, None, TIMEOUT)
            if reply["type"] in {"action_done", "error"}:
                return reply

    async def close(self) -> None:
        await self.ws.close()


async def open_staff_socket(servers: Servers, cookie: str, *, worker: int = 0) -> StaffSocket:
    ws = await websockets.connect(
        servers.ws("/ws/staff/", worker), additional_headers={"Cookie":
                                                               f"{SESSION_COOKIE}={cookie}"},
        origin=Origin(servers.origin(worker)), open_timeout=60)
    first = await next_frame(ws, None, TIMEOUT)
    assert first["type"] == "queue", first
    return StaffSocket(ws, first)


def set_room_policy(servers: Servers, room: str, **actions: str) -> None:
    """A room's own screening policy, as an operator sets it in the admin."""
    servers.manage("shell", "--verbosity", "0", "-c",
                   "from moderation.models import ScreeningPolicy; "
                   "from rooms.models import Room; "
                   f"ScreeningPolicy.objects.update_or_create(room=Room.objects.get(slug={room!r})"
                   f", defaults={actions!r})")


async def report(chatter: Chatter, seq: int, reason: str = "harassment") -> None:
    await send_frame(chatter.ws, {"type": "report", "seq": seq, "reason": reason})
    receipt = await chatter.frame("report_received")
    assert receipt["seq"] == seq


async def message_with_seq(chatter: Chatter, seq: int) -> dict[str, Any]:
    while (frame := await chatter.message())["seq"] != seq:
        pass
    return frame


@contextlib.asynccontextmanager
async def closing(*sockets: Chatter | StaffSocket) -> AsyncIterator[None]:
    try:
        yield
    finally:
        for socket in sockets:
            await socket.close()


# --- fixtures ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with run_servers(tmp_path_factory.mktemp("moderation"), extra_env=MODERATION_ENV) as running:
        yield running


@pytest.fixture(scope="module")
def moderator(servers: Servers) -> str:
    return add_moderator(servers)


# --- 1. ground rules ------------------------------------------------------------------------------

async def test_ground_rules_are_accepted_before_the_first_message_and_again_after_a_change(
        servers: Servers, room: str, cookies: list[str]) -> None:
    admin = await staff_login(servers, add_moderator(servers, role="admin"))
    member = await join(servers, room, cookies[0], accept_rules=False)
    watcher = await join(servers, room, cookies[1])
    async with closing(member, watcher):
        rules = member.welcome["rules"]
        assert rules["accepted"] is False
        assert rules["rules"][0]["scope"] == "site"
        await send_frame(member.ws, {"type": "send", "client_id": "too-soon", "body": "hello"})
        refused = await member.reply_to("too-soon")
        assert (refused["type"], refused["code"]) == ("error", "rules_not_accepted")

        await send_frame(member.ws, {"type": "accept_rules", "version": rules["version"]})
        assert (await member.frame("rules"))["accepted"] is True
        first = await member.send("hello, I've read the rules")
        assert first["seq"] == 1  # the refused send took no seq
        assert (await watcher.message())["seq"] == 1

        # An operator adds a rule in this worker's admin, which announces the change to the
        # room's sockets; a member's page learns of it from that frame.
        await add_rule_in_admin(servers, admin, room, code="no-spoilers", title="No spoilers",
                                text="Keep endings to yourself.")
        changed = await member.frame("rules_changed")
        assert changed["version"] == rules["version"] + 1

        await send_frame(member.ws, {"type": "send", "client_id": "after-change",
                                     "body": "hello again"})
        refused = await member.reply_to("after-change")
        assert refused["code"] == "rules_not_accepted"
        await send_frame(member.ws, {"type": "accept_rules", "version": rules["version"]})
        assert (await member.frame("error"))["code"] == "rules_outdated"

    # A fresh page shows the new rules and version; accepting them lets the member post again.
    again = await join(servers, room, cookies[0], accept_rules=False)
    async with closing(again):
        new_rules = again.welcome["rules"]
        assert new_rules["accepted"] is False and new_rules["version"] > rules["version"]
        assert new_rules["rules"][-1] == {"code": "no-spoilers", "title": "No spoilers",
                                          "text": "Keep endings to yourself.", "scope": "room"}
        await send_frame(again.ws, {"type": "accept_rules", "version": new_rules["version"]})
        await again.frame("rules")
        assert (await again.send("hello again", client_id="after-change"))["seq"] == 2


# --- 2. screening ---------------------------------------------------------------------------------

PHONE_NUMBERS = ["+44 7700 900123", "+1 (415) 555-2671", "0044 20 7946 0958", "+61 2 9374 4000",
                 "+91 98765 43210"]


async def test_phone_numbers_in_five_international_formats_reach_others_masked(
        servers: Servers, room: str, cookies: list[str]) -> None:
    sender = await join(servers, room, cookies[0])
    reader = await join(servers, room, cookies[1])
    async with closing(sender, reader):
        for number in PHONE_NUMBERS:
            ack = await sender.send(f"you can reach me at {number} tonight")
            assert ack["status"] == "visible"
            seen = await message_with_seq(reader, ack["seq"])
            assert not re.search(r"\d", seen["body"] + seen["html"]), (number, seen["body"])
            assert seen["body"].endswith(" tonight")
            notice = await sender.frame("notice")
            assert (notice["kind"], notice["rule"]) == ("masked", "no-contact-details")
            assert notice["rule_title"] == "No contact details"
        # What is stored is what the room saw: history serves the masked text too.
        page = await reader.history(before_seq=ack["seq"] + 1, limit=100)
        assert len(page["messages"]) == len(PHONE_NUMBERS)
        assert not any(re.search(r"\d", m["body"]) for m in page["messages"])


@pytest.mark.parametrize(("body", "detail"), [
    ("write to me at sam.jones@example.com please", ("sam.jones", "example.com")),
    ("add me on snap", ("snap",)),
    ("add me on snap: sammy_h99", ("snap", "sammy_h99")),
])
async def test_emails_and_requests_to_move_apps_never_reach_other_members(
        servers: Servers, room: str, cookies: list[str], body: str,
        detail: tuple[str, ...]) -> None:
    sender = await join(servers, room, cookies[0])
    reader = await join(servers, room, cookies[1])
    async with closing(sender, reader):
        ack = await sender.send(body)
        notice = await sender.frame("notice")
        assert notice["rule"] == "no-contact-details"
        assert notice["kind"] == {"visible": "masked", "held": "held"}[ack["status"]]
        follow_up = await sender.send("anyway, how is everyone?")
        seen = []
        while (frame := await reader.message())["seq"] != follow_up["seq"]:
            seen.append(frame)
        if ack["status"] == "held":
            assert seen == []  # waiting for a moderator: nobody else gets it
        else:
            assert [m["seq"] for m in seen] == [ack["seq"]]
            for part in detail:
                assert part not in seen[0]["body"].lower() and part not in seen[0]["html"]


async def test_a_targeted_insult_is_blocked_and_nothing_is_stored(
        servers: Servers, room: str, cookies: list[str]) -> None:
    sender = await join(servers, room, cookies[0])
    reader = await join(servers, room, cookies[1])
    async with closing(sender, reader):
        before = await sender.send("I disagree with you")
        await send_frame(sender.ws, {"type": "send", "client_id": "insult",
                                     "body": "you're a pathetic idiot"})
        refused = await sender.reply_to("insult")
        assert (refused["type"], refused["code"], refused["rule"]) == ("error",
                                                                       "message_blocked",
                                                                       "respect")
        notice = await sender.frame("notice")
        assert (notice["kind"], notice["rule"], notice["client_id"]) == ("blocked", "respect",
                                                                         "insult")
        after = await sender.send("sorry, that came out wrong")
        assert after["seq"] == before["seq"] + 1  # the blocked message took no seq
        assert [(await reader.message())["seq"] for _ in range(2)] == [before["seq"],
                                                                       after["seq"]]
        page = await reader.history(before_seq=after["seq"] + 1, limit=100)
        assert "idiot" not in " ".join(m["body"] for m in page["messages"])
    count = servers.manage(
        "shell", "--verbosity", "0", "-c",
        "from chat.models import Message; "
        f"print(Message.objects.filter(room__slug={room!r}, body__icontains='idiot').count())")
    assert count.strip().splitlines()[-1] == "0"


# --- 4. moderator actions from the staff socket --------------------------------------------

async def test_a_moderator_hides_a_message_from_every_screen_and_from_history(
        servers: Servers, room: str, cookies: list[str], moderator: str) -> None:
    staff = await open_staff_socket(servers, await staff_login(servers, moderator))
    author = await join(servers, room, cookies[0])
    reader = await join(servers, room, cookies[1])
    other = await join(servers, room, cookies[2])
    async with closing(staff, author, reader, other):
        kept = await author.send("something fine")
        unkind = await author.send("something unkind")
        await report(reader, unkind["seq"])
        item = await staff.queue_item_for(room, unkind["seq"])
        assert item["author"]["handle"] == author.handle and item["report_count"] == 1

        done = await staff.act({"type": "moderate", "item_id": item["id"], "action": "hide",
                                "rule": "respect", "reason": "unkind to another member"})
        assert done == {"type": "action_done", "item_id": item["id"], "action": "hide"}
        assert (await staff.frame("queue_item_removed"))["item_id"] == item["id"]
        for chatter in (author, reader, other):
            removed = await chatter.frame("message_removed")
            assert (removed["room"], removed["seqs"], removed["reason"]) == (
                room, [unkind["seq"]], "hidden")
        notice = await author.frame("notice")
        assert (notice["kind"], notice["rule"], notice["seq"]) == ("hidden", "respect",
                                                                   unkind["seq"])
        for chatter in (author, reader):
            page = await chatter.history(before_seq=unkind["seq"] + 1, limit=100)
            assert [m["seq"] for m in page["messages"]] == [kept["seq"]]


async def test_a_timeout_from_the_staff_socket_stops_the_next_send(
        servers: Servers, room: str, cookies: list[str], moderator: str) -> None:
    staff = await open_staff_socket(servers, await staff_login(servers, moderator))
    member = await join(servers, room, cookies[0])
    reader = await join(servers, room, cookies[1])
    async with closing(staff, member, reader):
        ack = await member.send("something unkind")
        await report(reader, ack["seq"])
        item = await staff.queue_item_for(room, ack["seq"])
        assert item["suggested"]["kind"] == "warning"
        done = await staff.act({"type": "sanction", "item_id": item["id"], "action": "timeout",
                                "rule": "respect", "duration_minutes": 60,
                                "reason": "Name-calling"})
        assert done["type"] == "action_done", done
        notice = await member.frame("notice")
        assert (notice["kind"], notice["rule"], notice["reason"], notice["room"]) == (
            "timeout", "respect", "Name-calling", room)
        await send_frame(member.ws, {"type": "send", "client_id": "during", "body": "hi"})
        refused = await member.reply_to("during")
        assert refused["code"] == "timed_out"
        assert 3500 < refused["retry_after"] <= 3600


async def test_a_ban_from_the_staff_socket_refuses_the_next_send_and_closes_with_4403(
        servers: Servers, room: str, cookies: list[str], moderator: str) -> None:
    staff = await open_staff_socket(servers, await staff_login(servers, moderator))
    member = await join(servers, room, cookies[0])
    reader = await join(servers, room, cookies[1])
    async with closing(staff, member, reader):
        ack = await member.send("something cruel")
        await report(reader, ack["seq"])
        item = await staff.queue_item_for(room, ack["seq"])
        done = await staff.act({"type": "sanction", "item_id": item["id"], "action": "ban",
                                "rule": "respect", "scope": "room", "reason": "Cruelty"})
        assert done["type"] == "action_done", done
        # The member tries again at once: refused with `banned` if the send is read before the
        # ban notice closes the socket; either way nothing is stored and the socket closes.
        with contextlib.suppress(ConnectionClosed):  # the close may win the race
            await send_frame(member.ws, {"type": "send", "client_id": "after-ban", "body": "hi"})
        frames, code = await frames_until_close(member.ws)
        assert code == 4403
        notices = [f for f in frames if f["type"] == "notice"]
        assert [(n["kind"], n["room"]) for n in notices] == [("ban", room)]
        answers = [f for f in frames if f.get("client_id") == "after-ban"]
        assert [(f["type"], f["code"]) for f in answers] in ([], [("error", "banned")])

        # Coming back to the room: refused at once.
        ws = await open_socket(servers, room, cookies[0])
        frames, code = await frames_until_close(ws)
        assert [f["code"] for f in frames] == ["banned"] and code == 4403
        page = await reader.history(before_seq=ack["seq"] + 10, limit=100)
        assert [m["seq"] for m in page["messages"]] == [ack["seq"]]


# --- who may use the staff socket ----------------------------------------------------------------

async def test_the_staff_socket_refuses_members_and_peer_supporters(
        servers: Servers, cookies: list[str]) -> None:
    # A member is refused the socket and the page.
    ws = await websockets.connect(
        servers.ws("/ws/staff/"), additional_headers={"Cookie": f"{SESSION_COOKIE}={cookies[0]}"},
        origin=Origin(servers.origin()), open_timeout=60)
    with contextlib.suppress(ConnectionClosed):  # it may already be closed
        await send_frame(ws, {"type": "moderate", "item_id": 1, "action": "dismiss"})
    frames, code = await frames_until_close(ws)
    assert [f["code"] for f in frames] == ["forbidden"] and code == 4403
    page = await http_request(servers, "GET", "/moderation/",
                              cookies={SESSION_COOKIE: cookies[0]})
    assert page.status == 403

    # A peer supporter gets the dashboard for escalations and take-asides, but no queue
    # and no moderator action.
    peer_cookie = await staff_login(servers, add_moderator(servers, "peer_supporter"))
    ws = await websockets.connect(
        servers.ws("/ws/staff/"), additional_headers={"Cookie": f"{SESSION_COOKIE}={peer_cookie}"},
        origin=Origin(servers.origin()), open_timeout=60)
    try:
        queue = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert queue["type"] == "queue" and queue["items"] == []
        await send_frame(ws, {"type": "moderate", "item_id": 1, "action": "dismiss"})
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if frame["type"] == "error":
                break
        assert (frame["code"], frame["item_id"]) == ("forbidden", 1)
    finally:
        await ws.close()
    page = await http_request(servers, "GET", "/moderation/",
                              cookies={SESSION_COOKIE: peer_cookie})
    assert page.status == 200


def test_the_servers_logged_no_crash(servers: Servers) -> None:
    log = servers.log_text()
    assert "Traceback" not in log, log[-5000:]
    assert STAFF_PASSWORD not in log
    for number in PHONE_NUMBERS:
        assert number not in log
    assert "pathetic" not in log
