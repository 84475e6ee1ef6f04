from datetime import timedelta

import pytest

from chat.identity import SESSION_MEMBER_KEY
from chat.models import Member, Role
from moderation.models import ReviewItem, ReviewState, SanctionKind
from moderation.services import hide_message, report_message, sanction_member
from tests.factories import make_member, make_room, make_staff, post_in_room

pytestmark = pytest.mark.django_db


@pytest.fixture
def hidden_message(client):
    client.post("/me/join/")
    author = Member.objects.get(pk=client.session[SESSION_MEMBER_KEY])
    room = make_room()
    message = post_in_room(member=author, room=room, client_id="a1", body="hello").message
    report = report_message(reporter=make_member(), room_id=room.pk, seq=message.seq,
                            reason="harassment", note="")
    item = ReviewItem.objects.get(message=message)
    moderator = make_staff(Role.MODERATOR)
    hide_message(moderator=moderator, item_id=item.pk, rule="respect", reason="")
    assert report.report_id
    return message, item, moderator


def test_you_page_lists_decisions_and_an_appeal_reopens_the_item(client, hidden_message):
    message, item, _moderator = hidden_message
    html = client.get("/me/").content.decode()
    assert "Hidden message" in html and 'name="message_id"' in html
    response = client.post("/me/appeal/", {"message_id": message.pk,
                                           "text": "I was quoting someone, not insulting."})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == ReviewState.OPEN
    assert item.appeal_note == "I was quoting someone, not insulting."
    client.post("/me/appeal/", {"message_id": message.pk, "text": "again"})
    assert "already asked" in client.get("/me/").content.decode()


def test_appeal_against_a_sanction_from_the_queue(client, hidden_message):
    hidden, _item, moderator = hidden_message
    author = hidden.author
    message = post_in_room(member=author, room=hidden.room, client_id="a2",
                           body="another one").message
    report_message(reporter=make_member(), room_id=message.room_id, seq=message.seq,
                   reason="spam", note="")
    item = ReviewItem.objects.get(message=message)
    sanction = sanction_member(moderator=moderator, member_id=author.pk,
                               kind=SanctionKind.TIMEOUT, rule="respect", reason="cool off",
                               room_id=message.room_id, duration=timedelta(hours=1),
                               item_id=item.pk)
    assert sanction.message_id == message.pk
    assert "Timeout" in client.get("/me/").content.decode()
    client.post("/me/appeal/", {"sanction_id": sanction.pk, "text": "Please look again."})
    item.refresh_from_db()
    assert item.state == ReviewState.OPEN and item.appeal_note == "Please look again."


@pytest.mark.parametrize("form", [
    {"text": "why", "message_id": 999999},
    {"text": "", "message_id": 1},
    {"text": "x" * 1001, "message_id": 1},
    {"text": "both", "message_id": 1, "sanction_id": 1},
    {"text": "neither"},
])
def test_bad_appeals_are_refused_without_reopening_anything(client, hidden_message, form):
    _message, item, _moderator = hidden_message
    response = client.post("/me/appeal/", form)
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == ReviewState.RESOLVED and item.appeal_note == ""


def test_a_member_cannot_appeal_someone_elses_hidden_message(client, hidden_message):
    message, item, _moderator = hidden_message
    from django.test import Client

    other = Client()
    other.post("/me/join/")
    other.post("/me/appeal/", {"message_id": message.pk, "text": "not mine"})
    item.refresh_from_db()
    assert item.state == ReviewState.RESOLVED
