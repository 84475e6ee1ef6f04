"""The detectors, under the stable names the screening policy and settings refer to."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Protocol

from moderation.screening.contact import detect_contact_details
from moderation.screening.crisis import detect_crisis
from moderation.screening.dosing import detect_dosing
from moderation.screening.harassment import detect_harassment
from moderation.screening.normalize import NormalizedText
from moderation.screening.spam import detect_spam
from moderation.screening.types import DetectorName, ScreeningContext, Signal


class Detector(Protocol):
    def __call__(self, *, text: NormalizedText, context: ScreeningContext) -> list[Signal]: ...


class UnknownDetectorError(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown detector {name!r}; known: {', '.join(DETECTORS)}")
        self.name = name


DETECTORS: Final[Mapping[str, Detector]] = MappingProxyType({
    DetectorName.CONTACT: detect_contact_details,
    DetectorName.HARASSMENT: detect_harassment,
    DetectorName.SPAM: detect_spam,
    DetectorName.CRISIS: detect_crisis,
    DetectorName.DOSING: detect_dosing,
})


def get_detector(name: str) -> Detector:
    try:
        return DETECTORS[name]
    except KeyError:
        raise UnknownDetectorError(name) from None
