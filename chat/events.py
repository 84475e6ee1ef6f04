"""Live events: group names and the sends that reach open sockets after a commit.

The channel layer is at-most-once. Nothing here is the record of anything: the database is,
and clients recover what a lost event carried (see docs/protocol.md, "Delivery").
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from chat.protocol import encode


def room_group(room_id: int) -> str:
    return f"room-{room_id}"


def member_group(member_id: int) -> str:
    return f"member-{member_id}"


# Moderators' dashboards listen here for the live review queue.
MODERATORS_GROUP = "staff-moderators"


def _layer() -> Any:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("CHANNEL_LAYERS is not configured")
    return layer


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


def tell_member_sockets_sync(member_id: int, event: dict[str, Any]) -> None:
    async_to_sync(_layer().group_send)(member_group(member_id), event)


def staff_broadcast_sync(frame: dict[str, Any]) -> None:
    async_to_sync(_layer().group_send)(MODERATORS_GROUP,
                                       {"type": "room.frame", "text": encode(frame)})


def tell_room_sync(room_id: int, event: dict[str, Any]) -> None:
    """An event each socket in the room handles itself (not a pre-encoded frame)."""
    async_to_sync(_layer().group_send)(room_group(room_id), event)
