"""Retention of members and messages (chat/retention.py), with the clock moved forward:
messages past their room's period go a batch at a time and open screens drop them; newer
ones, ones still under review and ones posted during the purge stay; idle members and
expired sessions go."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.db.models.signals import post_delete
from django.utils import timezone

from chat import retention
from chat.identity import SESSION_MEMBER_KEY
from chat.models import Member, Message
from moderation import services as moderation
from moderation.models import ReviewItem, SanctionKind
from rooms.models import Room
from tests.chat.test_consumers import joined, next_of
from tests.factories import make_member, make_room, make_staff, post_in_room
from tests.moderation.support import Clock, held_item

pytestmark = pytest.mark.django_db

_client_ids = itertools.count(1)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(timezone, "now", fake)
    return fake


def posted(room: Room, body: str = "hello all", member: Member | None = None) -> Message:
    return post_in_room(member=member or make_member(), room=room,
                        client_id=f"c-{next(_client_ids)}", body=body).message


def purge_messages(*, site_days: int = 30, batch_size: int = 500,
                   dry_run: bool = False) -> int:
    return retention.purge_messages(now=timezone.now(), site_days=site_days,
                                    batch_size=batch_size, dry_run=dry_run)


def remaining() -> set[int]:
    return set(Message.objects.values_list("pk", flat=True))


# --- messages -----------------------------------------------------------------------------------

def test_messages_past_the_period_go_and_newer_ones_stay(clock: Clock):
    room = make_room()
    old = [posted(room, f"old {i}") for i in range(3)]
    clock.advance(timedelta(days=20))
    newer = posted(room, "written later")
    clock.advance(timedelta(days=10, seconds=1))  # the old ones are now 30 days and a second old
    assert purge_messages() == 3
    assert remaining() == {newer.pk}
    assert not Message.objects.filter(pk__in=[m.pk for m in old]).exists()


def test_a_rooms_own_period_overrides_the_site_default(clock: Clock):
    short, long, site = make_room(), make_room(), make_room()
    Room.objects.filter(pk=short.pk).update(message_retention_days=7)
    Room.objects.filter(pk=long.pk).update(message_retention_days=365)
    in_short, in_long, in_site = posted(short), posted(long), posted(site)
    clock.advance(timedelta(days=8))
    assert purge_messages(site_days=30) == 1
    assert remaining() == {in_long.pk, in_site.pk}
    clock.advance(timedelta(days=23))
    assert purge_messages(site_days=30) == 1
    assert remaining() == {in_long.pk}
    assert in_short.pk not in remaining()


def test_a_message_still_under_review_stays_until_it_is_decided(clock: Clock):
    room = make_room()
    item = held_item(room)
    clock.advance(timedelta(days=31))
    assert purge_messages() == 0
    assert remaining() == {item.message.pk}
    moderation.dismiss_item(moderator=make_staff(), item_id=item.id, reason="Fine as it is")
    assert purge_messages() == 1
    assert not ReviewItem.objects.exists()  # its review item went with it


def test_dry_run_counts_and_changes_nothing(clock: Clock):
    room = make_room()
    for i in range(3):
        posted(room, f"message {i}")
    clock.advance(timedelta(days=31))
    assert purge_messages(dry_run=True) == 3
    assert Message.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_each_batch_commits_and_messages_posted_during_the_purge_stay(clock: Clock):
    room = make_room()
    old = [posted(room, f"old {i}") for i in range(5)]
    clock.advance(timedelta(days=31))
    scheduled: list[bool] = []
    during: list[Message] = []

    def post_once_the_first_batch_commits(sender, **kwargs) -> None:
        # Runs inside a batch's transaction; the post waits for that batch to commit, as a
        # member's post on another connection would, and lands before the next batch.
        if not scheduled and connection.in_atomic_block:
            scheduled.append(True)
            transaction.on_commit(lambda: during.append(posted(room, "still here")))

    post_delete.connect(post_once_the_first_batch_commits, sender=Message)
    try:
        assert purge_messages(batch_size=2) == 5
    finally:
        post_delete.disconnect(post_once_the_first_batch_commits, sender=Message)
    assert not Message.objects.filter(pk__in=[m.pk for m in old]).exists()
    [still_here] = during
    assert remaining() == {still_here.pk}
    assert still_here.seq == 6  # the room's sequence went on past the purged ones


@pytest.mark.django_db(transaction=True)
async def test_an_open_screen_drops_purged_messages_as_it_drops_erased_ones(clock: Clock):
    room = await database_sync_to_async(make_room)()
    reader = await database_sync_to_async(make_member)()
    old = await database_sync_to_async(posted)(room, "from last month")
    clock.advance(timedelta(days=29))
    kept = await database_sync_to_async(posted)(room, "from yesterday")
    clock.advance(timedelta(days=1, seconds=1))
    socket = await joined(room.slug, reader)
    try:
        assert await database_sync_to_async(purge_messages)() == 1
        removed = await next_of(socket, "message_removed")
        assert removed == {"type": "message_removed", "room": room.slug, "seqs": [old.seq],
                           "reason": "expired"}
        history_after = await database_sync_to_async(remaining)()
        assert history_after == {kept.pk}
    finally:
        await socket.disconnect()


# --- members and sessions -------------------------------------------------------------------------

def session_holding(member: Member) -> str:
    store = SessionStore()
    store[SESSION_MEMBER_KEY] = member.pk
    store.create()
    return str(store.session_key)


def purge_members(days: int = 30, dry_run: bool = False) -> int:
    return retention.purge_idle_members(now=timezone.now(), days=days, batch_size=2,
                                        dry_run=dry_run)


def test_idle_members_with_nothing_left_go_once_their_session_has_expired(clock: Clock,
                                                                          settings):
    settings.SESSION_COOKIE_AGE = 60 * 60 * 24 * 30
    idle, held = make_member(), make_member()
    session_holding(idle)
    session_holding(held)
    clock.advance(timedelta(days=20))
    session_holding(held)  # came back: a fresh session of 30 days
    clock.advance(timedelta(days=11))
    assert purge_members(dry_run=True) == 1
    assert Member.objects.filter(pk=idle.pk).exists()
    assert retention.purge_expired_sessions(now=timezone.now(), batch_size=1,
                                            dry_run=False) == 2
    assert Session.objects.count() == 1
    assert purge_members() == 1
    assert set(Member.objects.values_list("pk", flat=True)) == {held.pk}


def test_members_with_something_left_or_too_new_stay(clock: Clock):
    room = make_room()
    writer, sanctioned, staff = make_member(), make_member(), make_staff()
    posted(room, "I am still here", member=writer)
    moderation.sanction_member(moderator=staff, member_id=sanctioned.pk,
                               kind=SanctionKind.WARNING, rule="respect", reason="Be kind",
                               room_id=None)
    clock.advance(timedelta(days=31))
    newcomer = make_member()
    assert purge_members() == 0
    assert {writer.pk, sanctioned.pk, staff.pk, newcomer.pk} <= set(
        Member.objects.values_list("pk", flat=True))


def test_expired_sessions_go_and_live_ones_stay(clock: Clock, settings):
    settings.SESSION_COOKIE_AGE = 60 * 60
    expired = session_holding(make_member())
    clock.advance(timedelta(minutes=50))
    live = session_holding(make_member())
    clock.advance(timedelta(minutes=11))
    assert retention.purge_expired_sessions(now=timezone.now(), batch_size=500,
                                            dry_run=True) == 1
    assert Session.objects.filter(session_key=expired).exists()
    assert retention.purge_expired_sessions(now=timezone.now(), batch_size=500,
                                            dry_run=False) == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [live]
