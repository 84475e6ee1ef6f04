"""The learned detector itself (moderation/screening/learned.py): the shipped model loads
from the repository with onnxruntime alone, reads anything without raising, and turns its
probabilities into the signals the protocol knows."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from moderation.screening.learned import (
    MODEL_DIR,
    LearnedScreener,
    LogisticHead,
    ModelUnavailableError,
    Reading,
    Thresholds,
    signals_for,
)
from moderation.screening.types import DetectorName, Severity, SignalKind


@pytest.fixture(scope="module")
def screener() -> LearnedScreener:
    return LearnedScreener()


BAD_INPUTS = [
    "",
    " ",
    "\u200b\u200b",
    "🙂" * 50,
    "😭😭😭🪦",
    "a" * 20_000,
    "word " * 5_000,
    "Я не хочу жить, i cant anymore, 生きたくない",
    "مرحبا كيف حالك",
    "\x00\x01\x02 control characters",
    "\uff46\uff55\uff4c\uff4c\uff57\uff49\uff44\uff54\uff48 text",  # fullwidth
]


@pytest.mark.parametrize("text", BAD_INPUTS, ids=range(len(BAD_INPUTS)))
def test_any_text_is_read_without_raising(screener, text):
    [signals] = screener.signals([text])
    assert all(signal.span is None for signal in signals)


def test_a_batch_reads_each_text_as_it_would_alone(screener):
    texts = ["lovely walk in the park today", "i have the pills in my hand and im taking "
             "them all now, goodbye", "see you all tomorrow"]
    together = screener.read(texts)
    alone = [screener.read([text])[0] for text in texts]
    for a, b in zip(together, alone, strict=True):
        assert a.gated == b.gated
        for name in a.crisis:
            assert a.crisis[name] == pytest.approx(b.crisis[name], abs=1e-5)


def test_plain_chatter_passes_the_gate_without_the_encoder(screener):
    from bench.fanout.bodies import BodyGenerator

    bodies = BodyGenerator(300, seed=3)
    readings = screener.read([bodies.next_body() for _ in range(50)])
    # Measured: 0.5 % of such bodies reach the encoder (docs/screening.md).
    assert sum(reading.gated for reading in readings) >= 45


def test_an_unmistakable_imminent_message_is_read_as_at_risk(screener):
    [signals] = screener.signals(["i have the pills in my hand and im taking them all now, "
                                  "goodbye everyone"])
    assert {s.kind for s in signals} & {SignalKind.HIGH_RISK, SignalKind.IMMINENT}


def test_the_heads_need_every_file(tmp_path):
    for name in ("encoder.onnx", "tokenizer.json", "static.npy", "heads.json"):
        model = tmp_path / name.replace(".", "_")
        shutil.copytree(MODEL_DIR, model)
        (model / name).unlink()
        with pytest.raises(ModelUnavailableError):
            LearnedScreener(model)


@pytest.mark.parametrize("change", [
    lambda heads: heads["crisis"].update(coef=[[0.0] * 3]),
    lambda heads: heads["thresholds"].update(at_risk=0.0),
    lambda heads: heads["thresholds"].update(gate=1.5),
    lambda heads: heads["harassment"].update(classes=["none", "rude", "threat", "incitement"]),
    lambda heads: heads.pop("gate"),
])
def test_a_malformed_heads_file_is_refused(tmp_path, change):
    model = tmp_path / "model"
    shutil.copytree(MODEL_DIR, model)
    heads = json.loads((model / "heads.json").read_text())
    change(heads)
    (model / "heads.json").write_text(json.dumps(heads))
    with pytest.raises(ModelUnavailableError):
        LearnedScreener(model)


def test_a_binary_head_gives_probabilities_that_sum_to_one():
    head = LogisticHead(classes=("no", "yes"), coef=np.ones((1, 384), dtype=np.float32),
                        intercept=np.zeros(1, dtype=np.float32))
    probabilities = head.probabilities(np.zeros((2, 384), dtype=np.float32))
    assert probabilities.shape == (2, 2)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert np.allclose(probabilities[:, 1], 0.5)


THRESHOLDS = Thresholds(at_risk=0.5, imminent=0.4, concern=0.5, worried=0.6, method=0.5,
                        harassment=0.5, gate=0.3, harassment_hold=0.8)


def reading(**crisis: float) -> Reading:
    probabilities = {"none": 0.0, "concern": 0.0, "high_risk": 0.0, "imminent": 0.0,
                     "worried_about_someone": 0.0, **crisis}
    return Reading(crisis=probabilities, method=0.0,
                   harassment={"none": 1.0, "insult": 0.0, "threat": 0.0, "incitement": 0.0})


@pytest.mark.parametrize(("probabilities", "kinds"), [
    ({"none": 1.0}, set()),
    ({"concern": 0.7, "none": 0.3}, {SignalKind.CONCERN}),
    ({"high_risk": 0.6, "none": 0.4}, {SignalKind.HIGH_RISK}),
    ({"high_risk": 0.2, "imminent": 0.45, "none": 0.35}, {SignalKind.IMMINENT}),
    # Imminent needs the writer to be read as at risk first.
    ({"imminent": 0.45, "none": 0.55}, set()),
    ({"imminent": 0.45, "concern": 0.1, "none": 0.45}, {SignalKind.CONCERN}),
    ({"worried_about_someone": 0.9, "none": 0.1}, {SignalKind.WORRIED_ABOUT_SOMEONE}),
])
def test_probabilities_become_the_protocols_tiers(probabilities, kinds):
    assert {s.kind for s in signals_for(reading(**probabilities), THRESHOLDS)} == kinds


def aimed(none: float) -> Reading:
    return Reading(crisis=reading(none=1.0).crisis, method=0.0,
                   harassment={"none": none, "insult": 1.0 - none, "threat": 0.0,
                               "incitement": 0.0})


@pytest.mark.parametrize(("none", "severity"), [
    (0.6, None), (0.5, Severity.MEDIUM), (0.3, Severity.MEDIUM), (0.2, Severity.HIGH),
    (0.0, Severity.HIGH)])
def test_only_a_sure_harassment_reading_is_high_enough_to_hold(none, severity):
    found = [s.severity for s in signals_for(aimed(none), THRESHOLDS)
             if s.detector == DetectorName.HARASSMENT]
    assert found == ([] if severity is None else [severity])


def test_heads_without_a_hold_threshold_hold_at_the_flag_threshold():
    values = {"at_risk": 0.5, "imminent": 0.4, "concern": 0.5, "worried": 0.6, "method": 0.5,
              "harassment": 0.7, "gate": 0.3}
    thresholds = Thresholds.from_json(values)
    assert thresholds.harassment_hold == 0.7
    [signal] = signals_for(aimed(0.25), thresholds)
    assert signal.severity == Severity.HIGH
    with pytest.raises(ModelUnavailableError):
        Thresholds.from_json({**values, "harassment_hold": 1.5})


def test_harassment_takes_its_likeliest_kind():
    aimed = Reading(crisis=reading(none=1.0).crisis, method=0.9,
                    harassment={"none": 0.2, "insult": 0.1, "threat": 0.6, "incitement": 0.1})
    kinds = {s.kind for s in signals_for(aimed, THRESHOLDS)}
    assert kinds == {SignalKind.THREAT, SignalKind.METHOD_DETAIL}


@pytest.mark.parametrize("text", ["👋👋", "😂", "k", "?", "...", "xx", "🎉 🎉 🎉", "nah",
                                  "Evening all.", "night all 👋"])
def test_a_message_without_three_words_is_left_to_the_rules(screener, text):
    [reading] = screener.read([text])
    assert reading.gated
    assert screener.signals([text]) == [[]]


@pytest.mark.parametrize(("prepared", "enough"), [
    ("taking them all", True), ("im done now.", True), ("im done.", False),
    ("taking 123 🙂", False), (". . .", False), ("ok", False), ("", False)])
def test_three_words_with_letters_are_enough_for_the_model(prepared, enough):
    from moderation.screening.learned import _enough_words

    assert _enough_words(prepared) is enough
