"""Reads for rooms: the directory and who is present."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from chat.limits import chat_limits
from rooms.models import HostedSession, Room, RoomConnection, SessionState

PRESENCE_LIST_MAX = 100


def _fresh_since() -> Any:
    return timezone.now() - timedelta(seconds=chat_limits().stale_after_seconds)


def fresh_connections() -> QuerySet[RoomConnection]:
    return RoomConnection.objects.filter(last_seen__gte=_fresh_since())


@dataclass(frozen=True)
class Presence:
    count: int
    members: list[dict[str, str]]  # handle and role, at most PRESENCE_LIST_MAX

    def as_frame_field(self) -> dict[str, Any]:
        return {"count": self.count, "members": self.members}


def room_presence(*, room_id: int) -> Presence:
    return rooms_presence(room_ids=[room_id])[room_id]


def rooms_presence(*, room_ids: list[int]) -> dict[int, Presence]:
    """Who is present in each of these rooms (each person once, however many sockets), read
    in one query: a burst of joins changes many rooms' presence at once."""
    members: dict[int, list[dict[str, str]]] = {room_id: [] for room_id in room_ids}
    rows = (fresh_connections().filter(room_id__in=room_ids)
            .values("room_id", "member_id", "member__handle", "member__role")
            .distinct().order_by("room_id", "member__handle"))
    for row in rows:
        members[row["room_id"]].append({"handle": row["member__handle"],
                                        "role": row["member__role"]})
    return {room_id: Presence(count=len(present), members=present[:PRESENCE_LIST_MAX])
            for room_id, present in members.items()}


def directory(*, focus_area: str | None = None, audience: str | None = None,
              kind: str | None = None) -> list[Room]:
    """Active rooms with `present`: how many different people are in each right now."""
    rooms = Room.objects.filter(is_active=True)
    if focus_area:
        rooms = rooms.filter(focus_area=focus_area)
    if audience:
        rooms = rooms.filter(audience=audience)
    if kind:
        rooms = rooms.filter(kind=kind)
    return list(rooms.annotate(present=Count(
        "connections__member", filter=Q(connections__last_seen__gte=_fresh_since()),
        distinct=True,
    )))


def room_summary(room: Room) -> dict[str, Any]:
    return {
        "slug": room.slug,
        "title": room.title,
        "description": room.description,
        "focus_area": room.focus_area,
        "focus_area_label": room.get_focus_area_display(),
        "audience": room.audience,
        "audience_label": room.get_audience_display(),
        "kind": room.kind,
        "capacity": room.capacity,
        "staffed_only": room.staffed_only,
        "url": room.get_absolute_url(),
        **({"present": room.present} if hasattr(room, "present") else {}),
    }


def live_session(*, room_id: int) -> HostedSession | None:
    return (HostedSession.objects.filter(room_id=room_id, state=SessionState.LIVE)
            .select_related("host", "template", "sharer", "room").first())


def host_ids(session: HostedSession) -> set[int]:
    """The session's host and co-hosts."""
    return {session.host_id, *session.co_hosts.values_list("pk", flat=True)}
