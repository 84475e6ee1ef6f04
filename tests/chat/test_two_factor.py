"""The staff second factor: who needs it, enrolment, codes from the app and recovery codes,
and the places that refuse a moderator without one (the dashboard, the admin, the socket)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils.html import escape
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from chat.identity import SESSION_MEMBER_KEY
from chat.models import Role
from chat.staff_login import StaffSignInError
from chat.two_factor import TwoFactorProblem, requires_second_factor
from tests.factories import make_staff, staff_username
from tests.staff_auth import PASSWORD, Authenticator, enrol, sign_in_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_wait_between_codes(settings):
    # django-otp makes a device wait 1, 2, 4... seconds after a wrong code; these tests send a
    # right code straight after a wrong one on purpose. The waiting has its own test below.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def _password(client, staff):
    return client.post("/staff/login/", {"username": staff_username(staff), "password": PASSWORD})


def _says(response, problem: TwoFactorProblem | StaffSignInError) -> bool:
    return escape(problem.message) in response.content.decode()


def _signed_in_as(client) -> int | None:
    return client.session.get(SESSION_MEMBER_KEY)


def _user(role: Role):
    user = make_staff(role).user
    assert user is not None
    return user


def test_who_needs_a_second_factor(settings):
    assert requires_second_factor(_user(Role.MODERATOR))
    assert requires_second_factor(_user(Role.ADMIN))
    peer = _user(Role.PEER_SUPPORTER)
    assert not requires_second_factor(peer)
    settings.HEARTH_TWO_FACTOR_FOR_PEER_SUPPORTERS = True
    assert requires_second_factor(peer)


def test_a_password_alone_signs_no_moderator_in(client):
    moderator = make_staff(Role.MODERATOR)
    response = _password(client, moderator)
    assert response.status_code == 302 and response["Location"] == "/staff/two-factor/setup/"
    assert client.session.get("_auth_user_id") is None
    assert _signed_in_as(client) != moderator.pk
    assert client.get("/moderation/").status_code == 403
    assert client.get("/admin/").status_code == 302  # to the sign-in page


def test_enrolment_shows_a_qr_code_and_a_key_then_recovery_codes_once(client):
    moderator = make_staff(Role.MODERATOR)
    _password(client, moderator)
    page = client.get("/staff/two-factor/setup/")
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and 'id="manual-key"' in html
    assert "<script" not in html.split("<main", 1)[1]  # drawn on the server, nothing inline
    app = Authenticator.from_setup_page(html)
    # A reload shows the same key, so a phone that scanned it still matches.
    assert Authenticator.from_setup_page(client.get("/staff/two-factor/setup/")
                                         .content.decode()).key_hex == app.key_hex
    wrong = client.post("/staff/two-factor/setup/", {"code": "000000"
                                                     if app.code_at(0) != "000000" else "1"})
    assert wrong.status_code == 400
    assert _says(wrong, TwoFactorProblem.WRONG_CODE)
    done = client.post("/staff/two-factor/setup/", {"code": app.next_code()})
    assert done.status_code == 200
    codes = StaticToken.objects.filter(device__user=moderator.user)
    assert codes.count() == 10
    assert all(token.token in done.content.decode() for token in codes)
    assert _signed_in_as(client) == moderator.pk
    assert client.get("/moderation/").status_code == 200
    # Only once: the setup page does not come back, and a new password sign-in asks a code.
    client.post("/staff/logout/")
    assert _password(client, moderator)["Location"] == "/staff/two-factor/"
    assert client.get("/staff/two-factor/setup/")["Location"] == "/staff/two-factor/"


def test_sign_in_with_a_code_goes_where_the_staff_member_was_going(client):
    moderator = make_staff(Role.MODERATOR)
    app = enrol(moderator.user)
    response = client.post("/staff/login/?next=/moderation/",
                           {"username": staff_username(moderator), "password": PASSWORD,
                            "next": "/moderation/"})
    assert response["Location"] == "/staff/two-factor/"
    response = client.post("/staff/two-factor/", {"code": app.next_code()})
    assert response.status_code == 302 and response["Location"] == "/moderation/"
    assert client.get("/moderation/").status_code == 200


def test_an_expired_code_is_refused_and_said_to_be_expired(client):
    moderator = make_staff(Role.MODERATOR)
    app = enrol(moderator.user)
    _password(client, moderator)
    response = client.post("/staff/two-factor/", {"code": app.expired_code()})
    assert response.status_code == 400
    assert _says(response, TwoFactorProblem.EXPIRED_CODE)
    assert client.session.get("_auth_user_id") is None


def test_a_code_already_used_is_refused(client):
    moderator = make_staff(Role.MODERATOR)
    app = enrol(moderator.user)
    code = app.next_code()
    _password(client, moderator)
    assert client.post("/staff/two-factor/", {"code": code}).status_code == 302
    other = Client()
    _password(other, moderator)
    response = other.post("/staff/two-factor/", {"code": code})
    assert response.status_code == 400
    assert _says(response, TwoFactorProblem.EXPIRED_CODE)


FULLWIDTH_DIGITS = "\uff11\uff12\uff13\uff14\uff15\uff16"


@pytest.mark.parametrize("code", ["", "12345", "abcdef", "9" * 40, FULLWIDTH_DIGITS])
def test_malformed_codes_get_a_clear_error(client, code):
    moderator = make_staff(Role.MODERATOR)
    enrol(moderator.user)
    _password(client, moderator)
    response = client.post("/staff/two-factor/", {"code": code})
    assert response.status_code == 400
    assert _says(response, TwoFactorProblem.WRONG_CODE)


def test_a_recovery_code_works_once(client):
    moderator = make_staff(Role.MODERATOR)
    enrol(moderator.user)
    recovery = StaticToken.objects.filter(device__user=moderator.user).first()
    assert recovery is not None
    _password(client, moderator)
    response = client.post("/staff/two-factor/", {"code": recovery.token.upper()}, follow=True)
    assert "You used a recovery code; 9 left." in response.content.decode()
    assert _signed_in_as(client) == moderator.pk
    replay = Client()
    _password(replay, moderator)
    response = replay.post("/staff/two-factor/", {"code": recovery.token})
    assert response.status_code == 400
    assert _says(response, TwoFactorProblem.WRONG_CODE)
    assert replay.session.get("_auth_user_id") is None


def test_wrong_codes_make_the_device_wait(client, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60  # a minute after the first wrong code
    moderator = make_staff(Role.MODERATOR)
    app = enrol(moderator.user)
    _password(client, moderator)
    client.post("/staff/two-factor/", {"code": "000001"})
    response = client.post("/staff/two-factor/", {"code": app.next_code()})
    assert _says(response, TwoFactorProblem.TOO_MANY_TRIES)
    assert client.session.get("_auth_user_id") is None


def test_the_code_step_needs_a_recent_right_password(client):
    assert client.get("/staff/two-factor/")["Location"] == "/staff/login/"
    assert client.post("/staff/two-factor/setup/", {"code": "123456"})["Location"] \
        == "/staff/login/"
    assert _says(client.get("/staff/login/"), StaffSignInError.SIGN_IN_EXPIRED)


def test_a_session_signed_in_before_the_second_factor_is_signed_out(client):
    """A moderator's session from before this release (or from before a promotion)."""
    moderator = make_staff(Role.MODERATOR)
    client.force_login(moderator.user)
    response = client.get("/moderation/", follow=True)
    assert _says(response, StaffSignInError.SECOND_FACTOR_NEEDED)
    assert client.session.get("_auth_user_id") is None


