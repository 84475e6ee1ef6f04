"""Staff sign-in pages: password (limited per username), then the second factor.

A password alone signs nobody in who needs a second factor: it only marks the browser
session as half-way for a few minutes. The Django login (and with it the staff handle on the
session) happens after a valid code, so no page or socket ever sees a half-signed-in
moderator.
"""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice

from chat.staff_login import (
    StaffSignInError,
    clear_failed_logins,
    login_refused,
    record_failed_login,
)
from chat.two_factor import (
    TwoFactorError,
    confirm_enrolment,
    enrolment_for,
    has_second_factor,
    pending_enrolment,
    requires_second_factor,
    start_enrolment,
    verify_code,
)

# The half-way state between a right password and a right code: whose, since when, and where
# to go after. Never a signed-in session.
PENDING_KEY = "hearth_staff_pending"
PENDING_SECONDS = 10 * 60
_BACKEND = "django.contrib.auth.backends.ModelBackend"


class StaffAuthenticationForm(AuthenticationForm):
    """Django's sign-in form with a limit on wrong passwords per username."""

    def clean(self) -> dict[str, Any]:
        username = (self.cleaned_data.get("username") or "").strip()
        if username and login_refused(username=username):
            raise forms.ValidationError(StaffSignInError.TOO_MANY_ATTEMPTS.message,
                                        code=StaffSignInError.TOO_MANY_ATTEMPTS.value)
        try:
            cleaned = super().clean()
        except forms.ValidationError as error:
            if username and error.code == "invalid_login":
                record_failed_login(username=username)
            raise
        if username:
            clear_failed_logins(username=username)
        return cleaned


class StaffLoginView(auth_views.LoginView):
    template_name = "frontend/staff_login.html"
    authentication_form = StaffAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if not requires_second_factor(user):
            return super().form_valid(form)
        self.request.session[PENDING_KEY] = {"user": user.pk, "at": time.time(),
                                             "next": self.get_success_url()}
        step = "staff-two-factor" if has_second_factor(user) else "staff-two-factor-setup"
        return HttpResponseRedirect(reverse(f"frontend:{step}"))


def _pending_user(request: HttpRequest) -> User | None:
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    if time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        del request.session[PENDING_KEY]
        return None
    user_id = pending.get("user")
    if not isinstance(user_id, int):
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


def _back_to_password(request: HttpRequest) -> HttpResponse:
    messages.info(request, StaffSignInError.SIGN_IN_EXPIRED.message)
    return HttpResponseRedirect(reverse("frontend:staff-login"))


def _sign_in(request: HttpRequest, user: User, device: Device) -> str:
    """The real sign-in, after the code: Django's login (a new session key, the staff handle)
    and the device that confirmed it. Returns where to go next."""
    next_url = str(request.session[PENDING_KEY].get("next") or reverse("frontend:directory"))
    del request.session[PENDING_KEY]
    auth_login(request, user, backend=_BACKEND)
    otp_login(request, device)
    clear_failed_logins(username=user.get_username())
    return next_url


@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        return _back_to_password(request)
    if not has_second_factor(user):
        return HttpResponseRedirect(reverse("frontend:staff-two-factor-setup"))
    error = ""
    if request.method == "POST":
        try:
            device = verify_code(user=user, code=request.POST.get("code", ""))
        except TwoFactorError as refusal:
            error = refusal.code.message
        else:
            next_url = _sign_in(request, user, device)
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                messages.warning(request, f"You used a recovery code; {left} left. If you "
                                 "lost your phone, ask an admin to reset your second factor.")
            return HttpResponseRedirect(next_url)
    return render(request, "frontend/staff_two_factor.html", {"error": error},
                  status=400 if error else 200)


@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        return _back_to_password(request)
    if has_second_factor(user):
        # A password alone never replaces an authenticator that is set up: an admin resets it.
        return HttpResponseRedirect(reverse("frontend:staff-two-factor"))
    error = ""
    if request.method == "POST":
        try:
            device, codes = confirm_enrolment(user=user, code=request.POST.get("code", ""))
        except TwoFactorError as refusal:
            error = refusal.code.message
        else:
            next_url = _sign_in(request, user, device)
            # Shown here, once; only their use is ever checked again.
            return render(request, "frontend/staff_recovery_codes.html",
                          {"codes": codes, "next_url": next_url})
    device = pending_enrolment(user=user)
    enrolment = enrolment_for(device) if device is not None else start_enrolment(user=user)
    return render(request, "frontend/staff_two_factor_setup.html",
                  {"enrolment": enrolment, "error": error}, status=400 if error else 200)


@require_GET
def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin's own password form would skip the limit and the second factor: send
    everyone through the staff sign-in instead."""
    next_url = request.GET.get("next") or reverse("admin:index")
    query = urlencode({"next": next_url})
    return HttpResponseRedirect(f"{reverse('frontend:staff-login')}?{query}")
