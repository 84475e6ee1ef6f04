"""Writes for rooms and presence: joining, leaving and keeping a worker's connections fresh."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from chat.errors import ErrorCode, HearthError
from chat.limits import chat_limits
from chat.models import Member
from rooms.models import Room, RoomConnection
from rooms.selectors import fresh_connections


@dataclass(frozen=True)
class Joined:
    room: Room
    member: Member


def join_room(*, room_slug: str, member_id: int, channel_name: str, worker_id: str) -> Joined:
    """Record an open socket, enforcing the room's capacity and the per-member socket limit.

    Staff are not counted against capacity: a moderator can always walk into a full room.
    """
    limits = chat_limits()
    with transaction.atomic():
        member = Member.objects.select_for_update().filter(pk=member_id).first()
        if member is None:
            raise HearthError(ErrorCode.UNAUTHENTICATED)
        # Locking the room makes the last free seat go to exactly one of two racing members.
        room = Room.objects.select_for_update().filter(slug=room_slug, is_active=True).first()
        if room is None:
            raise HearthError(ErrorCode.ROOM_NOT_FOUND)
        if fresh_connections().filter(member=member).count() >= limits.max_sockets_per_session:
            raise HearthError(ErrorCode.TOO_MANY_CONNECTIONS)
        already_here = fresh_connections().filter(room=room, member=member).exists()
        if not already_here and not member.is_staff_member:
            present = (fresh_connections().filter(room=room, member__role="member")
                       .values("member").distinct().count())
            if present >= room.capacity:
                raise HearthError(ErrorCode.ROOM_FULL)
        RoomConnection.objects.create(room=room, member=member, channel_name=channel_name,
                                      worker_id=worker_id, last_seen=timezone.now())
    return Joined(room=room, member=member)


def leave_room(*, channel_name: str) -> None:
    RoomConnection.objects.filter(channel_name=channel_name).delete()


def refresh_worker_connections(*, worker_id: str) -> None:
    """One statement per heartbeat keeps all of a worker's sockets fresh; rows left by a
    worker that died age out and are removed here by whichever worker beats next."""
    now = timezone.now()
    RoomConnection.objects.filter(worker_id=worker_id).update(last_seen=now)
    stale_before = now - timedelta(seconds=chat_limits().stale_after_seconds)
    RoomConnection.objects.filter(last_seen__lt=stale_before).delete()


def claim_next_seq(*, room_id: int) -> int | None:
    """The room's next message sequence number, or None if the room is gone or closed.

    Call inside the transaction that stores the message. One statement bumps and reads the
    counter; its row lock orders concurrent writers until that transaction ends, so seqs are
    gap-free and increasing (a rolled-back post gives its number back).
    """
    table = connection.ops.quote_name(Room._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET last_seq = last_seq + 1 "  # noqa: S608 (no input)
                       "WHERE id = %s AND is_active = %s RETURNING last_seq", [room_id, True])
        row = cursor.fetchone()
    return None if row is None else int(row[0])
