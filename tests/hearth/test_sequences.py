"""hearth/sequences.py: the one counter rooms and take-asides number their messages with."""

import pytest
from django.db import transaction

from hearth.sequences import claim_next
from rooms.models import Room
from tests.factories import make_room

pytestmark = pytest.mark.django_db(transaction=True)


def test_claims_follow_on_without_gaps():
    room = make_room(slug="lounge")
    assert claim_next(Room, pk=room.pk, count=3) == 1
    assert claim_next(Room, pk=room.pk) == 4
    room.refresh_from_db()
    assert room.last_seq == 4


def test_a_rolled_back_claim_gives_its_numbers_back():
    room = make_room(slug="lounge")
    claimed: list[int | None] = []

    def claim_then_fail() -> None:
        with transaction.atomic():
            claimed.append(claim_next(Room, pk=room.pk, count=2))
            raise RuntimeError("the write failed")

    with pytest.raises(RuntimeError):
        claim_then_fail()
    assert claimed == [1]
    assert claim_next(Room, pk=room.pk) == 1


def test_no_row_or_a_condition_unmet_claims_nothing():
    closed = make_room(slug="closed", is_active=False)
    assert claim_next(Room, pk=closed.pk, only_if={"is_active": True}) is None
    assert claim_next(Room, pk=10**9) is None
    closed.refresh_from_db()
    assert closed.last_seq == 0


@pytest.mark.parametrize("count", [0, -1])
def test_a_claim_of_nothing_is_refused(count):
    room = make_room(slug="lounge")
    with pytest.raises(ValueError, match="at least one"):
        claim_next(Room, pk=room.pk, count=count)


def test_a_condition_on_something_not_a_column_is_refused():
    room = make_room(slug="lounge")
    with pytest.raises(TypeError):
        claim_next(Room, pk=room.pk, only_if={"messages": 1})
