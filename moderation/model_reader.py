"""The learned detector on a worker: loaded once, read in batches on its own thread, never on
the delivery path.

Crisis signals never block, so no message waits for the model: the rules decide mask, hold
or block before a message is stored; the model reads it after it is delivered, and what it
adds (moderation.screening.combine) follows as a rules signal would
(moderation.services.apply_model_signals). A missing or broken model leaves the rules alone
in charge, said at start-up, on /readyz and in the counters; an exception while reading never
fails a message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Final

from django.conf import settings

from moderation.screening.learned import MODEL_DIR, LearnedScreener, ModelUnavailableError
from moderation.screening.types import Signal

logger = logging.getLogger(__name__)

# Messages read together: one gate and one encoder call amortise their overhead over them;
# most messages stop at the gate, which costs microseconds each.
MAX_BATCH: Final = 64
# A backlog warning at most this often (a sustained overload would otherwise log per message).
WARN_EVERY_SECONDS: Final = 60.0


class ModelState(StrEnum):
    NOT_LOADED = "not_loaded"
    READY = "ready"
    OFF = "off"  # HEARTH_SCREENING_MODEL=false
    UNAVAILABLE = "unavailable"  # files missing or unreadable


@dataclass
class ModelCounters:
    """Since the worker started; shown on /readyz."""

    read: int = 0
    failed: int = 0  # messages whose reading raised (screened by the rules alone)
    over_backlog: int = 0  # messages the model never read because the backlog was full
    read_seconds: list[float] = field(default_factory=list)  # per batch, the last 1,000
    seconds_total: float = 0.0  # time spent reading, all batches

    def note_batch(self, seconds: float, size: int) -> None:
        self.read += size
        self.seconds_total += seconds
        self.read_seconds.append(seconds)
        del self.read_seconds[:-1000]


class ModelReader:
    def __init__(self) -> None:
        self.state = ModelState.NOT_LOADED
        self.reason = ""
        self.counters = ModelCounters()
        self._screener: LearnedScreener | None = None
        self._pending: list[tuple[str, asyncio.Future[list[Signal]]]] = []
        self._task: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._last_backlog_warning = 0.0

    def load(self) -> ModelState:
        """Load the model once (a worker calls this at start-up); later calls do nothing."""
        if self.state != ModelState.NOT_LOADED:
            return self.state
        if not settings.HEARTH_SCREENING_MODEL:
            self.state, self.reason = ModelState.OFF, "HEARTH_SCREENING_MODEL is off"
            logger.warning("screening with the rules alone: the learned detector is turned off")
            return self.state
        directory = Path(settings.HEARTH_SCREENING_MODEL_DIR or MODEL_DIR)
        try:
            self._screener = LearnedScreener(directory)
        except ModelUnavailableError as failure:
            self.state, self.reason = ModelState.UNAVAILABLE, str(failure)[:300]
            logger.error("screening with the rules alone: the learned detector did not load",
                         extra={"reason": self.reason})
            return self.state
        self.state = ModelState.READY
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hearth-model")
        logger.info("learned detector loaded", extra={"model_version": self._screener.version})
        return self.state

    @property
    def ready(self) -> bool:
        return self.state == ModelState.READY

    async def read(self, text: str) -> list[Signal]:
        """The model's signals for `text`, the rules' normalised `words` view of a message
        (Verdict.model_text); [] when it is not there, over its backlog, or its reading failed
        (each counted)."""
        if not self.ready:
            return []
        if len(self._pending) >= settings.HEARTH_SCREENING_MODEL_BACKLOG:
            self.counters.over_backlog += 1
            now = time.monotonic()
            if now - self._last_backlog_warning > WARN_EVERY_SECONDS:
                self._last_backlog_warning = now
                logger.warning("learned detector behind: messages screened by the rules alone",
                               extra={"over_backlog": self.counters.over_backlog})
            return []
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Signal]] = loop.create_future()
        self._pending.append((text, future))
        task = self._task
        if task is None or task.done() or task.get_loop() is not loop:
            self._task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            batch = [(text, future) for text, future in batch
                     if future.get_loop() is loop and not future.done()]
            if not batch:
                continue
            readings, encoder_seconds = await loop.run_in_executor(
                self._executor, self._read_batch, [text for text, _future in batch])
            for (_text, future), signals in zip(batch, readings, strict=True):
                if not future.done():
                    future.set_result(signals)
            if self._pending and encoder_seconds:
                # Under sustained load the encoder keeps to its share of the CPU: the worker's
                # event loop delivers messages on the same cores, and delivery comes first.
                # The gate is not paused (everyday chatter stops there, cheaply), so the
                # messages that need the encoder are the only ones that wait, read together;
                # past the backlog the rules alone screen.
                share = min(settings.HEARTH_SCREENING_MODEL_CPU_SHARE, 1.0)
                await asyncio.sleep(encoder_seconds * (1.0 - share) / share)

    def _read_batch(self, texts: list[str]) -> tuple[list[list[Signal]], float]:
        """In the model's thread: each text's signals and the seconds the encoder took. One
        text that breaks the model costs only its own reading: a failed batch is read again
        one text at a time."""
        assert self._screener is not None  # noqa: S101 - only READY readers get here
        started = time.perf_counter()
        try:
            readings, encoder_seconds = self._screener.signals_timed(texts, normalized=True)
        except Exception:  # any model failure: the rules alone for these messages
            readings = [self._read_one(text) for text in texts]
            encoder_seconds = time.perf_counter() - started
        self.counters.note_batch(time.perf_counter() - started, len(texts))
        return readings, encoder_seconds

    def _read_one(self, text: str) -> list[Signal]:
        assert self._screener is not None  # noqa: S101
        try:
            return self._screener.signals([text], normalized=True)[0]
        except Exception as failure:
            self.counters.failed += 1
            # The kind of failure only: never the text.
            logger.error("learned detector failed on a message; the rules alone screened it",
                         extra={"error": type(failure).__name__})
            return []

    def status(self) -> dict[str, object]:
        """For /readyz and the start-up line."""
        seconds = sorted(self.counters.read_seconds)
        return {"state": self.state.value, "reason": self.reason, "read": self.counters.read,
                "failed": self.counters.failed, "over_backlog": self.counters.over_backlog,
                "seconds_total": round(self.counters.seconds_total, 4),
                "batch_seconds_median": round(seconds[len(seconds) // 2], 4) if seconds else None}


# One per worker process.
model_reader = ModelReader()
