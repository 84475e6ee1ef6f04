"""The staff second factor: an authenticator app (TOTP) and one-time recovery codes, on
django-otp's devices.

Who needs one, enrolment, checking a code, and whether a signed-in session has passed the
check all live here, so the sign-in pages, the middleware, the staff socket and the reset
command ask the same question the same way.
"""

from __future__ import annotations

import time
from base64 import b32encode
from binascii import unhexlify
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import segno
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from chat.models import MODERATOR_ROLES, Member, Role

APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
RECOVERY_CODE_COUNT = 10
# A code older than the one step either side that is accepted, but no older than this many
# steps, is called expired rather than wrong: the person typed a code their app showed a
# minute ago, and should be told to use the new one.
_RECENT_STEPS = 10


class TwoFactorError(Exception):
    def __init__(self, code: TwoFactorProblem) -> None:
        super().__init__(code.value)
        self.code = code


class TwoFactorProblem(StrEnum):
    WRONG_CODE = "wrong_code"
    EXPIRED_CODE = "expired_code"
    TOO_MANY_TRIES = "too_many_tries"
    NO_DEVICE = "no_device"

    @property
    def message(self) -> str:
        return _MESSAGES[self]


_MESSAGES = {
    TwoFactorProblem.WRONG_CODE: (
        "That code didn't work. Enter the 6-digit code your app shows now, or a recovery code "
        "you haven't used before (each recovery code works once)."),
    TwoFactorProblem.EXPIRED_CODE: (
        "That code has expired or was already used. Enter the new code your app shows now."),
    TwoFactorProblem.TOO_MANY_TRIES: (
        "Too many wrong codes. Please wait a few seconds before trying again."),
    TwoFactorProblem.NO_DEVICE: (
        "This account has no second factor set up yet. Please sign in again to set one up."),
}


def requires_second_factor(user: AbstractBaseUser) -> bool:
    """Moderators and admins always; peer supporters when the operator asks for it; anyone
    who set one up anyway."""
    if getattr(user, "is_superuser", False) or getattr(user, "is_staff", False):
        return True
    role = Member.objects.filter(user_id=user.pk).values_list("role", flat=True).first()
    if role in MODERATOR_ROLES:
        return True
    if role == Role.PEER_SUPPORTER and settings.HEARTH_TWO_FACTOR_FOR_PEER_SUPPORTERS:
        return True
    return has_second_factor(user)


def has_second_factor(user: AbstractBaseUser) -> bool:
    return bool(TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists())


def session_passed_second_factor(session: Any, user_id: int) -> bool:
    """True if this session's sign-in was confirmed with a device the user still has."""
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    if not isinstance(persistent_id, str):
        return False
    device = Device.from_persistent_id(persistent_id)
    return device is not None and device.user_id == user_id and bool(device.confirmed)


def second_factor_missing(session: Any, user: AbstractBaseUser) -> bool:
    return requires_second_factor(user) and not session_passed_second_factor(session, user.pk)


def staff_session_lacks_second_factor(session: Any, member: Member) -> bool:
    """For the staff socket, which reads the member from the session: a member whose login
    needs a second factor counts only in a session signed in as them with one."""
    if member.user is None or member.user_id is None or not requires_second_factor(member.user):
        return False
    signed_in_as = session.get("_auth_user_id")
    return (signed_in_as is None or str(signed_in_as) != str(member.user_id)
            or not session_passed_second_factor(session, member.user_id))


# --- enrolment --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Enrolment:
    device: TOTPDevice
    manual_key: str  # base32, in groups of four, for typing into an app
    qr_svg: str  # the otpauth:// link as an inline SVG, drawn here (no network, no script)


def start_enrolment(*, user: AbstractBaseUser, key_hex: str | None = None) -> Enrolment:
    """A new, unconfirmed authenticator for this user (any earlier unconfirmed one goes).

    key_hex provisions a known secret (tests; an operator's secret store); normally random.
    """
    with transaction.atomic():
        TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).delete()
        fields: dict[str, Any] = {"user": user, "name": APP_DEVICE_NAME, "confirmed": False}
        if key_hex is not None:
            fields["key"] = key_hex
        device = TOTPDevice.objects.create(**fields)
    return enrolment_for(device)


