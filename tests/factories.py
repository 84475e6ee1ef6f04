"""Test data made through the real services, as production makes it."""

from __future__ import annotations

import itertools

from chat.errors import HearthError
from chat.models import Member, Role
from chat.services import PostResult, add_staff, create_anonymous_member, post_message
from rooms.models import Audience, FocusArea, HostedSession, Room, RoomKind
from rooms.services import Joined, Seat, join_rooms

_counter = itertools.count(1)


def make_room(*, slug: str | None = None, capacity: int = 40, is_active: bool = True,
              focus_area: str = FocusArea.GENERAL, audience: str = Audience.EVERYONE,
              kind: str = RoomKind.ALWAYS_OPEN, staffed_only: bool = False) -> Room:
    n = next(_counter)
    return Room.objects.create(
        slug=slug or f"room-{n}", title=f"Room {n}", description="A test room.",
        focus_area=focus_area, audience=audience, kind=kind, capacity=capacity,
        is_active=is_active, staffed_only=staffed_only)


def make_member() -> Member:
    return create_anonymous_member()


def make_staff(role: Role = Role.MODERATOR) -> Member:
    n = next(_counter)
    return add_staff(username=f"staff{n}", password="correct-horse-battery", role=role)


def staff_username(member: Member) -> str:
    if member.user is None:
        raise AssertionError("not a staff member")
    return member.user.get_username()


def accept_room_rules(member: Member, room: Room) -> None:
    from moderation.rules import accept_rules, rules_version

    accept_rules(member_id=member.pk, room_id=room.pk, version=rules_version(room_id=room.pk))


def post_in_room(*, member: Member, room: Room, client_id: str, body: str,
                 recent_bodies: tuple[str, ...] = ()) -> PostResult:
    """Post as a member who has accepted the room's ground rules (as the UI makes them)."""
    accept_room_rules(member, room)
    return post_message(member=member, room=room, client_id=client_id, body=body,
                        recent_bodies=recent_bodies)


def make_session(*, room: Room | None = None, host: Member | None = None,
                 co_hosts: tuple[Member, ...] = (), live: bool = False,
                 minutes_ago: int = 5, share_seconds: int | None = None) -> HostedSession:
    """A one-off hosted session (UTC) that started `minutes_ago` and lasts an hour, made
    with the scheduling service; `live=True` also starts it as its host does."""
    from datetime import timedelta

    from django.utils import timezone

    from rooms.models import Recurrence, SessionTemplate
    from rooms.schedule import schedule_session
    from rooms.sessions import start

    room = room or make_room(kind=RoomKind.HOSTED)
    host = host or make_staff(Role.PEER_SUPPORTER)
    begins = timezone.now() - timedelta(minutes=minutes_ago)
    session = schedule_session(
        room=room, title=f"Circle {next(_counter)}", host=host, time_zone="UTC",
        first_date=begins.date(), start_time=begins.time().replace(microsecond=0),
        recurrence=Recurrence.ONCE, co_hosts=co_hosts,
        template=SessionTemplate.objects.order_by("pk").first())
    if live:
        start(host=host, room_id=room.pk)
    if share_seconds is not None:  # after start, which takes the template's
        HostedSession.objects.filter(pk=session.pk).update(share_seconds=share_seconds)
    session.refresh_from_db()
    return session


def join_room(*, room_slug: str, member_id: int, channel_name: str,
              worker_id: str = "w1") -> Joined:
    """One socket's seat, as a burst of one (rooms.services.join_rooms)."""
    [outcome] = join_rooms([Seat(room_slug=room_slug, member_id=member_id,
                                 channel_name=channel_name, worker_id=worker_id)])
    if isinstance(outcome, HearthError):
        raise outcome
    return outcome
