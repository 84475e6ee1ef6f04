"""The detector registry and screen_message: stable names, choosing detectors, and the shape
of what every detector returns."""

from __future__ import annotations

import pytest

from moderation.screening import (
    DETECTORS,
    DetectorName,
    Rule,
    ScreeningContext,
    Severity,
    Signal,
    UnknownDetectorError,
    screen_message,
)
from moderation.screening.registry import get_detector

EVERYTHING = ("you're an idiot, text me on +44 7700 900123. I want to die. "
              "@a1 @b2 @c3 @d4 @e5\nJust double your dose of sertraline, honestly.")


def test_the_registered_names_are_stable():
    assert list(DETECTORS) == ["contact", "harassment", "spam", "crisis", "dosing"]
    assert {str(name) for name in DetectorName} == set(DETECTORS)


def test_screen_message_runs_every_detector_by_default():
    signals = screen_message(text=EVERYTHING, context=ScreeningContext())
    assert {signal.detector for signal in signals} == set(DETECTORS)
    for signal in signals:
        assert isinstance(signal, Signal)
        assert signal.rule in set(Rule)
        assert isinstance(signal.severity, Severity)
        if signal.span is not None:
            start, end = signal.span
            assert 0 <= start < end <= len(EVERYTHING)


def test_screen_message_runs_only_the_chosen_detectors():
    signals = screen_message(text=EVERYTHING, context=ScreeningContext(),
                             detectors=["crisis", "spam"])
    assert {signal.detector for signal in signals} == {"crisis", "spam"}
    assert screen_message(text=EVERYTHING, context=ScreeningContext(), detectors=[]) == []


def test_an_unknown_detector_is_refused_before_anything_runs():
    with pytest.raises(UnknownDetectorError) as refused:
        screen_message(text=EVERYTHING, context=ScreeningContext(),
                       detectors=["contact", "sentiment"])
    assert refused.value.name == "sentiment"
    assert "contact" in str(refused.value)
    with pytest.raises(UnknownDetectorError):
        get_detector("Contact")


def test_empty_and_whitespace_messages():
    for text in ("", "   ", "\n\n"):
        assert screen_message(text=text, context=ScreeningContext()) == []


def test_a_long_message_is_screened_whole():
    text = "all good here. " * 150 + "my snap is samj_99"
    [signal] = screen_message(text=text, context=ScreeningContext())
    assert signal.kind == "off_platform" and signal.span is not None
    assert text[slice(*signal.span)] == "my snap is"
