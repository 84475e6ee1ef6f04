"""Retention for members and their messages: what `manage.py purge` deletes here.

Messages past their room's period go a batch at a time, each batch its own short
transaction, and open screens drop them as they drop erased ones (`message_removed`, sent
after the commit). Members go when nothing of theirs is left and no browser holds them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import partial
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import IntegrityError, models, transaction

from chat.events import broadcast_to_room_sync
from chat.identity import SESSION_MEMBER_KEY
from chat.models import Member, Message
from chat.protocol import RemovalReason, message_removed_frame
from hearth.batches import delete_in_batches
from moderation.models import ReviewState
from rooms.retention import rooms_with_message_days

logger = logging.getLogger(__name__)

# Engines whose sessions live in django_session, where purge can see whom they hold.
_TABLE_SESSION_ENGINES = ("django.contrib.sessions.backends.db",
                          "django.contrib.sessions.backends.cached_db")


def expired_messages(*, room_id: int, now: datetime, days: int) -> models.QuerySet[Message]:
    """A room's messages older than `days`, except those a moderator has still to look at:
    an open review item keeps its message (and its report) until it is decided."""
    return (Message.objects.filter(room_id=room_id, created_at__lt=now - timedelta(days=days))
            .exclude(review_item__state=ReviewState.OPEN))


def purge_messages(*, now: datetime, site_days: int, batch_size: int, dry_run: bool) -> int:
    """Delete every room's messages past its period (the room's own, else `site_days`).

    Oldest first, `batch_size` per transaction. Messages posted meanwhile are newer than the
    cutoff and never selected. Their review items and reports go with them.
    """
    deleted = 0
    for room_id, slug, days in rooms_with_message_days(site_days=site_days):
        expired = expired_messages(room_id=room_id, now=now, days=days)
        if dry_run:
            deleted += expired.count()
            continue
        while batch := _delete_batch(expired, room_id=room_id, slug=slug,
                                     batch_size=batch_size):
            deleted += batch
    return deleted


def _delete_batch(expired: models.QuerySet[Message], *, room_id: int, slug: str,
                  batch_size: int) -> int:
    with transaction.atomic():
        rows = list(expired.order_by("seq").values_list("pk", "seq")[:batch_size])
        if not rows:
            return 0
        Message.objects.filter(pk__in=[pk for pk, _seq in rows]).delete()
        transaction.on_commit(partial(_announce_removed, room_id, slug,
                                      [seq for _pk, seq in rows]))
    return len(rows)


def _announce_removed(room_id: int, slug: str, seqs: list[int]) -> None:
    # The frame "forget me" sends (chat.services.forget_member): clients take them off screen.
    broadcast_to_room_sync(room_id, message_removed_frame(room_slug=slug, seqs=seqs,
                                                          reason=RemovalReason.EXPIRED))


def idle_members(*, now: datetime, days: int) -> models.QuerySet[Member]:
    """Anonymous members made more than `days` ago with nothing left: no message, report,
    sanction, take-aside, escalation or open socket. (Whether a browser still holds them is
    read from the sessions by purge_idle_members.)"""
    return (Member.objects.filter(user__isnull=True, created_at__lt=now - timedelta(days=days))
            .filter(messages__isnull=True, reports_made__isnull=True, sanctions__isnull=True,
                    asides__isnull=True, escalations__isnull=True, connections__isnull=True))


def purge_idle_members(*, now: datetime, days: int, batch_size: int, dry_run: bool) -> int:
    """Delete idle members no unexpired browser session holds, a batch at a time."""
    live = set(_members_with_live_sessions(now))
    candidates = idle_members(now=now, days=days)
    if dry_run:
        return sum(1 for pk in candidates.values_list("pk", flat=True).iterator()
                   if pk not in live)
    deleted, after = 0, 0
    while True:
        try:
            with transaction.atomic():
                ids = list(candidates.filter(pk__gt=after).order_by("pk")
                           .values_list("pk", flat=True)[:batch_size])
                if not ids:
                    return deleted
                after = ids[-1]
                doomed = [pk for pk in ids if pk not in live]
                if doomed:
                    # The conditions are read again here: one who acted meanwhile stays.
                    _total, per_model = candidates.filter(pk__in=doomed).delete()
                    deleted += per_model.get(Member._meta.label, 0)
        except IntegrityError:
            # Someone acted between the check and the delete (PostgreSQL's deferred foreign
            # key refused it): this batch is rolled back whole and looked at again tomorrow.
            logger.warning("retention: a member acted while being purged; batch left")


def _members_with_live_sessions(now: datetime) -> Iterator[int]:
    if settings.SESSION_ENGINE not in _TABLE_SESSION_ENGINES:
        return  # sessions kept elsewhere cannot be read here; created_at alone decides
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    for data in Session.objects.filter(expire_date__gte=now).values_list(
            "session_data", flat=True).iterator(chunk_size=2000):
        member_id = store.decode(data).get(SESSION_MEMBER_KEY)
        if isinstance(member_id, int):
            yield member_id


def purge_expired_sessions(*, now: datetime, batch_size: int, dry_run: bool) -> int:
    """Browser sessions past their expiry date (what Django's clearsessions does, batched)."""
    if settings.SESSION_ENGINE not in _TABLE_SESSION_ENGINES:
        return 0
    return delete_in_batches(Session.objects.filter(expire_date__lt=now),
                             batch_size=batch_size, dry_run=dry_run)
