"""selectors.copies: the one rule of what each side of a room sees of a message, the same for
the live fan-out and for history."""

import pytest

from chat.models import Message, MessageStatus
from chat.selectors import copies, frame_for_message
from tests.factories import make_member, make_room, post_in_room

pytestmark = pytest.mark.django_db


def _posted(body: str) -> Message:
    result = post_in_room(member=make_member(), room=make_room(), client_id="c1", body=body)
    return Message.objects.select_related("author", "room").get(pk=result.message.pk)


def test_a_plain_message_reads_the_same_for_everyone():
    message = _posted("good evening everyone")
    seen = copies(message)
    assert seen.same_for_all and seen.others == seen.author
    assert seen.author["body"] == "good evening everyone"


def test_masked_words_the_room_reads_masked_and_the_author_as_written():
    message = _posted("text me on 07700 900123 later")
    assert message.original_body
    seen = copies(message)
    assert not seen.same_for_all and seen.others is not None
    assert "07700 900123" in seen.author["body"]
    assert "07700 900123" not in seen.others["body"]
    other = make_member()
    assert frame_for_message(message, viewer_id=other.pk) == seen.others  # history agrees


@pytest.mark.parametrize("status", [MessageStatus.HELD, MessageStatus.HIDDEN])
def test_held_or_hidden_only_its_author_has_a_copy(status):
    message = _posted("something for a moderator")
    message.status = status
    seen = copies(message)
    assert seen.others is None and not seen.same_for_all
    assert seen.author["status"] == status


def test_collapsed_the_room_gets_the_placeholder():
    message = _posted("something with details")
    message.status = MessageStatus.COLLAPSED
    seen = copies(message)
    assert seen.others is not None and seen.others["collapsed"] is True
    assert seen.others["body"] == "" and seen.author["body"] == "something with details"
    assert frame_for_message(message, viewer_id=make_member().pk) == seen.others
