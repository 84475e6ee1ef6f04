"""Medication and dosing advice (rule "no-medication-dosing").

Members talk about their own medication all the time, and should: "my doctor put me on 50mg
sertraline", "I take 20mg citalopram and it helps", "I stopped my meds last year, with my GP's
help". What the rule is about is advising someone else to take, raise, lower, double, skip,
stop or switch a medicine or a dose: "you should take 200mg of sertraline", "just double your
dose", "stop taking your lithium", "u could cut the pill in half". One whole-message signal,
MEDIUM: the policy holds the message for a moderator, and nobody is sanctioned for it.

An action counts when it is advice, i.e. it follows an advice frame ("you should", "why don't
you", "if I were you I'd") or opens its clause as an order ("just double your dose", "take
two"), and when it acts on a medicine, "your meds" or "your dose", or an amount ("200mg",
"two"). Not advice: the writer's own medicine ("my dose"), the writer's own story (no frame, no
order), questions ("should I double it?"), "talk to your doctor before changing your dose"
(a professional consulted in the same sentence), "don't stop taking your meds". A message about
overdosing that addresses nobody is the writer's, and the crisis detector's. The lists, with
their reasoning, are in data/dosing.txt.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Final

from moderation.screening.lexicon import (
    PhraseIndex,
    PhraseMatch,
    by_section,
    preceding_keys,
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

_LISTS: Final = read_sections("dosing.txt")
_SUBJECTS: Final = read_sections("subjects.txt")


class _Kind(Enum):
    TAKE = "take"  # with a medicine named, a medicine word or an amount; not "your …"
    TAKE_NAMED = "take named"  # with a medicine named or an amount only
    CHANGE = "change"  # with any medicine, "your …", an amount, or "it" (a medicine named)
    CHANGE_NAMED = "change named"  # as CHANGE, but not "it": "stop it" is about anything


@dataclass(frozen=True, slots=True)
class _ActionSection:
    kind: _Kind
    gerund: bool  # "-ing" forms count only after a frame, never as an order


_ACTION_SECTIONS: Final = {
    "take": _ActionSection(_Kind.TAKE, gerund=False),
    "take_named": _ActionSection(_Kind.TAKE_NAMED, gerund=False),
    "change": _ActionSection(_Kind.CHANGE, gerund=False),
    "change_named": _ActionSection(_Kind.CHANGE_NAMED, gerund=False),
    "take_gerunds": _ActionSection(_Kind.TAKE, gerund=True),
    "change_gerunds": _ActionSection(_Kind.CHANGE, gerund=True),
}
_PHRASE_SECTIONS: Final = (
    *_ACTION_SECTIONS, "medicines", "medicine_words", "amounts", "advice",
    "imperative_advice", "advice_with_action", "stop_advice", "professionals", "overdose")
_INDEX: Final = PhraseIndex({section: _LISTS[section] for section in _PHRASE_SECTIONS},
                           plural={"professionals"})

_BETWEEN: Final = word_set(_LISTS["between"])
_AFTER_AMOUNT: Final = word_set(_LISTS["after_amount"])
_FILLERS: Final = word_set(_LISTS["fillers"])
_LEADS: Final = word_set(_LISTS["leads"])
_FORBID: Final = word_set(_LISTS["forbid"])
_FORBID_TAILS: Final = word_set(_LISTS["forbid_tails"])
_CONSULT: Final = word_set(_LISTS["consult"])
_REPORTED: Final = word_set(_LISTS["reported"])
_AROUND: Final = word_set(_LISTS["around"])
_NEGATIONS: Final = word_set(read_sections("negations.txt")["negations"])
_YOUR: Final = word_set(_SUBJECTS["second_person_possessive"])
_SECOND_PERSON: Final = word_set(_SUBJECTS["second_person"]) | _YOUR
_FIRST_PERSON: Final = word_set(_SUBJECTS["first_person"])
_WRITERS: Final = _FIRST_PERSON | {"my"}
_PRONOUNS: Final = frozenset({"it", "them", "those", "these", "that", "one"})
_TAKING: Final = frozenset({"taking", "using"})
# "ask for xanax and take two": an order joined to advice or an order is an order.
_CONJUNCTIONS: Final = frozenset({"and", "then", "or", "n"})

# How many words a frame's fillers, an order's leads, and the search for what an action acts
# on may span.
_FILLER_REACH: Final = 3
_LEAD_REACH: Final = 3
_TARGET_REACH: Final = 6
_CONSULT_REACH: Final = 3
# How near a medicine "it" or "two" must be to stand for it ("ask for xanax and take two"); in
# a long post, a medicine named paragraphs away is not what "add on more" is about.
_MEDICINE_REACH: Final = 20

# A number with a unit, read on the folded view, where digits are still digits ("200mg"; the
# words view reads "200mg" as leetspeak).
_UNIT_AMOUNT: Final = re.compile(
    r"(?<![\w.])\d{1,5}(?:[.,]\d{1,3})?\s*(?:mg|mgs|milligrams?|mcg|micrograms?|ug|µg|ml|mls|"
    r"tablets?|tabs?|pills?|capsules?|caps|doses?)\b")
_NUMBER: Final = re.compile(r"\d{1,4}")
_DIGIT: Final = re.compile(r"\d")
_SENTENCE_END: Final = re.compile(r"[.!?\n]")


def detect_dosing(*, text: NormalizedText, context: ScreeningContext) -> list[Signal]:
    tokens = text.tokens
    if not tokens.keys:
        return []
    matches = by_section(_INDEX.find(tokens))
    if "overdose" in matches and _SECOND_PERSON.isdisjoint(tokens.key_set):
        # The writer's own overdose, or a question about one: the crisis detector's (support
        # for the writer, method details held). Told to "you", it is advice, the worst kind.
        return []
    if not any(section in matches for section in (
            *_ACTION_SECTIONS, "advice_with_action", "stop_advice")):
        return []  # the common case: no action at all
    if ("medicines" not in matches and "medicine_words" not in matches
            and _UNIT_AMOUNT.search(text.folded.text) is None):
        return []  # "just double it" with no medicine is a recipe
    unit_amounts = _unit_amount_tokens(text) if _DIGIT.search(text.folded.text) else set()
    if not _Reading(tokens, matches, unit_amounts).advises():
        return []
    return [Signal(detector=DetectorName.DOSING, kind=SignalKind.DOSING_ADVICE,
                   rule=Rule.NO_MEDICATION_DOSING, severity=Severity.MEDIUM, span=None)]


def _unit_amount_tokens(text: NormalizedText) -> set[int]:
    """Indices of the tokens that are part of a number with a unit ("200mg", "3 tablets"),
    found on the folded view and placed on the words view's tokens through the original."""
    found = [text.folded.original_span(*match.span())
             for match in _UNIT_AMOUNT.finditer(text.folded.text)]
    if not found:
        return set()
    spans: Sequence[tuple[int, int]] = text.tokens.spans
    if text.words.starts is not None:  # not position for position: map back
        spans = [text.words.original_span(*span) for span in spans]
    indices: set[int] = set()
    for start, end in found:
        index = bisect.bisect_right(spans, start, key=_span_end)
        while index < len(spans) and spans[index][0] < end:
            indices.add(index)
            index += 1
    return indices


