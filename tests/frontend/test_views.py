import re

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.test import Client

from chat.errors import ErrorCode
from chat.identity import SESSION_MEMBER_KEY
from chat.models import Member, Message, Role
from hearth.security import CONTENT_SECURITY_POLICY
from tests.factories import make_room, make_staff, post_in_room, staff_username
from tests.staff_auth import sign_in_staff

pytestmark = pytest.mark.django_db

SESSION_COOKIE = django_settings.SESSION_COOKIE_NAME


def test_a_page_view_without_a_cookie_makes_no_member_and_no_session(client):
    make_room(slug="low-days", focus_area="depression")
    for path in ("/", "/rooms/low-days/", "/me/", "/goodbye/", "/robots.txt"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert SESSION_COOKIE not in response.cookies, path
    assert not Member.objects.exists()
    assert not Session.objects.exists()
    assert "when you join a room" in client.get("/").content.decode()
    assert "your new handle" in client.get("/rooms/low-days/").content.decode()
    assert "haven't got a handle yet" in client.get("/me/").content.decode()


def test_joining_gives_an_anonymous_handle_without_signing_up(client):
    make_room(slug="low-days", focus_area="depression")
    response = client.post("/me/join/")
    assert response.status_code == 200
    member = Member.objects.get(pk=client.session[SESSION_MEMBER_KEY])
    assert response.json() == {"handle": member.handle, "role": "member"}
    assert member.handle in client.get("/").content.decode()
    assert member.handle in client.get("/rooms/low-days/").content.decode()
    assert client.post("/me/join/").json()["handle"] == member.handle  # same visitor, same handle
    assert Member.objects.count() == 1
    assert client.get("/me/join/").status_code == 405


def test_joining_is_limited_per_address_and_says_so(settings):
    settings.HEARTH_NEW_SESSIONS_PER_ADDRESS = 2
    address = "198.51.100.41"  # the test client's own, loopback, is a trusted proxy
    assert all(Client(REMOTE_ADDR=address).post("/me/join/").status_code == 200
               for _ in range(2))
    client = Client(REMOTE_ADDR=address)
    refused = client.post("/me/join/")
    assert refused.status_code == 429
    assert refused.json()["code"] == ErrorCode.TOO_MANY_NEW_SESSIONS
    assert "wait a few minutes" in refused.json()["detail"]
    assert int(refused.headers["Retry-After"]) > 0
    assert Member.objects.count() == 2 and SESSION_MEMBER_KEY not in client.session
    assert client.get("/").status_code == 200  # looking is never limited


def test_robots_txt_keeps_crawlers_out_of_rooms_and_own_pages(client):
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    rules = response.content.decode().splitlines()
    assert rules[0] == "User-agent: *"
    for path in ("/rooms/", "/me/", "/moderation/", "/staff/", "/admin/", "/ws/"):
        assert f"Disallow: {path}" in rules
    assert "Disallow: /" not in rules  # the directory may be listed


def test_directory_groups_by_focus_and_filters_by_hiding(client):
    make_room(slug="low-days", focus_area="depression")
    make_room(slug="vets", focus_area="trauma", audience="veterans")
    html = client.get("/?audience=veterans").content.decode()
    assert re.search(r'data-slug="low-days"[^>]*hidden', html)
    assert not re.search(r'data-slug="vets"[^>]*hidden', html)
    assert "Trauma" in html and "Depression" in html
    assert client.get("/?focus_area=bogus").status_code == 200  # unknown filter: show all


def test_every_page_has_a_strict_csp_without_inline_script(client):
    make_room(slug="r1")
    for path in ("/", "/rooms/r1/", "/me/", "/staff/login/", "/goodbye/"):
        response = client.get(path)
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "<script>" not in response.content.decode()


def test_room_page_and_missing_room(client):
    make_room(slug="r1")
    assert client.get("/rooms/r1/").status_code == 200
    assert client.get("/rooms/nope/").status_code == 404
    make_room(slug="closed", is_active=False)
    assert client.get("/rooms/closed/").status_code == 404


def test_change_handle_success_and_refusals(client):
    response = client.post("/me/", {"handle": ""})
    assert response.status_code == 400
    assert not Member.objects.exists()  # a refused choice makes nobody
    response = client.post("/me/", {"handle": "NightOwl"})
    assert response.status_code == 302
    assert Member.objects.get().handle == "NightOwl"
    response = client.post("/me/", {"handle": "text me on 07700 900123"})
    assert response.status_code == 400
    assert "contact details" in response.content.decode()
    response = client.post("/me/", {"handle": ""})
    assert response.status_code == 400
    assert Member.objects.get().handle == "NightOwl"


def test_change_handle_requires_csrf(client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.post("/me/join/")
    assert strict.post("/me/", {"handle": "NightOwl"}).status_code == 403


def test_forget_me_erases_member_and_messages_and_ends_the_session(client):
    client.post("/me/join/")
    member = Member.objects.get()
    post_in_room(member=member, room=make_room(), client_id="c1", body="mine")
    response = client.post("/me/forget/", {"confirm": "yes"})
    assert response.status_code == 302 and response.url == "/goodbye/"
    assert not Member.objects.filter(pk=member.pk).exists()
    assert not Message.objects.exists()
    assert SESSION_MEMBER_KEY not in client.session
    assert client.get("/goodbye/").status_code == 200
    assert Member.objects.count() == 0  # the goodbye page does not make a new member
    assert client.put("/me/forget/").status_code == 405


def test_staff_login_shows_handle_with_role_badge(client):
    staff = make_staff(Role.PEER_SUPPORTER)
    client.post("/me/join/")  # an anonymous member first
    anonymous_id = client.session[SESSION_MEMBER_KEY]
    response = client.post("/staff/login/", {"username": staff_username(staff),
                                             "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert client.session[SESSION_MEMBER_KEY] == staff.pk
    assert not Member.objects.filter(pk=anonymous_id).exists()  # wrote nothing, left nothing
    html = client.get("/").content.decode()
    assert staff.handle in html and "Peer supporter" in html
    assert "Erase me" not in client.get("/me/").content.decode()


def test_staff_login_with_wrong_password_is_refused(client):
    staff = make_staff()
    response = client.post("/staff/login/", {"username": staff_username(staff), "password": "no"})
    assert response.status_code == 200
    assert client.session.get("_auth_user_id") is None


def test_a_login_keeps_the_anonymous_member_who_wrote_something(client):
    staff = make_staff()
    client.post("/me/join/")
    writer = Member.objects.get(pk=client.session[SESSION_MEMBER_KEY])
    post_in_room(member=writer, room=make_room(), client_id="k", body="kept")
    sign_in_staff(client, staff)
    assert client.session[SESSION_MEMBER_KEY] == staff.pk
    assert Message.objects.filter(author=writer).exists()


def test_health_endpoints(client, monkeypatch, settings):
    from moderation import model_reader as reader_module

    settings.HEARTH_SCREENING_MODEL = True
    reader = reader_module.ModelReader()
    monkeypatch.setattr(reader_module, "model_reader", reader)
    monkeypatch.setattr("hearth.health.model_reader", reader)
    assert client.get("/healthz").json() == {"status": "ok"}
    assert reader.load() == reader_module.ModelState.READY
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert (body["status"], body["database"], body["channel_layer"]) == ("ok", "ok", "ok")
    assert body["screening_model"]["state"] == "ready"


def test_readiness_says_degraded_while_the_rules_screen_alone(client, monkeypatch, settings):
    from moderation import model_reader as reader_module

    settings.HEARTH_SCREENING_MODEL = True
    settings.HEARTH_SCREENING_MODEL_DIR = "/nonexistent/model"
    reader = reader_module.ModelReader()
    monkeypatch.setattr("hearth.health.model_reader", reader)
    assert reader.load() == reader_module.ModelState.UNAVAILABLE
    ready = client.get("/readyz")
    # Still ready: the rules screen every message; a monitor sees "degraded" and why.
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "degraded"
    assert body["screening_model"]["state"] == "unavailable"
    assert body["screening_model"]["reason"]


def test_readiness_with_the_model_turned_off_is_ok(client, monkeypatch, settings):
    from moderation import model_reader as reader_module

    settings.HEARTH_SCREENING_MODEL = False
    reader = reader_module.ModelReader()
    monkeypatch.setattr("hearth.health.model_reader", reader)
    assert reader.load() == reader_module.ModelState.OFF
    body = client.get("/readyz").json()
    assert (body["status"], body["screening_model"]["state"]) == ("ok", "off")
