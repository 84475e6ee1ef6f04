"""Writes for rooms and presence: joining, leaving and keeping a worker's connections fresh."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from chat.errors import ErrorCode, HearthError
from chat.limits import chat_limits
from chat.models import Member, Role
from hearth.sequences import claim_next
from moderation.permissions import Action, can
from rooms.models import Room, RoomConnection
from rooms.selectors import fresh_connections


@dataclass(frozen=True)
class Joined:
    room: Room
    member: Member


@dataclass(frozen=True)
class Seat:
    """One socket asking to join a room."""

    room_slug: str
    member_id: int
    channel_name: str
    worker_id: str


def join_rooms(seats: Sequence[Seat]) -> list[Joined | HearthError]:
    """Record open sockets, in list order, enforcing each room's capacity and the per-member
    socket limit: the same few statements however many sockets a burst of connects brings.

    Staff are not counted against capacity: a moderator can always walk into a full room.
    """
    limits = chat_limits()
    member_ids = sorted({seat.member_id for seat in seats})
    slugs = sorted({seat.room_slug for seat in seats})
    outcomes: list[Joined | HearthError] = []
    with transaction.atomic():
        # Locking the members serialises one member's sockets (the per-member limit); locking
        # the rooms gives the last free seat to exactly one of two racing members. Both in
        # id order, so two workers' batches cannot deadlock.
        members = {m.pk: m for m in Member.objects.select_for_update()
                   .filter(pk__in=member_ids).order_by("pk")}
        rooms = {r.slug: r for r in Room.objects.select_for_update()
                 .filter(slug__in=slugs, is_active=True).order_by("pk")}
        room_ids = {room.pk for room in rooms.values()}
        sockets_of: Counter[int] = Counter()
        here: set[tuple[int, int]] = set()
        present: defaultdict[int, set[int]] = defaultdict(set)  # members (not staff) per room
        for member_id, room_id, role in (
                fresh_connections().filter(Q(member_id__in=member_ids) | Q(room_id__in=room_ids))
                .values_list("member_id", "room_id", "member__role")):
            if member_id in members:
                sockets_of[member_id] += 1
                here.add((member_id, room_id))
            if room_id in room_ids and role == Role.MEMBER:
                present[room_id].add(member_id)
        now = timezone.now()
        new_rows: list[RoomConnection] = []
        for seat in seats:
            member, room = members.get(seat.member_id), rooms.get(seat.room_slug)
            if member is None:
                outcomes.append(HearthError(ErrorCode.UNAUTHENTICATED))
            elif room is None:
                outcomes.append(HearthError(ErrorCode.ROOM_NOT_FOUND))
            elif sockets_of[member.pk] >= limits.max_sockets_per_session:
                outcomes.append(HearthError(ErrorCode.TOO_MANY_CONNECTIONS))
            elif ((member.pk, room.pk) not in here
                  and not can(member, Action.JOIN_PAST_CAPACITY)
                  and len(present[room.pk]) >= room.capacity):
                outcomes.append(HearthError(ErrorCode.ROOM_FULL))
            else:
                sockets_of[member.pk] += 1
                here.add((member.pk, room.pk))
                if member.role == Role.MEMBER:
                    present[room.pk].add(member.pk)
                new_rows.append(RoomConnection(room=room, member=member,
                                               channel_name=seat.channel_name,
                                               worker_id=seat.worker_id, last_seen=now))
                outcomes.append(Joined(room=room, member=member))
        _insert_connections(new_rows)
    return outcomes


def _insert_connections(rows: list[RoomConnection]) -> None:
    # One plain multi-row statement: bulk_create's per-field compiling cost more than the
    # rest of a burst's join together (docs/benchmarks.md, "Fast path").
    if not rows:
        return
    table = connection.ops.quote_name(RoomConnection._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (room_id, member_id, channel_name, worker_id, "  # noqa: S608
            "connected_at, last_seen) VALUES (%s, %s, %s, %s, %s, %s)",
            [(row.room_id, row.member_id, row.channel_name, row.worker_id, adapt(now),
              adapt(row.last_seen)) for row in rows])


def leave_room(*, channel_name: str) -> None:
    RoomConnection.objects.filter(channel_name=channel_name).delete()


def refresh_worker_connections(*, worker_id: str) -> None:
    """One statement per heartbeat keeps all of a worker's sockets fresh; rows left by a
    worker that died age out and are removed here by whichever worker beats next."""
    now = timezone.now()
    RoomConnection.objects.filter(worker_id=worker_id).update(last_seen=now)
    stale_before = now - timedelta(seconds=chat_limits().stale_after_seconds)
    RoomConnection.objects.filter(last_seen__lt=stale_before).delete()


def claim_seqs(*, room_id: int, count: int) -> int | None:
    """The first of the room's next `count` message sequence numbers, or None if the room is
    gone or closed.

    Call inside the transaction that stores the messages (hearth/sequences.py says why the
    numbers are gap-free and in order); claim several rooms in ascending id order.
    """
    return claim_next(Room, pk=room_id, count=count, only_if={"is_active": True})
