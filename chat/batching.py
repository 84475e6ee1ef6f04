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
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from chat.errors import HearthError
from hearth.database_thread import database_thread

# A batch never holds the room locks longer than this many writes take.
MAX_BATCH = 64

R = TypeVar("R")
T = TypeVar("T")


class BatchWriter(Generic[R, T]):
    """Runs `write` (a function of many requests, in the database thread) on batches; each
    request's outcome is its result, or the HearthError it gave, raised to its caller."""

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
                # Each waiting socket answers with internal_error; a client keeps its
                # message and retries it.
                for _request, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_request, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():
                    continue  # its socket closed meanwhile
                if isinstance(outcome, HearthError):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)


async def in_database_thread(write: Callable[[Sequence[R]], list[T | HearthError]],
                             requests: Sequence[R]) -> list[T | HearthError]:
    """Run a batch in the thread all of a worker's socket database work shares."""
    return await database_thread(write)(requests)
