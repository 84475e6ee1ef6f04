"""Harassment: insults aimed at someone (rule "respect"), telling someone to harm themselves,
threats, and slurs (rule "no-slurs").

Members vent. "I'm such an idiot", "I hate myself", "this week was shit" and "my ex is a
jerk" are not harassment of anyone in the room, and flagging them would punish distress. So an
insult only counts when it is aimed: at "you" ("you idiot", "you're pathetic", "ur such a
loser"), at a mentioned member ("@sam is a joke"), or after a dismissive opener ("shut up
loser"); and not when a negation or a report comes first ("you're not worthless", "he told
you you're a failure"). The words of distress aimed at someone ("nobody cares about you",
"nobody would care if you died") are insults or incitement here, and not the writer's crisis
(crisis.py). Slurs count wherever they are used. The word lists and the small grammar words
are data: data/insults.txt, slurs.txt, allow.txt, subjects.txt.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
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

_INSULTS: Final = read_sections("insults.txt")
_SLURS: Final = read_sections("slurs.txt")
_ALLOW: Final = read_sections("allow.txt")
_SUBJECTS: Final = read_sections("subjects.txt")

_INSULT_SECTIONS: Final = ("insults", "insult_adjectives", "insults_clause_final")
# Every list this detector matches, found in one pass over the message's words.
_INDEX: Final = PhraseIndex(
    {**{section: _INSULTS[section] for section in _INSULT_SECTIONS},
     "targeted": _INSULTS["targeted"], "incitement": _INSULTS["incitement"],
     "threats": _INSULTS["threats"], "slurs": _SLURS["slurs"],
     "slurs_when_aimed": _SLURS["only_when_aimed"], "allowed": _ALLOW["phrases"]},
    plural={*_INSULT_SECTIONS, "slurs", "slurs_when_aimed"})
_SLUR_INSIDE_WORD: Final = re.compile("|".join(map(re.escape, _SLURS["substrings"])))
_ALLOWED_WORDS: Final = frozenset(_ALLOW["words"])

_SECOND_PERSON: Final = word_set(_SUBJECTS["second_person"])
_FIRST_PERSON: Final = word_set(_SUBJECTS["first_person"])
_POSSESSIVE_TARGETS: Final = word_set(_SUBJECTS["second_person_possessive"])
_TARGET_GROUPS: Final = word_set(_INSULTS["target_groups"])
_COPULAS: Final = word_set(_INSULTS["copulas"])
# Adjectives among the insults are modifiers too: "you incompetent idiot".
_INSULTING_MODIFIERS: Final = word_set(_INSULTS["insult_adjectives"])
_MODIFIERS: Final = word_set(_INSULTS["modifiers"]) | _INSULTING_MODIFIERS
# "you are a loser and a liar": the chain of modifiers goes on over a conjunction that follows
# an insult.
_CONJUNCTIONS: Final = frozenset({"and", "or", "n"})
_TAILS: Final = word_set(_INSULTS["tails"])
_OPENERS: Final = frozenset(tuple(entry.split()) for entry in _INSULTS["openers"])
_GREETINGS: Final = frozenset(tuple(entry.split()) for entry in _INSULTS["greetings"])
_NEGATIONS: Final = word_set(read_sections("negations.txt")["negations"])
_REPORTING: Final = word_set(_INSULTS["reporting"])
_BELIEFS: Final = word_set(_INSULTS["beliefs"])
_NOT_INCITEMENT_BEFORE: Final = word_set(_INSULTS["not_incitement_before"])
_IMPERATIVE_LEAD: Final = word_set(_INSULTS["imperative_lead"])
# Entries that name their own target ("you should die", "hope you die", "nobody would care if
# you died") need no lead word.
_SELF_CONTAINED_STARTS: Final = _SECOND_PERSON | _POSSESSIVE_TARGETS | {
    "i", "we", "hope", "do", "why", "the", "everyone", "everybody", "nobody", "no", "noone"}
# "you should die your hair": "die" misspelt for "dye" is followed by what is dyed.
_DYE_OBJECTS: Final = frozenset({"your", "ur", "my", "his", "her", "their", "it", "the",
                                 "hair", "them"})
_NOT_TARGETED_BEFORE: Final = word_set(_INSULTS["not_targeted_before"])
# "I'm a …", "I am so …", "call me a …", "I feel like a …"
_SELF_REFERENCE: Final = _FIRST_PERSON | {"am", "feel", "feeling", "felt", "like"}
_QUOTES: Final = frozenset({"'", '"'})
_MODIFIER_CHAIN_LIMIT: Final = 6
_CONTEXT_WINDOW: Final = 4
# Wider for negations before incitement: "I really don't think you should ever kill yourself".
_INCITEMENT_WINDOW: Final = 6


class _WordClass(Enum):
    NOUN = "noun"  # "idiot": aimed wherever it follows "you"
    ADJECTIVE = "adjective"  # "stupid": after "you are", or ending the clause
    AMBIGUOUS_NOUN = "ambiguous noun"  # "creep", "failure": after "you are", or "you creep!"


_WORD_CLASS: Final = {"insults": _WordClass.NOUN, "insult_adjectives": _WordClass.ADJECTIVE,
                      "insults_clause_final": _WordClass.AMBIGUOUS_NOUN}


def detect_harassment(*, text: NormalizedText, context: ScreeningContext) -> list[Signal]:
    tokens = text.tokens
    keys = tokens.keys
    if not keys:
        return []
    matches = by_section(_INDEX.find(tokens))
    if not matches and _SLUR_INSIDE_WORD.search(text.words.text) is None:
        return []  # the common case: nothing on any list
    allowed = [(match.first, match.end) for match in matches.get("allowed", ())]
    found: list[tuple[SignalKind, Rule, Severity, int, int]] = []

    def add(kind: SignalKind, rule: Rule, severity: Severity, first: int, end: int) -> None:
        if not any(first < allow_end and allow_first < end for allow_first, allow_end in allowed):
            found.append((kind, rule, severity, first, end))

    words_text = text.words.text
    mentions = _mention_flags(tokens, words_text)
    # Where an adjective was found, however it was spelled ("st*pid"): a modifier there.
    adjectives = frozenset(match.first for match in matches.get("insult_adjectives", ()))
    for match in matches.get("slurs", ()):
        add(SignalKind.SLUR, Rule.NO_SLURS,
            _slur_severity(tokens, words_text, match.first, match.end), match.first, match.end)
    for index in _tokens_with_slur_inside(tokens, words_text):
        add(SignalKind.SLUR, Rule.NO_SLURS, _slur_severity(tokens, words_text, index, index + 1),
            index, index + 1)
    for match in matches.get("slurs_when_aimed", ()):
        target = _target_of(tokens, mentions, adjectives, match, word_class=_WordClass.NOUN)
        if target is not None:
            add(SignalKind.SLUR, Rule.NO_SLURS, Severity.HIGH, target, match.end)
    for section in _INSULT_SECTIONS:
        for match in matches.get(section, ()):
            target = _target_of(tokens, mentions, adjectives, match,
                                word_class=_WORD_CLASS[section])
            if target is not None:
                add(SignalKind.INSULT, Rule.RESPECT, Severity.MEDIUM, target, match.end)
    for match in matches.get("targeted", ()):
        if not _negated_or_reported(tokens, match.first) and not (
                match.first > 0 and keys[match.first - 1] in _NOT_TARGETED_BEFORE):
            add(SignalKind.INSULT, Rule.RESPECT, Severity.MEDIUM, match.first, match.end)
    for first, end in _incitements(tokens, matches.get("incitement", [])):
        add(SignalKind.SELF_HARM_INCITEMENT, Rule.RESPECT, Severity.CRITICAL, first, end)
    for match in matches.get("threats", ()):
        if not _negated_or_reported(tokens, match.first):
            add(SignalKind.THREAT, Rule.RESPECT, Severity.HIGH, match.first, match.end)

    return [Signal(detector=DetectorName.HARASSMENT, kind=kind, rule=rule, severity=severity,
                   span=text.words.original_span(tokens.spans[first][0], tokens.spans[end - 1][1]))
            for kind, rule, severity, first, end in _one_per_stretch(found)]


def _mention_flags(tokens: Tokens, words_text: str) -> tuple[bool, ...]:
    if "@" not in words_text:
        return (False,) * len(tokens.keys)
    return tuple(start > 0 and words_text[start - 1] == "@" for start, _ in tokens.spans)


def _slur_severity(tokens: Tokens, words_text: str, first: int, end: int) -> Severity:
    """HIGH for a slur used; LOW for one a member says of themselves ("I'm such a …", which
    is distress as much as anything) or reports ("he called me a …", a slur in quotes). Both
    still break the rule; the policy decides what each deserves."""
    start, stop = tokens.spans[first][0], tokens.spans[end - 1][1]
    if words_text[start - 1:start] in _QUOTES and words_text[stop:stop + 1] in _QUOTES:
        return Severity.LOW
    window = preceding_keys(tokens.keys, tokens.clause_start, before=first,
                            limit=_CONTEXT_WINDOW)
    words_before = [word for word in window if word not in _MODIFIERS]
    if words_before and words_before[0] in _SELF_REFERENCE:
        return Severity.LOW
    if any(word in _REPORTING for word in window):
        return Severity.LOW
    return Severity.HIGH


def _tokens_with_slur_inside(tokens: Tokens, words_text: str) -> Iterable[int]:
    """Tokens that contain a [substrings] stem without being a listed whole word (those are
    found by the index) or an allowed ordinary word ("sniggering")."""
    if _SLUR_INSIDE_WORD.search(words_text) is None:
        return []
    return [index for index, key in enumerate(tokens.keys)
            if key not in _ALLOWED_WORDS and _SLUR_INSIDE_WORD.search(key)]


def _target_of(tokens: Tokens, mentions: Sequence[bool], adjectives: frozenset[int],
               match: PhraseMatch, *, word_class: _WordClass) -> int | None:
    """The index of the token the insult at ``match`` is aimed at, or None when it is not
    aimed at anyone in the room.

    Walks back over modifiers ("you stupid little …", "you're such a …") to what comes
    before them, and accepts a second-person word, a copula after one ("you guys are"), a
    mention, or a dismissive opener.
    """
    keys = tokens.keys
    clause_start = tokens.clause_start
    chain_start = match.first
    plain_modifiers = 0  # articles and intensifiers, not insulting adjectives
    while (chain_start > 0 and not clause_start[chain_start]
           and match.first - chain_start < _MODIFIER_CHAIN_LIMIT):
        previous = keys[chain_start - 1]
        if previous in _MODIFIERS or chain_start - 1 in adjectives:
            chain_start -= 1
            if previous not in _INSULTING_MODIFIERS and chain_start not in adjectives:
                plain_modifiers += 1
        elif (previous in _CONJUNCTIONS and chain_start > 1
              and not clause_start[chain_start - 1]
              and _is_insult_word(keys[chain_start - 2])):
            chain_start -= 2
        else:
            break
    if chain_start == 0 or clause_start[chain_start]:
        return None  # "stupid question", "such an idiot (me)": nothing it is aimed at
    ends_clause = _ends_clause(tokens, match.end)
    before = chain_start - 1
    word = keys[before]

    if word in _COPULAS:  # "you are …", "you guys were being …", "@sam is …"
        subject = before
        while subject > 0 and not clause_start[subject] and keys[subject - 1] in _COPULAS:
            subject -= 1
        if subject == 0 or clause_start[subject]:
            return None
        subject -= 1
        if mentions[subject] or _is_second_person(keys, subject):
            return subject if not _negated_or_reported(tokens, subject) else None
        return None
    if word == "youre" or (word in _SECOND_PERSON and before > 0 and keys[before - 1] == "are"):
        # "you're …" and "are you …" carry their own copula.
        return before if not _negated_or_reported(tokens, before) else None
    if mentions[before]:
        # "@sam idiot"; but "@sam gross!" is as likely a reaction to what Sam shared.
        if word_class is not _WordClass.NOUN:
            return None
        return before if not _negated_or_reported(tokens, before) else None
    if _is_second_person(keys, before):
        # Vocative: "you idiot"; "you stupid" and "you creep" only at the end of the clause,
        # not "thank you stupid autocorrect" or "you creep me out".
        if word_class is not _WordClass.NOUN and not ends_clause:
            return None
        return before if not _negated_or_reported(tokens, before) else None
    if word in _POSSESSIVE_TARGETS:
        # "your an idiot", "ur so dumb", "ur pathetic"; not "your stupid question" or "your
        # failures".
        if plain_modifiers == 0 and not (word_class is _WordClass.ADJECTIVE and ends_clause):
            return None
        return before if not _negated_or_reported(tokens, before) else None
    if _phrase_ends_at(keys, before, _OPENERS):
        # "shut up loser", "stfu stupid"
        return chain_start if word_class is _WordClass.NOUN or ends_clause else None
    if _phrase_ends_at(keys, before, _GREETINGS) and word_class is _WordClass.NOUN:
        return chain_start  # "bye loser", "ok clown"; not "ok dumb question"
    return None


def _is_insult_word(key: str) -> bool:
    return any(_INDEX.has_word(key, section=section) for section in _INSULT_SECTIONS)


def _is_second_person(keys: Sequence[str], index: int) -> bool:
    word = keys[index]
    if word in _SECOND_PERSON:
        return True
    # "you guys", "you lot", "you two"
    return word in _TARGET_GROUPS and index > 0 and keys[index - 1] in _SECOND_PERSON


def _ends_clause(tokens: Tokens, end: int) -> bool:
    if end >= len(tokens.keys) or tokens.clause_start[end]:
        return True
    return tokens.keys[end] in _TAILS


def _phrase_ends_at(keys: Sequence[str], last: int,
                    phrases: frozenset[tuple[str, ...]]) -> bool:
    return any(tuple(keys[last - length + 1:last + 1]) in phrases
               for length in (1, 2, 3) if last - length + 1 >= 0)


def _negated_or_reported(tokens: Tokens, target: int) -> bool:
    """True for "you're not …", "I don't think you're …", "he told you you're …", "if you
    feel you're …"; but not for "I think you're …", which is the writer's own insult."""
    window = preceding_keys(tokens.keys, tokens.clause_start, before=target,
                            limit=_CONTEXT_WINDOW)
    return any(word in _NEGATIONS or word in _REPORTING for word in window) or (
        _someone_elses_belief(window))


