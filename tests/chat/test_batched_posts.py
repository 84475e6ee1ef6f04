"""post_messages: many posts, one transaction, each with its own outcome."""

import pytest

from chat.errors import ErrorCode, HearthError
from chat.models import Member, Message
from chat.services import MessageBlockedError, PostRequest, PostResult, post_messages
from rooms.models import Room
from tests.factories import accept_room_rules, make_member, make_room

pytestmark = pytest.mark.django_db


def _request(member: Member, room: Room, client_id: str, body: str = "hello there"
             ) -> PostRequest:
    return PostRequest(member=member, room=room, client_id=client_id, body=body)


def _seq(outcome: PostResult | HearthError) -> int:
    assert isinstance(outcome, PostResult), outcome
    return outcome.message.seq


def test_a_batch_gets_gap_free_seqs_in_list_order_per_room():
    room, other = make_room(), make_room()
    a, b = make_member(), make_member()
    for member in (a, b):
        accept_room_rules(member, room)
        accept_room_rules(member, other)
    outcomes = post_messages([_request(a, room, "1"), _request(b, other, "2"),
                              _request(b, room, "3"), _request(a, other, "4"),
                              _request(a, room, "5")])
    assert [_seq(o) for o in outcomes] == [1, 1, 2, 2, 3]
    assert list(Message.objects.filter(room=room).order_by("seq")
                .values_list("client_id", flat=True)) == ["1", "3", "5"]
    room.refresh_from_db()
    assert room.last_seq == 3


def test_refusals_in_a_batch_cost_the_others_nothing():
    room, closed = make_room(), make_room(is_active=False)
    member, stranger = make_member(), make_member()  # the stranger never accepted the rules
    accept_room_rules(member, room)
    outcomes = post_messages([
        _request(member, room, "ok-1"),
        _request(stranger, room, "no-rules"),
        _request(member, room, "blocked", body="you are worthless, kys"),
        _request(member, closed, "closed"),
        _request(member, room, "ok-2"),
    ])
    assert _seq(outcomes[0]) == 1 and _seq(outcomes[4]) == 2
    assert isinstance(outcomes[1], HearthError)
    assert outcomes[1].code == ErrorCode.RULES_NOT_ACCEPTED
    assert isinstance(outcomes[2], MessageBlockedError)
    assert isinstance(outcomes[3], HearthError) and outcomes[3].code in (
        ErrorCode.ROOM_NOT_FOUND, ErrorCode.RULES_NOT_ACCEPTED)
    assert Message.objects.count() == 2


def test_the_same_client_id_twice_in_one_batch_is_one_message():
    room, member = make_room(), make_member()
    accept_room_rules(member, room)
    first, again = post_messages([_request(member, room, "same"),
                                  _request(member, room, "same")])
    assert isinstance(first, PostResult) and isinstance(again, PostResult)
    assert first.message.seq == again.message.seq == 1
    assert [first.created, again.created].count(True) == 1
    assert Message.objects.filter(client_id="same").count() == 1
    room.refresh_from_db()
    assert room.last_seq == 1


def test_an_author_erased_before_the_batch_is_refused_alone():
    room, member, ghost = make_room(), make_member(), make_member()
    accept_room_rules(member, room)
    accept_room_rules(ghost, room)
    Member.objects.filter(pk=ghost.pk).delete()
    outcomes = post_messages([_request(member, room, "a"), _request(ghost, room, "b"),
                              _request(member, room, "c")])
    assert [_seq(outcomes[0]), _seq(outcomes[2])] == [1, 2]
    assert isinstance(outcomes[1], HearthError)
    assert outcomes[1].code in (ErrorCode.MEMBER_ERASED, ErrorCode.RULES_NOT_ACCEPTED)


def test_an_empty_batch_stores_nothing():
    assert post_messages([]) == []
    assert Message.objects.count() == 0


def test_a_batch_costs_the_same_statements_whatever_its_size():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    room, other = make_room(), make_room()
    members = [make_member() for _ in range(3)]
    for member in members:
        accept_room_rules(member, room)
        accept_room_rules(member, other)
    post_messages([_request(m, r, f"warm-{m.pk}-{r.pk}") for m in members for r in (room, other)])

    def statements_for(size: int, tag: str) -> int:
        batch = [_request(members[i % 3], (room, other)[i % 2], f"{tag}-{i}") for i in range(size)]
        with CaptureQueriesContext(connection) as captured:
            outcomes = post_messages(batch)
        assert all(isinstance(o, PostResult) for o in outcomes)
        return len(captured)

    assert statements_for(2, "small") == statements_for(12, "large")
