"""Who is on the other end: the member tied to a browser session."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from chat.errors import ErrorCode, HearthError
from chat.models import Member
from chat.services import create_anonymous_member
from hearth.address_limits import take_new_session

SESSION_MEMBER_KEY = "hearth_member_id"


def member_id_from_session(session: Any) -> int | None:
    value = session.get(SESSION_MEMBER_KEY)
    return value if isinstance(value, int) else None


def current_member(request: HttpRequest) -> Member | None:
    cached: Member | None = getattr(request, "_hearth_member", None)
    if cached is not None:
        return cached
    member_id = member_id_from_session(request.session)
    member = Member.objects.filter(pk=member_id).first() if member_id is not None else None
    request._hearth_member = member  # type: ignore[attr-defined]
    return member


class NewSessionsLimitedError(HearthError):
    """Too many new member sessions from one client address; answered with HTTP 429."""

    def __init__(self, *, retry_after: float) -> None:
        super().__init__(ErrorCode.TOO_MANY_NEW_SESSIONS)
        self.retry_after = retry_after


def ensure_member(request: HttpRequest) -> Member:
    """The visitor's member, made on their first action that needs one (joining a room,
    choosing a handle): no sign-up, no details asked. Page views only read
    (`current_member`), so a crawler or an uptime check leaves no member and no session."""
    member = current_member(request)
    if member is None:
        wait = take_new_session(request.META.get("REMOTE_ADDR"))
        if wait:
            raise NewSessionsLimitedError(retry_after=wait)
        member = create_anonymous_member()
        request.session[SESSION_MEMBER_KEY] = member.pk
        request._hearth_member = member  # type: ignore[attr-defined]
    return member
