"""Hearth's channel layers: the Redis ones (pub/sub, the default, and the core layer), made
to wait out an outage instead of closing or refusing sockets, and the in-memory one (embedded
mode), made to sweep for expired messages once a second instead of on every send and receive.


channels_redis raises from receive() when Redis is unreachable; the consumer's dispatch loop
lets that escape and daphne closes the socket with 1011, so a Redis restart would drop every
member mid-conversation (and one in crisis would lose the page that holds their support
card). Live events are best-effort; the sockets themselves must not depend on Redis.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

from channels.layers import InMemoryChannelLayer
from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, _wrap_close

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


class OutageTolerantPubSubChannelLayer(RedisPubSubChannelLayer):  # type: ignore[misc]
    """channels_redis's pub/sub layer, but a socket can still open while Redis is down.

    The stock layer subscribes every new socket's channel in Redis before the socket may
    open, so during an outage every new socket was refused (HTTP 500): a member in crisis
    could not reach the page holding their support card. Here the channel exists at once and
    is subscribed when Redis is back; what the socket misses meanwhile it fetches by seq.
    """

    def _get_layer(self) -> Any:
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = _OutageTolerantLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
        return layer


class _OutageTolerantLoopLayer(RedisPubSubLoopLayer):  # type: ignore[misc]
    async def new_channel(self, prefix: str = "specific.") -> str:
        channel = f"{self.prefix}{prefix}{uuid.uuid4().hex}"
        self.channels[channel] = asyncio.Queue()
        try:
            await self._get_shard(channel).subscribe(channel)
        except Exception as exc:  # redis-py's errors are not OSError
            logger.warning("channel layer unreachable, subscribing later: %s",
                           type(exc).__name__)
            asyncio.get_running_loop().create_task(self._subscribe_when_back(channel))
        return channel

    async def _subscribe_when_back(self, channel: str) -> None:
        delay = RETRY_FIRST_SECONDS
        while channel in self.channels:  # gone once its socket has closed
            await asyncio.sleep(delay)
            try:
                await self._get_shard(channel).subscribe(channel)
                return
            except Exception:
                delay = min(delay * 2, RETRY_MAX_SECONDS)


class _OutageWithoutTraceback(logging.Filter):
    """The pub/sub layer's receive loop logs a traceback every second while Redis is down;
    an outage is a known state, so it becomes one warning line with the error's name."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            record.msg = f"{record.getMessage()}: {type(error).__name__}"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


logging.getLogger("channels_redis.pubsub").addFilter(_OutageWithoutTraceback())

