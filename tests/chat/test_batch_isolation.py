"""The worker's post batches against a real database: a post the database refuses costs the
other posts of its batch nothing (issue 14: one bad post used to fail its whole batch)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from channels.db import database_sync_to_async

from chat.batching import BatchWriter
from chat.errors import HearthError
from chat.models import Member, Message
from chat.services import PostRequest, PostResult, post_messages
from rooms.models import Room
from tests.factories import accept_room_rules, make_member, make_room

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def _members_in_a_room(count: int) -> tuple[Room, list[Member]]:
    room = make_room()
    members = [make_member() for _ in range(count)]
    for member in members:
        accept_room_rules(member, room)
    return room, members


async def test_one_post_the_database_refuses_fails_alone_and_the_rest_are_stored():
    room, members = await database_sync_to_async(_members_in_a_room)(6)
    batch_sizes: list[int] = []

    def post_and_count(requests: Sequence[PostRequest]) -> list[PostResult | HearthError]:
        batch_sizes.append(len(requests))
        return post_messages(requests)

    writer = BatchWriter(post_and_count)
    # Past the parser (which refuses it) a lone surrogate reaches the database driver,
    # which cannot encode it: the batch's one statement fails.
    bodies = ["hello", "hi all", "alone \ud800", "good evening", "thank you", "me too"]
    requests = [PostRequest(member=member, room=room, client_id=f"c{n}", body=body)
                for n, (member, body) in enumerate(zip(members, bodies, strict=True))]
    outcomes = await asyncio.gather(*(writer.submit(r) for r in requests),
                                    return_exceptions=True)

    assert batch_sizes == [6, 1, 1, 1, 1, 1, 1]  # one batch, then each post alone
    assert isinstance(outcomes[2], UnicodeError)
    stored = [o for i, o in enumerate(outcomes) if i != 2]
    assert all(isinstance(o, PostResult) and o.created for o in stored), stored
    assert sorted(o.message.seq for o in stored) == [1, 2, 3, 4, 5]  # type: ignore[union-attr]
    in_database = await database_sync_to_async(lambda: sorted(
        Message.objects.filter(room=room).values_list("client_id", flat=True)))()
    assert in_database == ["c0", "c1", "c3", "c4", "c5"]
