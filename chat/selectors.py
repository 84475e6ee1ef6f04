"""Reads of members and messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from chat.models import Member, Message, MessageStatus
from chat.protocol import message_frame
from chat.rendering import render_message_html
from rooms.models import Room


def room_head_seq(*, room_id: int) -> int:
    return Room.objects.values_list("last_seq", flat=True).get(pk=room_id)


def visible_to(*, viewer_id: int, muted_ids: set[int] | frozenset[int] = frozenset()) -> Q:
    """What a member may see in history, as the live fan-out decides it (`copies`): visible
    messages, collapsed ones (as a placeholder unless they wrote it), and their own messages
    waiting for review; never messages from handles they muted."""
    can_see = (Q(status__in=(MessageStatus.VISIBLE, MessageStatus.COLLAPSED))
               | Q(author_id=viewer_id, status=MessageStatus.HELD))
    return can_see & ~Q(author_id__in=muted_ids) if muted_ids else can_see


def messages_after(*, room_id: int, after_seq: int, up_to_seq: int, limit: int,
                   visible: Q) -> list[Message]:
    """Messages with after_seq < seq <= up_to_seq, oldest first, at most `limit`."""
    return list(
        Message.objects.filter(visible, room_id=room_id, seq__gt=after_seq, seq__lte=up_to_seq)
        .select_related("author", "room")
        .order_by("seq")[:limit]
    )


def messages_before(*, room_id: int, before_seq: int, limit: int,
                    visible: Q) -> list[Message]:
    """The `limit` newest messages with seq < before_seq, returned oldest first."""
    newest_first = list(
        Message.objects.filter(visible, room_id=room_id, seq__lt=before_seq)
        .select_related("author", "room")
        .order_by("-seq")[:limit]
    )
    newest_first.reverse()
    return newest_first


@dataclass(frozen=True)
class Copies:
    """What each side of a room sees of one message, live (the post's fan-out) and in history
    (resume and history pages, through `visible_to` and `frame_for_message`): one rule."""

    author: dict[str, Any]  # its author's own words, in every tab
    others: dict[str, Any] | None  # everyone else's copy; None while only its author may

    @property
    def same_for_all(self) -> bool:
        return self.others == self.author


def copies(message: Message) -> Copies:
    """Held for review: its author alone. Collapsed: the room gets a placeholder. Masked:
    the room reads what screening let through. Otherwise everyone reads the same."""
    author = frame_for_message(message, viewer_id=message.author_id)
    if message.status == MessageStatus.COLLAPSED:
        return Copies(author=author, others=collapsed_frame(message))
    if message.status != MessageStatus.VISIBLE:
        return Copies(author=author, others=None)
    return Copies(author=author,
                  others=frame_for_message(message) if message.original_body else author)


def frame_for_message(message: Message, *, viewer_id: int | None = None) -> dict[str, Any]:
    """The message as `viewer_id` may see it (what `copies` gives each side): its author reads
    their own words, everyone else what screening let through (masked contact details; a
    placeholder while collapsed). Without a viewer: the words anyone may read once a moderator
    lets it through (masked, never the original, never the placeholder)."""
    is_author = viewer_id is not None and viewer_id == message.author_id
    if message.status == MessageStatus.COLLAPSED and not is_author and viewer_id is not None:
        return collapsed_frame(message)
    own_words = is_author and bool(message.original_body)
    return message_frame(
        seq=message.seq,
        room_slug=message.room.slug,
        handle=message.author.handle,
        role=message.author.role,
        body=message.original_body if own_words else message.body,
        html=render_message_html(message.original_body) if own_words else message.html,
        sent_at=message.created_at,
        client_id=message.client_id,
        status=message.status,
    )


def member_by_id(member_id: int) -> Member | None:
    return Member.objects.filter(pk=member_id).first()


def collapsed_frame(message: Message) -> dict[str, Any]:
    """What the room sees of a message with method details until a moderator looks."""
    frame = message_frame(seq=message.seq, room_slug=message.room.slug,
                          handle=message.author.handle, role=message.author.role, body="",
                          html="", sent_at=message.created_at, client_id=message.client_id,
                          status=message.status)
    frame["collapsed"] = True
    return frame
