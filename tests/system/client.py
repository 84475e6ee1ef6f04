"""A small chat client for system tests: join a room, send, wait for frames, watch closes.

Built on the harness in tests/system/servers.py; everything here talks to real servers over
real sockets.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.system.servers import SESSION_COOKIE, Servers, next_frame, open_socket, send_frame

TIMEOUT = 10.0  # generous: these are upper bounds for events, never timing assertions


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def matches(frame: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """The frame's values for the expected keys, to compare with `expected` (so a frame that
    gains fields later still passes)."""
    return {key: frame.get(key, "<missing>") for key in expected}


@dataclass
class Chatter:
    """One open socket of one member, with the welcome frame it got."""

    ws: Any
    cookie: str | None
    welcome: dict[str, Any]
    last_seq: int = 0
    seen: list[dict[str, Any]] = field(default_factory=list)

    @property
    def handle(self) -> str:
        return str(self.welcome["you"]["handle"])

    async def send(self, body: str, client_id: str | None = None) -> dict[str, Any]:
        """Send a message and return its ack (frames before the ack are kept in `seen`)."""
        client_id = client_id or unique("c")
        await send_frame(self.ws, {"type": "send", "client_id": client_id, "body": body})
        reply = await self.reply_to(client_id)
        assert reply["type"] == "ack", reply
        return reply

    async def reply_to(self, client_id: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The ack or error frame answering the send with this client_id."""
        while True:
            frame = await self.frame(timeout=timeout)
            if frame["type"] in {"ack", "error"} and frame.get("client_id") == client_id:
                return frame

    async def frame(self, frame_type: str | None = None,
                    timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next frame of this type; every frame read is kept in `seen`."""
        while True:
            frame = await next_frame(self.ws, None, timeout)
            self.seen.append(frame)
            if frame["type"] == "message":
                self.last_seq = max(self.last_seq, int(frame["seq"]))
            if frame_type is None or frame["type"] == frame_type:
                return frame

    async def message(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        return await self.frame("message", timeout=timeout)

    async def history(self, before_seq: int, limit: int) -> dict[str, Any]:
        await send_frame(self.ws, {"type": "history", "before_seq": before_seq, "limit": limit})
        return await self.frame("history")

    async def close(self) -> None:
        await self.ws.close()

    # --- hosted sessions -----------------------------------------------------------------
    async def session_state(self, timeout: float = TIMEOUT, **expected: Any) -> dict[str, Any]:
        """The first `session_state` whose session has these values (older ones skipped)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.frame("session_state", timeout=max(0.01, deadline - loop.time()))
            session: dict[str, Any] = frame["session"]
            if all(session.get(key) == value for key, value in expected.items()):
                return session

    async def refused(self, frame: dict[str, Any]) -> dict[str, Any]:
        """Send a frame that must be refused and return the error (a send's, by client_id)."""
        await send_frame(self.ws, frame)
        if "client_id" in frame:
            reply = await self.reply_to(str(frame["client_id"]))
        else:
            reply = await self.frame("error")
        assert reply["type"] == "error", reply
        return reply


async def join(servers: Servers, room: str, cookie: str | None, *, worker: int = 0,
               accept_rules: bool = True, **kwargs: Any) -> Chatter:
    """Open a socket, wait for its welcome and (unless told not to) accept the room's ground
    rules as a member does before their first message."""
    ws = await open_socket(servers, room, cookie, worker=worker, **kwargs)
    try:
        welcome = await next_frame(ws, None, TIMEOUT)
        assert welcome["type"] == "welcome", welcome
    except BaseException:
        await ws.close()
        raise
    chatter = Chatter(ws=ws, cookie=cookie, welcome=welcome, last_seq=int(welcome["head_seq"]))
    if accept_rules and not welcome["rules"]["accepted"]:
        await send_frame(ws, {"type": "accept_rules", "version": welcome["rules"]["version"]})
        await chatter.frame("rules")
    return chatter


async def frames_until_close(ws: Any, timeout: float = TIMEOUT) -> tuple[list[dict[str, Any]],
                                                                          int | None]:
    """Every frame the server sends until it closes the socket, and the close code it sent."""
    frames: list[dict[str, Any]] = []

    async def drain() -> int | None:
        try:
            while True:
                frames.append(json.loads(await ws.recv()))
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None

    code = await asyncio.wait_for(drain(), timeout)
    return frames, code


# --- plain HTTP, with the session cookie -------------------------------------------------------

@dataclass
class HttpReply:
    status: int
    headers: http.client.HTTPMessage
    body: str
    client_port: int


def _request(servers: Servers, method: str, path: str, *, cookies: dict[str, str] | None = None,
             form: dict[str, str] | None = None, headers: dict[str, str] | None = None,
             worker: int = 0) -> HttpReply:
    conn = http.client.HTTPConnection("127.0.0.1", servers.ports[worker], timeout=30)
    try:
        conn.connect()
        client_port = int(conn.sock.getsockname()[1])
        all_headers = dict(headers or {})
        if cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        return HttpReply(status=response.status, headers=response.headers,
                         body=response.read().decode("utf-8", errors="replace"),
                         client_port=client_port)
    finally:
        conn.close()


async def http_request(servers: Servers, method: str, path: str, **kwargs: Any) -> HttpReply:
    return await asyncio.to_thread(_request, servers, method, path, **kwargs)


def set_cookies(reply: HttpReply) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for header in reply.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        cookies[name.strip()] = rest.split(";", 1)[0]
    return cookies


_CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


async def post_form(servers: Servers, cookie: str, path: str, fields: dict[str, str],
                    *, worker: int = 0) -> HttpReply:
    """POST a form from the "You" page the way a browser does: CSRF token, cookie, Origin."""
    page = await http_request(servers, "GET", "/me/", cookies={SESSION_COOKIE: cookie},
                              worker=worker)
    assert page.status == 200, page.status
    match = _CSRF_FIELD.search(page.body)
    assert match, "the You page has no CSRF token field"
    csrf_cookie = set_cookies(page).get("csrftoken")
    assert csrf_cookie, "the You page did not set the csrftoken cookie"
    return await http_request(
        servers, "POST", path,
        cookies={SESSION_COOKIE: cookie, "csrftoken": csrf_cookie},
        form={"csrfmiddlewaretoken": match.group(1), **fields},
        headers={"Origin": servers.origin(worker), "Referer": f"{servers.http(worker)}/me/"},
        worker=worker,
    )


async def handshake_status(servers: Servers, room: str, cookie: str, origin: str | None,
                           ) -> int:
    """The HTTP status a refused websocket handshake got; fails the test if it was accepted."""
    try:
        ws = await open_socket(servers, room, cookie, origin=origin)
    except InvalidStatus as refused:
        return int(refused.response.status_code)
    await ws.close()
    raise AssertionError(f"the handshake with Origin {origin!r} was accepted")
