"""The chat protocol end to end: a real daphne worker, real websockets, a real database.

Runs on SQLite by default and on PostgreSQL when DATABASE_URL points at one; no Redis needed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from tests.system.client import (
    Chatter,
    frames_until_close,
    handshake_status,
    join,
    matches,
    unique,
)
from tests.system.servers import Servers, new_session_cookie, open_socket, run_servers, send_frame

# Also on SQLite in CI: with no REDIS_URL these servers run the quick start's embedded mode
# (SQLite and the in-memory layer), which the other system tests leave to PostgreSQL.
pytestmark = [pytest.mark.system, pytest.mark.both_databases]


@contextlib.asynccontextmanager
async def closing(*chatters: Chatter) -> AsyncIterator[None]:
    try:
        yield
    finally:
        for chatter in chatters:
            await chatter.close()


async def test_two_members_see_each_others_messages(servers: Servers, room: str,
                                                    cookies: list[str]) -> None:
    alice = await join(servers, room, cookies[0])
    bob = await join(servers, room, cookies[1])
    async with closing(alice, bob):
        assert alice.handle != bob.handle
        assert alice.welcome["head_seq"] == 0
        assert alice.welcome["room"]["slug"] == room
        # Bob joined second: his welcome already lists both of them.
        assert {m["handle"] for m in bob.welcome["presence"]["members"]} == {alice.handle,
                                                                              bob.handle}

        ack = await alice.send("<b>hello</b> & welcome", client_id="alice-1")
        want = {"type": "ack", "client_id": "alice-1", "seq": 1, "duplicate": False}
        assert matches(ack, want) == want
        seen_by_bob = await bob.message()
        assert seen_by_bob["seq"] == 1
        assert seen_by_bob["handle"] == alice.handle
        assert seen_by_bob["role"] == "member"
        assert seen_by_bob["room"] == room
        assert seen_by_bob["client_id"] == "alice-1"
        assert seen_by_bob["body"] == "<b>hello</b> & welcome"
        assert seen_by_bob["html"] == "&lt;b&gt;hello&lt;/b&gt; &amp; welcome"
        assert "<b>" not in seen_by_bob["html"]

        ack = await bob.send("hi <b>alice</b>", client_id="bob-1")
        assert ack["seq"] == 2
        assert ack["duplicate"] is False
        # Alice sees her own message come back, then Bob's, in sequence order.
        assert (await alice.message())["seq"] == 1
        seen_by_alice = await alice.message()
        assert seen_by_alice["seq"] == 2
        assert seen_by_alice["handle"] == bob.handle
        assert seen_by_alice["html"] == "hi &lt;b&gt;alice&lt;/b&gt;"


async def test_reconnect_and_resume_gets_exactly_the_missed_messages(
        servers: Servers, room: str, cookies: list[str]) -> None:
    alice = await join(servers, room, cookies[0])
    bob = await join(servers, room, cookies[1])
    async with closing(bob):
        before = await alice.send("before the gap")
        assert (await bob.message())["seq"] == before["seq"] == 1
        last_seen = before["seq"]
        await alice.close()

        sent = [await bob.send(f"missed {n}") for n in range(5)]
        missed_seqs = [ack["seq"] for ack in sent]
        assert missed_seqs == list(range(last_seen + 1, last_seen + 6))

        alice = await join(servers, room, cookies[0])
        async with closing(alice):
            head = alice.welcome["head_seq"]
            assert head == missed_seqs[-1]
            await send_frame(alice.ws, {"type": "resume", "after_seq": last_seen})
            replayed = []
            while True:
                frame = await alice.frame()
                if frame["type"] == "resumed":
                    break
                if frame["type"] == "message":
                    replayed.append(frame)
            assert [m["seq"] for m in replayed] == missed_seqs
            assert [m["body"] for m in replayed] == [f"missed {n}" for n in range(5)]
            assert {m["handle"] for m in replayed} == {bob.handle}
            want = {"type": "resumed", "after_seq": last_seen, "through_seq": head,
                    "head_seq": head, "has_more": False}
            assert matches(frame, want) == want


async def test_a_retried_send_is_stored_once(servers: Servers, room: str,
                                             cookies: list[str]) -> None:
    alice = await join(servers, room, cookies[0])
    watcher = await join(servers, room, cookies[1])
    async with closing(watcher):
        first = await alice.send("only once", client_id="retry-me")
        assert first["duplicate"] is False
        again = await alice.send("only once", client_id="retry-me")
        want = {"type": "ack", "client_id": "retry-me", "seq": first["seq"], "duplicate": True}
        assert matches(again, want) == want
        # The retry after a reconnect (the usual case: the ack was lost with the socket).
        await alice.close()
        alice = await join(servers, room, cookies[0])
        async with closing(alice):
            after_reconnect = await alice.send("only once", client_id="retry-me")
            assert matches(after_reconnect, want) == want
            # The watcher got one broadcast: the next message it sees is the next seq.
            assert (await watcher.message())["seq"] == first["seq"]
            follow_up = await alice.send("and then this")
            assert follow_up["seq"] == first["seq"] + 1
            assert (await watcher.message())["seq"] == follow_up["seq"]

            page = await alice.history(before_seq=follow_up["seq"] + 1, limit=100)
            assert [m["client_id"] for m in page["messages"]].count("retry-me") == 1
            assert [m["seq"] for m in page["messages"]] == [first["seq"], follow_up["seq"]]
    rows = servers.manage(
        "shell", "--verbosity", "0", "-c",
        "from chat.models import Message; "
        f"print(Message.objects.filter(room__slug={room!r}, client_id='retry-me').count())")
    assert rows.strip().splitlines()[-1] == "1"


async def test_no_session_is_refused_with_4401(servers: Servers, room: str) -> None:
    ws = await open_socket(servers, room, None)
    frames, code = await frames_until_close(ws)
    assert [f["code"] for f in frames] == ["unauthenticated"]
    assert code == 4401

    ws = await open_socket(servers, room, "not-a-real-session-key")
    frames, code = await frames_until_close(ws)
    assert [f["code"] for f in frames] == ["unauthenticated"]
    assert code == 4401


async def test_unknown_room_is_refused_with_4404(servers: Servers, cookies: list[str]) -> None:
    ws = await open_socket(servers, "no-such-room", cookies[0])
    frames, code = await frames_until_close(ws)
    assert [f["code"] for f in frames] == ["room_not_found"]
    assert code == 4404


async def test_foreign_or_missing_origin_is_refused_at_the_handshake(
        servers: Servers, room: str, cookies: list[str]) -> None:
    assert await handshake_status(servers, room, cookies[0], "http://evil.example") == 403
    # Same host, other port: a different origin.
    other_port = f"http://127.0.0.1:{servers.ports[0] + 1}"
    assert await handshake_status(servers, room, cookies[0], other_port) == 403
    assert await handshake_status(servers, room, cookies[0], None) == 403
    same_origin = await join(servers, room, cookies[0])
    await same_origin.close()


async def test_an_origin_allowlist_replaces_same_origin(tmp_path) -> None:
    allowed = "http://chat.example.org"
    with run_servers(tmp_path, extra_env={"ALLOWED_ORIGINS": allowed}) as allowlisted:
        cookie = await asyncio.to_thread(new_session_cookie, allowlisted.http())
        chatter = await join(allowlisted, "the-lounge", cookie, origin=allowed)
        await chatter.close()
        status = await handshake_status(allowlisted, "the-lounge", cookie, "same")
        assert status == 403
        status = await handshake_status(allowlisted, "the-lounge", cookie, "http://evil.example")
        assert status == 403


async def test_an_oversize_frame_closes_with_1009_and_loses_nothing_acknowledged(
        servers: Servers, room: str, cookies: list[str]) -> None:
    alice = await join(servers, room, cookies[0])
    ack = await alice.send("this one is safe", client_id="before-oversize")
    oversize = '{"type":"send","client_id":"big","body":"' + "x" * 16400 + '"}'
    assert len(oversize.encode()) > 16384
    await alice.ws.send(oversize)
    _frames, code = await frames_until_close(alice.ws)
    assert code == 1009

    alice = await join(servers, room, cookies[0])
    async with closing(alice):
        assert alice.welcome["head_seq"] == ack["seq"]
        page = await alice.history(before_seq=ack["seq"] + 1, limit=10)
        assert [(m["seq"], m["client_id"], m["body"]) for m in page["messages"]] == [
            (ack["seq"], "before-oversize", "this one is safe")]


async def test_a_binary_frame_is_refused_and_the_socket_stays_usable(
        servers: Servers, room: str, cookies: list[str]) -> None:
    alice = await join(servers, room, cookies[0])
    async with closing(alice):
        await alice.ws.send(b'{"type":"send","client_id":"bin","body":"binary"}')
        error = await alice.frame("error")
        assert error["code"] == "binary_not_supported"
        ack = await alice.send("text still works")
        assert ack["type"] == "ack"
        assert ack["seq"] == 1


async def test_a_full_room_refuses_the_next_member_with_4409(servers: Servers,
                                                             cookies: list[str]) -> None:
    slug = unique("tiny")
    servers.manage("add_room", slug, "--title", "Tiny", "--capacity", "2")
    first = await join(servers, slug, cookies[0])
    second = await join(servers, slug, cookies[1])
    async with closing(first, second):
        # A second tab of someone already inside takes no extra seat.
        second_tab = await join(servers, slug, cookies[0])
        await second_tab.close()
        ws = await open_socket(servers, slug, cookies[2])
        frames, code = await frames_until_close(ws)
        assert [f["code"] for f in frames] == ["room_full"]
        assert code == 4409

        # When someone leaves, presence says so, and then the seat is free again.
        await second.close()
        while True:
            presence = await first.frame("presence")
            if [m["handle"] for m in presence["members"]] == [first.handle]:
                break
        third = await join(servers, slug, cookies[2])
        await third.close()


async def test_a_sixth_socket_for_one_session_is_refused_with_4429(
        servers: Servers, room: str, cookies: list[str]) -> None:
    tabs = [await join(servers, room, cookies[0]) for _ in range(5)]
    async with closing(*tabs):
        ws = await open_socket(servers, room, cookies[0])
        frames, code = await frames_until_close(ws)
        assert [f["code"] for f in frames] == ["too_many_connections"]
        assert code == 4429
        # Another member is not affected, and the five tabs still work.
        other = await join(servers, room, cookies[1])
        await other.close()
        ack = await tabs[4].send("still here")
        assert ack["type"] == "ack"


async def test_history_pages_backwards(servers: Servers, room: str,
                                       cookies: list[str]) -> None:
    # Three members send four each (the send burst is five per member): seqs 1..12.
    chatters = [await join(servers, room, cookie) for cookie in cookies]
    async with closing(*chatters):
        for round_ in range(4):
            for chatter in chatters:
                await chatter.send(f"{chatter.handle} says {round_}")
        reader = chatters[0]
        head = 12

        newest = await reader.history(before_seq=head + 1, limit=5)
        assert [m["seq"] for m in newest["messages"]] == [8, 9, 10, 11, 12]
        assert newest["has_more"] is True
        middle = await reader.history(before_seq=8, limit=5)
        assert [m["seq"] for m in middle["messages"]] == [3, 4, 5, 6, 7]
        assert middle["has_more"] is True
        oldest = await reader.history(before_seq=3, limit=5)
        assert [m["seq"] for m in oldest["messages"]] == [1, 2]
        assert oldest["has_more"] is False
        exact = await reader.history(before_seq=6, limit=5)
        assert [m["seq"] for m in exact["messages"]] == [1, 2, 3, 4, 5]
        assert exact["has_more"] is False
        everything = await reader.history(before_seq=10**9, limit=100)
        assert [m["seq"] for m in everything["messages"]] == list(range(1, head + 1))
        assert everything["has_more"] is False
        by_seq = {m["seq"]: m for m in everything["messages"]}
        assert by_seq[1]["body"] == f"{chatters[0].handle} says 0"
        assert by_seq[12]["body"] == f"{chatters[2].handle} says 3"
        assert by_seq[12]["handle"] == chatters[2].handle
        nothing = await reader.history(before_seq=1, limit=5)
        assert nothing["messages"] == []
        assert nothing["has_more"] is False

        await send_frame(reader.ws, {"type": "history", "before_seq": 5, "limit": 101})
        error = await reader.frame("error")
        assert error["code"] == "invalid_field"


async def test_a_flood_is_rate_limited_and_the_retry_succeeds(servers: Servers, room: str,
                                                              cookies: list[str]) -> None:
    alice = await join(servers, room, cookies[0])
    async with closing(alice):
        client_ids = [f"flood-{n}" for n in range(6)]
        for n, client_id in enumerate(client_ids):
            await send_frame(alice.ws, {"type": "send", "client_id": client_id,
                                        "body": f"flood {n}"})
        replies = [await alice.reply_to(client_id) for client_id in client_ids]
        assert [r["type"] for r in replies] == ["ack"] * 5 + ["error"]
        assert [r["seq"] for r in replies[:5]] == [1, 2, 3, 4, 5]
        refused = replies[5]
        assert refused["code"] == "rate_limited"
        assert refused["client_id"] == "flood-5"
        assert refused["retry_after"] > 0

        await asyncio.sleep(refused["retry_after"])  # the wait the server asked for
        retried = await alice.send("flood 5", client_id="flood-5")
        want = {"type": "ack", "client_id": "flood-5", "seq": 6, "duplicate": False}
        assert matches(retried, want) == want

        page = await alice.history(before_seq=100, limit=100)
        assert [(m["seq"], m["client_id"], m["body"]) for m in page["messages"]] == [
            (n + 1, f"flood-{n}", f"flood {n}") for n in range(6)]


async def test_under_daphne_room_frames_written_once_reach_every_member(tmp_path) -> None:
    # uvicorn is the default server; `serve --server daphne` writes room frames through
    # autobahn's prepared messages (hearth/direct_frames.py), which only a daphne worker uses.
    with run_servers(tmp_path, server="daphne") as daphne:
        room = "the-lounge"
        cookies = [new_session_cookie(daphne.http()) for _ in range(3)]
        members = [await join(daphne, room, cookie) for cookie in cookies]
        async with closing(*members):
            for n in range(5):
                await members[n % 3].send(f"note {n} from daphne", client_id=f"d-{n}")
            for member in members:
                # A sender reads its own frames while waiting for its ack; they are in `seen`.
                seqs = [frame["seq"] for frame in member.seen if frame["type"] == "message"]
                while len(seqs) < 5:
                    seqs.append((await member.message())["seq"])
                assert seqs == [1, 2, 3, 4, 5]

