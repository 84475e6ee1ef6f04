"""`manage.py watch_escalations --once`: the watcher run on its own re-escalates an overdue
escalation exactly once, and reports nothing when nothing is due."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from moderation.models import Escalation, EscalationSource, EscalationTier
from tests.factories import make_member, make_room

pytestmark = pytest.mark.django_db(transaction=True)


def _escalation(age_seconds: float) -> Escalation:
    escalation = Escalation.objects.create(
        room=make_room(), member=make_member(), tier=EscalationTier.HIGH_RISK,
        source=EscalationSource.SCREENING)
    Escalation.objects.filter(pk=escalation.pk).update(
        created_at=timezone.now() - timedelta(seconds=age_seconds))
    return escalation


def test_an_overdue_escalation_is_re_escalated_once(settings):
    settings.HEARTH_ESCALATION_ACK_SECONDS = 60
    overdue, fresh = _escalation(61), _escalation(5)

    call_command("watch_escalations", "--once")
    first = Escalation.objects.get(pk=overdue.pk).re_escalated_at
    call_command("watch_escalations", "--once")

    assert first is not None
    assert Escalation.objects.get(pk=overdue.pk).re_escalated_at == first
    assert Escalation.objects.get(pk=fresh.pk).re_escalated_at is None


def test_an_acknowledged_escalation_is_left_alone(settings):
    settings.HEARTH_ESCALATION_ACK_SECONDS = 60
    escalation = _escalation(120)
    Escalation.objects.filter(pk=escalation.pk).update(acknowledged_at=timezone.now())

    call_command("watch_escalations", "--once")

    assert Escalation.objects.get(pk=escalation.pk).re_escalated_at is None
