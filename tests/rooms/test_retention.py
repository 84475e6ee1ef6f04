"""A room's own message retention (rooms/retention.py and the Room field operators set in the
admin), and the purge of session feedback past its period."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from rooms import retention
from rooms.models import Room, SessionFeedback
from tests.factories import make_room
from tests.rooms.test_feedback import AFTER, give, make_session

pytestmark = pytest.mark.django_db


def test_a_rooms_own_period_wins_and_empty_means_the_site_default():
    assert retention.message_days(room_days=7, site_days=30) == 7
    assert retention.message_days(room_days=None, site_days=30) == 30
    short, default = make_room(), make_room()
    Room.objects.filter(pk=short.pk).update(message_retention_days=7)
    assert retention.rooms_with_message_days(site_days=30) == [
        (short.pk, short.slug, 7), (default.pk, default.slug, 30)]


def admin_form(room: Room, value: str):
    request = RequestFactory().post("/admin/rooms/room/")
    request.user = User(is_superuser=True, is_staff=True)
    model_admin = admin.site._registry[Room]
    form_class = model_admin.get_form(request, room)
    data = {field: getattr(room, field) for field in (
        "slug", "title", "description", "focus_area", "audience", "kind", "capacity")}
    data.update(is_active="on", message_retention_days=value)
    return form_class(data=data, instance=room)


@pytest.mark.parametrize("value", ["0", "-5", "3651", "thirty", "1.5"])
def test_the_admin_refuses_a_bad_period_with_a_clear_error_and_changes_nothing(value):
    room = make_room()
    form = admin_form(room, value)
    assert not form.is_valid()
    assert "message_retention_days" in form.errors
    message = " ".join(form.errors["message_retention_days"])
    assert any(words in message for words in ("greater than or equal to", "less than or equal",
                                               "whole number", "Ensure this value"))
    room.refresh_from_db()
    assert room.message_retention_days is None


@pytest.mark.parametrize(("value", "stored"), [("7", 7), ("3650", 3650), ("", None)])
def test_the_admin_keeps_a_good_period_or_empty_for_the_site_default(value, stored):
    room = make_room()
    form = admin_form(room, value)
    assert form.is_valid(), form.errors
    form.save()
    room.refresh_from_db()
    assert room.message_retention_days == stored
    # Operators see each room's period in the list of rooms too.
    assert "message_retention_days" in admin.site._registry[Room].list_display


def test_the_model_refuses_zero_days():
    room = make_room()
    room.message_retention_days = 0
    with pytest.raises(ValidationError) as refused:
        room.full_clean()
    assert "message_retention_days" in refused.value.message_dict


def test_feedback_goes_after_its_period_and_newer_feedback_stays():
    session = make_session()
    old = give(session, mood_before=2, mood_after=4)
    week_later = AFTER + timedelta(days=7)
    newer = give(session, on=week_later.date(), now=week_later, mood_before=3)

    def purge(now: datetime, dry_run: bool = False) -> int:
        return retention.purge_feedback(now=now, days=365, batch_size=1, dry_run=dry_run)

    assert purge(AFTER + timedelta(days=365)) == 0
    assert purge(AFTER + timedelta(days=366), dry_run=True) == 1
    assert SessionFeedback.objects.count() == 2
    assert purge(AFTER + timedelta(days=366)) == 1
    assert list(SessionFeedback.objects.values_list("pk", flat=True)) == [newer.pk]
    assert old.pk != newer.pk
