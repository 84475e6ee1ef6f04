"""Sockets never leave a ghost seat (issue 14): malformed frames are refused with a code, a
handler that raises still frees the seat, and frames for a closed socket are dropped."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from chat.errors import ErrorCode, HearthError
from chat.hub import hub
from chat.socket_base import HearthSocket
from rooms.models import RoomConnection
from rooms.selectors import room_presence
from tests.chat.test_consumers import joined, next_of, send
from tests.factories import make_member, make_room

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def _seats() -> int:
    return int(await database_sync_to_async(RoomConnection.objects.count)())


async def test_malformed_frames_get_codes_and_no_seat_outlives_its_socket():
    room = await database_sync_to_async(make_room)()
    alice = await joined(room.slug, await database_sync_to_async(make_member)())
    bob = await joined(room.slug, await database_sync_to_async(make_member)())
    assert await _seats() == 2
    frames = [
        ('{"type":"resume","after_seq":' + "9" * 5000 + "}", ErrorCode.INVALID_FIELD),
        ('{"type":"mute","handle":"Calm\\ud800Otter"}', ErrorCode.INVALID_TEXT),
        ('{"type":"send","client_id":"bad","body":"alone \\ud800"}', ErrorCode.INVALID_TEXT),
        ('{"type":"history","before_seq":[],"limit":{}}', ErrorCode.INVALID_FIELD),
        ('{"type":"resume","after_seq":1e99999}', ErrorCode.INVALID_FIELD),
        ("[" * 5000, ErrorCode.MALFORMED_JSON),
        # Unescaped: what a server that did not check the frame's UTF-8 would pass on.
        ('{"type":"send","client_id":"raw","body":"a\ud800"}', ErrorCode.INVALID_TEXT),
    ]
    for text, code in frames:
        await send(alice, text)
        error = await next_of(alice, "error")
        assert error["code"] == code, text[:60]
    await send(alice, {"type": "send", "client_id": "fine", "body": "still here"})
    assert (await next_of(alice, "ack"))["seq"] == 1
    await alice.disconnect()
    await bob.disconnect()
    assert await _seats() == 0
    presence = await database_sync_to_async(room_presence)(room_id=room.pk)
    assert presence.count == 0


async def test_a_send_refused_for_a_lone_surrogate_names_its_client_id():
    room = await database_sync_to_async(make_room)()
    alice = await joined(room.slug, await database_sync_to_async(make_member)())
    await send(alice, '{"type":"send","client_id":"mine-1","body":"\\udc00"}')
    error = await next_of(alice, "error")
    assert (error["code"], error["client_id"]) == (ErrorCode.INVALID_TEXT, "mine-1")
    await alice.disconnect()


async def test_a_handler_that_raises_still_frees_the_seat():
    room = await database_sync_to_async(make_room)()
    alice = await joined(room.slug, await database_sync_to_async(make_member)())
    channel_name = await database_sync_to_async(
        lambda: RoomConnection.objects.get().channel_name)()
    # An event without the field its handler reads: the handler raises, the consumer ends.
    await get_channel_layer().send(channel_name, {"type": "rules.changed"})
    with pytest.raises(KeyError):
        await alice.receive_output(timeout=2)
    assert await _seats() == 0
    assert not hub.sockets_by_room.get(room.pk)


class _ClosedByClient(HearthSocket):
    """A socket whose server (as uvicorn does) raises for any frame once the client's close
    has arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.scope = {"type": "websocket"}
        self.frames_attempted = 0

    async def base_send(self, message: dict[str, Any]) -> None:
        self.frames_attempted += 1
        raise RuntimeError(f"Unexpected ASGI message '{message['type']}', after sending "
                           "'websocket.close'.")


async def test_a_refusal_or_close_for_a_socket_the_client_closed_is_dropped():
    socket = _ClosedByClient()
    await socket.refuse(HearthError(ErrorCode.RATE_LIMITED), client_id="c1")
    await socket.send_frame({"type": "heartbeat", "head_seq": 1})
    await socket.close(code=1000)
    assert socket.frames_attempted == 1  # once known closed, nothing more is tried


async def test_other_runtime_errors_from_the_server_are_not_hidden():
    class Broken(_ClosedByClient):
        async def base_send(self, message: dict[str, Any]) -> None:
            raise RuntimeError("something else")

    with pytest.raises(RuntimeError, match="something else"):
        await Broken().send_frame({"type": "heartbeat", "head_seq": 1})
