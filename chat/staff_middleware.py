"""Ends a staff session that sat idle too long or never passed the second factor it needs,
and keeps an active one alive."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from chat.staff_login import StaffSignInError, staff_session_expired, touch_staff_session
from chat.two_factor import second_factor_missing


class StaffSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            problem = None
            if staff_session_expired(request.session):
                problem = StaffSignInError.SESSION_IDLE
            elif second_factor_missing(request.session, request.user):
                # A session from before the second factor was required (or from before a
                # promotion to moderator), or one whose device was reset.
                problem = StaffSignInError.SECOND_FACTOR_NEEDED
            if problem is not None:
                logout(request)  # a new, empty session: the staff handle goes with it
                messages.info(request, problem.message)
            else:
                touch_staff_session(request.session)
        response = self.get_response(request)
        # Only users are staff: a session signed in during this request starts its idle clock.
        if request.user.is_authenticated:
            touch_staff_session(request.session)
        return response
