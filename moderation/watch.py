"""Each worker's watcher: overdue escalations, the fallback notifier, the duty roster,
hosted sessions' share timers and, when asked for, the daily retention purge.

It needs only the database, so it keeps working with the channel layer down: an alert nobody
acknowledged still reaches the operator's on-call fallback. Every worker runs one; rows are
claimed with conditional updates, so two workers never send the same alert twice.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from hearth import counters
from hearth.database_thread import database_thread
from hearth.retention import DailyPurge
from moderation import duty, escalations, fallback, waiting
from rooms import sessions

logger = logging.getLogger(__name__)


def _database_checks(staff_member_ids: list[int]) -> tuple[list[fallback.FallbackJob], int]:
    for member_id in staff_member_ids:
        duty.touch(member_id=member_id)
    escalations.re_escalate_overdue()
    waiting.tell_waiting_members()
    sessions.expire_turns()
    return fallback.claim_due(), duty.on_duty_count()


def _send_jobs(jobs: list[fallback.FallbackJob]) -> list[str]:
    close_old_connections()
    return [fallback.send(job) for job in jobs]


def _record(jobs: list[fallback.FallbackJob], errors: list[str]) -> None:
    for job, error in zip(jobs, errors, strict=True):
        fallback.record_result(job, error)


def _run_daily_purge(daily_purge: DailyPurge, now: datetime) -> None:
    try:
        daily_purge.run(now=now)
    finally:
        connection.close()  # a pool thread's own connection, not the sockets' kept one


class Watcher:
    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self.daily_purge = DailyPurge()
        self.purge_task: asyncio.Task[None] | None = None
        self._last_on_duty: int | None = None
        # Staff dashboards open in this process, by member id (their shifts stay fresh).
        self.staff_sockets: dict[int, int] = {}

    def ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        task = self._task
        if task is None or task.done() or task.get_loop() is not loop:
            self._task = loop.create_task(self._loop())

    def staff_connected(self, member_id: int) -> None:
        self.staff_sockets[member_id] = self.staff_sockets.get(member_id, 0) + 1
        self.ensure_running()

    def staff_disconnected(self, member_id: int) -> None:
        left = self.staff_sockets.get(member_id, 0) - 1
        if left > 0:
            self.staff_sockets[member_id] = left
        else:
            self.staff_sockets.pop(member_id, None)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(settings.HEARTH_WATCH_SECONDS)
            try:
                await self.check_once()
            except Exception as exc:
                counters.note_watcher_failure()
                logger.warning("watcher check failed: %s", type(exc).__name__,
                               extra={"error": type(exc).__name__})

    async def check_once(self) -> None:
        jobs, on_duty = await database_thread(_database_checks)(list(self.staff_sockets))
        if jobs:
            # The network may be slow; it must not hold the database thread.
            errors = await sync_to_async(_send_jobs, thread_sensitive=False)(jobs)
            await database_thread(_record)(jobs, errors)
        if self._last_on_duty is not None and on_duty != self._last_on_duty:
            # A shift went stale (or another worker's check-in): rooms and dashboards follow.
            await database_thread(duty.announce_staffing)()
        self._last_on_duty = on_duty
        counters.note_watcher_run()
        self._start_purge_if_due()

    def _start_purge_if_due(self) -> None:
        """The purge runs beside the ticks, in a thread of its own with its own connection:
        a long first purge must not hold back a crisis alert or the sockets' database
        thread."""
        now = timezone.now()
        if self.purge_task is not None and not self.purge_task.done():
            return
        if self.daily_purge.due(now=now):
            self.purge_task = asyncio.get_running_loop().create_task(self._purge(now))

    async def _purge(self, now: datetime) -> None:
        try:
            await sync_to_async(_run_daily_purge, thread_sensitive=False)(self.daily_purge, now)
        except Exception as exc:
            logger.warning("retention purge failed: %s", type(exc).__name__,
                           extra={"error": type(exc).__name__})


watcher = Watcher()
