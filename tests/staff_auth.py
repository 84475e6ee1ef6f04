"""A staff member's authenticator app, for tests: the codes a phone would show for a key, and
signing staff in through the real pages (password, then code) with the Django test client."""

from __future__ import annotations

import re
import time
from base64 import b32decode
from binascii import hexlify
from dataclasses import dataclass

from django_otp.oath import hotp

STEP_SECONDS = 30
PASSWORD = "correct-horse-battery"  # tests.factories.make_staff's
_MANUAL_KEY = re.compile(r'id="manual-key">([A-Z2-7 ]+)<')


@dataclass
class Authenticator:
    """The app on a staff member's phone: the key, and the last time step whose code was
    used (the server accepts each step's code once)."""

    key_hex: str
    last_step: int = -1

    @classmethod
    def from_manual_key(cls, manual_key: str) -> Authenticator:
        secret = manual_key.replace(" ", "")
        secret += "=" * (-len(secret) % 8)
        return cls(key_hex=hexlify(b32decode(secret)).decode())

    @classmethod
    def from_setup_page(cls, html: str) -> Authenticator:
        found = _MANUAL_KEY.search(html)
        assert found, "the setup page shows no manual key"
        return cls.from_manual_key(found.group(1))

    def code_at(self, step: int) -> str:
        return f"{hotp(bytes.fromhex(self.key_hex), step, digits=6):06d}"

    def next_code(self) -> str:
        """The code for the current step, or the next one if this step's was used (the server
        accepts one step either side). Waits for the clock only after three sign-ins within
        one step."""
        while True:
            now_step = int(time.time()) // STEP_SECONDS
            step = max(now_step, self.last_step + 1)
            if step <= now_step + 1:
                break
            time.sleep(0.2)  # polls the clock for the next step; no assertion rides on it
        self.last_step = step
        return self.code_at(step)

    def expired_code(self) -> str:
        """A code the app showed two minutes ago."""
        return self.code_at(int(time.time()) // STEP_SECONDS - 4)


def enrol(user, *, key_hex: str = "3132333435363738393031323334353637383930") -> Authenticator:
    """Set up a staff login's authenticator through the real enrolment service."""
    from chat.two_factor import confirm_enrolment, start_enrolment

    start_enrolment(user=user, key_hex=key_hex)
    app = Authenticator(key_hex=key_hex)
    confirm_enrolment(user=user, code=app.next_code())
    return app


def sign_in_staff(client, member, *, app: Authenticator | None = None,
                  password: str = PASSWORD) -> Authenticator:
    """Sign a staff member in as a browser does: the password, then (when their role needs
    one) the setup of an authenticator or a code from it. Returns the authenticator."""
    username = member.user.get_username()
    response = client.post("/staff/login/", {"username": username, "password": password})
    assert response.status_code == 302, response.content[:500]
    if response["Location"] == "/staff/two-factor/setup/":
        app = Authenticator.from_setup_page(client.get(response["Location"]).content.decode())
        done = client.post("/staff/two-factor/setup/", {"code": app.next_code()})
        assert done.status_code == 200 and b"recovery-codes" in done.content
    elif response["Location"] == "/staff/two-factor/":
        assert app is not None, "this login has an authenticator: pass it"
        done = client.post("/staff/two-factor/", {"code": app.next_code()})
        assert done.status_code == 302, done.content[:500]
    return app if app is not None else Authenticator(key_hex="")


def signed_in_session_key(member) -> str:
    """A stored session as a staff member's sign-in leaves it (Django's login keys, the staff
    handle, and the device that confirmed it, set up through the service if the login has
    none yet); for sockets opened without a browser."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from chat.identity import SESSION_MEMBER_KEY

    user = member.user
    device = TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).first()
    if device is None:
        enrol(user)
        device = TOTPDevice.objects.get(user_id=user.pk, confirmed=True)
    store = SessionStore()
    store[SESSION_MEMBER_KEY] = member.pk
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store.create()
    return str(store.session_key)
