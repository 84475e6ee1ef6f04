"""Crisis language (rule "crisis-support") and method details (rule "no-method-details").

Someone who writes that they want to die must, within seconds, privately get warm words and
a way to reach a person, and on-duty staff must be alerted (PRODUCT.md, principle 3). These
signals never lead to a sanction; the policy routes them. Tiers, from data/crisis.txt:

* ``concern``: hopelessness, worthlessness, "I can't do this anymore", reaching out for a
  person ("I need someone to talk to", "please help me"; only at the end of a clause, so "I
  need help with my homework" is nothing), several signs of distress together, or a crisis
  told as history ("I used to want to die");
* ``high_risk``: wanting to die, actively or passively ("I want to die", "I wish I was
  dead", "I want to sleep and not wake up"), self-harm, a question about a method, a pill or
  knife emoji with distress;
* ``imminent``: wanting to die or a farewell together with a plan, a means or a time close
  to it (the time in the same sentence, the plan or means within a few words); having the
  means ready ("I have the rope ready", "I have everything ready") with a time in its
  sentence or any other sign of crisis (the means alone, stockpiled or ready, is high_risk;
  "I bought rope for climbing" is nothing);
* ``worried_about_someone``: the same language about someone else ("my friend wants to
  die", "I'm worried about my friend"), with the severity its tier would have had.

``method_detail`` (data/crisis_methods.txt, where the line is drawn) comes in addition to the
tier: details of a method or means are collapsed for others until a moderator looks.

Negated phrases ("I'm not suicidal"), phrases addressed to someone ("are you suicidal?"), or
aimed at them ("you're worthless", "nobody cares about you": an insult, for harassment.py),
lines quoted from a song or a film and words talked about ("kms as in kilometres", "why does
everyone say 'unalive'") raise nothing. A quoted line introduced by someone else ("she texted
me "I want to die"") is about someone else. History ("I used to want to die", "two years
since my attempt") is concern, and nothing at all when the message also speaks of recovery
("I'm doing better").

The rules are meant to be precise (a learned model beside them catches paraphrases): every
signal shows its writer a card at once, and imminent pages staff. So laughter in a phrase's
sentence or the next ("kms lol") lowers it one tier, never to nothing: high_risk to concern,
and a time said laughing or in hyperbole ("I want to die lmao the exam is tomorrow", "I'm
literally…") is high_risk, not imminent; a plan, a means or a farewell keeps imminent, and
"not joking" or "fr" cancels the laughter. A phrase about a game or a program ("kill myself in
minecraft") is concern at most. A time after a comparison or a condition is theirs ("I'd
rather die than go to that meeting tomorrow"). A goodbye with a trip, a move, a new job or a
return near it ("I won't be here tomorrow, off to my nan's"), or to a place or a thing with a
positive marker ("goodbye forever to my braces!!!"), is no farewell.

The message is read with a word break also where a lowercase letter meets a capital ("helpMe",
a title run into its text: normalize.py).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
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
_METHODS: Final = read_sections("crisis_methods.txt")
_SUBJECTS: Final = read_sections("subjects.txt")

_CRISIS_SECTIONS: Final = (
    "death_wish", "hopeless", "hopeless_at_clause_end", "asking_for_help", "distress",
    "distress_weak", "self_harm", "farewell", "farewell_weak",
    "plan_or_means", "means_ready", "means_ready_generic", "time", "about_someone_else",
    "someone_else_concern", "past", "recovery",
    "not_a_crisis", "hyperbole", "sincerity", "game_or_code", "definition_cues",
    "ordinary_leaving", "events")
_METHOD_SECTIONS: Final = (
    "lethality", "question_start", "outcome_strong", "outcome_weak", "overdose", "substances",
    "whole_amount", "fall_places", "ligature", "ligature_detail", "cutting", "cutting_detail")


def _has_word(entry: str) -> bool:
    return any(char.isalnum() for char in entry)


# Laughter and positive markers are words ("lol", "as a joke", "yay") or symbols ("😂", "!"),
# which are not words and are looked for in the text.
_SYMBOL_SECTIONS: Final = ("laughter", "positive_markers")
# Every list this detector matches, found in one pass over the message's words. Method
# sections are prefixed, as some of their words are also crisis words.
_INDEX: Final = PhraseIndex({
    **{section: _PHRASES[section] for section in _CRISIS_SECTIONS},
    **{section: tuple(entry for entry in _PHRASES[section] if _has_word(entry))
       for section in _SYMBOL_SECTIONS},
    **{"method_" + section: _METHODS[section] for section in _METHOD_SECTIONS}})

_LAUGHTER_SYMBOLS: Final = tuple(entry for entry in _PHRASES["laughter"]
                                 if not _has_word(entry))
_POSITIVE_SYMBOLS: Final = tuple(entry for entry in _PHRASES["positive_markers"]
                                 if not _has_word(entry))
_NOT_A_PERSON: Final = word_set(_PHRASES["not_a_person"])
_TIME_CONDITIONS: Final = word_set(_PHRASES["time_conditions"])
_GOODBYE_NOT_AN_OBJECT: Final = word_set(_PHRASES["goodbye_not_an_object"])
_GOODBYE_DETERMINERS: Final = word_set(_PHRASES["goodbye_determiners"])
_MEANS_EMOJI: Final = _PHRASES["means_emoji"]
_UNITS_AFTER_NUMBER: Final = frozenset(_PHRASES["units_after_number"])
_SCOPE_BREAKERS: Final = word_set(_PHRASES["scope_breakers"])
_QUOTE_CUES: Final = word_set(_PHRASES["quote_cues"])
_CLAUSE_END_TAILS: Final = word_set(_PHRASES["clause_end_tails"])
# "for" and what follows it that keeps having the means ready a readiness: "the rope ready for
# tonight", "saving up my pills for months" (but "for climbing", "for the party" is a purpose).
_READY_FOR_TIME: Final = tuple(tuple(entry.split()) for entry in _PHRASES["ready_for_time"])
# How many words after a readiness phrase a "for" may come and still give its purpose ("I
# bought a rope today for climbing").
_PURPOSE_REACH: Final = 3
# How many words after a crisis word a [definition_cues] entry may start and still talk about
# the word ("CTB at my work means …").
_DEFINITION_REACH: Final = 4
# Sections whose phrases count only at the end of their clause ("I give up." but not "I give
# up on this game").
_AT_CLAUSE_END: Final = frozenset({"hopeless_at_clause_end", "asking_for_help"})
_NEGATIONS: Final = word_set(read_sections("negations.txt")["negations"])
_THIRD_PERSON: Final = word_set(_SUBJECTS["third_person"])
# "my suicide" is the writer's, although "my friend is suicidal" is not: the walk back from
# the phrase meets "friend" before "my".
_WRITER_WORDS: Final = word_set(_SUBJECTS["first_person"]) | {"my"}
_SECOND_PERSON: Final = word_set(_SUBJECTS["second_person"])
_SECOND_PERSON_POSSESSIVE: Final = word_set(_SUBJECTS["second_person_possessive"])
_PEOPLE_IN_GENERAL: Final = tuple(tuple(entry.split()) for entry in _SUBJECTS["people_in_general"])
_OBJECT_LINKS: Final = word_set(_SUBJECTS["object_links"])
# "you know", "you guys" after a phrase talk to the room; they are not its object.
_FILLERS: Final = frozenset({"know", "see", "guys", "all"})

_NEGATION_WINDOW: Final = 3
_SUBJECT_WINDOW: Final = 6
# How close before a phrase "your" must be to make it the addressed person's: right before it
# ("ur worthless") or with its noun between ("your life isn't worth living").
_POSSESSIVE_REACH: Final = 2
# Signs of distress that make concern together, counting each different [distress] entry
# as two and each different [distress_weak] entry as one: one ("I'm lonely") is an ordinary
# bad day. Tuned on the even rows of the Reddit set (docs/screening.md).
DISTRESS_NEEDED: Final = 3
# How many words from a wish to die or a farewell a plan or means may be, outside its
# sentence, and still make it imminent ("I have pills, I want to die"). A time must be in the
# sentence itself.
PLAN_REACH: Final = 10
# What ends a sentence, between two words.
_SENTENCE_END: Final = re.compile(r"[.!?\n]")
# How far after "how many" an outcome ("would it take", "to die") still belongs to it.
QUESTION_REACH: Final = 12
# Words around a quotation that are searched for a song or film cue, or a speaker.
_QUOTE_REACH: Final = 8
# "1 paracetamol", "2 tablets" is a dose, not a detail.
_ORDINARY_DOSE: Final = 2

_SEVERITY: Final = {SignalKind.CONCERN: Severity.MEDIUM, SignalKind.HIGH_RISK: Severity.HIGH,
                    SignalKind.IMMINENT: Severity.CRITICAL}

# Amounts and heights are read on the folded view, where digits are still digits ("10th",
# "200mg"; the words view reads those as leetspeak).
_NUMBER: Final = (r"(?:\d{1,6}(?:[.,]\d+)?(?:st|nd|rd|th)?|two|three|four|five|six|seven|"
                  r"eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty|"
                  r"seventy|eighty|ninety|hundred|a hundred|a dozen|dozens of|hundreds of)")


def _alternation(entries: tuple[str, ...]) -> str:
    return "|".join(re.escape(entry).replace(r"\ ", r"\s+")
                    for entry in sorted(entries, key=len, reverse=True))


_AMOUNT: Final = re.compile(
    rf"\b(?P<number>{_NUMBER})\s*(?:(?:{_alternation(_METHODS['units'])})\b|"
    rf"(?:of\s+)?(?:(?:my|the|his|her|their)\s+)?"
    rf"(?:{_alternation(_METHODS['substances'])})\b)")
_HEIGHT: Final = re.compile(
    rf"\b{_NUMBER}\s*(?:{_alternation(_METHODS['heights'])})\b")
# A line in double quotation marks, or in single ones that are not apostrophes: one opens
# before a word and closes after one ("saying 'i want to die' out loud", not "i'm").
_QUOTATION: Final = re.compile(
    r'"[^"\n]{1,400}"|(?<![\w\'])\'(?=\w)[^\n]{1,400}?(?<=[\w.!?,])\'(?![\w\'])')
_DIGIT: Final = re.compile(r"\d")
_ORDINARY_WORDS: Final = frozenset({"one", "two", "a couple of"})


class _Theme(Enum):
    DEATH_WISH = "death wish"  # [death_wish]: high_risk
    SELF_HARM = "self-harm"  # [self_harm]: high_risk, never imminent
    HOPELESS = "hopelessness"  # [hopeless]: concern
    METHOD_QUESTION = "method question"  # crisis_methods.txt: high_risk
    ASKING_FOR_HELP = "asking for help"  # [asking_for_help]: concern
    MEANS_READY = "means ready"  # [means_ready]: high_risk, imminent with time or distress


_THEME_TIER: Final = {_Theme.DEATH_WISH: SignalKind.HIGH_RISK,
                      _Theme.SELF_HARM: SignalKind.HIGH_RISK,
                      _Theme.HOPELESS: SignalKind.CONCERN,
                      _Theme.METHOD_QUESTION: SignalKind.HIGH_RISK,
                      _Theme.ASKING_FOR_HELP: SignalKind.CONCERN,
                      _Theme.MEANS_READY: SignalKind.HIGH_RISK}
_THEME_SECTIONS: Final = ((_Theme.DEATH_WISH, "death_wish"), (_Theme.SELF_HARM, "self_harm"),
                          (_Theme.HOPELESS, "hopeless"),
                          (_Theme.HOPELESS, "hopeless_at_clause_end"),
                          (_Theme.ASKING_FOR_HELP, "asking_for_help"),
                          (_Theme.MEANS_READY, "means_ready"))


class _Tone(Enum):
    """How a phrase is said."""

    PLAIN = "plain"
    JOKING = "joking"  # laughter in its sentence or the next: one tier lower, never nothing
    PLAYING = "playing"  # a game or a program in its clause: concern at most


class _Whose(Enum):
    WRITER = "writer"
    SOMEONE_ELSE = "someone else"
    ADDRESSED = "addressed"  # "you": a peer asking or advising
    NOBODY = "nobody"  # a line quoted from a song, a film, a book


@dataclass(frozen=True, slots=True)
class _Finding:
    theme: _Theme
    first: int
    end: int
    whose: _Whose
    past: bool  # told as history: "I used to want to die"


def detect_crisis(*, text: NormalizedText, context: ScreeningContext) -> list[Signal]:
    tokens = text.tokens
    if not tokens.keys:
        return []
    return _Reading(text).signals()


class _Reading:
    """One message, read once: its matches, then the findings built from them."""

    def __init__(self, text: NormalizedText) -> None:
        self.text = text
        self.tokens = text.tokens_split_at_case_joins
        self.matches = by_section(_INDEX.find(self.tokens))
        self.not_a_crisis = _Coverage(len(self.tokens.keys), [
            (match.first, match.end) for match in self.matches.get("not_a_crisis", ())])
        self._past_clauses: frozenset[int] | None = None
        self._quotations: list[tuple[int, int, _Whose]] | None = None
        self._marked_sentences: dict[str, frozenset[int]] = {}

    def usable(self, section: str) -> list[PhraseMatch]:
        return [match for match in self.said(section)
                if not self.not_a_crisis.overlaps(match.first, match.end)]

    def said(self, section: str) -> list[PhraseMatch]:
        """The entries of a section that are not negated: for the words read around a
        phrase ("lol", "see you tomorrow"), which [not_a_crisis] is not about."""
        return [match for match in self.matches.get(section, ())
                if not _negated(self.tokens, match.first)]

    def signals(self) -> list[Signal]:
        matches = self.matches
        has_emoji = not self.text.folded.text.isascii() and any(
            emoji in self.text.folded.text for emoji in _MEANS_EMOJI)
        if not has_emoji and not any(section in matches for section in (
                "death_wish", "hopeless", "hopeless_at_clause_end", "asking_for_help",
                "distress", "self_harm", "farewell", "farewell_weak", "means_ready",
                "means_ready_generic", "about_someone_else", "someone_else_concern",
                "method_lethality", "method_question_start", "method_overdose")):
            return []  # the common case: plans, places and times alone say nothing

        recovering = bool(self.usable("recovery"))
        findings = self._findings()
        question = self._method_question()
        if question is not None:
            findings.append(_Finding(theme=_Theme.METHOD_QUESTION, first=question[0],
                                     end=question[1], whose=self._whose(*question),
                                     past=False))
        if recovering:
            findings = [finding for finding in findings if not finding.past]
        own = [finding for finding in findings if finding.whose is _Whose.WRITER]
        others = [finding for finding in findings
                  if finding.whose is _Whose.SOMEONE_ELSE and not finding.past]

        farewells = [match for match in self.usable("farewell")
                     if self._whose(match.first, match.end) is _Whose.WRITER
                     and not self._ordinary_leaving(match)]
        weak_farewells = [match for match in self.usable("farewell_weak")
                          if not self._ordinary_leaving(match)]
        # A time inside a farewell counts whatever negation the farewell carries: in "I won't
        # be here tomorrow" the "won't" is the farewell, not a denial of the time.
        farewell_ranges = _Coverage(len(self.tokens.keys),
                                    [(match.first, match.end) for match in farewells])
        times = self.usable("time") + [
            match for match in matches.get("time", ())
            if farewell_ranges.overlaps(match.first, match.end)]
        urgency = _Urgency(self.sentences, times=times, plans=self.usable("plan_or_means"),
                           emoji=has_emoji, joking=self._hyperbole_sentences,
                           conditions=[index for index, key in enumerate(self.tokens.keys)
                                       if key in _TIME_CONDITIONS])
        distress = self._distress_span(own) if not recovering else None
        # "I have everything ready": the writer's, told now, with no purpose after it or an
        # event in its sentence ("tonight's the night, I have everything ready, the party
        # starts at 8").
        prepared = [match for match in self.usable("means_ready_generic")
                    if self._whose(match.first, match.end) is _Whose.WRITER
                    and not self._past(match.first, match.end)
                    and not _for_purpose(self.tokens, match.end, times_keep=False)
                    and not self._in_sentence("events", match.first)]
        # A sign of distress other than the means themselves ("rope", "pills" are signs too).
        means = _Coverage(len(self.tokens.keys), [
            (match.first, match.end)
            for section in ("means_ready", "means_ready_generic")
            for match in matches.get(section, ())])
        distressed = distress is not None or any(
            self._whose(match.first, match.end) is _Whose.WRITER
            and not means.overlaps(match.first, match.end)
            for match in self.usable("distress"))

        signals: list[Signal] = []
        writer = _writer_tier(own, farewells, weak_farewells, distress,
                              urgency=urgency, tone=self._tone, emoji=has_emoji,
                              prepared=prepared, distressed=distressed)
        if writer is not None:
            tier, token_range = writer
            signals.append(self._signal(tier, _SEVERITY[tier], token_range))
        worry = self._worry(others, urgency=urgency)
        if worry is not None:
            signals.append(worry)
        overdose = self.usable("method_overdose")
        detail = self._method_detail(question, in_crisis=bool(signals) or bool(overdose))
        if detail is not None:
            if not signals and overdose:
                # "I swallowed 30 pills": an overdose told with its amount is an emergency.
                signals.append(self._overdose_signal(overdose[0]))
            signals.append(detail)
        return signals

    def _overdose_signal(self, overdose: PhraseMatch) -> Signal:
        token_range = (overdose.first, overdose.end)
        if self._whose(overdose.first, overdose.end) is _Whose.SOMEONE_ELSE:
            return self._signal(SignalKind.WORRIED_ABOUT_SOMEONE, Severity.CRITICAL,
                                token_range)
        return self._signal(SignalKind.IMMINENT, Severity.CRITICAL, token_range)

    def _findings(self) -> list[_Finding]:
        # "my friend wants to die" is someone else's; "my code wants to die" is nobody's.
        someone_else = [_Finding(theme=_Theme.DEATH_WISH, first=match.first, end=match.end,
                                 whose=self._quoted_whose(match.first, (
                                     _Whose.NOBODY if _subject_is_a_thing(self.tokens, match.first)
                                     else _Whose.SOMEONE_ELSE)),
                                 past=self._past(match.first, match.end))
                        for match in self.usable("about_someone_else")]
        taken = _Coverage(len(self.tokens.keys),
                          [(finding.first, finding.end) for finding in someone_else])
        findings = [finding for finding in someone_else if finding.whose is not _Whose.NOBODY]
        for theme, section in _THEME_SECTIONS:
            for match in self.usable(section):
                if (taken.overlaps(match.first, match.end) or _is_unit(self.tokens, match)
                        or self._talked_about(match)):
                    continue  # "5 kms", "kms as in kilometres"
                if section in _AT_CLAUSE_END and not _ends_clause(self.tokens, match.end):
                    continue
                if theme is _Theme.MEANS_READY and _for_purpose(self.tokens, match.end,
                                                                 times_keep=True):
                    continue  # "I bought a rope for climbing"
                # Asking for help is the writer's, whatever word comes before it: in
                # "someone please help" the "someone" is who is asked.
                whose = (self._quoted_whose(match.first, _Whose.WRITER)
                         if theme is _Theme.ASKING_FOR_HELP
                         else self._whose(match.first, match.end))
                if whose is _Whose.ADDRESSED or whose is _Whose.NOBODY:
                    continue  # "are you suicidal?" is a peer asking; a song is a song
                findings.append(_Finding(theme=theme, first=match.first, end=match.end,
                                         whose=whose,
                                         past=self._past(match.first, match.end)))
        return findings

    def _distress_span(self, own: list[_Finding]) -> tuple[int, int] | None:
        """The first sign of distress when enough different ones come together."""
        taken = _Coverage(len(self.tokens.keys), [(finding.first, finding.end) for finding in own])
        usable = [match for section in ("distress", "distress_weak")
                  for match in self.usable(section)
                  if not taken.overlaps(match.first, match.end)
                  and self._whose(match.first, match.end) is _Whose.WRITER]
        if 2 * len({match.entry for match in usable}) < DISTRESS_NEEDED:
            return None  # too few signs even if all were strong: most messages
        # A sign inside a longer one is the same sign: "hate myself" is not also "hate".
        usable.sort(key=lambda match: match.first - match.end)
        counted = _Coverage(len(self.tokens.keys), [])
        signs: list[PhraseMatch] = []
        for match in usable:
            if not counted.overlaps(match.first, match.end):
                counted.cover(match.first, match.end)
                signs.append(match)
        strong = {match.entry for match in signs if match.section == "distress"}
        weak = {match.entry for match in signs if match.section == "distress_weak"} - strong
        if 2 * len(strong) + len(weak) < DISTRESS_NEEDED:
            return None
        first = min(signs, key=lambda match: match.first)
        return first.first, first.end

    def _worry(self, others: list[_Finding], *, urgency: _Urgency) -> Signal | None:
        worried = self.usable("someone_else_concern")
        if not others and not worried:
            return None
        if not others:
            return self._signal(SignalKind.WORRIED_ABOUT_SOMEONE, Severity.MEDIUM,
                                (worried[0].first, worried[0].end))
        worst = max(others, key=lambda finding: _SEVERITY[_THEME_TIER[finding.theme]])
        severity = (Severity.CRITICAL
                    if worst.theme is _Theme.DEATH_WISH
                    and urgency.pressing(worst.first, worst.end)
                    else _SEVERITY[_THEME_TIER[worst.theme]])
        return self._signal(SignalKind.WORRIED_ABOUT_SOMEONE, severity,
                            (worst.first, worst.end))

    # Method details ----------------------------------------------------------------------

    def _method_question(self) -> tuple[int, int] | None:
        """A lethality or how-to question: "how many … would it take", "lethal dose"."""
        asked = self.usable("method_lethality")
        if asked:
            return asked[0].first, asked[0].end
        starts = self.matches.get("method_question_start", ())
        if not starts:
            return None
        def in_order(*sections: str) -> list[PhraseMatch]:
            return sorted((match for section in sections
                           for match in self.matches.get(section, ())),
                          key=lambda match: match.first)

        strong = in_order("method_outcome_strong")
        weak = in_order("method_outcome_weak")
        means = in_order("method_substances", "method_fall_places", "method_ligature",
                         "method_cutting")
        for start in starts:
            reach = start.end + QUESTION_REACH
            outcome = _first_within(strong, start.end, reach)
            if outcome is None and _first_within(means, start.end, reach) is not None:
                outcome = _first_within(weak, start.end, reach)
            if outcome is not None:
                return start.first, outcome.end
        return None

    def _method_detail(self, question: tuple[int, int] | None, *,
                       in_crisis: bool) -> Signal | None:
        if question is not None:
            return self._detail_signal(self._token_span(question))
        if not in_crisis:
            return None
        span = self._amount_span() or self._height_span() or self._technique_span()
        return None if span is None else self._detail_signal(span)

    def _amount_span(self) -> tuple[int, int] | None:
        whole = self.matches.get("method_whole_amount", ())
        if whole:
            return self._token_span((whole[0].first, whole[0].end))
        if not (self.matches.get("method_substances") or _DIGIT.search(self.text.folded.text)):
            return None
        for amount in _AMOUNT.finditer(self.text.folded.text):
            number = amount.group("number")
            if number in _ORDINARY_WORDS or (number.isdigit()
                                             and int(number) <= _ORDINARY_DOSE):
                continue
            return self.text.folded.original_span(*amount.span())
        return None

    def _height_span(self) -> tuple[int, int] | None:
        if "method_fall_places" not in self.matches and not any(
                key.startswith("jump") for key in self.tokens.key_set):
            return None
        height = _HEIGHT.search(self.text.folded.text)
        return None if height is None else self.text.folded.original_span(*height.span())

    def _technique_span(self) -> tuple[int, int] | None:
        for means, detail in (("method_ligature", "method_ligature_detail"),
                              ("method_cutting", "method_cutting_detail")):
            details = self.usable(detail)
            if details and self.matches.get(means):
                return self._token_span((details[0].first, details[0].end))
        return None

    # Reading the words around a phrase ----------------------------------------------------

    def _whose(self, first: int, end: int) -> _Whose:
        return self._quoted_whose(first, _whose(self.tokens, first, end))

    def _quoted_whose(self, first: int, otherwise: _Whose) -> _Whose:
        if '"' not in self.tokens.text and "'" not in self.tokens.text:
            return otherwise
        quotations = self._quoted()
        # Quotations do not overlap and are in order: the last one starting at or before the
        # phrase is the only one that can hold it.
        index = bisect.bisect_right(quotations, first, key=lambda quotation: quotation[0]) - 1
        if index >= 0 and first < quotations[index][1]:
            return quotations[index][2]
        return otherwise

    def _quoted(self) -> list[tuple[int, int, _Whose]]:
        """Token ranges inside quotation marks, with whose words they are: nobody's for a
        song or a film, someone else's when a third person introduces them, and otherwise
        the writer's (quotation marks are also used for emphasis)."""
        if self._quotations is not None:
            return self._quotations
        keys = self.tokens.keys
        starts = [span[0] for span in self.tokens.spans]
        quotations: list[tuple[int, int, _Whose]] = []
        for quoted in _QUOTATION.finditer(self.tokens.text):
            first = bisect.bisect_left(starts, quoted.start())
            end = bisect.bisect_left(starts, quoted.end())
            if first >= end:
                continue
            before = keys[max(0, first - _QUOTE_REACH):first]
            after = keys[end:end + _QUOTE_REACH]
            if not _QUOTE_CUES.isdisjoint(before) or not _QUOTE_CUES.isdisjoint(after):
                whose = _Whose.NOBODY
            else:
                whose = self._speaker(first)
            quotations.append((first, end, whose))
        self._quotations = quotations
        return quotations

    def _speaker(self, quote_first: int) -> _Whose:
        """Who says a quoted line: the first subject in the clause that introduces it ("my
        sister told me "…"" is the sister's; "I told her "…"" is the writer's; "thank you for
        saying "…"" is the person addressed's)."""
        tokens = self.tokens
        index = quote_first
        while index > 0 and quote_first - index < _QUOTE_REACH:
            index -= 1
            if tokens.clause_start[index]:
                break
        for word in tokens.keys[index:quote_first]:
            if word in _WRITER_WORDS and word != "my":  # "my sister told me" is the sister
                return _Whose.WRITER
            if word in _THIRD_PERSON:
                return _Whose.SOMEONE_ELSE
            if word in _SECOND_PERSON:
                return _Whose.ADDRESSED
        return _Whose.WRITER

    def _past(self, first: int, end: int) -> bool:
        """Whether a [past] marker is in the phrase's clause."""
        past = self.matches.get("past")
        if not past:
            return False
        clauses = self._clauses
        if self._past_clauses is None:
            self._past_clauses = frozenset(clauses[match.first] for match in past)
        return clauses[first] in self._past_clauses or clauses[end - 1] in self._past_clauses

    @cached_property
    def _clauses(self) -> list[int]:
        """The number of each token's clause."""
        clauses: list[int] = []
        clause = 0
        for opens in self.tokens.clause_start:
            clause += opens
            clauses.append(clause)
        return clauses

    @cached_property
    def sentences(self) -> _Sentences:
        return _Sentences(self.tokens)

    @cached_property
    def _sincere(self) -> bool:
        """Whether the message says it is not a joke ("not joking", "fr", "I mean it"):
        laughter, hyperbole and games then count for nothing."""
        return bool(self.matches.get("sincerity"))

    @cached_property
    def _joking_sentences(self) -> frozenset[int]:
        """Sentences with laughter in them ("lol", "as a joke", "😂"); "not lol" is no
        laughter."""
        if self._sincere:
            return frozenset()
        sentences = self.sentences
        found = {sentences.of(match.first) for match in self.said("laughter")}
        text = self.tokens.text
        if not text.isascii():
            for symbol in _LAUGHTER_SYMBOLS:
                position = text.find(symbol)
                while position >= 0:
                    found.add(sentences.at_position(position))
                    position = text.find(symbol, position + len(symbol))
        return frozenset(found)

    @cached_property
    def _hyperbole_sentences(self) -> frozenset[int]:
        """Sentences where a time does not make a wish imminent: laughter, a word of
        hyperbole ("literally") or a game or a program in them."""
        if self._sincere:
            return frozenset()
        sentences = self.sentences
        return self._joking_sentences | {
            sentences.of(match.first)
            for section in ("hyperbole", "game_or_code") for match in self.said(section)}

    @cached_property
    def _game_clauses(self) -> frozenset[int]:
        if self._sincere:
            return frozenset()
        return frozenset(self._clauses[match.first] for match in self.said("game_or_code"))

    def _tone(self, first: int, end: int) -> _Tone:
        """How a phrase is said: about a game or a program when one is in its clause ("kill
        myself in minecraft"); joking with laughter in its sentence or right after it ("kms.
        lol"; not the "lol" of an earlier sentence)."""
        games = self._game_clauses
        clauses = self._clauses
        if games and (clauses[first] in games or clauses[end - 1] in games):
            return _Tone.PLAYING
        joking = self._joking_sentences
        sentence = self.sentences.of(first)
        if joking and (sentence in joking or sentence + 1 in joking):
            return _Tone.JOKING
        return _Tone.PLAIN

    def _in_sentence(self, section: str, index: int) -> bool:
        """Whether an entry of ``section``, not negated, is in the sentence of token
        ``index``."""
        return self.sentences.of(index) in self._sentences_with(section)

    def _sentences_with(self, section: str) -> frozenset[int]:
        found = self._marked_sentences.get(section)
        if found is None:
            found = frozenset(self.sentences.of(match.first) for match in self.said(section))
            self._marked_sentences[section] = found
        return found

    def _talked_about(self, match: PhraseMatch) -> bool:
        """Whether the words right after a phrase say what it means ("kms as in kilometres",
        "CTB at my work means close to budget"): a word talked about, not used."""
        cues = self._definition_starts
        if not cues:
            return False
        tokens = self.tokens
        for index in range(match.end, min(match.end + _DEFINITION_REACH, len(tokens.keys))):
            if tokens.clause_start[index]:
                return False
            if index in cues:
                return True
        return False

    @cached_property
    def _definition_starts(self) -> frozenset[int]:
        return frozenset(match.first for match in self.matches.get("definition_cues", ()))

    def _ordinary_leaving(self, farewell: PhraseMatch) -> bool:
        """Whether a goodbye is ordinary leave-taking: a trip, a move, a new job, a night's
        sleep or a flat phone in its sentence or the one next to it ("I won't be here
        tomorrow, off to my nan's", "goodbye everyone! moving to leeds tomorrow"); or a
        goodbye to a place, a thing or a time with a positive marker in its sentence
        ("goodbye forever to my braces!!!", "this is goodbye london, off to leeds tonight!")."""
        sentence = self.sentences.of(farewell.first)
        if not self._leaving_sentences.isdisjoint((sentence - 1, sentence, sentence + 1)):
            return True
        return self._goodbye_object(farewell) and (
            self._in_sentence("positive_markers", farewell.first)
            or any(symbol in self.sentences.text(farewell.first)
                   for symbol in _POSITIVE_SYMBOLS))

    @cached_property
    def _leaving_sentences(self) -> frozenset[int]:
        """Sentences with an [ordinary_leaving] marker. A marker inside a farewell is the
        farewell's ("goodnight forever")."""
        goodbyes = _Coverage(len(self.tokens.keys), [
            (match.first, match.end) for section in ("farewell", "farewell_weak")
            for match in self.matches.get(section, ())])
        return frozenset(self.sentences.of(match.first)
                         for match in self.said("ordinary_leaving")
                         if not goodbyes.overlaps(match.first, match.end))

    def _goodbye_object(self, farewell: PhraseMatch) -> bool:
        """Whether a goodbye has an object other than the room, the world, a person or a
        distress ("goodbye to my pain"): "goodbye london", "goodbye to my old car"."""
        tokens = self.tokens
        keys = tokens.keys
        position = farewell.end
        for _ in range(2):  # "goodbye to my braces"
            if (position < len(keys) and not tokens.clause_start[position]
                    and keys[position] in _GOODBYE_DETERMINERS):
                position += 1
        if position >= len(keys) or tokens.clause_start[position]:
            return False
        word = keys[position]
        if (word in _GOODBYE_NOT_AN_OBJECT or word in _WRITER_WORDS or word in _SECOND_PERSON
                or word in _THIRD_PERSON or word in _NEGATIONS or word in _SCOPE_BREAKERS
                or word in _CLAUSE_END_TAILS):
            return False
        return position not in self._distress_starts

    @cached_property
    def _distress_starts(self) -> frozenset[int]:
        return frozenset(match.first for section in ("distress", "distress_weak")
                         for match in self.matches.get(section, ()))

    def _token_span(self, token_range: tuple[int, int]) -> tuple[int, int]:
        first, end = token_range
        spans = self.tokens.spans
        return self.text.words.original_span(spans[first][0], spans[end - 1][1])

    def _signal(self, kind: SignalKind, severity: Severity,
                token_range: tuple[int, int]) -> Signal:
        return Signal(detector=DetectorName.CRISIS, kind=kind, rule=Rule.CRISIS_SUPPORT,
                      severity=severity, span=self._token_span(token_range))

    @staticmethod
    def _detail_signal(span: tuple[int, int]) -> Signal:
        return Signal(detector=DetectorName.CRISIS, kind=SignalKind.METHOD_DETAIL,
                      rule=Rule.NO_METHOD_DETAILS, severity=Severity.HIGH, span=span)


