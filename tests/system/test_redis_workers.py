"""Two daphne workers sharing a Redis channel layer, and a burst of 1,000 connects.

Needs REDIS_URL (skipped without it, a failure when CI=true).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_env
from tests.system.client import Chatter, join, unique
from tests.system.servers import Servers, new_session_cookies, next_frame, open_socket, run_servers

pytestmark = [pytest.mark.system, pytest.mark.redis]

BURST = 1000
LATE = 20
BURST_TIMEOUT = 120.0  # for each socket's welcome (open_socket allows 60 s for the handshake)


def _redis_url() -> str:
    return require_env("REDIS_URL", "the multi-worker tests need a real Redis server")


def _assert_no_crashes(servers: Servers) -> None:
    log = servers.log_text()
    assert "Exception inside application" not in log, log[-5000:]
    assert "Traceback" not in log, log[-5000:]


async def _presence_with(chatter: Chatter, handles: set[str]) -> dict[str, Any]:
    """The first presence frame listing exactly these handles."""
    while True:
        frame = await chatter.frame("presence")
        if {m["handle"] for m in frame["members"]} == handles:
            return frame


async def _heartbeats(chatter: Chatter, count: int) -> dict[str, Any]:
    for _ in range(count):
        beat = await chatter.frame("heartbeat")
    return beat


async def test_members_on_different_workers_chat_and_stay_connected(tmp_path: Path) -> None:
    # Heartbeats every 2 s let the test wait out idle periods by events, not sleeps.
    with run_servers(tmp_path, workers=2, redis_url=_redis_url(),
                     extra_env={"HEARTH_HEARTBEAT_SECONDS": "2"}) as servers:
        slug = unique("across")
        servers.manage("add_room", slug, "--title", "Across workers")
        cookies = await new_session_cookies(servers.http(0), 2)
        alice = await join(servers, slug, cookies[0], worker=0)
        bob = await join(servers, slug, cookies[1], worker=1)
        try:
            both = {alice.handle, bob.handle}
            # Bob joined on worker B; Alice hears of it on worker A through Redis.
            assert (await _presence_with(alice, both))["count"] == 2
            assert (await _presence_with(bob, both))["count"] == 2

            ack = await alice.send("hello from worker A")
            from_a = await bob.message()
            assert (from_a["seq"], from_a["handle"], from_a["body"]) == (
                ack["seq"], alice.handle, "hello from worker A")
            ack = await bob.send("hello from worker B")
            while (from_b := await alice.message())["seq"] != ack["seq"]:
                pass  # her own message comes back first
            assert (from_b["handle"], from_b["body"]) == (bob.handle, "hello from worker B")

            # Quiet for four heartbeats, so at least 6 s (longer than the channel layer's 5 s
            # blocking read on Redis): both sockets stay open and carry messages both ways.
            beats = await asyncio.gather(_heartbeats(alice, 4), _heartbeats(bob, 4))
            assert [beat["head_seq"] for beat in beats] == [ack["seq"], ack["seq"]]
            ack = await bob.send("still here after a quiet spell")
            while (late := await alice.message())["seq"] != ack["seq"]:
                pass
            assert late["body"] == "still here after a quiet spell"
            ack = await alice.send("me too")
            while (late := await bob.message())["seq"] != ack["seq"]:
                pass
            assert late["handle"] == alice.handle

            # Bob leaves on worker B; Alice's presence on worker A says so.
            await bob.close()
            assert (await _presence_with(alice, {alice.handle}))["count"] == 1
        finally:
            await alice.close()
            await bob.close()
        _assert_no_crashes(servers)


@dataclass
class Connected:
    ws: Any
    welcome: dict[str, Any]
    handshake_seconds: float


async def _welcomed(servers: Servers, room: str, cookie: str) -> Connected:
    started = time.monotonic()
    ws = await open_socket(servers, room, cookie)
    handshake_seconds = time.monotonic() - started
    try:
        frame = await next_frame(ws, None, timeout=BURST_TIMEOUT)
        if frame["type"] != "welcome":
            raise AssertionError(f"first frame was {frame}")
    except BaseException:
        await ws.close()
        raise
    return Connected(ws, frame, handshake_seconds)


def _report(label: str, results: list[Any], seconds: float) -> list[BaseException]:
    connected = [r for r in results if isinstance(r, Connected)]
    failures = [r for r in results if isinstance(r, BaseException)]
    slowest = max((c.handshake_seconds for c in connected), default=0.0)
    print(f"{label}: {len(connected)}/{len(results)} welcomed in {seconds:.1f}s "
          f"(slowest handshake {slowest:.1f}s); {len(failures)} failures")
    for kind, count in Counter(f"{type(f).__name__}: {f}"[:200] for f in failures).items():
        print(f"  {count} x {kind}")
    return failures


async def test_a_thousand_connects_at_once_are_all_welcomed(tmp_path: Path) -> None:
    with run_servers(tmp_path, workers=2, redis_url=_redis_url()) as servers:
        await _burst(servers)
        _assert_no_crashes(servers)


async def _burst(servers: Servers) -> None:
    slug = unique("burst")
    servers.manage("add_room", slug, "--title", "Burst", "--capacity", "2000")

    started = time.monotonic()
    # Half the sessions from each worker: they share the database, so either will do.
    halves = await asyncio.gather(
        new_session_cookies(servers.http(0), (BURST + LATE) // 2),
        new_session_cookies(servers.http(1), BURST + LATE - (BURST + LATE) // 2))
    cookies = [cookie for half in halves for cookie in half]
    print(f"\n{len(cookies)} sessions in {time.monotonic() - started:.1f}s")
    assert len(set(cookies)) == BURST + LATE

    # All at once on worker A; once the first hundred are in, a few more people arrive
    # while the worker is still busy with the rest: they must get in too.
    hundred_in = asyncio.Event()
    welcomed = 0

    async def arrive(cookie: str) -> Connected:
        nonlocal welcomed
        connected = await _welcomed(servers, slug, cookie)
        welcomed += 1
        if welcomed >= 100:
            hundred_in.set()
        return connected

    async def late_wave() -> tuple[list[Any], float]:
        await asyncio.wait_for(hundred_in.wait(), BURST_TIMEOUT)
        started = time.monotonic()
        results = await asyncio.gather(*(_welcomed(servers, slug, c) for c in cookies[BURST:]),
                                       return_exceptions=True)
        return results, time.monotonic() - started

    started = time.monotonic()
    late = asyncio.create_task(late_wave())
    results = await asyncio.gather(*(arrive(cookie) for cookie in cookies[:BURST]),
                                   return_exceptions=True)
    burst_seconds = time.monotonic() - started
    hundred_in.set()  # if fewer than a hundred got in, the late wave goes now
    late_results, late_seconds = await late
    failures = _report(f"{BURST} at once on one worker", results, burst_seconds)
    late_failures = _report(f"{LATE} arriving during the burst", late_results, late_seconds)
    sockets = [r.ws for r in [*results, *late_results] if isinstance(r, Connected)]
    try:
        assert not failures, f"{len(failures)} of the {BURST} connects failed"
        assert not late_failures, f"{len(late_failures)} of the late connects failed"
        # Afterwards the worker still serves, and the room counts every one of them.
        probe = await _welcomed(servers, slug, cookies[0])
        sockets.append(probe.ws)
        assert probe.welcome["presence"]["count"] == BURST + LATE
    finally:
        started = time.monotonic()
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        print(f"closed {len(sockets)} sockets in {time.monotonic() - started:.1f}s")
