"""Staff sign-in pages: password (limited per username)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm

from chat.staff_login import (
    StaffSignInError,
    clear_failed_logins,
    login_refused,
    record_failed_login,
)


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
