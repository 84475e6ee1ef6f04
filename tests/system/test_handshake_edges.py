"""The edges of a real worker: Host and Origin checks on websocket handshakes, and the
per-address limits on socket opens and new member sessions, over real sockets."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from chat.errors import ErrorCode
from tests.system.client import handshake_status, http_request
from tests.system.servers import (
    SESSION_COOKIE,
    Servers,
    new_session_cookie,
    open_socket,
    run_servers,
)

pytestmark = pytest.mark.system

ROOM = "the-lounge"
SOCKET_OPENS = 4
NEW_SESSIONS = 3
JOIN = "/me/join/"  # what a room page does first; a page view makes no session
LIMITS = {
    "HEARTH_SOCKET_OPENS_PER_ADDRESS": str(SOCKET_OPENS),
    "HEARTH_NEW_SESSIONS_PER_ADDRESS": str(NEW_SESSIONS),
}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """A worker trusting loopback as its proxy (the default): X-Forwarded-For is believed."""
    with run_servers(tmp_path_factory.mktemp("edges"), extra_env=LIMITS) as running:
        yield running


@pytest.fixture(scope="module")
def untrusting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """A worker trusting no proxy: the peer's own address counts, whatever it forwards."""
    with run_servers(tmp_path_factory.mktemp("untrusting"),
                     extra_env={**LIMITS, "HEARTH_TRUSTED_PROXIES": ""}) as running:
        yield running


async def raw_handshake(servers: Servers, *, host: str, origin: str | None,
                        cookie: str, headers: dict[str, str] | None = None) -> Any:
    """A handshake with the Host (and Origin) given, on a socket to the worker."""
    sock = socket.create_connection(("127.0.0.1", servers.ports[0]), timeout=10)
    return await websockets.connect(
        f"ws://{host}/ws/rooms/{ROOM}/", sock=sock,
        origin=Origin(origin) if origin else None,
        additional_headers={"Cookie": f"{SESSION_COOKIE}={cookie}", **(headers or {})},
        open_timeout=30)


async def refused_status(coro: Any) -> tuple[int, bytes]:
    try:
        ws = await coro
    except InvalidStatus as refused:
        return int(refused.response.status_code), bytes(refused.response.body or b"")
    await ws.close()
    raise AssertionError("the handshake was accepted")


# --- Host ---------------------------------------------------------------------------------------

async def test_a_handshake_with_a_host_not_allowed_is_refused(servers: Servers) -> None:
    cookie = new_session_cookie(servers.http())
    port = servers.ports[0]
    for host in (f"evil.example:{port}", f"127.0.0.1.evil.example:{port}"):
        status, _ = await refused_status(raw_handshake(
            servers, host=host, origin=f"http://{host}", cookie=cookie))
        assert status == 403, host
    # The same socket with an allowed Host opens.
    ws = await raw_handshake(servers, host=f"localhost:{port}",
                             origin=f"http://localhost:{port}", cookie=cookie)
    assert json.loads(await ws.recv())["type"] == "welcome"
    await ws.close()


# --- Origin scheme ------------------------------------------------------------------------------

async def test_an_https_origin_is_refused_by_an_http_server(servers: Servers) -> None:
    cookie = new_session_cookie(servers.http())
    port = servers.ports[0]
    assert await handshake_status(servers, ROOM, cookie, f"https://127.0.0.1:{port}") == 403
    assert await handshake_status(servers, ROOM, cookie, f"ftp://127.0.0.1:{port}") == 403
    ws = await open_socket(servers, ROOM, cookie, origin=f"http://127.0.0.1:{port}")
    await ws.close()


async def test_an_https_origin_is_refused_even_when_allowlisted_on_http(tmp_path: Path) -> None:
    allowed = "https://chat.example.org"
    with run_servers(tmp_path, extra_env={"ALLOWED_ORIGINS": allowed}) as allowlisted:
        cookie = new_session_cookie(allowlisted.http())
        assert await handshake_status(allowlisted, ROOM, cookie, allowed) == 403
        # Over https as the trusted proxy says: the same Origin is the socket's own scheme.
        ws = await open_socket(allowlisted, ROOM, cookie, origin=allowed,
                               headers={"X-Forwarded-Proto": "https"})
        await ws.close()


# --- Per-address limits -------------------------------------------------------------------------

async def test_socket_opens_are_limited_per_forwarded_address(servers: Servers) -> None:
    cookie = new_session_cookie(servers.http())
    busy = {"X-Forwarded-For": "198.51.100.7"}
    for _ in range(SOCKET_OPENS):
        ws = await open_socket(servers, ROOM, cookie, headers=busy)
        await ws.close()
    status, body = await refused_status(open_socket(servers, ROOM, cookie, headers=busy))
    assert status == 429
    refusal = json.loads(body)
    assert refusal["code"] == ErrorCode.TOO_MANY_SOCKET_OPENS
    assert refusal["retry_after"] > 0
    # Another address is unaffected.
    ws = await open_socket(servers, ROOM, cookie, headers={"X-Forwarded-For": "198.51.100.8"})
    await ws.close()
    # The proxy itself, forwarding no address, is no client and has no limit.
    for _ in range(SOCKET_OPENS + 1):
        ws = await open_socket(servers, ROOM, cookie)
        await ws.close()


async def test_new_sessions_are_limited_per_forwarded_address(servers: Servers) -> None:
    busy = {"X-Forwarded-For": "198.51.100.20"}
    for _ in range(NEW_SESSIONS):
        assert (await http_request(servers, "POST", JOIN, headers=busy)).status == 200
    refused = await http_request(servers, "POST", JOIN, headers=busy)
    assert refused.status == 429
    assert json.loads(refused.body)["code"] == ErrorCode.TOO_MANY_NEW_SESSIONS
    assert int(refused.headers["Retry-After"]) > 0
    assert SESSION_COOKIE not in (refused.headers.get("Set-Cookie") or "")
    # Looking makes no session, so it is never refused.
    assert (await http_request(servers, "GET", "/", headers=busy)).status == 200
    # Another address is unaffected.
    other = await http_request(servers, "POST", JOIN,
                               headers={"X-Forwarded-For": "198.51.100.21"})
    assert other.status == 200
    # The address is never written to the log.
    assert "198.51.100.20" not in servers.log_text()


async def test_an_untrusted_peer_cannot_dodge_the_limits_by_forwarding(
        untrusting: Servers) -> None:
    for number in range(NEW_SESSIONS):
        spoofed = {"X-Forwarded-For": f"203.0.113.{number}"}
        assert (await http_request(untrusting, "POST", JOIN, headers=spoofed)).status == 200
    refused = await http_request(untrusting, "POST", JOIN,
                                 headers={"X-Forwarded-For": "203.0.113.99"})
    assert refused.status == 429
