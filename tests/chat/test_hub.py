"""The per-process room hub: one subscription per room per worker, frames written to every
local socket, subscriptions renewed and dropped by the heartbeat; and the ordered publisher
and group-commit writer that feed it."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from chat import events
from chat.errors import ErrorCode, HearthError
from chat.events import OrderedPublisher, room_group
from chat.hub import Hub, RoomSubscription, hub, presence_frames
from tests.chat.test_consumers import joined, next_of, send
from tests.factories import make_member, make_room

pytestmark = [pytest.mark.django_db(transaction=True)]


def _room_group_channels(room_id: int) -> set[str]:
    layer: Any = get_channel_layer()
    return set(layer.groups.get(room_group(room_id), {}))


async def test_a_worker_joins_a_rooms_group_once_however_many_sockets_it_holds():
    room = await database_sync_to_async(make_room)()
    sockets = [await joined(room.slug, await database_sync_to_async(make_member)())
               for _ in range(3)]
    assert len(_room_group_channels(room.pk)) == 1
    await send(sockets[0], {"type": "send", "client_id": "one", "body": "hello all"})
    for communicator in sockets:
        assert (await next_of(communicator, "message"))["client_id"] == "one"
    for communicator in sockets:
        await communicator.disconnect()


async def test_the_heartbeat_drops_a_room_nobody_here_is_in_and_renews_the_others(settings):
    settings.HEARTH_HEARTBEAT_SECONDS = 60  # beats are driven by hand below
    left, stays = await database_sync_to_async(make_room)(), await database_sync_to_async(
        make_room)()
    leaving = await joined(left.slug, await database_sync_to_async(make_member)())
    staying = await joined(stays.slug, await database_sync_to_async(make_member)())
    await leaving.disconnect()
    layer: Any = get_channel_layer()
    layer.groups.pop(room_group(stays.pk))  # as a restarted Redis forgets its groups
    await hub.beat()
    assert _room_group_channels(left.pk) == set()
    assert len(_room_group_channels(stays.pk)) == 1
    await send(staying, {"type": "send", "client_id": "after", "body": "still here"})
    assert (await next_of(staying, "message"))["client_id"] == "after"
    await staying.disconnect()


async def test_members_on_one_worker_hear_each_other_while_the_layer_refuses_sends(
        monkeypatch):
    room = await database_sync_to_async(make_room)()
    writer = await joined(room.slug, await database_sync_to_async(make_member)())
    reader = await joined(room.slug, await database_sync_to_async(make_member)())
    layer: Any = get_channel_layer()

    async def redis_is_down(group: str, message: dict[str, Any]) -> None:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379")

    monkeypatch.setattr(layer, "group_send", redis_is_down)
    for number in range(3):
        await send(writer, {"type": "send", "client_id": f"c{number}", "body": f"post {number}"})
        assert (await next_of(writer, "ack"))["client_id"] == f"c{number}"
    heard = [(await next_of(reader, "message"))["client_id"] for _ in range(3)]
    assert heard == ["c0", "c1", "c2"]
    await writer.disconnect()
    await reader.disconnect()


async def test_a_workers_own_room_event_is_not_delivered_again_when_the_layer_brings_it_back():
    room = await database_sync_to_async(make_room)()
    writer = await joined(room.slug, await database_sync_to_async(make_member)())
    reader = await joined(room.slug, await database_sync_to_async(make_member)())
    await send(writer, {"type": "send", "client_id": "once", "body": "only once please"})
    assert (await next_of(reader, "message"))["client_id"] == "once"
    # Another worker's post comes through the layer alone, after the echo of ours would.
    marker = {"type": "muted", "handle": "Marker", "muted": True}
    await events.broadcast_to_room(room.pk, marker)
    frame = json.loads(await reader.receive_from(timeout=2))
    while frame["type"] in ("presence", "heartbeat"):
        frame = json.loads(await reader.receive_from(timeout=2))
    assert frame == marker
    await writer.disconnect()
    await reader.disconnect()


class _Socket:
    def __init__(self, room_id: int, member_id: int, *, fails: bool = False) -> None:
        self.room_id, self.member_id, self.fails = room_id, member_id, fails
        self.texts: list[str] = []
        self.events: list[dict[str, Any]] = []

    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None,
                   close: bool = False) -> None:
        raise AssertionError("the hub goes through room_frame or dispatch")

    async def room_frame(self, event: dict[str, Any]) -> None:
        if self.fails:
            raise ConnectionError("gone")
        self.texts.append(event["text"])

    async def dispatch(self, message: dict[str, Any]) -> None:
        self.events.append(message)


async def test_fan_out_reaches_every_socket_even_when_one_fails():
    local = Hub()
    sockets = [_Socket(7, 1), _Socket(7, 2, fails=True), _Socket(7, 3), _Socket(8, 4)]
    for socket in sockets:
        local.sockets_by_room[socket.room_id].add(socket)
    await local.fan_out(7, {"type": "room.frame", "text": "frame-1"})
    await local.fan_out(7, {"type": "rules.changed", "version": 2})
    assert sockets[0].texts == sockets[2].texts == ["frame-1"]
    assert sockets[3].texts == [] and sockets[3].events == []
    assert [e["type"] for e in sockets[0].events] == ["rules.changed"]
    assert [e["type"] for e in sockets[1].events] == ["rules.changed"]


async def test_queued_group_sends_leave_in_queue_order_whatever_each_send_takes(monkeypatch):
    sent: list[tuple[str, int]] = []
    rng = random.Random(7)

    async def slow_send(group: str, event: dict[str, Any]) -> None:
        await asyncio.sleep(rng.random() / 200)
        sent.append((group, event["n"]))

    monkeypatch.setattr(events, "send_to_group", slow_send)
    publisher = OrderedPublisher()
    for n in range(40):
        publisher.enqueue(f"room-{n % 2}", {"n": n})
    for _ in range(200):
        if len(sent) == 40:
            break
        await asyncio.sleep(0.01)
    for group in ("room-0", "room-1"):
        assert [n for g, n in sent if g == group] == sorted(n for g, n in sent if g == group)
    assert len(sent) == 40


async def test_posts_sent_together_are_stored_together_and_broadcast_in_seq_order():
    room = await database_sync_to_async(make_room)()
    reader = await joined(room.slug, await database_sync_to_async(make_member)())
    writers = [await joined(room.slug, await database_sync_to_async(make_member)())
               for _ in range(4)]
    for round_ in range(3):
        for i, communicator in enumerate(writers):
            await send(communicator, {"type": "send", "client_id": f"r{round_}-w{i}",
                                      "body": f"note number {round_} from writer {i}"})
    seqs: list[int] = []
    while len(seqs) < 12:
        frame = json.loads(await reader.receive_from(timeout=5))
        if frame["type"] == "message":
            seqs.append(frame["seq"])
    assert seqs == list(range(1, 13))
    for communicator in [reader, *writers]:
        await communicator.disconnect()


def _frame(seq: int | None, kind: str = "room.frame") -> dict[str, Any]:
    return {"type": kind, "seq": seq, "text": f"m{seq}"} if seq is not None else {
        "type": kind, "text": "presence"}


def _seqs(events: list[dict[str, Any]]) -> list[int | None]:
    return [e.get("seq") for e in events]


async def test_a_gap_that_never_fills_is_given_up_while_the_room_keeps_talking(monkeypatch):
    # Redis down: the other worker's seqs never come, this worker's keep coming. The wait is
    # counted from the first frame that waited, not from the latest arrival.
    monkeypatch.setattr("chat.hub.GAP_WAIT_SECONDS", 0.2)
    local = Hub()
    socket = _Socket(room_id=7, member_id=1)
    local.sockets_by_room[7].add(socket)
    subscription = RoomSubscription(7, head_seq=0)
    deliverer = asyncio.get_running_loop().create_task(local._deliver(subscription))
    try:
        for seq in range(2, 22, 2):  # 1, 3, 5… went to the other worker and are lost
            subscription.arrived.put_nowait(
                {"type": "room.frame", "seq": seq, "text": f"frame {seq}"})
            await asyncio.sleep(0.1)
        # Before the room fell quiet, the frames that waited had gone out, in order.
        assert socket.texts[:3] == ["frame 2", "frame 4", "frame 6"]
    finally:
        deliverer.cancel()


def test_frames_that_cross_on_the_way_are_put_back_in_seq_order():
    from chat.hub import SeqOrder

    order = SeqOrder()
    assert _seqs(order.arrive(_frame(5))) == [5]
    assert order.arrive(_frame(7)) == [] and order.arrive(_frame(8)) == []
    assert _seqs(order.arrive(_frame(None))) == [None]  # not a message: straight through
    assert _seqs(order.arrive(_frame(6))) == [6, 7, 8]
    assert _seqs(order.arrive(_frame(3))) == [3]  # a late or re-sent frame is not held back
    assert order.waiting == {}


def test_a_held_message_is_passed_over_without_waiting():
    from chat.hub import SEQ_PASSED, SeqOrder

    order = SeqOrder()
    order.arrive(_frame(1))
    assert order.arrive(_frame(3)) == []
    assert _seqs(order.arrive(_frame(2, kind=SEQ_PASSED))) == [3]
    assert order.arrive(_frame(1, kind=SEQ_PASSED)) == []  # old news, delivers nothing


def test_a_gap_that_never_fills_is_given_up_in_order():
    from chat.hub import SEQ_PASSED, SeqOrder

    order = SeqOrder()
    order.arrive(_frame(10))
    for seq in (14, 12, 13):
        order.arrive(_frame(seq))
    order.arrive(_frame(15, kind=SEQ_PASSED))
    assert _seqs(order.give_up_waiting()) == [12, 13, 14]
    assert _seqs(order.arrive(_frame(16))) == [16]
    assert _seqs(order.arrive(_frame(11))) == [11]
    assert order.give_up_waiting() == []


def test_the_first_frames_a_worker_hears_are_ordered_from_the_rooms_head():
    from chat.hub import SeqOrder

    order = SeqOrder(next_seq=1)  # the room's head was 0 when its first socket here joined
    assert order.arrive(_frame(2)) == []  # another worker's message overtook the first
    assert _seqs(order.arrive(_frame(1))) == [1, 2]


def _presence_frames_and_queries(room_ids: list[int]) -> tuple[list[Any], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        frames = presence_frames(room_ids)
    return frames, len(captured)


async def test_due_presence_frames_are_read_together_and_a_gone_room_is_refused():
    rooms = [await database_sync_to_async(make_room)() for _ in range(3)]
    socket = await joined(rooms[1].slug, await database_sync_to_async(make_member)())
    frames, queries = await database_sync_to_async(_presence_frames_and_queries)(
        [rooms[1].pk, 999_999, rooms[0].pk, rooms[2].pk])
    assert queries == 2  # the slugs and the presence, whatever the number of rooms
    assert isinstance(frames[1], HearthError) and frames[1].code == ErrorCode.ROOM_NOT_FOUND
    assert [(f["room"], f["count"]) for f in (frames[0], frames[2], frames[3])] == [
        (rooms[1].slug, 1), (rooms[0].slug, 0), (rooms[2].slug, 0)]
    await socket.disconnect()