def _writer_tier(own: list[_Finding], farewells: list[PhraseMatch],
                 weak_farewells: list[PhraseMatch], distress: tuple[int, int] | None, *,
                 urgency: _Urgency, tone: Callable[[int, int], _Tone], emoji: bool,
                 prepared: list[PhraseMatch] | None = None,
                 distressed: bool = False) -> tuple[SignalKind, tuple[int, int]] | None:
    present = [finding for finding in own if not finding.past]
    wishes = [finding for finding in present if finding.theme is _Theme.DEATH_WISH]
    risky = [finding for finding in present if _THEME_TIER[finding.theme]
             is SignalKind.HIGH_RISK]
    ready = [finding for finding in present if finding.theme is _Theme.MEANS_READY]
    goodbye = farewells[0] if farewells else None
    # Imminent: a wish to die or a farewell with a plan, means or time close to it; a wish
    # to die with any farewell. Self-harm alone is never imminent here.
    candidates: list[_Finding | PhraseMatch] = [*wishes, *farewells]
    anchor = next((found for found in candidates if urgency.pressing(found.first, found.end)),
                  None)
    if anchor is None and wishes and weak_farewells:
        anchor = wishes[0]
    elif anchor is None and not emoji:
        anchor = next((found for found in weak_farewells
                       if urgency.planned(found.first, found.end)), None)
    if anchor is None:
        # Means ready ("I have the rope ready", "I have everything ready") with a time in its
        # sentence, or with any other sign of crisis or a farewell.
        other_sign = (distressed or bool(farewells) or bool(weak_farewells) or any(
            finding.theme is not _Theme.MEANS_READY for finding in present))
        anchor = next((found for found in [*ready, *(prepared or ())]
                       if other_sign or urgency.timed(found.first, found.end)), None)
    if anchor is not None:
        return SignalKind.IMMINENT, (anchor.first, anchor.end)
    # A time said joking or in hyperbole ("kms lol, exam tomorrow", "I bought a rope today
    # lol") is one tier lower: high_risk, not imminent, and no lower; about a game, concern
    # (below).
    jest = next((found for found in [*candidates, *ready]
                 if urgency.timed_in_jest(found.first, found.end)
                 and tone(found.first, found.end) is not _Tone.PLAYING), None)
    if jest is not None:
        return SignalKind.HIGH_RISK, (jest.first, jest.end)
    some_distress = present or distress is not None or goodbye is not None
    if risky or (emoji and some_distress):
        span = (risky[0].first, risky[0].end) if risky else (
            (present[0].first, present[0].end) if present else distress)
        if span is None and goodbye is not None:
            span = (goodbye.first, goodbye.end)
        if span is not None:
            # Laughter may be a joke ("kms lol") or distress masked as one: concern, not
            # nothing.
            return (SignalKind.HIGH_RISK if tone(*span) is _Tone.PLAIN
                    else SignalKind.CONCERN), span
    if present:
        return SignalKind.CONCERN, (present[0].first, present[0].end)
    if own:  # only history: "I used to want to die", with no word of recovery
        return SignalKind.CONCERN, (own[0].first, own[0].end)
    if distress is not None:
        return SignalKind.CONCERN, distress
    if goodbye is not None:
        return SignalKind.CONCERN, (goodbye.first, goodbye.end)
    return None


