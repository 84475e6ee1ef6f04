"""Members waiting for the team (moderation/waiting.py): after the configured wait with nobody
acknowledging a high-risk or imminent escalation, its member is told once, warmly and with the
helpline, that we are still reaching someone; recorded, so a second tick or a restarted
worker never repeats it. Then end to end: the watcher's tick reaches the member's room socket."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone

from chat.events import member_group
from moderation import escalations, support, waiting
from moderation.models import Escalation
from moderation.watch import Watcher
from tests.chat.test_consumers import joined, next_of
from tests.factories import make_member, make_room, make_staff
from tests.moderation.test_escalations import (
    HIGH_RISK_BODY,
    IMMINENT_BODY,
    crisis_escalation,
)

NOTICE_SECONDS = 120.0


def _aged(escalation: Escalation, seconds: float) -> Escalation:
    Escalation.objects.filter(pk=escalation.pk).update(
        created_at=timezone.now() - timedelta(seconds=seconds))
    return Escalation.objects.select_related("member", "room").get(pk=escalation.pk)


async def _listener(member_id: int) -> str:
    layer = get_channel_layer()
    channel = str(await layer.new_channel())
    await layer.group_add(member_group(member_id), channel)
    return channel


async def _queued(channel: str) -> list[dict[str, Any]]:
    layer, events = get_channel_layer(), []
    while True:
        try:
            events.append(await asyncio.wait_for(layer.receive(channel), timeout=0.05))
        except TimeoutError:
            return events


@pytest.mark.django_db
def test_the_copy_is_warm_promises_nothing_and_carries_a_helpline():
    frame = support.still_reaching_frame(room_slug="the-lounge", room_title="The lounge")
    assert frame["type"] == "still_reaching" and frame["room"] == "the-lounge"
    assert frame["helpline"]["name"] and frame["more_url"].startswith("https://")
    assert frame["emergency"] == support.EMERGENCY
    words = (frame["title"] + frame["body"]).lower()
    for promise in ("will be with you", "soon", "minutes", "guarantee"):
        assert promise not in words
    assert "real person" in words


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_told_once_after_the_wait_and_never_again(settings):
    settings.HEARTH_ESCALATION_MEMBER_NOTICE_SECONDS = NOTICE_SECONDS

    def set_up() -> tuple[Escalation, Escalation]:
        overdue = _aged(crisis_escalation(body=IMMINENT_BODY), NOTICE_SECONDS + 5)
        young = _aged(crisis_escalation(body=HIGH_RISK_BODY), NOTICE_SECONDS - 30)
        return overdue, young

    overdue, young = await database_sync_to_async(set_up)()
    overdue_channel = await _listener(overdue.member_id)
    young_channel = await _listener(young.member_id)

    told = await database_sync_to_async(waiting.tell_waiting_members)()

    assert told == [overdue.pk]
    events = await _queued(overdue_channel)
    assert len(events) == 1 and events[0]["type"] == "room.frame"
    frame = json.loads(events[0]["text"])
    assert frame["type"] == "still_reaching" and frame["room"] == overdue.room.slug
    # Nothing the member or anyone wrote, and no internal ids.
    assert IMMINENT_BODY not in events[0]["text"] and "escalation" not in frame
    assert await _queued(young_channel) == []
    stored = await database_sync_to_async(Escalation.objects.get)(pk=overdue.pk)
    assert stored.member_notified_at is not None

    # A second tick, as after a restart (the record is in the database): nothing again.
    assert await database_sync_to_async(waiting.tell_waiting_members)() == []
    assert await _queued(overdue_channel) == []


@pytest.mark.django_db
def test_acknowledged_resolved_and_other_tiers_are_not_told(settings):
    settings.HEARTH_ESCALATION_MEMBER_NOTICE_SECONDS = NOTICE_SECONDS
    staff = make_staff()
    acknowledged = _aged(crisis_escalation(), NOTICE_SECONDS * 2)
    escalations.acknowledge(staff=staff, escalation_id=acknowledged.pk)
    resolved = _aged(crisis_escalation(), NOTICE_SECONDS * 2)
    escalations.resolve(staff=staff, escalation_id=resolved.pk, note="With a friend now")
    room = make_room()
    asked = escalations.ask_for_support(member=make_member(), room=room, seq=None)
    _aged(asked, NOTICE_SECONDS * 2)
    assert waiting.tell_waiting_members() == []
    assert not Escalation.objects.filter(member_notified_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_watcher_tick_reaches_the_members_room_page(settings):
    settings.HEARTH_ESCALATION_MEMBER_NOTICE_SECONDS = 1.0
    room = await database_sync_to_async(make_room)()
    member = await database_sync_to_async(make_member)()
    page = await joined(room.slug, member)
    await page.send_to(text_data=json.dumps(
        {"type": "send", "client_id": "c1", "body": HIGH_RISK_BODY}))
    assert (await next_of(page, "support"))["tier"] == "high_risk"
    await asyncio.sleep(1.1)

    await Watcher().check_once()

    frame = await next_of(page, "still_reaching")
    assert frame["room"] == room.slug and frame["title"] == support.STILL_REACHING_TITLE
    assert frame["body"] == support.STILL_REACHING_BODY
    await page.disconnect()
