"""The room consumer through the full ASGI stack (origin check, sessions, routing) with
WebsocketCommunicator. Real daphne processes are exercised in tests/system/."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.db import SessionStore

from chat.errors import ErrorCode
from chat.identity import SESSION_MEMBER_KEY
from chat.models import Member, Message
from chat.protocol import CloseCode
from hearth.asgi import application
from rooms.models import RoomConnection
from tests.factories import make_member, make_room, make_staff

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

ORIGIN = b"http://testserver"


def session_for(member: Member | None) -> str:
    store = SessionStore()
    if member is not None:
        store[SESSION_MEMBER_KEY] = member.pk
    store.create()
    return str(store.session_key)


async def connect(slug: str, member: Member | None, *, origin: bytes | None = ORIGIN,
                  session_key: str | None = None) -> WebsocketCommunicator:
    key = session_key or await database_sync_to_async(session_for)(member)
    headers = [(b"host", b"testserver"), (b"cookie", f"hearth_session={key}".encode())]
    if origin is not None:
        headers.append((b"origin", origin))
    communicator = WebsocketCommunicator(application, f"/ws/rooms/{slug}/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def next_of(communicator: WebsocketCommunicator, frame_type: str) -> dict[str, Any]:
    for _ in range(50):
        frame = json.loads(await communicator.receive_from(timeout=2))
        if frame["type"] == frame_type:
            return frame
    raise AssertionError(f"no {frame_type} frame")


async def joined(slug: str, member: Member, *, accept: bool = True) -> WebsocketCommunicator:
    """Connect and, as the page does, accept the room's ground rules."""
    communicator = await connect(slug, member)
    welcome = await next_of(communicator, "welcome")
    if accept and not welcome["rules"]["accepted"]:
        await send(communicator, {"type": "accept_rules", "version": welcome["rules"]["version"]})
        assert (await next_of(communicator, "rules"))["accepted"]
    return communicator


async def frame_types_for(communicator: WebsocketCommunicator, *, seconds: float) -> list[str]:
    """The types of every frame that arrives within `seconds` (presence, heartbeat, …)."""
    types: list[str] = []
    while not await communicator.receive_nothing(timeout=seconds):
        types.append(json.loads(await communicator.receive_from())["type"])
    return types


async def send(communicator: WebsocketCommunicator, frame: dict[str, Any] | str) -> None:
    await communicator.send_to(text_data=frame if isinstance(frame, str) else json.dumps(frame))


async def test_welcome_then_chat_between_two_members():
    room = await database_sync_to_async(make_room)()
    alice = await database_sync_to_async(make_member)()
    bob = await database_sync_to_async(make_member)()
    a = await connect(room.slug, alice)
    welcome = await next_of(a, "welcome")
    assert welcome["you"] == {"handle": alice.handle, "role": "member"}
    assert welcome["head_seq"] == 0 and welcome["protocol"] == 1
    assert welcome["presence"]["count"] == 1
    rules = welcome["rules"]
    assert rules["accepted"] is False and rules["version"] >= 1
    assert {"no-contact-details", "respect", "no-method-details"} <= {
        r["code"] for r in rules["rules"]}
    await send(a, {"type": "accept_rules", "version": rules["version"]})
    assert (await next_of(a, "rules"))["accepted"] is True
    b = await joined(room.slug, bob)
    await send(a, {"type": "send", "client_id": "m1", "body": "hello <b>bob</b>"})
    ack = await next_of(a, "ack")
    assert ack == {"type": "ack", "client_id": "m1", "seq": 1, "duplicate": False,
                   "status": "visible"}
    message = await next_of(b, "message")
    assert message["seq"] == 1 and message["handle"] == alice.handle
    assert message["body"] == "hello <b>bob</b>"
    assert message["html"] == "hello &lt;b&gt;bob&lt;/b&gt;"
    presence = await next_of(b, "presence")
    assert presence["count"] == 2
    await a.disconnect()
    await b.disconnect()
    assert await database_sync_to_async(RoomConnection.objects.count)() == 0


async def test_no_session_member_is_refused_with_4401():
    room = await database_sync_to_async(make_room)()
    communicator = await connect(room.slug, None)
    error = await next_of(communicator, "error")
    assert error["code"] == ErrorCode.UNAUTHENTICATED
    assert (await communicator.receive_output(timeout=2))["code"] == CloseCode.UNAUTHENTICATED


