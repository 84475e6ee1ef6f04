"""Group commit: the requests (posts, joins, presence reads) that arrive while one batch is
in the database thread go together in the next one.

Every post used to be its own transaction, and on PostgreSQL each commit waits for a disk
flush (about 5 ms here) in the one thread all database work shares, which capped a worker
near 170 posts a second; every join cost some twenty queries. Nothing waits to fill a
batch: a request arriving when the writer is idle is written at once; only requests that
arrive while a write is under way share the next one. Outcomes come back in arrival order,
so sockets acknowledge and broadcast in seq order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from chat.errors import HearthError
from hearth.database_thread import database_thread

logger = logging.getLogger(__name__)

# A batch never holds the room locks longer than this many writes take.
MAX_BATCH = 64

R = TypeVar("R")
T = TypeVar("T")


class BatchWriter(Generic[R, T]):
    """Runs `write` (a function of many requests, in the database thread) on batches; each
    request's outcome is its result, or the HearthError it gave, raised to its caller. A
    batch whose write raises is written again request by request: only the request that
    fails alone gets the exception."""

    def __init__(self, write: Callable[[Sequence[R]], list[T | HearthError]]) -> None:
        self._write = write
        self._pending: list[tuple[R, asyncio.Future[T]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, request: R) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append((request, future))
        task = self._task
        if task is None or task.done() or task.get_loop() is not loop:
            self._task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            loop = asyncio.get_running_loop()
            # Requests left by an event loop that has gone (tests) are not this loop's.
            batch = [(r, f) for r, f in batch if f.get_loop() is loop and not f.done()]
            if not batch:
                continue
            try:
                outcomes = await in_database_thread(self._write,
                                                    [request for request, _future in batch])
            except Exception as exc:
                if len(batch) == 1:
                    _settle(batch[0][1], exc)
                    continue
                # One request the database refuses must not cost the others theirs: the
                # failed batch (rolled back whole) is written again one request at a time,
                # so only the culprit fails. A retried post that had been stored after all
                # is found by its client_id and acknowledged as a duplicate.
                logger.warning("a batch of %d failed (%s); writing it one by one",
                               len(batch), type(exc).__name__)
                for request, future in batch:
                    await self._write_alone(request, future)
                continue
            for (_request, future), outcome in zip(batch, outcomes, strict=True):
                _settle(future, outcome)

    async def _write_alone(self, request: R, future: asyncio.Future[T]) -> None:
        if future.done():
            return  # its socket closed meanwhile
        try:
            [outcome] = await in_database_thread(self._write, [request])
        except Exception as exc:
            # The waiting socket answers with internal_error; its client keeps the message.
            _settle(future, exc)
            return
        _settle(future, outcome)


def _settle(future: asyncio.Future[T], outcome: T | Exception) -> None:
    """Give a request its outcome: its result, or the error its caller raises."""
    if future.done():
        return  # its socket closed meanwhile
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


async def in_database_thread(write: Callable[[Sequence[R]], list[T | HearthError]],
                             requests: Sequence[R]) -> list[T | HearthError]:
    """Run a batch in the thread all of a worker's socket database work shares."""
    return await database_thread(write)(requests)
