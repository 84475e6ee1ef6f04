"""BatchWriter: group commit without waiting, outcomes in order, failures to every waiter."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from chat import batching as batching_module
from chat.batching import BatchWriter
from chat.errors import ErrorCode, HearthError

pytestmark = pytest.mark.asyncio


@dataclass
class _Request:
    n: int


@dataclass
class _Database:
    """Stands in for post_messages: records each batch; the first write waits for `gate`."""

    batches: list[list[int]] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)

    def post_messages(self, requests: list[Any]) -> list[Any]:
        self.batches.append([r.n for r in requests])
        if len(self.batches) == 1:
            self.gate.wait(timeout=5)
        return [HearthError(ErrorCode.RULES_NOT_ACCEPTED) if r.n == 3 else f"stored-{r.n}"
                for r in requests]


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Database]:
    fake = _Database()
    monkeypatch.setattr(batching_module, "in_database_thread",
                        lambda write, requests: asyncio.to_thread(write, requests))
    yield fake
    fake.gate.set()


async def test_requests_arriving_during_a_write_share_the_next_one(database):
    writer: Any = BatchWriter(database.post_messages)
    first = asyncio.ensure_future(writer.submit(_Request(0)))
    await asyncio.sleep(0.05)
    rest = [asyncio.ensure_future(writer.submit(_Request(n)))
            for n in range(1, 6)]
    await asyncio.sleep(0.05)
    database.gate.set()
    assert await first == "stored-0"
    outcomes = await asyncio.gather(*rest, return_exceptions=True)
    assert database.batches == [[0], [1, 2, 3, 4, 5]]
    assert outcomes[0] == "stored-1" and outcomes[4] == "stored-5"
    assert isinstance(outcomes[2], HearthError)
    assert outcomes[2].code == ErrorCode.RULES_NOT_ACCEPTED


async def test_a_lone_request_is_written_at_once(database):
    database.gate.set()
    writer: Any = BatchWriter(database.post_messages)
    assert await writer.submit(_Request(1)) == "stored-1"
    assert database.batches == [[1]]


async def test_a_failed_write_fails_every_post_in_it_and_the_writer_carries_on(monkeypatch):
    def broken(requests: list[Any]) -> list[Any]:
        raise RuntimeError("database went away")

    writer_calls: list[Any] = [broken]
    monkeypatch.setattr(batching_module, "in_database_thread",
                        lambda write, requests: asyncio.to_thread(write, requests))
    writer: Any = BatchWriter(lambda requests: writer_calls[-1](requests))
    outcomes = await asyncio.gather(*[writer.submit(_Request(n))
                                      for n in range(3)], return_exceptions=True)
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    writer_calls.append(lambda rs: [f"ok-{r.n}" for r in rs])
    assert await writer.submit(_Request(9)) == "ok-9"


async def test_a_failed_batch_is_written_again_one_by_one_and_only_the_culprit_fails(
        monkeypatch):
    batches: list[list[int]] = []

    def refuses_seven(requests: Sequence[Any]) -> list[Any]:
        batches.append([r.n for r in requests])
        if any(r.n == 7 for r in requests):
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        return [f"stored-{r.n}" for r in requests]

    monkeypatch.setattr(batching_module, "in_database_thread",
                        lambda write, requests: asyncio.to_thread(write, requests))
    writer: Any = BatchWriter(refuses_seven)
    outcomes = await asyncio.gather(*[writer.submit(_Request(n)) for n in (5, 6, 7, 8)],
                                    return_exceptions=True)
    assert batches == [[5, 6, 7, 8], [5], [6], [7], [8]]
    assert outcomes[:2] == ["stored-5", "stored-6"] and outcomes[3] == "stored-8"
    assert isinstance(outcomes[2], UnicodeEncodeError)