def _someone_elses_belief(window: Sequence[str]) -> bool:
    """Whether the words before a phrase (nearest first) make it a belief held by someone
    other than the writer: "if you feel you're …", "it feels like nobody would …"."""
    for distance, word in enumerate(window):
        if word in _BELIEFS:
            holder = window[distance + 1] if distance + 1 < len(window) else None
            if holder not in _FIRST_PERSON:
                return True
    return False


def _incitements(tokens: Tokens, matches: list[PhraseMatch]) -> list[tuple[int, int]]:
    rejected = [match for match in matches if not _is_incitement(tokens, match)]
    # A phrase inside a rejected longer one goes with it: in "I don't think you should kill
    # yourself", "kill yourself" after "should" is not an order.
    return [(match.first, match.end) for match in matches
            if match not in rejected and not any(
                other.first <= match.first and match.end <= other.end for other in rejected)]


def _is_incitement(tokens: Tokens, match: PhraseMatch) -> bool:
    keys = tokens.keys
    if match.entry.endswith("die") and match.end < len(keys) and keys[match.end] in _DYE_OBJECTS:
        return False
    window = preceding_keys(keys, tokens.clause_start, before=match.first,
                            limit=_INCITEMENT_WINDOW)
    if any(word in _NEGATIONS or word in _REPORTING for word in window) or any(
            word in _NOT_INCITEMENT_BEFORE for word in window[:3]) or (
            _someone_elses_belief(window)):
        # "please don't kill yourself", "are you trying to kill yourself?", "it feels like
        # nobody would care if you died"
        return False
    if not window or match.entry.split()[0] in _SELF_CONTAINED_STARTS:
        return True  # "kys" on its own, "I think you should die", "hope you die"
    if any(word in _FIRST_PERSON for word in window[:3]):
        return False  # "I should just die" is the writer's own distress: crisis.py's concern
    return window[0] in _IMPERATIVE_LEAD  # "go kill yourself", "just die", "pls kys"


def _one_per_stretch(found: list[tuple[SignalKind, Rule, Severity, int, int]],
                     ) -> list[tuple[SignalKind, Rule, Severity, int, int]]:
    """Overlapping findings ("you stupid idiot" is found at "stupid" and at "idiot") become
    one: the most severe, then the longest."""
    ordered = sorted(found, key=lambda item: (-item[2], -(item[4] - item[3]), item[3]))
    kept: list[tuple[SignalKind, Rule, Severity, int, int]] = []
    for item in ordered:
        if not any(item[3] < other[4] and other[3] < item[4] for other in kept):
            kept.append(item)
    return sorted(kept, key=lambda item: item[3])
