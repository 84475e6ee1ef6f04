"""Staff sign-in: wrong passwords limited per username, and staff sessions that end when idle."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.conf import settings

from chat.identity import SESSION_MEMBER_KEY
from chat.models import Member, Role
from chat.staff_login import (
    STAFF_SEEN_KEY,
    StaffSignInError,
    clear_failed_logins,
    login_refused,
    record_failed_login,
)
from tests.factories import make_staff, staff_username

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def _staff(role: Role = Role.PEER_SUPPORTER) -> tuple[Member, str]:
    staff = make_staff(role)
    username = staff_username(staff)
    clear_failed_logins(username=username)  # a shared Redis cache may remember an earlier run
    return staff, username


def _sign_in(client, username: str, password: str):
    return client.post("/staff/login/", {"username": username, "password": password})


def test_the_sixth_wrong_password_in_a_window_is_refused_with_a_clear_message(client):
    _staff_member, username = _staff()
    for _attempt in range(settings.HEARTH_STAFF_LOGIN_ATTEMPTS):
        response = _sign_in(client, username, "wrong-password")
        assert response.status_code == 200
        assert StaffSignInError.TOO_MANY_ATTEMPTS.message not in response.content.decode()
    response = _sign_in(client, username, "wrong-password")
    assert response.status_code == 200
    assert StaffSignInError.TOO_MANY_ATTEMPTS.message in response.content.decode()
    # The right password is refused too while the limit holds, with the same words.
    response = _sign_in(client, username, PASSWORD)
    assert StaffSignInError.TOO_MANY_ATTEMPTS.message in response.content.decode()
    assert client.session.get("_auth_user_id") is None


def test_the_limit_counts_per_username_and_ignores_case(client):
    _first, first = _staff()
    _second, second = _staff()
    for _attempt in range(settings.HEARTH_STAFF_LOGIN_ATTEMPTS):
        _sign_in(client, first.upper(), "wrong-password")
    assert login_refused(username=first)
    assert not login_refused(username=second)
    assert _sign_in(client, second, PASSWORD).status_code == 302


def test_the_limit_ends_with_its_window():
    _staff_member, username = _staff()
    now = time.time()
    window = settings.HEARTH_STAFF_LOGIN_WINDOW_SECONDS
    for _attempt in range(settings.HEARTH_STAFF_LOGIN_ATTEMPTS):
        record_failed_login(username=username, now=now)
    assert login_refused(username=username, now=now + window - 1)
    assert not login_refused(username=username, now=now + window)
    # A new window starts from the next wrong password, with a full allowance.
    record_failed_login(username=username, now=now + window)
    assert not login_refused(username=username, now=now + window)


def test_guesses_made_a_window_ago_do_not_block_the_right_password(client):
    _staff_member, username = _staff()
    long_ago = time.time() - settings.HEARTH_STAFF_LOGIN_WINDOW_SECONDS - 1
    for _attempt in range(settings.HEARTH_STAFF_LOGIN_ATTEMPTS):
        record_failed_login(username=username, now=long_ago)
    assert _sign_in(client, username, PASSWORD).status_code == 302


def test_a_right_password_before_the_limit_clears_the_count(client):
    _staff_member, username = _staff()
    for _attempt in range(settings.HEARTH_STAFF_LOGIN_ATTEMPTS - 1):
        _sign_in(client, username, "wrong-password")
    assert _sign_in(client, username, PASSWORD).status_code == 302
    client.post("/staff/logout/")
    for _attempt in range(settings.HEARTH_STAFF_LOGIN_ATTEMPTS - 1):
        _sign_in(client, username, "wrong-password")
    assert not login_refused(username=username)


def test_a_staff_session_expires_after_twelve_idle_hours(client):
    staff, username = _staff()
    assert _sign_in(client, username, PASSWORD).status_code == 302
    assert client.session.get_expiry_age() == 12 * 60 * 60
    assert client.session[SESSION_MEMBER_KEY] == staff.pk
    # Activity within the window keeps the session.
    session = client.session
    session[STAFF_SEEN_KEY] = time.time() - 11 * 60 * 60
    session.save()
    assert staff.handle in client.get("/").content.decode()
    assert client.session[STAFF_SEEN_KEY] > time.time() - 60  # pushed back by that visit
    # Twelve hours with nothing: the next request finds the staff member signed out.
    session = client.session
    session[STAFF_SEEN_KEY] = time.time() - 12 * 60 * 60 - 1
    session.save()
    response = client.get("/moderation/", follow=True)
    assert StaffSignInError.SESSION_IDLE.message in response.content.decode()
    assert client.session.get("_auth_user_id") is None
    assert client.session.get(SESSION_MEMBER_KEY) != staff.pk


def test_members_sessions_keep_their_own_expiry(client):
    client.get("/")
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE
    assert STAFF_SEEN_KEY not in client.session


def _staff_session(member, *, seen: float) -> str:
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_MEMBER_KEY] = member.pk
    store[STAFF_SEEN_KEY] = seen
    store.create()
    return str(store.session_key)


async def _staff_socket_frame(session_key: str) -> dict[str, Any]:
    import json

    from channels.testing import WebsocketCommunicator

    from hearth.asgi import application
    from tests.chat.test_consumers import ORIGIN

    communicator = WebsocketCommunicator(
        application, "/ws/staff/",
        headers=[(b"host", b"testserver"), (b"cookie", f"hearth_session={session_key}".encode()),
                 (b"origin", ORIGIN)])
    connected, _ = await communicator.connect()
    assert connected
    frame = json.loads(await communicator.receive_from(timeout=3))
    await communicator.disconnect()
    return frame


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_staff_socket_refuses_an_idle_staff_session():
    from channels.db import database_sync_to_async

    staff = await database_sync_to_async(make_staff)(Role.PEER_SUPPORTER)
    idle = await database_sync_to_async(_staff_session)(
        staff, seen=time.time() - settings.HEARTH_STAFF_IDLE_SECONDS - 1)
    frame = await _staff_socket_frame(idle)
    assert frame["type"] == "error" and frame["code"] == "unauthenticated"
    recent = await database_sync_to_async(_staff_session)(staff, seen=time.time() - 3600)
    frame = await _staff_socket_frame(recent)
    assert frame["type"] == "queue"