class _Urgency:
    """Whether a plan, a means or a time goes with a wish to die or a farewell: a time in
    the same sentence ("I want to end it tonight", not "I want to die. today was awful"), a
    plan or means in the same sentence or within PLAN_REACH words. A means emoji counts
    anywhere: it has no words to place.

    A time does not count in a sentence said joking or in hyperbole ("I want to die lmao the
    exam is tomorrow"), nor after a comparison or a condition that takes it ("I'd rather die
    than go to that meeting tomorrow"); a plan or a means still does."""

    def __init__(self, sentences: _Sentences, *, times: list[PhraseMatch],
                 plans: list[PhraseMatch], emoji: bool, joking: frozenset[int],
                 conditions: list[int]) -> None:
        self._sentences = sentences
        self._times = sorted(match.first for match in times)
        self._plans = sorted(match.first for match in plans)
        self._emoji = emoji
        self._joking = joking
        self._conditions = conditions

    def pressing(self, first: int, end: int) -> bool:
        return self.planned(first, end) or self.timed(first, end)

    def planned(self, first: int, end: int) -> bool:
        if self._emoji:
            return True
        if not self._plans:
            return False
        near = _first_at_or_after(self._plans, first - PLAN_REACH)
        return (near is not None and near < end + PLAN_REACH) or self._in_sentence(
            self._plans, first, end)

    def timed(self, first: int, end: int) -> bool:
        return self._sentences.of(first) not in self._joking and self._has_time(first, end)

    def timed_in_jest(self, first: int, end: int) -> bool:
        return self._sentences.of(first) in self._joking and self._has_time(first, end)

    def _has_time(self, first: int, end: int) -> bool:
        """A time in the phrase's sentence, not after a comparison or a condition."""
        if not self._times:
            return False
        low, high = self._sentences.bounds(first, end)
        before = _first_at_or_after(self._times, low)
        if before is not None and before < min(end, high):
            return True  # "tonight I want to die", "I won't be here tomorrow"
        # After the phrase, the first time decides: a condition before it comes before any
        # later time too.
        after = _first_at_or_after(self._times, end)
        return after is not None and after < high and _first_within_positions(
            self._conditions, end, after) is None

    def _in_sentence(self, starts: list[int], first: int, end: int) -> bool:
        low, high = self._sentences.bounds(first, end)
        found = _first_at_or_after(starts, low)
        return found is not None and found < high


