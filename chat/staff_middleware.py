"""Ends a staff session that sat idle too long, and keeps an active one alive."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from chat.staff_login import StaffSignInError, staff_session_expired, touch_staff_session


class StaffSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and staff_session_expired(request.session):
            logout(request)  # a new, empty session: the staff handle goes with it
            messages.info(request, StaffSignInError.SESSION_IDLE.message)
        elif request.user.is_authenticated:
            touch_staff_session(request.session)
        response = self.get_response(request)
        # Only users are staff: a session signed in during this request starts its idle clock.
        if request.user.is_authenticated:
            touch_staff_session(request.session)
        return response
