"""Each worker's watcher (moderation/watch.py), one tick at a time: an escalation nobody
acknowledged is re-escalated to every staff dashboard and handed to the operator's fallback (a
real HTTP receiver on 127.0.0.1), and a change in who is on duty is announced to dashboards
and staffed-only rooms."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone

from chat.events import STAFF_GROUP, room_group
from moderation import duty
from moderation.models import DutyShift, Escalation
from moderation.watch import Watcher
from tests.factories import make_room, make_staff
from tests.moderation.test_escalations import HIGH_RISK_BODY, crisis_escalation
from tests.moderation.test_fallback import Receiver, receiver  # noqa: F401 - a fixture

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def listener(*groups: str) -> str:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    for group in groups:
        await layer.group_add(group, channel)
    return str(channel)


async def waiting(channel: str) -> list[dict[str, Any]]:
    """Every event already queued for this channel (the tick has finished sending)."""
    layer, events = get_channel_layer(), []
    while True:
        try:
            events.append(await asyncio.wait_for(layer.receive(channel), timeout=0.05))
        except TimeoutError:
            return events


def _overdue_escalation() -> Escalation:
    escalation = crisis_escalation()
    Escalation.objects.filter(pk=escalation.pk).update(
        created_at=timezone.now() - timedelta(seconds=120))
    return Escalation.objects.select_related("member").get(pk=escalation.pk)


async def test_a_tick_re_escalates_an_overdue_alert_and_fires_the_fallback(
        settings, receiver: Receiver):  # noqa: F811
    settings.HEARTH_ESCALATION_ACK_SECONDS = 60.0
    settings.HEARTH_FALLBACK_WEBHOOK_URL = receiver.url
    settings.HEARTH_FALLBACK_EMAIL = ""
    escalation = await database_sync_to_async(_overdue_escalation)()
    young = await database_sync_to_async(crisis_escalation)()
    staff_channel = await listener(STAFF_GROUP)

    watcher = Watcher()
    await watcher.check_once()

    stored = await database_sync_to_async(Escalation.objects.get)(pk=escalation.pk)
    assert stored.re_escalated_at is not None and stored.fallback_notified_at is not None
    assert (stored.fallback_attempts, stored.fallback_last_error) == (1, "")
    assert (await database_sync_to_async(Escalation.objects.get)(pk=young.pk)
            ).re_escalated_at is None
    assert len(receiver.requests) == 1
    body = receiver.requests[0][2].decode()
    assert json.loads(body)["escalation_id"] == escalation.pk
    assert escalation.member.handle not in body and HIGH_RISK_BODY not in body
    events = [e for e in await waiting(staff_channel) if e["type"] == "staff.escalation"]
    assert len(events) == 1 and events[0]["on_duty_only"] is False
    frame = json.loads(events[0]["text"])
    assert (frame["event"], frame["escalation"]["id"]) == ("re_escalated", escalation.pk)

    # The next tick sends nothing again.
    await watcher.check_once()
    assert len(receiver.requests) == 1
    assert await waiting(staff_channel) == []


async def test_a_failed_send_is_recorded_for_a_retry(settings):
    settings.HEARTH_ESCALATION_ACK_SECONDS = 60.0
    settings.HEARTH_FALLBACK_WEBHOOK_URL = "ftp://127.0.0.1/nowhere"
    settings.HEARTH_FALLBACK_EMAIL = ""
    settings.HEARTH_FALLBACK_RETRY_SECONDS = 30.0
    escalation = await database_sync_to_async(_overdue_escalation)()
    await Watcher().check_once()
    stored = await database_sync_to_async(Escalation.objects.get)(pk=escalation.pk)
    assert (stored.fallback_attempts, stored.fallback_last_error) == (1, "bad_url")
    assert stored.fallback_notified_at is None
    assert stored.fallback_next_attempt_at > stored.re_escalated_at


async def test_a_change_in_who_is_on_duty_is_announced_once(settings):
    settings.HEARTH_DUTY_STALE_SECONDS = 90.0
    staff = await database_sync_to_async(make_staff)()

    def staffed_room() -> int:
        room = make_room()
        room.staffed_only = True
        room.save(update_fields=["staffed_only"])
        return int(room.pk)

    room_id = await database_sync_to_async(staffed_room)()
    plain_room = await database_sync_to_async(make_room)()
    await database_sync_to_async(duty.check_in)(member=staff)
    staff_channel = await listener(STAFF_GROUP)
    room_channel = await listener(room_group(room_id))
    plain_channel = await listener(room_group(plain_room.pk))

    watcher = Watcher()
    await watcher.check_once()  # the first tick learns the count; nothing changed yet
    assert await waiting(staff_channel) == [] and await waiting(room_channel) == []

    # The dashboard closed without a check-out: the shift goes stale.
    await database_sync_to_async(DutyShift.objects.update)(
        last_seen_at=timezone.now() - timedelta(seconds=120))
    await watcher.check_once()
    assert await waiting(staff_channel) == [{"type": "staff.duty"}]
    assert await waiting(room_channel) == [{"type": "staffing.changed", "on_duty": 0}]
    assert await waiting(plain_channel) == []  # not staffed-only: nothing to say

    await watcher.check_once()  # no change, no announcement
    assert await waiting(staff_channel) == [] and await waiting(room_channel) == []


async def test_an_open_dashboard_keeps_its_shift_fresh(settings):
    settings.HEARTH_DUTY_STALE_SECONDS = 90.0
    staff = await database_sync_to_async(make_staff)()
    gone = await database_sync_to_async(make_staff)()
    for member in (staff, gone):
        await database_sync_to_async(duty.check_in)(member=member)
    await database_sync_to_async(DutyShift.objects.update)(
        last_seen_at=timezone.now() - timedelta(seconds=80))
    watcher = Watcher()
    watcher.staff_connected(staff.pk)
    watcher.staff_connected(staff.pk)
    watcher.staff_disconnected(staff.pk)  # one of its two tabs closed
    watcher.staff_connected(gone.pk)
    watcher.staff_disconnected(gone.pk)
    assert watcher.staff_sockets == {staff.pk: 1}
    await watcher.check_once()
    fresh = await database_sync_to_async(DutyShift.objects.get)(member=staff)
    stale = await database_sync_to_async(DutyShift.objects.get)(member=gone)
    assert timezone.now() - fresh.last_seen_at < timedelta(seconds=80)
    assert stale.last_seen_at < fresh.last_seen_at - timedelta(seconds=60)
    assert watcher._task is not None  # staff_connected started the loop on this test's loop
    watcher._task.cancel()


# --- the in-process retention purge (HEARTH_RETENTION_PURGE_IN_PROCESS) -------------------------

def _message_from_last_month() -> tuple[int, int, str]:
    """(room id, seq, room slug) of a message written 31 days ago."""
    from chat.models import Message
    from tests.factories import make_member, post_in_room

    room = make_room()
    message = post_in_room(member=make_member(), room=room, client_id="old",
                           body="from last month").message
    Message.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - timedelta(days=31))
    return room.pk, message.seq, room.slug


async def test_the_watcher_purges_once_a_day_only_when_asked_to(settings):
    from chat.models import Message

    settings.HEARTH_RETENTION_MESSAGE_DAYS = 30
    settings.HEARTH_RETENTION_PURGE_IN_PROCESS = False
    room_id, seq, slug = await database_sync_to_async(_message_from_last_month)()
    watching = await listener(room_group(room_id))
    watcher = Watcher()
    await watcher.check_once()
    assert watcher.purge_task is None
    assert await database_sync_to_async(Message.objects.count)() == 1

    settings.HEARTH_RETENTION_PURGE_IN_PROCESS = True
    await watcher.check_once()
    assert watcher.purge_task is not None
    await watcher.purge_task
    assert await database_sync_to_async(Message.objects.count)() == 0
    removed = [json.loads(e["text"]) for e in await waiting(watching)]
    assert {"type": "message_removed", "room": slug, "seqs": [seq],
            "reason": "expired"} in removed
    # Not again until tomorrow.
    first = watcher.purge_task
    await watcher.check_once()
    assert watcher.purge_task is first