class _Sentences:
    """Which sentence each token is in: a sentence ends with ".", "!", "?" or a line break
    between two words."""

    def __init__(self, tokens: Tokens) -> None:
        self._tokens = tokens
        spans = tokens.spans
        text = tokens.text
        number = 0
        numbers: list[int] = []
        for index, opens in enumerate(tokens.clause_start):
            if opens and index and _SENTENCE_END.search(
                    text, spans[index - 1][1], spans[index][0]):
                number += 1
            numbers.append(number)
        self._numbers = numbers

    def of(self, index: int) -> int:
        return self._numbers[index]

    def bounds(self, first: int, end: int | None = None) -> tuple[int, int]:
        """The token range of the sentences holding tokens ``first`` to ``end - 1``."""
        numbers = self._numbers
        last = first if end is None else end - 1
        # A sentence's tokens are a run: find its bounds around the phrase.
        return (bisect.bisect_left(numbers, numbers[first]),
                bisect.bisect_right(numbers, numbers[last]))

    def at_position(self, position: int) -> int:
        """The sentence of a character of the text: that of the last word starting at or
        before it (a "😂" after a sentence's last word is in that sentence)."""
        index = bisect.bisect_right(self._tokens.spans, position, key=_span_start) - 1
        return self._numbers[max(index, 0)]

    def text(self, index: int) -> str:
        """The text of token ``index``'s sentence, up to the next sentence's first word, so
        with its closing punctuation and symbols ("goodbye forever to my braces!!! 🎉")."""
        low, high = self.bounds(index)
        spans = self._tokens.spans
        stop = spans[high][0] if high < len(spans) else len(self._tokens.text)
        return self._tokens.text[spans[low][0]:stop]