def _span_end(span: tuple[int, int]) -> int:
    return span[1]


@dataclass(frozen=True, slots=True)
class _Action:
    kind: _Kind
    gerund: bool
    first: int
    end: int
    framed: bool = False  # the frame is the action itself: "have you tried …"


class _Reading:
    """One message: its actions, whether each is advice, and what it acts on."""

    def __init__(self, tokens: Tokens, matches: dict[str, list[PhraseMatch]],
                 unit_amounts: set[int]) -> None:
        self.tokens = tokens
        self.keys = tokens.keys
        self.matches = matches
        self.unit_amounts = unit_amounts
        self.named = _longest_from(matches.get("medicines", ()))
        self.medicine = {**_longest_from(matches.get("medicine_words", ())), **self.named}
        self.amount_words = _longest_from(matches.get("amounts", ()))
        # Where medicines are named, for "it" and "two": near one, they stand for it.
        self._medicine_positions = sorted({*self.medicine, *unit_amounts})
        self.frame_ends: dict[int, list[PhraseMatch]] = {}
        for section in ("advice", "imperative_advice"):
            for match in matches.get(section, ()):
                self.frame_ends.setdefault(match.end, []).append(match)
        self._sentences: list[int] | None = None

    def advises(self) -> bool:
        for match in self.matches.get("stop_advice", ()):
            if not self._consulted(match.first):
                return True
        ordered: set[int] = set()  # sentences with an order or advice already found
        for action in self._actions():
            sentence = self._sentence(action.first)
            if action.framed or self._governed(action, sentence in ordered):
                ordered.add(sentence)
                advice = self._acts_on_medicine(action)
            else:
                advice = self._forbidden_own_medicine(action)
            if advice and not self._consulted(action.first):
                return True
        return False

    def _actions(self) -> list[_Action]:
        actions = [_Action(kind=section.kind, gerund=section.gerund, first=match.first,
                           end=match.end)
                   for name, section in _ACTION_SECTIONS.items()
                   for match in self.matches.get(name, ())]
        actions += [_Action(kind=_Kind.TAKE, gerund=False, first=match.first, end=match.end,
                            framed=True)
                    for match in self.matches.get("advice_with_action", ())]
        # In order, the longest first where two start together ("come off" before "come").
        return sorted(actions, key=lambda action: (action.first, -action.end))

    # Is it advice? ------------------------------------------------------------------------

    def _governed(self, action: _Action, sentence_has_order: bool) -> bool:
        """After an advice frame (with fillers between), or an order: opening its clause after
        leads only, or joined by "and" or "then" to advice or an order earlier in its
        sentence ("ask for xanax and take two", "you could ask your GP for xanax, then take
        two"; but "I'll eat, then take a xanax" is the writer's)."""
        if self._after_frame(action.first):
            return True
        if action.gerund:
            return False  # "lowering my dose helped": the writer's story
        start = self._lead_start(action.first, _LEADS)
        if start is None:
            return False
        if start > 0 and self.keys[start - 1] in _CONJUNCTIONS:
            return sentence_has_order or self._advice_before(start - 1)
        if not (start == 0 or self.tokens.clause_start[start]):
            return False
        # A bare verb after a comma may go on with the writer's own list: "I drink, take
        # painkillers or both", "I chose to skip meds, stay awake". With a lead ("I know it's
        # hard, just double it") it is an order.
        return start < action.first or not self._continues_writers_clause(start)

    def _continues_writers_clause(self, start: int) -> bool:
        """Whether the clause before the one opening at ``start``, in the same sentence, has
        the writer as its subject."""
        if start == 0 or self._sentence(start - 1) != self._sentence(start):
            return False
        clause_start = self.tokens.clause_start
        position = start - 1
        while position > 0 and not clause_start[position]:
            position -= 1
        return not _FIRST_PERSON.isdisjoint(self.keys[position:start])

    def _advice_before(self, position: int) -> bool:
        """Whether an advice frame comes earlier in the sentence of token ``position``."""
        sentence = self._sentence(position)
        return any(frame.end <= position and self._sentence(frame.first) == sentence
                   for frames in self.frame_ends.values() for frame in frames
                   if frame.section == "advice")

    def _after_frame(self, first: int) -> bool:
        clause_start = self.tokens.clause_start
        position = first
        while True:
            for frame in self.frame_ends.get(position, ()):
                if not any(clause_start[frame.first + 1:first + 1]) and (
                        frame.section == "advice" or self._opens_clause(frame.first)):
                    return True
            if (position == 0 or clause_start[position] or first - position >= _FILLER_REACH
                    or self.keys[position - 1] not in _FILLERS):
                return False
            position -= 1

    def _opens_clause(self, first: int) -> bool:
        start = self._lead_start(first, _LEADS)
        return start is not None and (start == 0 or self.tokens.clause_start[start])

    def _lead_start(self, first: int, leads: frozenset[str]) -> int | None:
        """Where the run of ``leads`` words right before ``first`` starts, within its clause;
        None when more than _LEAD_REACH of them."""
        position = first
        while (position > 0 and not self.tokens.clause_start[position]
               and self.keys[position - 1] in leads):
            position -= 1
            if first - position > _LEAD_REACH:
                return None
        return position

    def _forbidden_own_medicine(self, action: _Action) -> bool:
        """"don't take your lithium, it's poison": forbidding someone their own medicine tells
        them to stop it. "don't take more than two" and "never take your meds with alcohol"
        do not."""
        if action.kind is not _Kind.TAKE or action.gerund or action.framed:
            return False
        start = self._lead_start(action.first, _LEADS | _FORBID)
        if start is None or not (start == 0 or self.tokens.clause_start[start]):
            return False
        if not any(self.keys[index] in _FORBID for index in range(start, action.first)):
            return False
        position = action.end
        if position < len(self.keys) and self.keys[position] in _YOUR:
            end = self.medicine.get(position + 1)
            if end is not None:
                return (end >= len(self.keys) or self.tokens.clause_start[end]
                        or self.keys[end] in _FORBID_TAILS)
        return False

    # What does it act on? -----------------------------------------------------------------

    def _acts_on_medicine(self, action: _Action) -> bool:
        keys = self.keys
        clause_start = self.tokens.clause_start
        kind = action.kind
        position = action.end
        limit = min(len(keys), action.end + _TARGET_REACH)
        while position < limit and not clause_start[position]:
            medicine_end = self.medicine.get(position)
            if medicine_end is not None:
                owner = keys[position - 1] if position > action.end else None
                if owner in _WRITERS:
                    return False  # "double my dose?": the writer's, asking
                named = position in self.named
                if owner in _YOUR and kind in (_Kind.TAKE, _Kind.TAKE_NAMED):
                    pass  # "take your meds" is encouragement, not advice on what to take
                elif named or kind is not _Kind.TAKE_NAMED:
                    return True
                position = medicine_end
                continue
            if position in self.unit_amounts:
                return True
            amount_end = self.amount_words.get(position)
            if amount_end is None and _NUMBER.fullmatch(keys[position]):
                amount_end = position + 1
            if amount_end is not None and self._dose_follows(amount_end) and (
                    self._near_a_medicine(position)):
                return True  # "ask for xanax and take two"
            if (keys[position] in _PRONOUNS and kind is _Kind.CHANGE
                    and self._near_a_medicine(position)):
                return True  # "if the sertraline isn't working, just double it"
            if amount_end is not None:
                position = amount_end
                continue
            if keys[position] not in _BETWEEN:
                return False  # "stop worrying about your meds"
            if keys[position] in _TAKING and kind is _Kind.CHANGE_NAMED:
                kind = _Kind.CHANGE  # "stop taking them" is about medicine; "stop it" is not
            position += 1
        return False

    def _near_a_medicine(self, position: int) -> bool:
        index = bisect.bisect_left(self._medicine_positions, position - _MEDICINE_REACH)
        return (index < len(self._medicine_positions)
                and self._medicine_positions[index] <= position + _MEDICINE_REACH)

    def _dose_follows(self, end: int) -> bool:
        """Whether a number or an amount word ends where a dose would: the end of its clause,
        a medicine, another amount, or "at night", "of them", "and"…"""
        return (end >= len(self.keys) or self.tokens.clause_start[end]
                or self.keys[end] in _AFTER_AMOUNT or end in self.medicine
                or end in self.unit_amounts)

    # Is a professional consulted? ---------------------------------------------------------

    def _consulted(self, first: int) -> bool:
        """A professional consulted ("talk to your doctor", "with your GP's help") or reported
        ("your doctor said …") in the action's sentence: the good advice. Not "ask your GP for
        xanax", "don't tell your doctor", "without asking your pharmacist"."""
        sentence = self._sentence(first)
        keys = self.keys
        for professional in self.matches.get("professionals", ()):
            if self._sentence(professional.first) != sentence:
                continue
            before = preceding_keys(keys, self.tokens.clause_start, before=professional.first,
                                    limit=_CONSULT_REACH)
            after = keys[professional.end:professional.end + 2]
            if any(word in _AROUND or word in _WRITERS for word in before):
                continue  # "don't tell your doctor"; "my psychiatrist says" is the writer's
            if any(word in _CONSULT for word in before):
                asked_for = (bool(after) and after[0] == "for" and any(
                    index in self.named
                    for index in range(professional.end + 1, professional.end + 4)))
                if not asked_for:
                    return True
            elif after and after[0] in _REPORTED and not (
                    len(after) > 1 and after[1] in _NEGATIONS):
                return True
        return False

    def _sentence(self, index: int) -> int:
        if self._sentences is None:
            spans = self.tokens.spans
            text = self.tokens.text
            number = 0
            numbers: list[int] = []
            for position, opens in enumerate(self.tokens.clause_start):
                if opens and position and _SENTENCE_END.search(
                        text, spans[position - 1][1], spans[position][0]):
                    number += 1
                numbers.append(number)
            self._sentences = numbers
        return self._sentences[index]


def _longest_from(matches: Sequence[PhraseMatch]) -> dict[int, int]:
    """Token index -> end of the longest match starting there."""
    ends: dict[int, int] = {}
    for match in matches:
        if match.end > ends.get(match.first, -1):
            ends[match.first] = match.end
    return ends
