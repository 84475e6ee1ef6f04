"""The "You" page's download of everything stored about the member, and "erase me", which
asks first (frontend.views.export_me and forget_me)."""

import json

import pytest
from django.test import Client

from chat.identity import SESSION_MEMBER_KEY
from chat.models import Member, Message, Role
from moderation.models import Report
from moderation.services import report_message
from tests.factories import make_room, make_staff, post_in_room, staff_username

pytestmark = pytest.mark.django_db

MINE = "Tonight feels a bit lighter than last week"
THEIRS = "Glad to hear it, thanks for sharing"


def _member(client: Client) -> Member:
    client.post("/me/join/")
    return Member.objects.get(pk=client.session[SESSION_MEMBER_KEY])


def test_the_download_is_the_members_own_data_as_an_attachment(client):
    room = make_room()
    me, other = _member(client), _member(Client())
    mine = post_in_room(member=me, room=room, client_id="m1", body=MINE).message
    theirs = post_in_room(member=other, room=room, client_id="t1", body=THEIRS).message
    report_message(reporter=me, room_id=room.pk, seq=theirs.seq, reason="spam", note="")
    report_message(reporter=other, room_id=room.pk, seq=mine.seq, reason="spam", note="")

    response = client.get("/me/export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="hearth-')
    assert response["Cache-Control"] == "no-store"
    export = json.loads(response.content)
    assert export["you"]["handle"] == me.handle
    assert [m["text"] for m in export["messages"][0]["messages"]] == [MINE]
    assert len(export["reports_made"]) == 1
    body = response.content.decode()
    assert other.handle not in body and THEIRS not in body
    assert client.post("/me/export/").status_code == 405  # a read, and only a read


def test_no_member_means_nothing_to_download(client):
    response = client.get("/me/export/")
    assert response.status_code == 404
    assert response.json() == {
        "detail": "Nothing is stored about you: you haven't got a handle yet."}
    assert not Member.objects.exists()  # asking made nobody


def test_the_you_page_offers_the_download_and_a_confirmation_before_erasing(client):
    _member(client)
    html = client.get("/me/").content.decode()
    assert 'href="/me/export/"' in html
    assert 'href="/me/forget/"' in html
    assert 'action="/me/forget/"' not in html  # no one-click erase on this page


def test_the_confirmation_page_says_what_will_go(client):
    room = make_room()
    me = _member(client)
    for n in range(2):
        post_in_room(member=me, room=room, client_id=f"m{n}", body=f"{MINE} {n}")
    html = client.get("/me/forget/").content.decode()
    assert me.handle in html
    assert "2 messages you wrote, in 1 room" in html
    assert "can't be undone" in html
    assert 'name="confirm"' in html and 'href="/me/export/"' in html


@pytest.mark.parametrize("form", [{}, {"confirm": ""}, {"confirm": "false"}])
def test_erasing_without_confirmation_is_refused_and_nothing_is_lost(client, form):
    room, me = make_room(), _member(client)
    post_in_room(member=me, room=room, client_id="m1", body=MINE)
    report_message(reporter=me, room_id=room.pk,
                   seq=post_in_room(member=_member(Client()), room=room, client_id="t1",
                                    body=THEIRS).message.seq, reason="spam", note="")
    response = client.post("/me/forget/", form)
    assert response.status_code == 400
    assert "Please tick the box to confirm. Nothing has been erased." in response.content.decode()
    assert Member.objects.filter(pk=me.pk).exists()
    assert Message.objects.filter(author=me).count() == 1
    assert Report.objects.filter(reporter=me).count() == 1
    assert client.session[SESSION_MEMBER_KEY] == me.pk


def test_erasing_with_confirmation_deletes_the_member_and_all_they_wrote(client):
    room, me = make_room(), _member(client)
    other = _member(Client())
    post_in_room(member=me, room=room, client_id="m1", body=MINE)
    post_in_room(member=other, room=room, client_id="t1", body=THEIRS)
    response = client.post("/me/forget/", {"confirm": "yes"})
    assert response.status_code == 302 and response.url == "/goodbye/"
    assert not Member.objects.filter(pk=me.pk).exists()
    assert list(Message.objects.values_list("body", flat=True)) == [THEIRS]  # theirs stays
    assert client.get("/me/export/").status_code == 404


def test_erasing_needs_csrf(client):
    strict = Client(enforce_csrf_checks=True)
    strict.post("/me/join/")
    assert strict.post("/me/forget/", {"confirm": "yes"}).status_code == 403
    assert Member.objects.count() == 1


def test_staff_are_told_an_administrator_removes_them(client):
    staff = make_staff(Role.PEER_SUPPORTER)  # signs in with a password alone
    client.post("/staff/login/", {"username": staff_username(staff),
                                  "password": "correct-horse-battery"})
    assert "removed by an administrator" in client.get("/me/forget/").content.decode()


def test_without_a_member_the_confirmation_page_says_nothing_is_stored(client):
    response = client.get("/me/forget/")
    assert response.status_code == 200
    assert "Nothing is stored about you" in response.content.decode()
    assert not Member.objects.exists()
