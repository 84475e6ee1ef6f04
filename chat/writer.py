"""Group commit for posts: the messages that arrive while one transaction is being written
are stored together in the next one.

Every post used to be its own transaction, and on PostgreSQL each commit waits for a disk
flush (about 5 ms here) in the one thread all database work shares, which capped a worker
near 170 posts a second. Nothing waits to fill a batch: a post arriving when the writer is
idle is written at once; only posts that arrive while a write is under way share the next
one. Outcomes come back in arrival order, so sockets acknowledge and broadcast in seq order.
"""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async

from chat.errors import HearthError
from chat.services import PostRequest, PostResult, post_messages

logger = logging.getLogger(__name__)

# A batch never holds the room locks longer than this many inserts take.
MAX_BATCH = 64


class PostWriter:
    def __init__(self) -> None:
        self._pending: list[tuple[PostRequest, asyncio.Future[PostResult]]] = []
        self._task: asyncio.Task[None] | None = None

    async def post(self, request: PostRequest) -> PostResult:
        """Store one message as post_message would (same result, same exceptions)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[PostResult] = loop.create_future()
        self._pending.append((request, future))
        task = self._task
        if task is None or task.done() or task.get_loop() is not loop:
            self._task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            loop = asyncio.get_running_loop()
            # Posts left by an event loop that has gone (tests) are not this loop's to write.
            batch = [(r, f) for r, f in batch if f.get_loop() is loop and not f.done()]
            if not batch:
                continue
            try:
                outcomes = await database_sync_to_async(post_messages)(
                    [request for request, _future in batch])
            except Exception as exc:
                # Each waiting socket answers its client with internal_error; the client
                # keeps the message and retries it.
                for _request, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_request, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():
                    continue  # its socket closed meanwhile; the message is stored
                if isinstance(outcome, HearthError):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)


post_writer = PostWriter()
