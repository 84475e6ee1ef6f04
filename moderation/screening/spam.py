"""Spam and floods (rule "no-spam"): the same message again and again, link floods, mass
mentions, and floods of one character or a short pattern; shouting only with one of those.

Severities are low to medium: a distressed member may write in capitals or hold a key down
("AAAAAAAAAAAAAAAAAAAAA"), and the policy, not this detector, decides what that deserves.
Capitals alone are never spam: "I CANT DO THIS ANYMORE" is someone in distress, and the
policy blocks on any spam signal, so shouting is only reported next to another sign of spam.
"""

from __future__ import annotations

import re
from typing import Final

from moderation.screening.normalize import NormalizedText, fold_text
from moderation.screening.types import (
    DetectorName,
    Rule,
    ScreeningContext,
    Severity,
    Signal,
    SignalKind,
)

# The third identical message in a row is a flood; two can be a resend.
REPEATS_TO_FLAG: Final = 3
# A repeat after a long pause is a habit ("good night all"), not a flood.
REPEAT_WINDOW_SECONDS: Final = 600.0
LINKS_TO_FLAG: Final = 3
MENTIONS_TO_FLAG: Final = 5
# Shouting: enough cased letters to be more than an acronym or "OMG", almost all capitals.
SHOUTING_MIN_LETTERS: Final = 24
SHOUTING_UPPER_SHARE: Final = 0.85
# Eight line breaks in a row push the conversation off screen.
LINE_BREAKS_TO_FLAG: Final = 8

# Matched against one word at a time: a link, possibly in brackets or quotes.
_LINK: Final = re.compile(
    r"[(\[<\"']?(?:https?://|www\.|[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\."
    r"(?:com|net|org|io|co|ly|gg|me|xyz|info|biz|ru|tk|app|link|site|online|shop|top|club|"
    r"live|tv|uk|de)\b)")
# Cheap count that is never lower than the number of links: only above the threshold is the
# full pattern run.
_LINK_HINT: Final = re.compile(
    r"\.(?:com|net|org|io|co|ly|gg|me|xyz|info|biz|ru|tk|app|link|site|online|shop|top|club|"
    r"live|tv|uk|de)\b")
_ASCII_CAPITAL: Final = re.compile(r"[A-Z]")
_MENTION: Final = re.compile(r"(?<![\w@])@[\w.]{2,}")
_MENTION_OR_LINK: Final = re.compile(r"(?<![\w@])@[\w.]+|https?://\S+|\bwww\.\S+")
# One character 20 times, or a pattern of two to six characters 12 times ("lolololol…" past
# laughing, "buynowbuynow…"). Either is a run of 20 or more non-space characters, which is
# looked for first: ordinary text has none.
_CHARACTER_FLOOD: Final = re.compile(r"(\S)\1{19,}|(\S{2,6}?)\2{11,}")
_LONG_RUN: Final = re.compile(r"\S{20,}")
_LINE_FLOOD: Final = re.compile(rf"(?:[ \t]*\n){{{LINE_BREAKS_TO_FLAG},}}")


def detect_spam(*, text: NormalizedText, context: ScreeningContext) -> list[Signal]:
    signals: list[Signal] = []

    def add(kind: SignalKind, severity: Severity, span: tuple[int, int] | None = None) -> None:
        signals.append(Signal(detector=DetectorName.SPAM, kind=kind, rule=Rule.NO_SPAM,
                              severity=severity, span=span))

    if _is_repeat(text, context):
        add(SignalKind.REPEAT, Severity.MEDIUM)
    folded = text.folded.text
    if _link_count(folded) >= LINKS_TO_FLAG:
        add(SignalKind.LINK_FLOOD, Severity.MEDIUM)
    if folded.count("@") >= MENTIONS_TO_FLAG and len(_MENTION.findall(folded)) >= MENTIONS_TO_FLAG:
        add(SignalKind.MASS_MENTION, Severity.MEDIUM)
    flood = _flood_span(text.original)
    if flood is not None:
        add(SignalKind.CHARACTER_FLOOD, Severity.LOW, flood)
    # Shouting says how a spam message is written, never that a message is spam.
    if signals and _is_shouting(text.original):
        add(SignalKind.SHOUTING, Severity.LOW)
    return signals


def _flood_span(original: str) -> tuple[int, int] | None:
    for run in _LONG_RUN.finditer(original):
        flood = _CHARACTER_FLOOD.search(original, run.start(), run.end())
        if flood is not None:
            return flood.span()
    if original.count("\n") >= LINE_BREAKS_TO_FLAG:
        lines = _LINE_FLOOD.search(original)
        if lines is not None:
            return lines.span()
    return None


def _link_count(folded: str) -> int:
    if (folded.count("://") + folded.count("www.") + len(_LINK_HINT.findall(folded))
            < LINKS_TO_FLAG):
        return 0  # the common case, decided by cheap counts that never undercount
    # A link is one whitespace-separated word, however many dots and slashes it has.
    return sum(1 for word in folded.split() if "." in word and _LINK.match(word))


def _repeat_key(folded: str) -> str:
    return " ".join(folded.split())


def _is_repeat(text: NormalizedText, context: ScreeningContext) -> bool:
    earlier = context.recent_bodies[-(REPEATS_TO_FLAG - 1):]
    if len(earlier) < REPEATS_TO_FLAG - 1:
        return False
    if (context.seconds_since_previous is not None
            and context.seconds_since_previous > REPEAT_WINDOW_SECONDS):
        return False
    key = _repeat_key(text.folded.text)
    return bool(key) and all(_repeat_key(fold_text(body)) == key
                             for body in earlier)


def _is_shouting(original: str) -> bool:
    if original.isascii():
        upper = len(_ASCII_CAPITAL.findall(original))  # a C-level count, for the common case
    else:
        upper = sum(map(str.isupper, original))
    if upper < SHOUTING_MIN_LETTERS:
        return False
    if "@" in original or "http" in original or "www." in original:
        # "@SAM" and link paths are not the writer's voice.
        original = _MENTION_OR_LINK.sub(" ", original)
        upper = sum(map(str.isupper, original))
    lower = sum(map(str.islower, original))
    cased = upper + lower
    return cased >= SHOUTING_MIN_LETTERS and upper >= SHOUTING_UPPER_SHARE * cased
