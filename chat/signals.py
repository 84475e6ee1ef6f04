"""A staff login puts the staff member's handle on the session in place of the anonymous one."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from chat.identity import SESSION_MEMBER_KEY, member_id_from_session
from chat.models import Member
from chat.services import member_for_staff_user


@receiver(user_logged_in)
def use_staff_handle(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    previous_id = member_id_from_session(request.session)
    member = member_for_staff_user(user=user)
    if previous_id is not None and previous_id != member.pk:
        # An anonymous visitor who never wrote anything leaves nothing behind.
        Member.objects.filter(pk=previous_id, user__isnull=True, messages__isnull=True).delete()
    request.session[SESSION_MEMBER_KEY] = member.pk
