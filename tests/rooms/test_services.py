from datetime import timedelta

import pytest
from django.utils import timezone

from chat.errors import ErrorCode, HearthError
from rooms.models import RoomConnection
from rooms.selectors import directory, room_presence, room_summary, rooms_presence
from rooms.services import claim_seqs, leave_room, refresh_worker_connections
from tests.factories import join_room, make_member, make_room, make_staff

pytestmark = pytest.mark.django_db


def join(room, member, n=0, worker="w1"):
    return join_room(room_slug=room.slug, member_id=member.pk,
                     channel_name=f"chan-{member.pk}-{n}", worker_id=worker)


def refused(room, member, n=0) -> ErrorCode:
    with pytest.raises(HearthError) as caught:
        join(room, member, n)
    return caught.value.code


def test_join_counts_presence_by_person_not_socket():
    room = make_room()
    member = make_member()
    join(room, member, 0)
    join(room, member, 1)
    presence = room_presence(room_id=room.pk)
    assert presence.count == 1 and presence.members == [{"handle": member.handle,
                                                         "role": "member"}]


def test_presence_of_several_rooms_is_read_in_one_query_and_matches_each_rooms_own(
        django_assert_num_queries):
    busy, quiet, empty = make_room(), make_room(), make_room()
    alice, bea = make_member(), make_member()
    join(busy, alice, 0)
    join(busy, alice, 1)
    join(busy, bea, 2)
    join(quiet, bea, 3)
    with django_assert_num_queries(1):
        present = rooms_presence(room_ids=[busy.pk, quiet.pk, empty.pk, 999_999])
    assert [present[r.pk].count for r in (busy, quiet, empty)] == [2, 1, 0]
    assert present[999_999].count == 0  # a room id nobody is in (or that is gone)
    for room in (busy, quiet, empty):
        assert present[room.pk] == room_presence(room_id=room.pk)
    assert [m["handle"] for m in present[busy.pk].members] == sorted([alice.handle, bea.handle])


def test_capacity_refuses_a_newcomer_but_not_a_second_tab_or_staff():
    room = make_room(capacity=1)
    first = make_member()
    join(room, first)
    assert refused(room, make_member()) == ErrorCode.ROOM_FULL
    join(room, first, 1)  # the same person in a second tab takes no new seat
    join(room, make_staff())


def test_socket_limit_per_member_across_rooms(settings):
    settings.HEARTH_MAX_SOCKETS_PER_SESSION = 2
    member = make_member()
    join(make_room(), member, 0)
    join(make_room(), member, 1)
    assert refused(make_room(), member, 2) == ErrorCode.TOO_MANY_CONNECTIONS


def test_unknown_inactive_room_and_missing_member_are_refused():
    member = make_member()
    assert refused(make_room(is_active=False), member) == ErrorCode.ROOM_NOT_FOUND
    with pytest.raises(HearthError) as caught:
        join_room(room_slug="nope", member_id=member.pk, channel_name="c", worker_id="w")
    assert caught.value.code == ErrorCode.ROOM_NOT_FOUND
    with pytest.raises(HearthError) as caught:
        join_room(room_slug=make_room().slug, member_id=999_999, channel_name="c", worker_id="w")
    assert caught.value.code == ErrorCode.UNAUTHENTICATED


def test_leave_frees_the_seat():
    room = make_room(capacity=1)
    first = make_member()
    join(room, first)
    leave_room(channel_name=f"chan-{first.pk}-0")
    join(room, make_member())


def test_connections_of_a_dead_worker_age_out(settings):
    settings.HEARTH_HEARTBEAT_SECONDS = 10
    room = make_room(capacity=1)
    join(room, make_member(), worker="dead")
    RoomConnection.objects.update(last_seen=timezone.now() - timedelta(seconds=31))
    assert room_presence(room_id=room.pk).count == 0
    join(room, make_member(), worker="alive")  # the stale seat is free again
    refresh_worker_connections(worker_id="alive")
    assert list(RoomConnection.objects.values_list("worker_id", flat=True)) == ["alive"]


def test_directory_filters_and_counts():
    depression = make_room(focus_area="depression", audience="veterans")
    make_room(focus_area="anxiety")
    join(depression, make_member())
    rooms = directory(focus_area="depression")
    assert [r.slug for r in rooms] == [depression.slug] and room_summary(rooms[0])["present"] == 1
    assert [r.slug for r in directory(audience="veterans")] == [depression.slug]
    assert directory(focus_area="grief") == []


def test_claim_seqs_hands_out_consecutive_numbers_and_returns_the_first():
    room = make_room()
    assert claim_seqs(room_id=room.pk, count=3) == 1
    assert claim_seqs(room_id=room.pk, count=1) == 4
    assert claim_seqs(room_id=room.pk, count=2) == 5
    room.refresh_from_db()
    assert room.last_seq == 6


def test_claim_seqs_gives_nothing_for_a_closed_or_missing_room():
    closed = make_room(is_active=False)
    assert claim_seqs(room_id=closed.pk, count=1) is None
    assert claim_seqs(room_id=closed.pk + 1000, count=1) is None
    closed.refresh_from_db()
    assert closed.last_seq == 0


@pytest.mark.parametrize("count", [0, -2])
def test_claim_seqs_refuses_to_claim_nothing(count):
    room = make_room()
    with pytest.raises(ValueError):
        claim_seqs(room_id=room.pk, count=count)
    room.refresh_from_db()
    assert room.last_seq == 0
