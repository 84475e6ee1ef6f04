"""Run the escalation watcher on its own, without serving sockets.

Every worker already runs one; this is for deployments that want the fallback notifier to
keep going while no worker is up (for example during a rolling restart).
"""

from __future__ import annotations

import asyncio
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from moderation.watch import Watcher


class Command(BaseCommand):
    help = "Re-escalate unacknowledged escalations and send the operator's fallback alerts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="check once and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        asyncio.run(self._run(once=options["once"]))

    async def _run(self, *, once: bool) -> None:
        watcher = Watcher()
        while True:
            await watcher.check_once()
            if once:
                return
            await asyncio.sleep(settings.HEARTH_WATCH_SECONDS)
