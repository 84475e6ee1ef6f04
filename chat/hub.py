"""Per-process bookkeeping for the sockets this worker holds.

Room fan-out: a worker subscribes to a room's group once, with one channel of its own, not
once per socket. A room message then crosses the channel layer once per worker (not once per
member) as a frame encoded once, and the hub writes that same text to every local socket in
the room. Other room events (rules changed, staffing) go to each local socket's handler.

One heartbeat loop per process (not one timer per socket) refreshes this worker's presence
rows in a single statement, reads each room's head seq once and tells every local socket; it
also renews the room subscriptions (group membership expires, and a restarted Redis forgets
it) and drops those of rooms this worker no longer holds. Presence broadcasts are coalesced,
so a burst of joins sends one presence frame per room.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Protocol

from channels.layers import get_channel_layer

from chat.batching import BatchWriter
from chat.errors import ErrorCode, HearthError
from chat.events import broadcast_to_room, publisher, room_group
from chat.limits import chat_limits
from chat.protocol import encode
from chat.ratelimit import TokenBucket
from hearth.database_thread import database_thread
from hearth.direct_frames import PreparedFrame
from rooms.models import Room
from rooms.selectors import rooms_presence
from rooms.services import refresh_worker_connections

logger = logging.getLogger(__name__)

WORKER_ID = uuid.uuid4().hex


class LocalSocket(Protocol):
    room_id: int
    member_id: int

    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None,
                   close: bool = False) -> None: ...

    async def room_frame(self, event: dict[str, Any]) -> None: ...

    async def dispatch(self, message: dict[str, Any]) -> None: ...


# How long a message frame that arrived ahead of its turn waits for the ones before it.
GAP_WAIT_SECONDS = 1.0
# What a worker broadcasts for a message its room will not see (held for review), so other
# workers stop waiting for it.
SEQ_PASSED = "room.seq_passed"


class SeqOrder:
    """Puts a room's message frames back in seq order before they reach sockets.

    Each worker broadcasts its own posts in order, but two workers' broadcasts can cross on
    the way to a third. A frame that arrives ahead of a missing seq waits, up to
    GAP_WAIT_SECONDS, for it; then what waited goes out in order anyway (the client fetches
    any gap itself by seq). Frames without a seq (presence, removals, a message released
    later by a moderator) go straight through.
    """

    def __init__(self, next_seq: int | None = None) -> None:
        # The room's next seq when this worker starts to hear it (its head when the first
        # socket joined), so the first frames are ordered too.
        self.next_seq = next_seq
        self.waiting: dict[int, dict[str, Any]] = {}
        # When the oldest waiting frame began to wait (time.monotonic): the wait is counted
        # from it, not from the latest arrival, or a room that keeps talking across a gap
        # that never fills (Redis down, another worker's frames lost) would wait for ever.
        self.waiting_since: float | None = None

    def seconds_left_to_wait(self) -> float | None:
        """How much longer the waiting frames may wait; None when nothing waits."""
        if not self.waiting or self.waiting_since is None:
            return None
        return max(0.0, self.waiting_since + GAP_WAIT_SECONDS - time.monotonic())

    def arrive(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """The events to deliver now, in order."""
        seq = event.get("seq")
        if not isinstance(seq, int):
            return [event]
        if self.next_seq is not None and seq < self.next_seq:
            return [] if event["type"] == SEQ_PASSED else [event]
        if self.next_seq is not None and seq > self.next_seq:
            if not self.waiting:
                self.waiting_since = time.monotonic()
            self.waiting[seq] = event
            return []
        ready = [event]
        self.next_seq = seq + 1
        while self.next_seq in self.waiting:
            ready.append(self.waiting.pop(self.next_seq))
            self.next_seq += 1
        if not self.waiting:
            self.waiting_since = None
        return [e for e in ready if e["type"] != SEQ_PASSED]

    def give_up_waiting(self) -> list[dict[str, Any]]:
        """Everything that waited, in seq order; the gap before it is left to the clients."""
        ready = [self.waiting[seq] for seq in sorted(self.waiting)]
        if ready:
            self.next_seq = max(self.waiting) + 1
        self.waiting.clear()
        self.waiting_since = None
        return [e for e in ready if e["type"] != SEQ_PASSED]


class RoomSubscription:
    """This worker's one channel in a room's group, the task that reads it and the task that
    puts its frames in order and fans them out."""

    def __init__(self, room_id: int, head_seq: int | None = None) -> None:
        self.room_id = room_id
        self.order = SeqOrder(None if head_seq is None else head_seq + 1)
        self.channel = ""
        self.ready: asyncio.Task[None] | None = None
        self.reader: asyncio.Task[None] | None = None
        self.deliverer: asyncio.Task[None] | None = None
        self.arrived: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def stop(self) -> None:
        for task in (self.reader, self.deliverer):
            if task is not None:
                task.cancel()


def _head_seqs_and_refresh(worker_id: str, room_ids: list[int]) -> dict[int, int]:
    refresh_worker_connections(worker_id=worker_id)
    return dict(Room.objects.filter(pk__in=room_ids).values_list("pk", "last_seq"))


def presence_frames(room_ids: Sequence[int]) -> list[dict[str, Any] | HearthError]:
    """Each room's `presence` frame, read together (a burst of joins makes many rooms' frames
    due at once); a room that is gone gets room_not_found."""
    slugs = dict(Room.objects.filter(pk__in=room_ids).values_list("pk", "slug"))
    present = rooms_presence(room_ids=list(slugs))
    return [{"type": "presence", "room": slugs[room_id], **present[room_id].as_frame_field()}
            if room_id in slugs else HearthError(ErrorCode.ROOM_NOT_FOUND)
            for room_id in room_ids]


# Due presence frames go to the database thread together, where each used to cost a thread
# hop and a query of its own.
presence_reader: BatchWriter[int, dict[str, Any]] = BatchWriter(presence_frames)


class Hub:
    def __init__(self) -> None:
        self.sockets_by_room: dict[int, set[LocalSocket]] = defaultdict(set)
        self._send_buckets: dict[int, TokenBucket] = {}
        self._read_buckets: dict[int, TokenBucket] = {}
        self._reaction_buckets: dict[int, TokenBucket] = {}
        self._sockets_per_member: dict[int, int] = defaultdict(int)
        self._presence_pending: set[int] = set()
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._subscriptions: dict[int, RoomSubscription] = {}
        # The loop and layer the subscriptions belong to; a new one (tests) starts afresh.
        self._subscribed_on: tuple[asyncio.AbstractEventLoop, Any] | None = None
        # Marks the room events this hub publishes, so it skips them when the layer brings
        # them back: its own sockets had them straight away (publish_to_room).
        self.origin = uuid.uuid4().hex

    # --- registration -------------------------------------------------------------------
    async def register(self, socket: LocalSocket, *, head_seq: int | None = None) -> None:
        """Count the socket in and make sure this worker hears its room before returning,
        so nothing broadcast after the caller's welcome (at `head_seq`) is missed."""
        self.sockets_by_room[socket.room_id].add(socket)
        self._sockets_per_member[socket.member_id] += 1
        self._ensure_heartbeat()
        await self._subscribe(socket.room_id, head_seq)

    def unregister(self, socket: LocalSocket) -> None:
        room_sockets = self.sockets_by_room.get(socket.room_id)
        if room_sockets is not None:
            room_sockets.discard(socket)
            if not room_sockets:
                del self.sockets_by_room[socket.room_id]
        self._sockets_per_member[socket.member_id] -= 1
        if self._sockets_per_member[socket.member_id] <= 0:
            # The member's buckets go with their last socket here; a reconnect within the
            # same second gets a fresh burst, which is the same as the first visit.
            del self._sockets_per_member[socket.member_id]
            self._send_buckets.pop(socket.member_id, None)
            self._read_buckets.pop(socket.member_id, None)
            self._reaction_buckets.pop(socket.member_id, None)

    # --- rate limits (per member, shared by all their sockets in this process) -----------
    def send_bucket(self, member_id: int) -> TokenBucket:
        bucket = self._send_buckets.get(member_id)
        if bucket is None:
            limits = chat_limits()
            bucket = TokenBucket(burst=limits.send_burst, per_second=limits.send_per_second)
            self._send_buckets[member_id] = bucket
        return bucket

    def read_bucket(self, member_id: int) -> TokenBucket:
        bucket = self._read_buckets.get(member_id)
        if bucket is None:
            limits = chat_limits()
            bucket = TokenBucket(burst=limits.read_burst, per_second=limits.read_per_second)
            self._read_buckets[member_id] = bucket
        return bucket

    def reaction_bucket(self, member_id: int) -> TokenBucket:
        bucket = self._reaction_buckets.get(member_id)
        if bucket is None:
            limits = chat_limits()
            bucket = TokenBucket(burst=limits.reaction_burst,
                                 per_second=limits.reaction_per_second)
            self._reaction_buckets[member_id] = bucket
        return bucket

    # --- room fan-out -------------------------------------------------------------------
    async def _subscribe(self, room_id: int, head_seq: int | None = None) -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        loop = asyncio.get_running_loop()
        if self._subscribed_on != (loop, layer):
            self._subscriptions = {}
            self._subscribed_on = (loop, layer)
        subscription = self._subscriptions.get(room_id)
        if subscription is None:
            subscription = RoomSubscription(room_id, head_seq)
            self._subscriptions[room_id] = subscription
        # Delivers this worker's own room events even while the layer is down.
        self._ensure_deliverer(subscription)
        if subscription.ready is None or (subscription.ready.done() and not subscription.reader):
            # Concurrent joins of one room share one subscription: each awaits the same task.
            subscription.ready = loop.create_task(self._open(subscription, layer))
        with contextlib.suppress(Exception):  # logged in _open; the heartbeat retries
            await asyncio.shield(subscription.ready)

    async def _open(self, subscription: RoomSubscription, layer: Any) -> None:
        try:
            if not subscription.channel:
                # The default prefix: channels_redis reads all of a worker's channels that share
                # it with one loop; a prefix of our own would wait behind that loop.
                subscription.channel = await layer.new_channel()
            await layer.group_add(room_group(subscription.room_id), subscription.channel)
        except Exception as exc:
            # The layer is down (Redis stopped): sends are still stored and acknowledged;
            # live frames resume once the heartbeat subscribes again.
            logger.warning("room subscription failed: %s", type(exc).__name__)
            raise
        loop = asyncio.get_running_loop()
        if subscription.reader is None or subscription.reader.done():
            subscription.reader = loop.create_task(self._read(subscription, layer))
        self._ensure_deliverer(subscription)

    def _ensure_deliverer(self, subscription: RoomSubscription) -> None:
        if subscription.deliverer is None or subscription.deliverer.done():
            subscription.deliverer = asyncio.get_running_loop().create_task(
                self._deliver(subscription))

    async def _read(self, subscription: RoomSubscription, layer: Any) -> None:
        # Only reads: a layer's receive is not safe to cancel for a timeout, a queue's is.
        while True:
            try:
                event = await layer.receive(subscription.channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("room channel read failed: %s", type(exc).__name__)
                await asyncio.sleep(1.0)
                continue
            if event.get("origin") == self.origin:
                continue  # this worker's own: its sockets had it from publish_to_room
            subscription.arrived.put_nowait(event)

    def publish_to_room(self, room_id: int, event: dict[str, Any]) -> None:
        """A room event raised on this worker (a post's frame, a held post's seq passed).

        The room's sockets here get it at once, put in seq order with what other workers
        send; the other workers get it through the layer, queued in the order of the calls.
        So members on one worker keep hearing each other while Redis is down or slow, and
        what other workers missed they fetch by seq, as ever.
        """
        event = {**event, "origin": self.origin}
        subscription = self._subscriptions.get(room_id)
        if (subscription is not None and room_id in self.sockets_by_room
                and self._subscribed_on is not None
                and self._subscribed_on[0] is asyncio.get_running_loop()):
            subscription.arrived.put_nowait(event)
            self._ensure_deliverer(subscription)
        publisher.enqueue(room_group(room_id), event)

    async def _deliver(self, subscription: RoomSubscription) -> None:
        order = subscription.order
        while True:
            try:
                event = await asyncio.wait_for(subscription.arrived.get(),
                                               order.seconds_left_to_wait())
            except TimeoutError:
                ready = order.give_up_waiting()
            else:
                ready = order.arrive(event)
            for each in ready:
                await self.fan_out(subscription.room_id, each)

    async def fan_out(self, room_id: int, event: dict[str, Any]) -> None:
        """One room event to every local socket in the room, in arrival order."""
        pre_encoded = event.get("type") == "room.frame"
        if pre_encoded:
            # Framed for the wire once, for every socket that can take it as it is.
            event = {**event, "prepared": PreparedFrame(event["text"])}
        for socket in list(self.sockets_by_room.get(room_id, ())):
            try:
                if pre_encoded:
                    await socket.room_frame(event)
                else:
                    await socket.dispatch(event)
            except Exception:
                # One socket's failure must not cost the others their frame.
                logger.exception("room event not delivered to one socket")

    async def _renew_subscriptions(self) -> None:
        layer = get_channel_layer()
        if layer is None or self._subscribed_on != (asyncio.get_running_loop(), layer):
            return
        for room_id, subscription in list(self._subscriptions.items()):
            if room_id in self.sockets_by_room:
                with contextlib.suppress(Exception):  # logged in _open
                    await self._open(subscription, layer)
                continue
            # No local socket left in this room: stop hearing it.
            del self._subscriptions[room_id]
            subscription.stop()
            if subscription.channel:
                with contextlib.suppress(Exception):
                    await layer.group_discard(room_group(room_id), subscription.channel)

    # --- presence -----------------------------------------------------------------------
    def schedule_presence(self, room_id: int) -> None:
        if room_id in self._presence_pending:
            return
        self._presence_pending.add(room_id)
        asyncio.get_running_loop().create_task(self._broadcast_presence_soon(room_id))

    async def _broadcast_presence_soon(self, room_id: int) -> None:
        try:
            await asyncio.sleep(chat_limits().presence_debounce_seconds)
            self._presence_pending.discard(room_id)
            frame = await presence_reader.submit(room_id)
            await broadcast_to_room(room_id, frame)
        except HearthError:
            pass  # the room is gone: nobody to tell
        except Exception:
            self._presence_pending.discard(room_id)
            logger.exception("presence broadcast failed")

    # --- heartbeat ----------------------------------------------------------------------
    def _ensure_heartbeat(self) -> None:
        loop = asyncio.get_running_loop()
        task = self._heartbeat_task
        if task is None or task.done() or task.get_loop() is not loop:
            self._heartbeat_task = loop.create_task(self._heartbeat_loop())

    async def _heartbeat_loop(self) -> None:
        interval = chat_limits().heartbeat_seconds
        while self.sockets_by_room:
            await asyncio.sleep(interval)
            try:
                await self.beat()
            except Exception:
                logger.exception("heartbeat failed")
        with contextlib.suppress(Exception):  # the last socket left: drop its subscriptions
            await self._renew_subscriptions()

    async def beat(self) -> None:
        await self._renew_subscriptions()
        room_ids = list(self.sockets_by_room)
        heads = await database_thread(_head_seqs_and_refresh)(WORKER_ID, room_ids)
        for room_id in room_ids:
            if room_id not in heads:
                continue
            text = encode({"type": "heartbeat", "head_seq": heads[room_id]})
            for socket in list(self.sockets_by_room.get(room_id, ())):
                with contextlib.suppress(Exception):  # a socket closing mid-beat is fine
                    await socket.send(text_data=text)


hub = Hub()