def test_peer_supporters_sign_in_with_a_password_unless_the_setting_asks(client, settings):
    peer = make_staff(Role.PEER_SUPPORTER)
    assert _password(client, peer)["Location"] == "/"
    assert _signed_in_as(client) == peer.pk
    client.post("/staff/logout/")
    settings.HEARTH_TWO_FACTOR_FOR_PEER_SUPPORTERS = True
    assert _password(client, peer)["Location"] == "/staff/two-factor/setup/"


def test_the_admin_login_is_the_staff_sign_in(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/staff/login/?next=%2Fadmin%2F"
    admin = make_staff(Role.ADMIN)
    sign_in_staff(client, admin)
    assert client.get("/admin/").status_code == 200


def test_resetting_a_lost_device_signs_out_and_asks_to_enrol_again(client):
    moderator = make_staff(Role.MODERATOR)
    sign_in_staff(client, moderator)
    assert client.get("/moderation/").status_code == 200
    call_command("reset_two_factor", staff_username(moderator))
    assert not TOTPDevice.objects.filter(user=moderator.user).exists()
    assert not StaticToken.objects.filter(device__user=moderator.user).exists()
    assert client.get("/moderation/").status_code == 403
    assert _password(client, moderator)["Location"] == "/staff/two-factor/setup/"
