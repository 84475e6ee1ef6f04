"""Hearth's channel layers: the Redis one, made to wait out an outage instead of closing
every socket, and the in-memory one (embedded mode), made to sweep for expired messages once a
second instead of on every send and receive.


channels_redis raises from receive() when Redis is unreachable; the consumer's dispatch loop
lets that escape and daphne closes the socket with 1011, so a Redis restart would drop every
member mid-conversation (and one in crisis would lose the page that holds their support
card). Live events are best-effort; the sockets themselves must not depend on Redis.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from channels.layers import InMemoryChannelLayer
from channels_redis.core import RedisChannelLayer

logger = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 0.5
RETRY_MAX_SECONDS = 5.0


class OutageTolerantRedisChannelLayer(RedisChannelLayer):  # type: ignore[misc]
    async def receive(self, channel: str) -> dict[str, Any]:
        delay = RETRY_FIRST_SECONDS
        while True:
            try:
                return await super().receive(channel)  # type: ignore[no-any-return]
            except Exception as exc:  # redis-py's errors are not OSError; never CancelledError
                logger.warning("channel layer unreachable, retrying: %s", type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)

    async def _clean_receive_backup(self, index: int, channel: str) -> None:
        # channels_redis runs this as a background task after each receive; with Redis gone
        # its error would surface as "Task exception was never retrieved". The backup entry
        # it could not pop is only a copy of a message already delivered.
        try:
            await super()._clean_receive_backup(index, channel)
        except Exception as exc:
            logger.warning("channel layer backup not cleaned: %s", type(exc).__name__)


class EmbeddedChannelLayer(InMemoryChannelLayer):  # type: ignore[misc]
    """The in-memory layer for one worker. Channels' own walks every channel and group for
    expired entries on each send and receive: with a few hundred sockets that walk was an
    eighth of a busy worker's time (docs/benchmarks.md). Messages expire after a minute, so
    sweeping once a second changes nothing a member can see."""

    SWEEP_EVERY_SECONDS = 1.0
    _last_sweep = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep < self.SWEEP_EVERY_SECONDS:
            return
        self._last_sweep = now
        super()._clean_expired()