def _first_at_or_after(starts: list[int], position: int) -> int | None:
    index = bisect.bisect_left(starts, position)
    return starts[index] if index < len(starts) else None


def _first_within_positions(positions: list[int], first: int, last: int) -> int | None:
    """The first of the sorted ``positions`` in [first, last)."""
    found = _first_at_or_after(positions, first)
    return found if found is not None and found < last else None


def _span_start(span: tuple[int, int]) -> int:
    return span[0]


def _whose(tokens: Tokens, first: int, end: int) -> _Whose:
    """Whose words or wishes the phrase at ``first:end`` is.

    A phrase whose subject is people in general ("nobody cares", "everyone hates …") is about
    its object: "nobody cares about you" is a remark aimed at the person addressed, not the
    writer's distress; "my mum says nobody cares about me" is the writer's. Otherwise, and
    when such a phrase has no object, the nearest subject word before the phrase in its clause
    decides: "I think she is suicidal" is about someone else; "she says I'm suicidal" is the
    writer; "you're worthless" and "ur worthless" are said to the person addressed.
    """
    keys = tokens.keys
    if not _WRITER_WORDS.isdisjoint(keys[first:end]):
        return _Whose.WRITER  # "kill myself", "better off without me": whoever says so
    if _starts_with_people_in_general(keys, first, end):
        whose = _whose_object(tokens, end)
        if whose is not None:
            return whose
    index = first
    while index > 0 and first - index < _SUBJECT_WINDOW and not tokens.clause_start[index]:
        index -= 1
        word = keys[index]
        if word in _WRITER_WORDS:
            return _Whose.WRITER
        if word in _THIRD_PERSON:
            return _Whose.SOMEONE_ELSE
        # "ur worthless", "your life isn't worth living" are the addressed person's; but in
        # "I read your post and want to die" the "your" is the post's, and "I" the subject.
        if word in _SECOND_PERSON or (word in _SECOND_PERSON_POSSESSIVE
                                      and first - index <= _POSSESSIVE_REACH):
            return _Whose.ADDRESSED
    return _Whose.WRITER  # "want to die" with the subject left out is the writer's


