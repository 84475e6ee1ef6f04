"""join_sockets: a burst of joins in one batch keeps every per-socket rule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore

from chat.errors import ErrorCode, HearthError
from chat.identity import SESSION_MEMBER_KEY
from chat.joins import REGION_SESSION_KEY, JoinRequest, join_sockets
from chat.models import Member
from moderation import services as moderation
from moderation.models import SanctionKind
from rooms.models import RoomConnection
from tests.factories import make_member, make_room, make_staff

pytestmark = pytest.mark.django_db

_channels = iter(range(10**6))


def _session(member: Member | None, **values: Any) -> SessionStore:
    store = SessionStore()
    if member is not None:
        store[SESSION_MEMBER_KEY] = member.pk
    for key, value in values.items():
        store[key] = value
    store.create()
    return SessionStore(session_key=store.session_key)  # not loaded yet, as a socket has it


def _request(session: SessionStore, slug: str, language: str = "en-GB") -> JoinRequest:
    return JoinRequest(session=session, room_slug=slug, channel_name=f"c{next(_channels)}",
                       headers=[(b"accept-language", language.encode())], worker_id="w1")


def _code(outcome: dict[str, Any] | HearthError) -> str:
    return outcome.code if isinstance(outcome, HearthError) else "joined"


def test_a_batch_welcomes_each_socket_with_its_own_member_and_room():
    room_a, room_b = make_room(), make_room()
    a, b = make_member(), make_member()
    outcomes = join_sockets([_request(_session(a), room_a.slug),
                             _request(_session(b, **{REGION_SESSION_KEY: "US"}), room_b.slug,
                                      language="de-DE")])
    first, second = outcomes
    assert isinstance(first, dict) and isinstance(second, dict)
    assert first["welcome"]["you"]["handle"] == a.handle
    assert first["welcome"]["room"]["slug"] == room_a.slug
    assert second["welcome"]["room"]["slug"] == room_b.slug
    assert second["region"] == "US"  # chosen beats the browser's language
    assert first["welcome"]["presence"]["count"] == 1
    assert RoomConnection.objects.count() == 2


def test_capacity_holds_within_one_batch_and_staff_are_not_counted():
    room = make_room(capacity=2)
    members = [make_member() for _ in range(3)]
    staff = make_staff()
    outcomes = join_sockets([_request(_session(m), room.slug) for m in members]
                            + [_request(_session(staff), room.slug)])
    assert [_code(o) for o in outcomes] == ["joined", "joined", ErrorCode.ROOM_FULL, "joined"]
    assert RoomConnection.objects.filter(room=room).count() == 3


def test_a_second_socket_of_a_member_already_seated_is_not_counted_twice():
    room = make_room(capacity=1)
    member = make_member()
    outcomes = join_sockets([_request(_session(member), room.slug),
                             _request(_session(member), room.slug)])
    assert [_code(o) for o in outcomes] == ["joined", "joined"]


def test_the_per_member_socket_limit_holds_within_one_batch(settings):
    settings.HEARTH_MAX_SOCKETS_PER_SESSION = 2
    member, room = make_member(), make_room()
    outcomes = join_sockets([_request(_session(member), room.slug) for _ in range(3)])
    assert [_code(o) for o in outcomes] == ["joined", "joined", ErrorCode.TOO_MANY_CONNECTIONS]


def test_bad_sessions_rooms_and_bans_are_refused_alone():
    room, closed = make_room(), make_room(is_active=False)
    member, banned, erased = make_member(), make_member(), make_member()
    moderation.sanction_member(moderator=make_staff(), member_id=banned.pk,
                               kind=SanctionKind.BAN, rule="respect", reason="Name-calling",
                               room_id=room.pk, duration=None)
    erased_session = _session(erased)
    Member.objects.filter(pk=erased.pk).delete()
    expired = SessionStore()
    expired[SESSION_MEMBER_KEY] = member.pk
    expired.set_expiry(timedelta(seconds=-1))
    expired.create()
    outcomes = join_sockets([
        _request(_session(None), room.slug),                      # never visited a page
        _request(SessionStore(session_key="no-such-key"), room.slug),
        _request(SessionStore(session_key=expired.session_key), room.slug),
        _request(erased_session, room.slug),
        _request(_session(member), closed.slug),
        _request(_session(member), "no-such-room"),
        _request(_session(banned), room.slug),
        _request(_session(member), room.slug),
    ])
    assert [_code(o) for o in outcomes] == [
        ErrorCode.UNAUTHENTICATED, ErrorCode.UNAUTHENTICATED, ErrorCode.UNAUTHENTICATED,
        ErrorCode.UNAUTHENTICATED, ErrorCode.ROOM_NOT_FOUND, ErrorCode.ROOM_NOT_FOUND,
        ErrorCode.BANNED, "joined"]
    # The banned member's seat was given back; only the last socket holds one.
    assert list(RoomConnection.objects.values_list("member_id", flat=True)) == [member.pk]


def test_an_empty_batch_is_nothing():
    assert join_sockets([]) == []


def test_a_batch_costs_the_same_queries_whatever_its_rooms_and_each_welcome_is_right():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rooms = [make_room() for _ in range(6)]
    for room in rooms:  # read once and cached: the rules, as every later join finds them
        join_sockets([_request(_session(make_member()), room.slug)])

    def joined(count: int) -> tuple[list[dict[str, Any] | HearthError], int]:
        batch = [_request(_session(make_member()), rooms[i].slug) for i in range(count)]
        with CaptureQueriesContext(connection) as captured:
            outcomes = join_sockets(batch)
        return outcomes, len(captured)

    _, two_queries = joined(2)
    six, six_queries = joined(6)
    assert six_queries == two_queries
    for outcome, room in zip(six, rooms, strict=True):
        assert isinstance(outcome, dict)
        welcome = outcome["welcome"]
        assert welcome["room"]["slug"] == room.slug
        # The earlier member, the one from the two-socket batch (first two rooms), and this one.
        assert welcome["presence"]["count"] == (3 if room in rooms[:2] else 2)
