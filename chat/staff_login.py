"""Staff sign-in guards: a limit on password guesses per username, and the idle expiry of a
staff session.

Both are keyed on what the account is, never on where the request came from: the limit counts
per username in the shared cache (so every worker sees the same count) and stores no address.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

# When the staff session last did something (seconds since the epoch). Its presence marks a
# signed-in staff session; members' sessions never carry it and keep their own expiry.
STAFF_SEEN_KEY = "hearth_staff_seen"


class StaffSignInError(StrEnum):
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    SESSION_IDLE = "session_idle"
    SECOND_FACTOR_NEEDED = "second_factor_needed"
    SIGN_IN_EXPIRED = "sign_in_expired"

    @property
    def message(self) -> str:
        return _MESSAGES[self]


_MESSAGES = {
    StaffSignInError.TOO_MANY_ATTEMPTS: (
        "Too many sign-in attempts for this username. Please wait a minute and try again."),
    StaffSignInError.SESSION_IDLE: (
        "Your staff session ended after a long time without activity. Please sign in again."),
    StaffSignInError.SECOND_FACTOR_NEEDED: (
        "Please sign in again: staff accounts now confirm each sign-in with a code from an "
        "authenticator app."),
    StaffSignInError.SIGN_IN_EXPIRED: (
        "That sign-in took too long. Please enter your username and password again."),
}


@dataclass(frozen=True)
class LoginLimit:
    attempts: int  # wrong passwords allowed in a window; the next try is refused
    window_seconds: float


def login_limit() -> LoginLimit:
    return LoginLimit(attempts=settings.HEARTH_STAFF_LOGIN_ATTEMPTS,
                      window_seconds=settings.HEARTH_STAFF_LOGIN_WINDOW_SECONDS)


def _keys(username: str) -> tuple[str, str]:
    # Hashed so any username makes a valid cache key; folded so "Mod1" counts against "mod1".
    digest = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
    return f"staff-login:{digest}:start", f"staff-login:{digest}:failures"


def _window_started(username: str, *, now: float) -> float | None:
    """The start of this username's current window, or None if it has none (or it is over)."""
    start_key, failures_key = _keys(username)
    started = cache.get(start_key)
    if started is None:
        return None
    if now - float(started) >= login_limit().window_seconds:
        cache.delete_many([start_key, failures_key])
        return None
    return float(started)


def login_refused(*, username: str, now: float | None = None) -> bool:
    """True while this username has used up its wrong passwords for the window: even the right
    password is refused then, so a guesser learns nothing from the answer."""
    now = time.time() if now is None else now
    if _window_started(username, now=now) is None:
        return False
    _start_key, failures_key = _keys(username)
    return int(cache.get(failures_key, 0)) >= login_limit().attempts


def record_failed_login(*, username: str, now: float | None = None) -> None:
    now = time.time() if now is None else now
    limit = login_limit()
    start_key, failures_key = _keys(username)
    # The cache entries outlive the window a little; the window itself is checked against the
    # stored start, so a test (or a slow clock) can move time without waiting.
    timeout = int(limit.window_seconds) + 5
    if _window_started(username, now=now) is None:
        cache.add(start_key, now, timeout=timeout)  # add: the first of two racing workers wins
    cache.add(failures_key, 0, timeout=timeout)
    try:
        failures = cache.incr(failures_key)
    except ValueError:  # expired between add and incr
        cache.set(failures_key, 1, timeout=timeout)
        failures = 1
    if failures == limit.attempts:
        # No username, no address: only that some account's guesses were stopped.
        logger.warning("staff sign-in limited after repeated wrong passwords",
                       extra={"attempts": failures})


def clear_failed_logins(*, username: str) -> None:
    cache.delete_many(list(_keys(username)))


def staff_idle_seconds() -> int:
    return int(settings.HEARTH_STAFF_IDLE_SECONDS)


def start_staff_session(session: Any, *, now: float | None = None) -> None:
    """Give a newly signed-in staff session its idle expiry (members keep theirs)."""
    session[STAFF_SEEN_KEY] = time.time() if now is None else now
    session.set_expiry(staff_idle_seconds())


def staff_session_expired(session: Any, *, now: float | None = None) -> bool:
    seen = session.get(STAFF_SEEN_KEY)
    if not isinstance(seen, int | float):
        return False
    now = time.time() if now is None else now
    return now - seen >= staff_idle_seconds()


def touch_staff_session(session: Any, *, now: float | None = None) -> bool:
    """Push the idle expiry back after activity. Written at most once a minute, so a busy
    dashboard does not rewrite its session on every request. True if the session changed."""
    seen = session.get(STAFF_SEEN_KEY)
    now = time.time() if now is None else now
    if isinstance(seen, int | float) and now - seen < 60:
        return False
    start_staff_session(session, now=now)
    return True
