"""What a member wrote is kept beside what others were shown (chat.models.Message
.original_body): its author and reviewing moderators read it, nobody else."""

from __future__ import annotations

import itertools

import pytest

from chat.selectors import frame_for_message
from chat.services import PostRequest, post_messages
from moderation import services as moderation
from moderation.models import AuditAction, AuditEntry, ReviewItem
from tests.factories import accept_room_rules, make_member, make_room, make_staff, post_in_room

pytestmark = pytest.mark.django_db

_ids = itertools.count(1)
PHONE_BODY = "call me on +44 7700 900123 tonight"


def test_a_masked_message_keeps_its_authors_words_and_shows_others_the_mask():
    author, reader = make_member(), make_member()
    room = make_room()
    message = post_in_room(member=author, room=room, client_id="o1", body=PHONE_BODY).message
    message.refresh_from_db()
    assert "•••" in message.body and "7700" not in message.body
    assert message.original_body == PHONE_BODY
    assert frame_for_message(message, viewer_id=author.pk)["body"] == PHONE_BODY
    assert "7700" in frame_for_message(message, viewer_id=author.pk)["html"]
    for view in (frame_for_message(message, viewer_id=reader.pk), frame_for_message(message)):
        assert "7700" not in view["body"] and "7700" not in view["html"]


def test_an_unmasked_message_stores_no_second_copy():
    message = post_in_room(member=make_member(), room=make_room(), client_id="o2",
                           body="lovely morning in the garden").message
    message.refresh_from_db()
    assert message.original_body == ""


def test_a_batch_stores_each_original_with_its_own_message():
    room = make_room()
    members = [make_member() for _ in range(3)]
    for member in members:
        accept_room_rules(member, room)
    bodies = [PHONE_BODY, "nothing to mask here", "mail me at someone@example.org"]
    results = post_messages([PostRequest(member=m, room=room, client_id=f"b{next(_ids)}",
                                         body=b) for m, b in zip(members, bodies, strict=True)])
    stored = [r.message for r in results]  # type: ignore[union-attr]
    for message in stored:
        message.refresh_from_db()
    assert [m.original_body for m in stored] == [PHONE_BODY, "", bodies[2]]


def test_a_moderator_reads_the_original_and_the_read_is_audited():
    message = post_in_room(member=make_member(), room=make_room(), client_id="o3",
                           body=PHONE_BODY).message
    item = ReviewItem.objects.create(message=message, signals=[])
    moderator = make_staff()
    read = moderation.read_original(moderator=moderator, item_id=item.pk)
    assert read.original_body == PHONE_BODY
    audit = AuditEntry.objects.get(action=AuditAction.READ_ORIGINAL)
    assert (audit.actor_id_ref, audit.message_id_ref) == (moderator.pk, message.pk)


def test_a_member_cannot_read_originals():
    from chat.errors import HearthError

    message = post_in_room(member=make_member(), room=make_room(), client_id="o4",
                           body=PHONE_BODY).message
    item = ReviewItem.objects.create(message=message, signals=[])
    with pytest.raises(HearthError):
        moderation.read_original(moderator=make_member(), item_id=item.pk)
    assert not AuditEntry.objects.filter(action=AuditAction.READ_ORIGINAL).exists()


def test_reading_an_unknown_item_is_message_not_found():
    from chat.errors import ErrorCode, HearthError

    with pytest.raises(HearthError) as refused:
        moderation.read_original(moderator=make_staff(), item_id=999_999)
    assert refused.value.code == ErrorCode.MESSAGE_NOT_FOUND