async def test_unknown_or_closed_room_is_refused_with_4404():
    member = await database_sync_to_async(make_member)()
    closed = await database_sync_to_async(make_room)(is_active=False)
    for slug in ("no-such-room", closed.slug):
        communicator = await connect(slug, member)
        assert (await next_of(communicator, "error"))["code"] == ErrorCode.ROOM_NOT_FOUND
        assert (await communicator.receive_output(timeout=2))["code"] == CloseCode.ROOM_NOT_FOUND


@pytest.mark.parametrize("origin", [b"http://evil.example", b"null", None])
async def test_foreign_or_missing_origin_is_refused(origin):
    room = await database_sync_to_async(make_room)()
    member = await database_sync_to_async(make_member)()
    key = await database_sync_to_async(session_for)(member)
    headers = [(b"host", b"testserver"), (b"cookie", f"hearth_session={key}".encode())]
    if origin is not None:
        headers.append((b"origin", origin))
    communicator = WebsocketCommunicator(application, f"/ws/rooms/{room.slug}/", headers=headers)
    connected, _ = await communicator.connect()
    assert not connected


async def test_room_full_refuses_members_but_not_staff():
    room = await database_sync_to_async(make_room)(capacity=1)
    first = await joined(room.slug, await database_sync_to_async(make_member)())
    late = await connect(room.slug, await database_sync_to_async(make_member)())
    assert (await next_of(late, "error"))["code"] == ErrorCode.ROOM_FULL
    assert (await late.receive_output(timeout=2))["code"] == CloseCode.ROOM_FULL
    moderator = await joined(room.slug, await database_sync_to_async(make_staff)())
    await moderator.disconnect()
    await first.disconnect()


async def test_too_many_sockets_for_one_session():
    member = await database_sync_to_async(make_member)()
    room = await database_sync_to_async(make_room)()
    key = await database_sync_to_async(session_for)(member)
    sockets = []
    for _ in range(5):
        communicator = await connect(room.slug, member, session_key=key)
        await next_of(communicator, "welcome")
        sockets.append(communicator)
    extra = await connect(room.slug, member, session_key=key)
    assert (await next_of(extra, "error"))["code"] == ErrorCode.TOO_MANY_CONNECTIONS
    assert (await extra.receive_output(timeout=2))["code"] == CloseCode.TOO_MANY_CONNECTIONS
    for communicator in sockets:
        await communicator.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{oops", ErrorCode.MALFORMED_JSON),
        ("42", ErrorCode.NOT_AN_OBJECT),
        ({"type": "dance"}, ErrorCode.UNKNOWN_TYPE),
        ({"type": "send", "body": "hi"}, ErrorCode.MISSING_FIELD),
        ({"type": "send", "client_id": "c", "body": 7}, ErrorCode.INVALID_FIELD),
        ({"type": "send", "client_id": "c", "body": "   "}, ErrorCode.EMPTY_BODY),
        ({"type": "send", "client_id": "c", "body": "x" * 2001}, ErrorCode.BODY_TOO_LONG),
        ({"type": "send", "client_id": "c", "body": "a\x1bb"}, ErrorCode.CONTROL_CHARACTERS),
        ({"type": "history", "before_seq": 1, "limit": 500}, ErrorCode.INVALID_FIELD),
    ],
)
async def test_bad_frames_get_exact_codes_and_the_socket_keeps_working(frame, code):
    room = await database_sync_to_async(make_room)()
    member = await database_sync_to_async(make_member)()
    communicator = await joined(room.slug, member)
    await send(communicator, {"type": "send", "client_id": "before", "body": "kept"})
    assert (await next_of(communicator, "ack"))["seq"] == 1
    await send(communicator, frame)
    error = await next_of(communicator, "error")
    assert error["code"] == code
    if isinstance(frame, dict) and frame.get("type") == "send" and "client_id" in frame:
        assert error["client_id"] == frame["client_id"]
    await send(communicator, {"type": "send", "client_id": "after", "body": "still here"})
    assert (await next_of(communicator, "ack"))["seq"] == 2
    assert await database_sync_to_async(Message.objects.filter(room=room).count)() == 2
    await communicator.disconnect()


