"""Live events: group names and the sends that reach open sockets after a commit.

The channel layer is at-most-once. Nothing here is the record of anything: the database is,
and clients recover what a lost event carried (see docs/protocol.md, "Delivery").
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from chat.protocol import encode

logger = logging.getLogger(__name__)
_P = ParamSpec("_P")


def room_group(room_id: int) -> str:
    return f"room-{room_id}"


def member_group(member_id: int) -> str:
    return f"member-{member_id}"


def aside_group(member_id: int) -> str:
    """Every socket of one person (room pages and the staff dashboard) that shows their
    take-aside conversations."""
    return f"aside-{member_id}"


# Moderators' dashboards listen here for the live review queue.
MODERATORS_GROUP = "staff-moderators"
# Every staff dashboard (peer supporters too): escalations and the duty roster.
STAFF_GROUP = "staff-all"


def best_effort(send: Callable[_P, Awaitable[None]]) -> Callable[_P, Awaitable[None]]:
    """A live event that may fail without failing its caller.

    The database already holds what the event announces; when the layer is down (Redis
    stopped) the write that caused it must still succeed and be acknowledged.
    """
    @functools.wraps(send)
    async def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> None:
        try:
            await send(*args, **kwargs)
        except Exception as exc:
            logger.warning("live event not delivered: %s", type(exc).__name__)
    return wrapper


def _layer() -> Any:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("CHANNEL_LAYERS is not configured")
    return layer


@best_effort
async def broadcast_to_room(room_id: int, frame: dict[str, Any], *,
                            author_id: int | None = None) -> None:
    """Encode once; every socket in the room gets the same text. With `author_id`, sockets
    of members who muted that author skip it."""
    event: dict[str, Any] = {"type": "room.frame", "text": encode(frame)}
    if author_id is not None:
        event["author_id"] = author_id
    await _layer().group_send(room_group(room_id), event)


def broadcast_to_room_sync(room_id: int, frame: dict[str, Any], *,
                           author_id: int | None = None) -> None:
    async_to_sync(broadcast_to_room)(room_id, frame, author_id=author_id)


@best_effort
async def send_to_group(group: str, event: dict[str, Any]) -> None:
    await _layer().group_send(group, event)


class OrderedPublisher:
    """Group sends that leave this worker in the order they were queued, one group at a time.

    Posts are stored in batches and their sockets resume together; sent straight away, two
    broadcasts could take different Redis connections and arrive out of seq order. Queuing
    is synchronous, so whoever queues first in seq order is sent first, and a slow or
    stopped layer never holds up the caller (the ack and support card go straight out).
    """

    def __init__(self) -> None:
        self._queues: dict[str, deque[dict[str, Any]]] = {}
        self._senders: dict[str, asyncio.Task[None]] = {}

    def enqueue(self, group: str, event: dict[str, Any]) -> None:
        self._queues.setdefault(group, deque()).append(event)
        loop = asyncio.get_running_loop()
        sender = self._senders.get(group)
        if sender is None or sender.done() or sender.get_loop() is not loop:
            self._senders[group] = loop.create_task(self._send_queued(group))

    async def _send_queued(self, group: str) -> None:
        queue = self._queues[group]
        while queue:
            await send_to_group(group, queue.popleft())
        # Nothing awaited since the queue emptied: no event can be waiting behind this.
        del self._queues[group]
        self._senders.pop(group, None)


publisher = OrderedPublisher()


def send_to_group_sync(group: str, event: dict[str, Any]) -> None:
    async_to_sync(send_to_group)(group, event)


def tell_member_sockets_sync(member_id: int, event: dict[str, Any]) -> None:
    send_to_group_sync(member_group(member_id), event)


def staff_broadcast_sync(frame: dict[str, Any]) -> None:
    """A review-queue frame for moderators' dashboards."""
    send_to_group_sync(MODERATORS_GROUP, {"type": "room.frame", "text": encode(frame)})


def tell_room_sync(room_id: int, event: dict[str, Any]) -> None:
    """An event each socket in the room handles itself (not a pre-encoded frame)."""
    send_to_group_sync(room_group(room_id), event)
