"""The hand-written statements behind a batch of posts, on whichever database runs."""

import threading
import time

import pytest
from django.db import IntegrityError, connection, transaction

from chat.models import Message
from chat.services import post_message
from chat.statements import Draft, claim_and_insert_together, insert_messages, senders
from rooms.models import Room
from tests.factories import accept_room_rules, make_member, make_room

pytestmark = pytest.mark.django_db


def _draft(room, author, client_id, body="hello"):
    return Draft(room=room, author=author, client_id=client_id, body=body,
                 html=f"<p>{body}</p>", status="visible")


def test_senders_names_present_members_and_only_the_retries_asked_about():
    room = make_room()
    poster, quiet = make_member(), make_member()
    accept_room_rules(poster, room)
    stored = post_message(member=poster, room=room, client_id="c-1", body="first").message
    post_message(member=poster, room=room, client_id="c-2", body="second")
    gone = make_member()
    gone_id = gone.pk
    gone.delete()

    found = senders([(poster.pk, "c-1"), (quiet.pk, "c-2"), (gone_id, "c-1"),
                     (poster.pk, "c-new")])

    assert found.present == {poster.pk, quiet.pk}
    # quiet never sent c-2 (poster did), and c-2 of poster's was not asked about
    assert found.retried == {(poster.pk, "c-1"): stored.pk}


def test_senders_of_nothing_asks_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        found = senders([])
    assert found.present == set() and found.retried == {}


def test_insert_messages_returns_instances_in_order_with_their_ids(django_assert_num_queries):
    room, other = make_room(), make_room()
    a, b = make_member(), make_member()
    rows = [(_draft(other, a, "x", "one"), 7), (_draft(room, b, "y", "two"), 3),
            (_draft(room, a, "z", "three"), 4)]

    with django_assert_num_queries(1):
        messages = insert_messages(rows)

    assert [(m.room_id, m.seq, m.client_id) for m in messages] == [
        (other.pk, 7, "x"), (room.pk, 3, "y"), (room.pk, 4, "z")]
    for message in messages:
        from_db = Message.objects.get(pk=message.pk)
        assert (from_db.body, from_db.html, from_db.author_id, from_db.seq) == (
            message.body, message.html, message.author_id, message.seq)
        assert from_db.created_at == message.created_at
    assert insert_messages([]) == []


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="claim_and_insert_together is PostgreSQL's (the suite's PostgreSQL pass runs it)")


@postgresql_only
def test_together_claims_in_list_order_per_room_in_one_round_trip(django_assert_num_queries):
    room, other, third = make_room(), make_room(), make_room()
    a, b = make_member(), make_member()
    drafts = [_draft(third, a, "1"), _draft(room, a, "2"), _draft(third, b, "3"),
              _draft(other, b, "4"), _draft(room, b, "5")]

    with django_assert_num_queries(1):
        messages = claim_and_insert_together(drafts)

    assert [(m.room_id, m.seq, m.client_id) for m in messages if m is not None] == [
        (third.pk, 1, "1"), (room.pk, 1, "2"), (third.pk, 2, "3"), (other.pk, 1, "4"),
        (room.pk, 2, "5")]
    for message in messages:
        assert message is not None
        assert Message.objects.get(pk=message.pk).seq == message.seq
    assert [r.last_seq for r in Room.objects.filter(pk__in=[room.pk, other.pk, third.pk])
            .order_by("pk")] == [2, 1, 2]
    assert claim_and_insert_together([]) == []


@postgresql_only
def test_together_stores_nothing_in_a_closed_room_and_the_rest_regardless():
    room, closed = make_room(), make_room(is_active=False)
    author = make_member()
    messages = claim_and_insert_together([_draft(closed, author, "x"), _draft(room, author, "y"),
                                          _draft(closed, author, "z")])
    assert messages[0] is None and messages[2] is None
    assert messages[1] is not None and messages[1].seq == 1
    closed.refresh_from_db()
    assert closed.last_seq == 0
    assert not Message.objects.filter(room=closed).exists()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_together_is_all_or_nothing_without_a_transaction_around_it():
    room, other = make_room(), make_room()
    author = make_member()
    claim_and_insert_together([_draft(room, author, "taken")])
    assert not connection.in_atomic_block

    with pytest.raises(IntegrityError):  # "taken" again: the author's client_id is unique
        claim_and_insert_together([_draft(other, author, "new"), _draft(room, author, "taken")])

    assert list(Message.objects.values_list("client_id", flat=True)) == ["taken"]
    room.refresh_from_db()
    other.refresh_from_db()
    assert (room.last_seq, other.last_seq) == (1, 0)  # the claims went back with the insert


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_writers_claiming_the_same_rooms_in_opposite_orders_never_deadlock():
    # A third transaction holds the first room, so both writers are under way at once: one
    # waits for the first room; the other, had it claimed the second room first, would hold
    # it while waiting too, and the first writer would then wait for it: a deadlock.
    first, second = make_room(), make_room()
    authors = [make_member(), make_member()]
    failures: list[BaseException] = []
    release = threading.Event()
    holding = threading.Event()

    def hold_the_first_room():
        try:
            with transaction.atomic():
                Room.objects.select_for_update().get(pk=first.pk)
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    def write(author, rooms, tag):
        try:
            claim_and_insert_together([_draft(r, author, f"{tag}-{i}")
                                       for i, r in enumerate(rooms)])
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_first_room)
    holder.start()
    assert holding.wait(timeout=30)
    writers = [threading.Thread(target=write, args=(authors[0], (first, second), "a")),
               threading.Thread(target=write, args=(authors[1], (second, first), "b"))]
    for waiting, thread in enumerate(writers, start=1):
        thread.start()
        _wait_for_lock_waiters(waiting)  # "a" first in the queue for the first room
    release.set()
    for thread in (holder, *writers):
        thread.join(timeout=30)
    assert failures == []
    for room in (first, second):
        assert list(Message.objects.filter(room=room).order_by("seq")
                    .values_list("seq", flat=True)) == [1, 2]


def _wait_for_lock_waiters(count: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND wait_event_type = 'Lock'")
            row = cursor.fetchone()
        if row is not None and row[0] >= count:
            return
        time.sleep(0.02)
    raise AssertionError(f"{count} writers never waited for the room lock")