def enrolment_for(device: TOTPDevice) -> Enrolment:
    secret = b32encode(unhexlify(device.key.encode())).decode().rstrip("=")
    manual_key = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    qr = segno.make(device.config_url, error="m")
    label = "QR code for your authenticator app"
    svg = qr.svg_inline(scale=5, border=4, dark="#000", light="#fff", title=label)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
    return Enrolment(device=device, manual_key=manual_key, qr_svg=svg)


def pending_enrolment(*, user: AbstractBaseUser) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).order_by("-pk").first()


def confirm_enrolment(*, user: AbstractBaseUser, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending authenticator with a code it shows; replaces any earlier
    authenticator and recovery codes. Returns the device and the new recovery codes (shown
    once, never again)."""
    with transaction.atomic():
        device = (TOTPDevice.objects.select_for_update()
                  .filter(user_id=user.pk, confirmed=False).order_by("-pk").first())
        if device is None:
            raise TwoFactorError(TwoFactorProblem.NO_DEVICE)
        allowed, _ = device.verify_is_allowed()
        accepted = allowed and device.verify_token(_digits(code))
        if accepted:
            TOTPDevice.objects.filter(user_id=user.pk).exclude(pk=device.pk).delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = _replace_recovery_codes(user)
    if not accepted:  # outside the transaction, so the failure count django-otp kept stays
        raise TwoFactorError(TwoFactorProblem.TOO_MANY_TRIES if not allowed
                             else _why_refused(device, code))
    return device, codes


def new_recovery_codes(*, user: AbstractBaseUser) -> list[str]:
    with transaction.atomic():
        return _replace_recovery_codes(user)


def _replace_recovery_codes(user: AbstractBaseUser) -> list[str]:
    StaticDevice.objects.filter(user_id=user.pk).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def reset_second_factor(*, user: AbstractBaseUser) -> int:
    """Remove every authenticator and recovery code of this user (a lost phone). Their
    sessions stop passing the check at once; the next sign-in enrols again."""
    with transaction.atomic():
        apps, _ = TOTPDevice.objects.filter(user_id=user.pk).delete()
        recovery, _ = StaticDevice.objects.filter(user_id=user.pk).delete()
    return int(apps + recovery)


# --- checking a code at sign-in -------------------------------------------------------------

def verify_code(*, user: AbstractBaseUser, code: str) -> Device:
    """The device that accepts this code: the authenticator's current code, or an unused
    recovery code (used up by this call). Raises TwoFactorError saying why not."""
    text = code.strip().replace(" ", "").replace("-", "").lower()
    problem = TwoFactorProblem.WRONG_CODE
    with transaction.atomic():
        app = (TOTPDevice.objects.select_for_update()
               .filter(user_id=user.pk, confirmed=True).first())
        recovery = (StaticDevice.objects.select_for_update()
                    .filter(user_id=user.pk, confirmed=True).first())
        if app is None and recovery is None:
            problem = TwoFactorProblem.NO_DEVICE
        elif app is not None and text.isdigit() and len(text) == app.digits:
            if not app.verify_is_allowed()[0]:
                problem = TwoFactorProblem.TOO_MANY_TRIES
            elif app.verify_token(text):
                return app
            else:
                problem = _why_refused(app, text)
        elif recovery is not None and text:
            if not recovery.verify_is_allowed()[0]:
                problem = TwoFactorProblem.TOO_MANY_TRIES
            elif recovery.verify_token(text):
                return recovery
    raise TwoFactorError(problem)


def _digits(code: str) -> str:
    return code.strip().replace(" ", "")


def _why_refused(device: TOTPDevice, code: str) -> TwoFactorProblem:
    """Expired (a code this app showed in the last few minutes, or one already used) or
    simply wrong."""
    text = _digits(code)
    if not text.isdigit():
        return TwoFactorProblem.WRONG_CODE
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    now = time.time()
    for steps_ago in range(-1, _RECENT_STEPS + 1):  # -1: the step ahead, once used
        totp.time = now - steps_ago * device.step
        if totp.token() == int(text):
            return TwoFactorProblem.EXPIRED_CODE
    return TwoFactorProblem.WRONG_CODE
