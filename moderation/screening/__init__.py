"""Message screening: pure Python, no database, run on every chat message before it is stored.

``screen_message`` normalises the text once and runs each enabled detector on it; what to do
with the signals (allow, mask, hold, block) is the policy's decision, not this package's.
See docs/screening.md for the detectors, their evaluation and their cost.
"""

from __future__ import annotations

from collections.abc import Iterable

from moderation.screening.normalize import NormalizedText, normalize_text
from moderation.screening.registry import DETECTORS, UnknownDetectorError, get_detector
from moderation.screening.types import (
    DetectorName,
    Rule,
    ScreeningContext,
    Severity,
    Signal,
    SignalKind,
)

__all__ = [
    "DETECTORS",
    "DetectorName",
    "NormalizedText",
    "Rule",
    "ScreeningContext",
    "Severity",
    "Signal",
    "SignalKind",
    "UnknownDetectorError",
    "normalize_text",
    "screen_message",
]


def screen_message(*, text: str, context: ScreeningContext,
                   detectors: Iterable[str] | None = None,
                   normalized: NormalizedText | None = None) -> list[Signal]:
    """Every signal the enabled detectors raise for ``text`` (all detectors when None);
    `normalized` is ``normalize_text(text)`` when the caller has it already.

    Raises UnknownDetectorError for a name that is not registered, before running anything.
    """
    chosen = [get_detector(name) for name in (DETECTORS if detectors is None else detectors)]
    normalized = normalized if normalized is not None else normalize_text(text)
    signals: list[Signal] = []
    for detect in chosen:
        signals.extend(detect(text=normalized, context=context))
    return signals
