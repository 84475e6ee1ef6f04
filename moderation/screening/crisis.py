"""Crisis language (rule "crisis-support"): a conservative first version of the tiered
detector.

Someone who writes that they want to die must, within seconds, privately get warm words and
a way to reach a person, and on-duty staff must be alerted (PRODUCT.md, principle 3). These
signals never lead to a sanction; the policy routes them. Tiers, from data/crisis.txt:

* ``concern``: passive wishes to be dead or gone, self-harm, hopelessness, a farewell;
* ``high_risk``: an active wish or intent to die or to kill oneself;
* ``imminent``: intent or a farewell together with a plan, a means or a time, or a wish to
  be dead together with a plan or means;
* ``worried_about_someone``: the same language about someone else ("my friend wants to
  die"), with the severity its tier would have had.

Negated phrases ("I'm not suicidal", "I don't want to die") and phrases addressed to someone
("are you suicidal?") raise nothing. Laughter lowers high_risk to concern ("kms lol"), never
to nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final

from moderation.screening.lexicon import (
    PhraseIndex,
    PhraseMatch,
    by_section,
    read_sections,
    word_set,
)
from moderation.screening.normalize import NormalizedText, Tokens
from moderation.screening.types import (
    DetectorName,
    Rule,
    ScreeningContext,
    Severity,
    Signal,
    SignalKind,
)

_PHRASES: Final = read_sections("crisis.txt")
_SUBJECTS: Final = read_sections("subjects.txt")

# Every list this detector matches, found in one pass over the message's words.
_INDEX: Final = PhraseIndex({section: _PHRASES[section] for section in (
    "high_risk", "concern", "self_harm", "farewell", "farewell_weak", "plan_or_means", "time",
    "about_someone_else", "not_a_crisis")})
_LAUGHTER_WORDS: Final = frozenset(entry for entry in _PHRASES["laughter"] if entry.isalnum())
_LAUGHTER_SYMBOLS: Final = tuple(entry for entry in _PHRASES["laughter"]
                                 if not entry.isalnum())
_UNITS_AFTER_NUMBER: Final = frozenset(_PHRASES["units_after_number"])
_SCOPE_BREAKERS: Final = word_set(_PHRASES["scope_breakers"])
_NEGATIONS: Final = word_set(read_sections("negations.txt")["negations"])
_THIRD_PERSON: Final = word_set(_SUBJECTS["third_person"])
# "my suicide" is the writer's, although "my friend is suicidal" is not: the walk back from
# the phrase meets "friend" before "my".
_WRITER_WORDS: Final = word_set(_SUBJECTS["first_person"]) | {"my"}
_SECOND_PERSON: Final = word_set(_SUBJECTS["second_person"])

_NEGATION_WINDOW: Final = 3
_SUBJECT_WINDOW: Final = 6

_SEVERITY: Final = {SignalKind.CONCERN: Severity.MEDIUM, SignalKind.HIGH_RISK: Severity.HIGH,
                    SignalKind.IMMINENT: Severity.CRITICAL}


class _Theme(Enum):
    ACTIVE_IDEATION = "active ideation"  # [high_risk]
    PASSIVE_IDEATION = "passive ideation"  # [concern]
    SELF_HARM = "self-harm"  # [self_harm]


_TIER: Final = {_Theme.ACTIVE_IDEATION: SignalKind.HIGH_RISK,
                _Theme.PASSIVE_IDEATION: SignalKind.CONCERN, _Theme.SELF_HARM: SignalKind.CONCERN}


@dataclass(frozen=True, slots=True)
class _Finding:
    theme: _Theme
    first: int
    end: int
    about_someone_else: bool


def detect_crisis(*, text: NormalizedText, context: ScreeningContext) -> list[Signal]:
    tokens = text.tokens
    if not tokens.keys:
        return []
    keys = tokens.keys
    matches = by_section(_INDEX.find(tokens))
    ideation_sections = ("about_someone_else", "high_risk", "concern", "self_harm", "farewell",
                         "farewell_weak")
    if not any(section in matches for section in ideation_sections):
        return []  # the common case; plans and times alone say nothing
    not_a_crisis = [(match.first, match.end) for match in matches.get("not_a_crisis", ())]

    def usable(section: str) -> list[PhraseMatch]:
        return [match for match in matches.get(section, ())
                if not _overlaps_any(match.first, match.end, not_a_crisis)
                and not _negated(tokens, match.first)]

    findings = [_Finding(theme=_Theme.ACTIVE_IDEATION, first=match.first, end=match.end,
                         about_someone_else=True)
                for match in usable("about_someone_else")]
    someone_else = [(finding.first, finding.end) for finding in findings]
    for theme, section in ((_Theme.ACTIVE_IDEATION, "high_risk"),
                           (_Theme.PASSIVE_IDEATION, "concern"), (_Theme.SELF_HARM, "self_harm")):
        for match in usable(section):
            if _overlaps_any(match.first, match.end, someone_else) or _is_unit(tokens, match):
                continue
            whose = _whose(tokens, match.first)
            if whose is not _Whose.ADDRESSED:  # "are you suicidal?" is a peer asking
                findings.append(_Finding(theme=theme, first=match.first, end=match.end,
                                         about_someone_else=whose is _Whose.SOMEONE_ELSE))

    farewells = [match for match in usable("farewell")
                 if _whose(tokens, match.first) is _Whose.WRITER]
    weak_farewells = usable("farewell_weak")
    plan_or_means = bool(usable("plan_or_means"))
    # A time inside a farewell counts whatever negation the farewell carries: in "I won't be
    # here tomorrow" the "won't" is the farewell, not a denial of the time.
    farewell_ranges = [(match.first, match.end) for match in farewells]
    timed = bool(usable("time")) or any(
        _overlaps_any(match.first, match.end, farewell_ranges)
        for match in matches.get("time", ()))
    laughing = not _LAUGHTER_WORDS.isdisjoint(keys) or any(
        symbol in text.folded.text for symbol in _LAUGHTER_SYMBOLS)

    signals: list[Signal] = []
    own = [finding for finding in findings if not finding.about_someone_else]
    writer = _writer_tier(own, farewells, weak_farewells, plan_or_means=plan_or_means,
                          timed=timed, laughing=laughing)
    if writer is not None:
        tier, token_range = writer
        signals.append(_signal(text, tokens, tier, _SEVERITY[tier], token_range))
    others = [finding for finding in findings if finding.about_someone_else]
    if others:
        worst = max(others, key=lambda finding: _SEVERITY[_TIER[finding.theme]])
        severity = (Severity.CRITICAL
                    if worst.theme is _Theme.ACTIVE_IDEATION and (plan_or_means or timed)
                    else _SEVERITY[_TIER[worst.theme]])
        signals.append(_signal(text, tokens, SignalKind.WORRIED_ABOUT_SOMEONE, severity,
                               (worst.first, worst.end)))
    return signals


def _writer_tier(own: list[_Finding], farewells: list[PhraseMatch],
                 weak_farewells: list[PhraseMatch], *, plan_or_means: bool, timed: bool,
                 laughing: bool) -> tuple[SignalKind, tuple[int, int]] | None:
    active = [finding for finding in own if finding.theme is _Theme.ACTIVE_IDEATION]
    passive = [finding for finding in own if finding.theme is _Theme.PASSIVE_IDEATION]
    ideation = active or passive
    goodbye = farewells[0] if farewells else None
    # Imminent: intent or a farewell with a plan, means or time; a wish to be dead with a plan
    # or means; ideation with a farewell. Self-harm alone is never imminent here.
    anchor: _Finding | PhraseMatch | None = None
    if (active or goodbye) and (plan_or_means or timed):
        anchor = active[0] if active else goodbye
    elif ideation and (plan_or_means or goodbye or weak_farewells):
        anchor = ideation[0]
    elif weak_farewells and plan_or_means:
        anchor = weak_farewells[0]
    if anchor is not None:
        return SignalKind.IMMINENT, (anchor.first, anchor.end)
    if active:
        # Laughter may be a joke ("kms lol") or distress masked as one: concern, not nothing.
        tier = SignalKind.CONCERN if laughing else SignalKind.HIGH_RISK
        return tier, (active[0].first, active[0].end)
    if own:
        return SignalKind.CONCERN, (own[0].first, own[0].end)
    if goodbye is not None:
        return SignalKind.CONCERN, (goodbye.first, goodbye.end)
    return None


class _Whose(Enum):
    WRITER = "writer"
    SOMEONE_ELSE = "someone else"
    ADDRESSED = "addressed"  # "you": a peer asking or advising


def _whose(tokens: Tokens, first: int) -> _Whose:
    """The nearest subject word before the phrase in its clause decides: "I think she is
    suicidal" is about someone else; "she says I'm suicidal" is the writer."""
    index = first
    while index > 0 and first - index < _SUBJECT_WINDOW and not tokens.clause_start[index]:
        index -= 1
        word = tokens.keys[index]
        if word in _WRITER_WORDS:
            return _Whose.WRITER
        if word in _THIRD_PERSON:
            return _Whose.SOMEONE_ELSE
        if word in _SECOND_PERSON:
            return _Whose.ADDRESSED
    return _Whose.WRITER  # "want to die" with the subject left out is the writer's


def _negated(tokens: Tokens, first: int) -> bool:
    index = first
    while (index > 0 and first - index < _NEGATION_WINDOW
           and not tokens.clause_start[index]):
        index -= 1
        word = tokens.keys[index]
        if word in _SCOPE_BREAKERS:
            return False  # "I don't know if I want to live": the "don't" is about knowing
        if word in _NEGATIONS:
            return True
    return False


def _is_unit(tokens: Tokens, match: PhraseMatch) -> bool:
    # "I ran 5 kms" is kilometres.
    return (match.first > 0 and tokens.keys[match.first] in _UNITS_AFTER_NUMBER
            and tokens.keys[match.first - 1].isdigit())


def _overlaps_any(first: int, end: int, ranges: list[tuple[int, int]]) -> bool:
    return any(first < other_end and other_first < end for other_first, other_end in ranges)


def _signal(text: NormalizedText, tokens: Tokens, kind: SignalKind, severity: Severity,
            token_range: tuple[int, int]) -> Signal:
    first, end = token_range
    span = text.words.original_span(tokens.spans[first][0], tokens.spans[end - 1][1])
    return Signal(detector=DetectorName.CRISIS, kind=kind, rule=Rule.CRISIS_SUPPORT,
                  severity=severity, span=span)