async def test_binary_frames_are_refused():
    room = await database_sync_to_async(make_room)()
    communicator = await joined(room.slug, await database_sync_to_async(make_member)())
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert (await next_of(communicator, "error"))["code"] == ErrorCode.BINARY_NOT_SUPPORTED
    await communicator.disconnect()


async def test_oversized_text_frame_is_refused_when_the_server_did_not_cut_it(settings):
    room = await database_sync_to_async(make_room)()
    communicator = await joined(room.slug, await database_sync_to_async(make_member)())
    await send(communicator, "x" * (settings.HEARTH_MAX_FRAME_BYTES + 1))
    assert (await next_of(communicator, "error"))["code"] == ErrorCode.FRAME_TOO_LARGE
    await communicator.disconnect()


async def test_flood_is_rate_limited_with_retry_after_and_nothing_is_stored_twice():
    room = await database_sync_to_async(make_room)()
    member = await database_sync_to_async(make_member)()
    communicator = await joined(room.slug, member)
    for i in range(6):
        await send(communicator, {"type": "send", "client_id": f"f{i}", "body": f"message {i}"})
    acks: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    while len(acks) + len(errors) < 6:
        frame = json.loads(await communicator.receive_from(timeout=2))
        if frame["type"] == "ack":
            acks.append(frame)
        elif frame["type"] == "error":
            errors.append(frame)
    assert [a["seq"] for a in acks] == [1, 2, 3, 4, 5]
    assert len(errors) == 1
    assert errors[0]["code"] == ErrorCode.RATE_LIMITED and errors[0]["client_id"] == "f5"
    assert 0 < errors[0]["retry_after"] <= 1.0
    await asyncio.sleep(errors[0]["retry_after"])
    await send(communicator, {"type": "send", "client_id": "f5", "body": "message 5"})
    assert (await next_of(communicator, "ack"))["seq"] == 6
    await communicator.disconnect()


async def test_retry_with_same_client_id_acks_same_seq_without_a_second_broadcast():
    room = await database_sync_to_async(make_room)()
    sender = await joined(room.slug, await database_sync_to_async(make_member)())
    watcher = await joined(room.slug, await database_sync_to_async(make_member)())
    for _ in range(2):
        await send(sender, {"type": "send", "client_id": "again", "body": "once"})
    first, second = await next_of(sender, "ack"), await next_of(sender, "ack")
    assert first["seq"] == second["seq"] == 1
    assert (first["duplicate"], second["duplicate"]) == (False, True)
    assert (await next_of(watcher, "message"))["seq"] == 1
    await send(sender, {"type": "send", "client_id": "next", "body": "two"})
    assert (await next_of(watcher, "message"))["seq"] == 2  # no second copy of seq 1 between
    await sender.disconnect()
    await watcher.disconnect()


async def test_resume_replays_exactly_what_was_missed_in_order(settings):
    settings.HEARTH_SEND_BURST = 20
    room = await database_sync_to_async(make_room)()
    sender = await joined(room.slug, await database_sync_to_async(make_member)())
    for i in range(7):
        await send(sender, {"type": "send", "client_id": f"r{i}", "body": f"m{i}"})
        await next_of(sender, "ack")
    reader = await joined(room.slug, await database_sync_to_async(make_member)())
    await send(reader, {"type": "resume", "after_seq": 2})
    replayed = [await next_of(reader, "message") for _ in range(5)]
    assert [m["seq"] for m in replayed] == [3, 4, 5, 6, 7]
    resumed = await next_of(reader, "resumed")
    assert resumed == {"type": "resumed", "after_seq": 2, "through_seq": 7, "head_seq": 7,
                       "has_more": False}
    await sender.disconnect()
    await reader.disconnect()


async def test_resume_pages_when_far_behind(settings):
    settings.HEARTH_RESUME_PAGE = 2
    room = await database_sync_to_async(make_room)()
    member = await database_sync_to_async(make_member)()
    sender = await joined(room.slug, member)
    for i in range(5):
        await send(sender, {"type": "send", "client_id": f"p{i}", "body": f"page {i}"})
        await next_of(sender, "ack")
    reader = await joined(room.slug, await database_sync_to_async(make_member)())
    await send(reader, {"type": "resume", "after_seq": 0})
    seqs = [(await next_of(reader, "message"))["seq"] for _ in range(2)]
    resumed = await next_of(reader, "resumed")
    assert seqs == [1, 2] and resumed["has_more"] and resumed["through_seq"] == 2
    await sender.disconnect()
    await reader.disconnect()


