"""A live session's host and co-hosts are alerted to an escalation in their room even when
they are not on duty; other off-duty staff are not."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from chat.models import Role
from moderation import escalations
from moderation.consumers import StaffConsumer
from moderation.models import Escalation, EscalationSource, EscalationTier
from rooms.models import HostedSession, RoomKind, SessionState
from tests.factories import make_member, make_room, make_staff

pytestmark = pytest.mark.django_db


def _sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(escalations, "send_to_group_sync",
                        lambda group, event: sent.append(event))
    return sent


def _escalation(room) -> Escalation:
    return Escalation.objects.create(room=room, member=make_member(),
                                     tier=EscalationTier.HIGH_RISK,
                                     source=EscalationSource.SCREENING)


def test_the_alert_names_the_hosts_of_a_live_session_in_that_room(monkeypatch):
    room = make_room(kind=RoomKind.HOSTED)
    host, co_host = make_staff(Role.PEER_SUPPORTER), make_staff(Role.PEER_SUPPORTER)
    session = HostedSession.objects.create(
        room=room, title="Circle", host=host, first_date=dt.date(2026, 11, 24),
        start_time=dt.time(19), state=SessionState.LIVE, started_at=timezone.now())
    session.co_hosts.add(co_host)
    sent = _sent(monkeypatch)

    escalations.push_escalation(_escalation(room).pk, "new")

    assert sent[0]["hosts"] == sorted([host.pk, co_host.pk])
    assert sent[0]["on_duty_only"] is True


def test_no_live_session_means_no_hosts(monkeypatch):
    room = make_room(kind=RoomKind.HOSTED)
    HostedSession.objects.create(room=room, title="Later", host=make_staff(Role.PEER_SUPPORTER),
                                 first_date=dt.date(2026, 11, 24), start_time=dt.time(19))
    sent = _sent(monkeypatch)
    escalations.push_escalation(_escalation(room).pk, "new")
    assert sent[0]["hosts"] == []


@pytest.mark.parametrize(("on_duty", "hosting", "delivered"), [
    (True, False, True), (False, True, True), (False, False, False), (True, True, True)])
async def test_an_off_duty_dashboard_gets_the_alert_only_when_hosting(on_duty, hosting,
                                                                      delivered):
    socket = StaffConsumer()
    received: list[str] = []

    async def send(text_data: str | None = None, **_: Any) -> None:
        received.append(text_data or "")

    socket.send = send  # type: ignore[method-assign,assignment]
    socket.on_duty = on_duty
    socket.staff = type("Staff", (), {"pk": 7})()  # only its id is read here
    await socket.staff_escalation({"text": "alert", "on_duty_only": True,
                                   "hosts": [7] if hosting else [3]})
    assert received == (["alert"] if delivered else [])
