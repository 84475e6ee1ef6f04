"""The learned detector on a worker (moderation/model_reader.py): loaded once, read in batches
off the event loop, and never the reason a message fails."""

from __future__ import annotations

import asyncio
import logging
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from moderation.model_reader import ModelReader, ModelState
from moderation.screening.learned import MODEL_DIR
from moderation.screening.types import DetectorName, Rule, Severity, Signal, SignalKind

HIGH = Signal(detector=DetectorName.CRISIS, kind=SignalKind.HIGH_RISK, rule=Rule.CRISIS_SUPPORT,
              severity=Severity.HIGH)


class FakeScreener:
    """Reads "pain" as high risk and breaks on "boom"; records its batches."""

    version = "fake"

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def signals(self, texts: list[str], *, normalized: bool = False) -> list[list[Signal]]:
        return self.signals_timed(texts, normalized=normalized)[0]

    def signals_timed(self, texts: list[str], *, normalized: bool = False
                      ) -> tuple[list[list[Signal]], float]:
        assert normalized  # the worker passes the rules' words view
        self.batches.append(list(texts))
        if any("boom" in text for text in texts):
            raise RuntimeError("the model broke")
        # "pain" needs the encoder (0.01 s of it); everything else stops at the gate.
        read = [[HIGH] if "pain" in text else [] for text in texts]
        return read, 0.01 * sum(1 for signals in read if signals)


def ready_reader(screener: FakeScreener) -> ModelReader:
    reader = ModelReader()
    reader._screener = screener  # type: ignore[assignment]
    reader.state = ModelState.READY
    reader._executor = ThreadPoolExecutor(max_workers=1)
    return reader


def test_the_shipped_model_loads(settings):
    settings.HEARTH_SCREENING_MODEL = True
    settings.HEARTH_SCREENING_MODEL_DIR = ""
    reader = ModelReader()
    assert reader.load() == ModelState.READY
    assert reader.status()["state"] == "ready"
    assert reader.load() == ModelState.READY  # once


def test_turned_off_it_says_so(settings, caplog):
    settings.HEARTH_SCREENING_MODEL = False
    reader = ModelReader()
    with caplog.at_level(logging.WARNING):
        assert reader.load() == ModelState.OFF
    assert "rules alone" in caplog.text
    assert not reader.ready


@pytest.mark.parametrize("missing", ["encoder.onnx", "heads.json", "static.npy",
                                     "tokenizer.json"])
def test_a_missing_file_leaves_the_rules_in_charge_and_says_why(settings, tmp_path, caplog,
                                                                  missing):
    model = tmp_path / "model"
    shutil.copytree(MODEL_DIR, model)
    (model / missing).unlink()
    settings.HEARTH_SCREENING_MODEL = True
    settings.HEARTH_SCREENING_MODEL_DIR = str(model)
    reader = ModelReader()
    with caplog.at_level(logging.ERROR):
        assert reader.load() == ModelState.UNAVAILABLE
    assert "rules alone" in caplog.text
    assert reader.status()["reason"]


def test_a_malformed_heads_file_is_unavailable_not_a_crash(settings, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(MODEL_DIR, model)
    (model / "heads.json").write_text('{"crisis": {"classes": [], "coef": [[1.0]]}}')
    settings.HEARTH_SCREENING_MODEL_DIR = str(model)
    settings.HEARTH_SCREENING_MODEL = True
    assert ModelReader().load() == ModelState.UNAVAILABLE


async def test_an_unready_reader_reads_nothing():
    assert await ModelReader().read("so much pain") == []


async def test_messages_arriving_together_are_read_in_one_batch():
    screener = FakeScreener()
    reader = ready_reader(screener)
    results = await asyncio.gather(*(reader.read(text) for text in
                                     ("hello", "so much pain", "tea?")))
    assert results == [[], [HIGH], []]
    assert screener.batches == [["hello", "so much pain", "tea?"]]
    assert reader.counters.read == 3


async def test_one_message_that_breaks_the_model_costs_only_its_own_reading(caplog):
    screener = FakeScreener()
    reader = ready_reader(screener)
    with caplog.at_level(logging.ERROR):
        results = await asyncio.gather(*(reader.read(text) for text in
                                         ("so much pain", "boom", "more pain")))
    assert results == [[HIGH], [], [HIGH]]
    assert reader.counters.failed == 1
    assert "boom" not in caplog.text  # never the text


async def test_over_the_backlog_the_rules_alone_screen_and_it_is_counted(settings):
    settings.HEARTH_SCREENING_MODEL_BACKLOG = 2
    reader = ready_reader(FakeScreener())
    results = await asyncio.gather(*(reader.read("pain") for _ in range(5)))
    assert sum(1 for r in results if r) >= 2
    assert reader.counters.over_backlog == 5 - sum(1 for r in results if r)
    assert reader.counters.over_backlog > 0


def test_status_reports_the_batch_time():
    reader = ready_reader(FakeScreener())
    reader.counters.note_batch(0.004, 2)
    status = reader.status()
    assert status["read"] == 2
    assert status["batch_seconds_median"] == 0.004


def test_model_dir_setting_defaults_to_the_shipped_model(settings):
    assert Path(settings.HEARTH_SCREENING_MODEL_DIR or MODEL_DIR) == MODEL_DIR


async def test_under_sustained_load_the_model_pauses_to_keep_to_its_share(settings,
                                                                          monkeypatch):
    settings.HEARTH_SCREENING_MODEL_CPU_SHARE = 0.25
    pauses: list[float] = []
    real_sleep = asyncio.sleep

    async def recorded(seconds: float) -> None:
        pauses.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr("moderation.model_reader.asyncio.sleep", recorded)
    monkeypatch.setattr("moderation.model_reader.MAX_BATCH", 2)
    reader = ready_reader(FakeScreener())
    results = await asyncio.gather(*(reader.read("pain") for _ in range(5)))
    assert all(results)
    # Three batches of at most two; after each that left work behind, a pause three times as
    # long as the encoder took (a quarter of the time reading).
    assert pauses == [pytest.approx(0.06), pytest.approx(0.06)]


async def test_chatter_that_stops_at_the_gate_is_never_paused(settings, monkeypatch):
    settings.HEARTH_SCREENING_MODEL_CPU_SHARE = 0.25
    pauses: list[float] = []

    async def recorded(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr("moderation.model_reader.asyncio.sleep", recorded)
    monkeypatch.setattr("moderation.model_reader.MAX_BATCH", 2)
    reader = ready_reader(FakeScreener())
    assert await asyncio.gather(*(reader.read("tea?") for _ in range(5))) == [[]] * 5
    assert pauses == []


async def test_a_lone_message_is_read_at_once_without_a_pause(settings, monkeypatch):
    pauses: list[float] = []

    async def recorded(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr("moderation.model_reader.asyncio.sleep", recorded)
    reader = ready_reader(FakeScreener())
    assert await reader.read("pain") == [HIGH]
    assert pauses == []
