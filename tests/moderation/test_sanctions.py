"""Sanctions in force and the ladder (moderation/sanctions.py), with a clock the tests move:
timeouts end by themselves, bans hold, warnings never stop anyone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from chat.errors import ErrorCode, HearthError
from chat.protocol import CloseCode
from chat.services import post_message
from moderation import services
from moderation.models import Sanction, SanctionKind
from moderation.sanctions import (
    LADDER,
    SanctionRefusedError,
    ensure_not_banned,
    suggested_step,
)
from tests.chat.test_consumers import connect, joined, next_of
from tests.factories import accept_room_rules, make_member, make_room, make_staff
from tests.moderation.support import Clock, closed_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(timezone, "now", fake)
    return fake


def sanction(member, kind: SanctionKind, *, room=None, duration: timedelta | None = None,
             moderator=None) -> Sanction:
    return services.sanction_member(moderator=moderator or make_staff(), member_id=member.pk,
                                    kind=kind, rule="respect", reason="Name-calling",
                                    room_id=room.pk if room else None, duration=duration)


_sent = iter(range(1, 10**9))


def try_post(member, room) -> ErrorCode | None:
    """The refusal code for a new message, or None when it was stored."""
    accept_room_rules(member, room)
    try:
        post_message(member=member, room=room, client_id=f"t{next(_sent)}", body="hello again")
    except HearthError as refused:
        return refused.code
    return None


def test_a_timeout_blocks_posting_with_retry_after_and_ends_by_itself(clock: Clock):
    room, member = make_room(), make_member()
    sanction(member, SanctionKind.TIMEOUT, room=room, duration=timedelta(hours=1))

    accept_room_rules(member, room)
    with pytest.raises(SanctionRefusedError) as refused:
        post_message(member=member, room=room, client_id="during", body="hello")
    assert refused.value.code == ErrorCode.TIMED_OUT
    assert refused.value.retry_after == 3600

    clock.advance(timedelta(minutes=59, seconds=30))
    with pytest.raises(SanctionRefusedError) as refused:
        post_message(member=member, room=room, client_id="during", body="hello")
    assert refused.value.retry_after == 30

    clock.advance(timedelta(seconds=30))  # exactly at ends_at: over
    assert try_post(member, room) is None


def test_a_room_timeout_leaves_other_rooms_alone_and_a_site_timeout_does_not(clock: Clock):
    room, other, member = make_room(), make_room(), make_member()
    sanction(member, SanctionKind.TIMEOUT, room=room, duration=timedelta(hours=1))
    assert try_post(member, room) == ErrorCode.TIMED_OUT
    assert try_post(member, other) is None
    sanction(member, SanctionKind.TIMEOUT, duration=timedelta(minutes=10))
    assert try_post(member, other) == ErrorCode.TIMED_OUT
    clock.advance(timedelta(minutes=11))
    assert try_post(member, other) is None
    assert try_post(member, room) == ErrorCode.TIMED_OUT


def test_the_longest_timeout_in_force_is_the_one_reported(clock: Clock):
    room, member = make_room(), make_member()
    sanction(member, SanctionKind.TIMEOUT, room=room, duration=timedelta(hours=24))
    sanction(member, SanctionKind.TIMEOUT, duration=timedelta(hours=1))
    accept_room_rules(member, room)
    with pytest.raises(SanctionRefusedError) as refused:
        post_message(member=member, room=room, client_id="x", body="hello")
    assert refused.value.retry_after == 24 * 3600


def test_a_room_ban_refuses_that_room_and_joining_it_but_not_other_rooms(clock: Clock):
    room, other, member = make_room(), make_room(), make_member()
    sanction(member, SanctionKind.BAN, room=room)
    assert try_post(member, room) == ErrorCode.BANNED
    with pytest.raises(HearthError) as refused:
        ensure_not_banned(member_id=member.pk, room_id=room.pk)
    assert refused.value.code == ErrorCode.BANNED
    ensure_not_banned(member_id=member.pk, room_id=other.pk)
    assert try_post(member, other) is None
    clock.advance(timedelta(days=3650))  # a ban does not end by itself
    assert try_post(member, room) == ErrorCode.BANNED


def test_a_site_ban_refuses_every_room(clock: Clock):
    rooms, member = [make_room() for _ in range(3)], make_member()
    sanction(member, SanctionKind.BAN)
    for room in rooms:
        assert try_post(member, room) == ErrorCode.BANNED
        with pytest.raises(HearthError):
            ensure_not_banned(member_id=member.pk, room_id=room.pk)
    clock.advance(timedelta(days=3650))
    assert try_post(member, rooms[0]) == ErrorCode.BANNED


@pytest.mark.parametrize("ban_room", [True, False])
def test_a_ban_wins_over_a_timeout_in_force_at_the_same_time(ban_room):
    room, member = make_room(), make_member()
    sanction(member, SanctionKind.TIMEOUT, room=room, duration=timedelta(hours=1))
    sanction(member, SanctionKind.BAN, room=room if ban_room else None)
    sanction(member, SanctionKind.TIMEOUT, duration=timedelta(hours=2))
    assert try_post(member, room) == ErrorCode.BANNED


def test_warnings_never_stop_anyone_posting():
    room, member = make_room(), make_member()
    for _ in range(3):
        warning = sanction(member, SanctionKind.WARNING, room=room)
        assert warning.ends_at == warning.starts_at
    sanction(member, SanctionKind.WARNING)
    assert try_post(member, room) is None
    ensure_not_banned(member_id=member.pk, room_id=room.pk)


def test_the_ladder_goes_warning_then_1_hour_then_24_hours_then_ban():
    room, member = make_room(), make_member()
    assert [(s.kind, s.duration) for s in LADDER] == [
        (SanctionKind.WARNING, None), (SanctionKind.TIMEOUT, timedelta(hours=1)),
        (SanctionKind.TIMEOUT, timedelta(hours=24)), (SanctionKind.BAN, None)]
    steps = []
    for _ in range(5):
        step = suggested_step(member_id=member.pk)
        steps.append(step.label)
        sanction(member, step.kind, room=room, duration=step.duration)
    assert steps == ["Warning", "1 hour timeout", "24 hour timeout", "Ban", "Ban"]


def test_the_ladder_forgets_sanctions_older_than_90_days(clock: Clock):
    member = make_member()
    sanction(member, SanctionKind.TIMEOUT, duration=timedelta(hours=24))
    assert suggested_step(member_id=member.pk).kind == SanctionKind.BAN
    clock.advance(timedelta(days=89))
    assert suggested_step(member_id=member.pk).kind == SanctionKind.BAN
    clock.advance(timedelta(days=2))
    assert suggested_step(member_id=member.pk).label == "Warning"


def test_the_ladder_is_per_member():
    room, member, other = make_room(), make_member(), make_member()
    sanction(member, SanctionKind.WARNING, room=room)
    assert suggested_step(member_id=member.pk).label == "1 hour timeout"
    assert suggested_step(member_id=other.pk).label == "Warning"


# --- on the room socket -------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
async def test_a_banned_member_cannot_join_that_room_but_can_join_others():
    room = await database_sync_to_async(make_room)()
    other = await database_sync_to_async(make_room)()
    member = await database_sync_to_async(make_member)()
    await database_sync_to_async(sanction)(member, SanctionKind.BAN, room=room)

    refused = await connect(room.slug, member)
    frames, code = await closed_with(refused)
    assert [f["code"] for f in frames if f["type"] == "error"] == ["banned"]
    assert code == CloseCode.FORBIDDEN

    allowed = await joined(other.slug, member)
    await allowed.send_json_to({"type": "send", "client_id": "ok", "body": "hello"})
    assert (await next_of(allowed, "ack"))["seq"] == 1
    await allowed.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_timed_out_member_gets_timed_out_with_retry_after_on_send():
    room = await database_sync_to_async(make_room)()
    member = await database_sync_to_async(make_member)()
    socket = await joined(room.slug, member)
    await database_sync_to_async(sanction)(member, SanctionKind.TIMEOUT, room=room,
                                           duration=timedelta(minutes=10))
    notice = await next_of(socket, "notice")
    assert (notice["kind"], notice["rule"], notice["reason"]) == ("timeout", "respect",
                                                                  "Name-calling")
    assert notice["ends_at"] and notice["room"] == room.slug
    await socket.send_json_to({"type": "send", "client_id": "during", "body": "hello"})
    error = await next_of(socket, "error")
    assert (error["code"], error["client_id"]) == ("timed_out", "during")
    assert 590 <= error["retry_after"] <= 600
    await socket.disconnect()


def test_a_timeout_of_any_length_counts_on_the_ladder_by_its_length():
    from moderation.sanctions import suggested_step

    room, moderator, member = make_room(), make_staff(), make_member()
    services.sanction_member(moderator=moderator, member_id=member.pk,
                             kind=SanctionKind.TIMEOUT, rule="respect", reason="",
                             room_id=room.pk, duration=timedelta(hours=3))
    step = suggested_step(member_id=member.pk)
    assert (step.kind, step.duration) == (SanctionKind.TIMEOUT, timedelta(hours=24))