async def test_history_pages_backwards():
    room = await database_sync_to_async(make_room)()
    member = await database_sync_to_async(make_member)()
    sender = await joined(room.slug, member)
    for i in range(5):
        await send(sender, {"type": "send", "client_id": f"h{i}", "body": f"h{i}"})
        await next_of(sender, "ack")
    await send(sender, {"type": "history", "before_seq": 6, "limit": 3})
    page = await next_of(sender, "history")
    assert [m["seq"] for m in page["messages"]] == [3, 4, 5] and page["has_more"]
    await send(sender, {"type": "history", "before_seq": 3, "limit": 3})
    page = await next_of(sender, "history")
    assert [m["seq"] for m in page["messages"]] == [1, 2] and not page["has_more"]
    await sender.disconnect()


async def test_heartbeat_carries_head_seq(settings):
    settings.HEARTH_HEARTBEAT_SECONDS = 0.2
    room = await database_sync_to_async(make_room)()
    communicator = await joined(room.slug, await database_sync_to_async(make_member)())
    await send(communicator, {"type": "send", "client_id": "hb", "body": "x"})
    await next_of(communicator, "ack")
    for _ in range(20):
        heartbeat = await next_of(communicator, "heartbeat")
        if heartbeat["head_seq"] == 1:
            break
    assert heartbeat["head_seq"] == 1
    await communicator.disconnect()


async def test_mute_applies_to_every_socket_of_the_member():
    room = await database_sync_to_async(make_room)()
    muter = await database_sync_to_async(make_member)()
    loud = await database_sync_to_async(make_member)()
    key = await database_sync_to_async(session_for)(muter)
    first = await connect(room.slug, muter, session_key=key)
    await next_of(first, "welcome")
    second = await connect(room.slug, muter, session_key=key)
    await next_of(second, "welcome")
    speaker = await joined(room.slug, loud)
    await send(first, {"type": "mute", "handle": loud.handle})
    assert (await next_of(first, "muted")) == {"type": "muted", "handle": loud.handle,
                                               "muted": True}
    await asyncio.sleep(0.1)  # let the second socket handle the mutes_changed event
    await send(speaker, {"type": "send", "client_id": "m1", "body": "can you hear me"})
    await next_of(speaker, "ack")
    for communicator in (first, second):
        assert "message" not in await frame_types_for(communicator, seconds=0.8)
    await send(first, {"type": "unmute", "handle": loud.handle})
    assert (await next_of(first, "muted"))["muted"] is False
    await asyncio.sleep(0.1)
    await send(speaker, {"type": "send", "client_id": "m2", "body": "and now"})
    assert (await next_of(second, "message"))["client_id"] == "m2"
    for communicator in (first, second, speaker):
        await communicator.disconnect()


async def test_a_mute_flood_is_rate_limited_and_logged_once(settings, caplog):
    settings.HEARTH_READ_BURST = 3
    settings.HEARTH_READ_PER_SECOND = 0.5
    room = await database_sync_to_async(make_room)()
    muter = await database_sync_to_async(make_member)()
    loud = await database_sync_to_async(make_member)()
    communicator = await joined(room.slug, muter)
    caplog.set_level("INFO", logger="chat.socket_base")
    for i in range(12):
        await send(communicator, {"type": "mute" if i % 2 else "unmute", "handle": loud.handle})
    answers: list[dict[str, Any]] = []
    while len(answers) < 12:
        frame = json.loads(await communicator.receive_from(timeout=2))
        if frame["type"] in {"muted", "error"}:
            answers.append(frame)
    refusals = [frame for frame in answers if frame["type"] == "error"]
    # accept_rules spent one of the burst of 3.
    assert len(refusals) == 10
    assert {frame["code"] for frame in refusals} == {ErrorCode.RATE_LIMITED}
    assert all(frame["retry_after"] > 0 for frame in refusals)
    # Ten refusals, one log line, no traceback.
    logged = [record for record in caplog.records if record.getMessage() == "frame refused"]
    assert len(logged) == 1 and logged[0].exc_info is None
    await communicator.disconnect()