def _subject_is_a_thing(tokens: Tokens, first: int) -> bool:
    """Whether the nearest subject before a phrase about someone else is a thing or a
    character, not a person: "my code wants to die", "the npc keeps killing himself"."""
    index = first
    while index > 0 and first - index < _SUBJECT_WINDOW and not tokens.clause_start[index]:
        index -= 1
        word = tokens.keys[index]
        if word in _NOT_A_PERSON:
            return True
        if word in _THIRD_PERSON or word in _WRITER_WORDS or word in _SECOND_PERSON:
            return False
    return False


def _starts_with_people_in_general(keys: Sequence[str], first: int, end: int) -> bool:
    return any(tuple(keys[first:first + len(subject)]) == subject
               for subject in _PEOPLE_IN_GENERAL if first + len(subject) <= end)


def _whose_object(tokens: Tokens, end: int) -> _Whose | None:
    """Whose the object right after a phrase is, directly or after a linking word ("nobody
    understands you", "no one cares about him", "nobody would care if you died"); None when
    the clause does not go on with a person."""
    keys = tokens.keys
    position = end
    if position < len(keys) and not tokens.clause_start[position] and (
            keys[position] in _OBJECT_LINKS):
        position += 1
    if position >= len(keys) or tokens.clause_start[position]:
        return None
    word = keys[position]
    if word in _SECOND_PERSON or word in _SECOND_PERSON_POSSESSIVE:
        if position == end and position + 1 < len(keys) and keys[position + 1] in _FILLERS:
            return None  # "nobody cares you know": a filler, not an object
        return _Whose.ADDRESSED
    if word in _WRITER_WORDS:
        return _Whose.WRITER
    if word in _THIRD_PERSON:
        return _Whose.SOMEONE_ELSE
    return None


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


