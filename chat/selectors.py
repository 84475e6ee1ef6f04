"""Reads of members and messages."""

from __future__ import annotations

from typing import Any

from chat.models import Member, Message
from chat.protocol import message_frame
from rooms.models import Room


def room_head_seq(*, room_id: int) -> int:
    return Room.objects.values_list("last_seq", flat=True).get(pk=room_id)


def messages_after(*, room_id: int, after_seq: int, up_to_seq: int, limit: int) -> list[Message]:
    """Messages with after_seq < seq <= up_to_seq, oldest first, at most `limit`."""
    return list(
        Message.objects.filter(room_id=room_id, seq__gt=after_seq, seq__lte=up_to_seq)
        .select_related("author", "room")
        .order_by("seq")[:limit]
    )


def messages_before(*, room_id: int, before_seq: int, limit: int) -> list[Message]:
    """The `limit` newest messages with seq < before_seq, returned oldest first."""
    newest_first = list(
        Message.objects.filter(room_id=room_id, seq__lt=before_seq)
        .select_related("author", "room")
        .order_by("-seq")[:limit]
    )
    newest_first.reverse()
    return newest_first


def frame_for_message(message: Message) -> dict[str, Any]:
    return message_frame(
        seq=message.seq,
        room_slug=message.room.slug,
        handle=message.author.handle,
        role=message.author.role,
        body=message.body,
        html=message.html,
        sent_at=message.created_at,
        client_id=message.client_id,
    )


def member_by_id(member_id: int) -> Member | None:
    return Member.objects.filter(pk=member_id).first()