def _ends_clause(tokens: Tokens, end: int) -> bool:
    """Whether a phrase ending before token ``end`` ends its clause, allowing a word like
    "please" or "anymore" after it."""
    return (end >= len(tokens.keys) or tokens.clause_start[end]
            or (tokens.keys[end] in _CLAUSE_END_TAILS and (
                end + 1 >= len(tokens.keys) or tokens.clause_start[end + 1])))


def _for_purpose(tokens: Tokens, end: int, *, times_keep: bool) -> bool:
    """Whether a "for" shortly after a readiness phrase, in its clause, gives it an ordinary
    purpose ("I bought a rope for climbing"); with ``times_keep``, "for" with a time or a
    duration ("ready for tonight", "for months") does not."""
    keys = tokens.keys
    for index in range(end, min(end + _PURPOSE_REACH, len(keys))):
        if tokens.clause_start[index]:
            return False
        if keys[index] == "for":
            after = keys[index + 1:index + 4]
            return not (times_keep and any(after[:len(time)] == time
                                           for time in _READY_FOR_TIME))
    return False


def _is_unit(tokens: Tokens, match: PhraseMatch) -> bool:
    # "I ran 5 kms" is kilometres.
    return (match.first > 0 and tokens.keys[match.first] in _UNITS_AFTER_NUMBER
            and tokens.keys[match.first - 1].isdigit())


def _first_within(found: Sequence[PhraseMatch], first: int, last: int) -> PhraseMatch | None:
    """The first match starting in [first, last); ``found`` is in token order."""
    index = bisect.bisect_left(found, first, key=lambda match: match.first)
    return found[index] if index < len(found) and found[index].first < last else None


class _Coverage:
    """Which tokens some ranges cover, so that checking a phrase against them costs its own
    length, not the number of ranges: a long message stays linear."""

    def __init__(self, size: int, ranges: list[tuple[int, int]]) -> None:
        self._any = bool(ranges)
        self._size = size
        self._covered = bytearray(size if ranges else 0)
        for first, end in ranges:
            self._covered[first:end] = b"\x01" * (end - first)

    def overlaps(self, first: int, end: int) -> bool:
        return self._any and any(self._covered[first:end])

    def cover(self, first: int, end: int) -> None:
        if not self._any:
            self._any = True
            self._covered = bytearray(self._size)
        self._covered[first:end] = b"\x01" * (end - first)
