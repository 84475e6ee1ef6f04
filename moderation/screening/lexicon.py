"""Word lists kept as data files, and matching them against a message's words.

Data file format (``moderation/screening/data/*.txt``): ``#`` starts a comment; ``[name]``
starts a section; every other non-blank line is one entry, written in lowercase, words
separated by spaces. ``(a|b|)`` inside an entry lists alternatives (the empty one makes the
group optional): ``(want|wanna) to die`` is two entries. Apostrophes are ignored
("don't" = "dont").

Entries match whole words of the normalised ``words`` view (see normalize.py), so "cunt" never
matches inside "Scunthorpe". A word written with "1" for "l" ("1oser", normalised to "ioser")
still matches, and so does a doubled letter that was elongated and collapsed ("killlll" is
normalised to "kil" but also read as "kill").
"""

from __future__ import annotations

import itertools
import re
import threading
import weakref
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Final

from moderation.screening.normalize import Tokens

DATA_DIR: Final = Path(__file__).resolve().parent / "data"

_ALTERNATIVES: Final = re.compile(r"\(([^()]*)\)")
# Self-censored vowels ("f*ck", "b*tch") are matched by treating "*" as any vowel.
_VOWELS: Final = "aeiouy"


@cache
def read_sections(name: str) -> dict[str, tuple[str, ...]]:
    """Entries of ``data/<name>``, by section, alternatives expanded."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    path = DATA_DIR / name
    for number, raw_line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw_line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1].strip(), [])
            continue
        if current is None:
            raise ValueError(f"{path}:{number}: entry before any [section]")
        current.extend(expand_alternatives(line.casefold()))
    return {section: tuple(dict.fromkeys(entries)) for section, entries in sections.items()}


def expand_alternatives(entry: str) -> list[str]:
    match = _ALTERNATIVES.search(entry)
    if match is None:
        return [" ".join(entry.replace("'", "").split())]
    expanded: list[str] = []
    for alternative in match.group(1).split("|"):
        expanded.extend(expand_alternatives(
            entry[:match.start()] + alternative + entry[match.end():]))
    return expanded


def word_set(entries: Iterable[str]) -> frozenset[str]:
    """Single words, for membership tests on token keys (negations, cue words…)."""
    return frozenset(word for entry in entries for word in entry.split())


def _spelling_variants(word: str, *, plural: bool) -> set[str]:
    """The ways a word can look after normalisation, where "1" is read as "i" for "l"."""
    bases = {word}
    if plural:
        bases |= {word + "s", word + "es", word + "z"}
    variants: set[str] = set()
    for base in bases:
        l_positions = [index for index, char in enumerate(base) if char == "l"]
        for chosen in itertools.product("li", repeat=min(len(l_positions), 4)):
            letters = list(base)
            for index, char in zip(l_positions, chosen, strict=False):
                letters[index] = char
            variants.add("".join(letters))
    return variants


@dataclass(frozen=True, slots=True)
class PhraseMatch:
    section: str  # the data-file section the entry is in
    entry: str  # the entry that matched, as written there (alternatives expanded)
    first: int  # index of the first token
    end: int  # index after the last token


_Entry = tuple[tuple[str, ...], str, str]  # (words, section, entry)


@dataclass(slots=True)
class _Rest:
    """Entries from their third word on, a word at a time: many entries can share their first
    three words ("i feel so …"), and each word of a message then still costs one lookup."""

    complete: list[tuple[str, str]] = field(default_factory=list)  # (section, entry)
    following: dict[str, _Rest] = field(default_factory=dict)


@dataclass(slots=True)
class _SecondWord:
    """Entries of exactly two words, and longer ones by their third word."""

    complete: list[_Entry] = field(default_factory=list)
    by_third: dict[str, _Rest] = field(default_factory=dict)


@dataclass(slots=True)
class _FirstWord:
    """What can start at one word: entries of that word alone, and longer entries by their
    second word."""

    alone: list[tuple[str, str]] = field(default_factory=list)  # (section, entry)
    by_second: dict[str, _SecondWord] = field(default_factory=dict)


# Every index made (weakly: one a test makes goes with the test).
_PHRASE_INDEXES: weakref.WeakSet[PhraseIndex] = weakref.WeakSet()


def build_phrase_indexes() -> None:
    """Build every word list's index now (a worker does at start-up, so the first message
    does not wait for it)."""
    for index in list(_PHRASE_INDEXES):
        index.build()


class PhraseIndex:
    """Finds the entries of several sections among a message's words, in one pass.

    Entries are keyed by their first word, then their second, so each word of a message
    costs one dictionary lookup, however long the lists are.
    """

    def __init__(self, sections: Mapping[str, Iterable[str]], *,
                 plural: Collection[str] = ()) -> None:
        # Built on first use, not at import: the crisis lists alone take about a second, which
        # every management command and test subprocess would pay without screening anything.
        # A worker builds them at start-up (hearth/asgi.py), before its first message.
        self._sections = {section: tuple(entries) for section, entries in sections.items()}
        self._plural = frozenset(plural)
        self._build_lock = threading.Lock()
        self._built = False
        self._first: dict[str, _FirstWord] = {}
        self._first_by_length: dict[int, list[str]] = {}
        _PHRASE_INDEXES.add(self)

    def build(self) -> None:
        """Index the entries now, if not done yet; safe to call from several threads."""
        if self._built:
            return
        with self._build_lock:
            if self._built:
                return
            for section, entries in self._sections.items():
                for entry in entries:
                    self._add(section, entry, plural=section in self._plural)
            for word in self._first:
                self._first_by_length.setdefault(len(word), []).append(word)
            self._sections = {}  # indexed now; the lists need not be kept twice
            self._built = True

    def _add(self, section: str, entry: str, *, plural: bool) -> None:
        words = entry.split()
        per_word = [_spelling_variants(word, plural=plural and index == len(words) - 1)
                    for index, word in enumerate(words)]
        for spelling in itertools.product(*per_word):
            node = self._first.setdefault(spelling[0], _FirstWord())
            if len(spelling) == 1:
                node.alone.append((section, entry))
                continue
            second = node.by_second.setdefault(spelling[1], _SecondWord())
            if len(spelling) == 2:
                second.complete.append((spelling, section, entry))
            else:
                rest = second.by_third.setdefault(spelling[2], _Rest())
                for word in spelling[3:]:
                    rest = rest.following.setdefault(word, _Rest())
                rest.complete.append((section, entry))
        joined = "".join(words)
        if len(words) > 1 and len(joined) >= 6:
            # The words run together is a common way round word filters ("pieceofshit").
            self._first.setdefault(joined, _FirstWord()).alone.append((section, entry))

    def find(self, tokens: Tokens) -> list[PhraseMatch]:
        self.build()
        get = self._first.get
        keys = tokens.keys
        last = len(keys) - 1
        found: list[PhraseMatch] = []
        plain = not tokens.has_alternatives
        for index, key in enumerate(keys):
            node = get(key)
            if node is None:
                continue
            for section, entry in node.alone:
                found.append(PhraseMatch(section=section, entry=entry, first=index,
                                         end=index + 1))
            # Most words that start a longer entry are not followed by its second word:
            # decide that with one lookup before doing anything slower.
            if node.by_second and index < last and (
                    not plain or keys[index + 1] in node.by_second):
                self._collect_longer(node, tokens, index, found)
        if not plain:
            for index, alternatives in enumerate(tokens.alternatives):
                for alternative in alternatives:
                    node = get(alternative)
                    if node is not None:
                        self._collect(node, tokens, index, found)
        if "*" in tokens.text:
            for index, key in enumerate(keys):
                if "*" in key and key not in self._first:
                    self._collect_starred(tokens, index, key, found)
        return found

    @staticmethod
    def _collect(node: _FirstWord, tokens: Tokens, index: int,
                 found: list[PhraseMatch]) -> None:
        for section, entry in node.alone:
            found.append(PhraseMatch(section=section, entry=entry, first=index, end=index + 1))
        if node.by_second and index + 1 < len(tokens.keys):
            PhraseIndex._collect_longer(node, tokens, index, found)

    @staticmethod
    def _collect_longer(node: _FirstWord, tokens: Tokens, index: int,
                        found: list[PhraseMatch]) -> None:
        for second_word in _readings(tokens, index + 1):
            second = node.by_second.get(second_word)
            if second is None:
                continue
            for _words, section, entry in second.complete:
                found.append(PhraseMatch(section=section, entry=entry, first=index,
                                         end=index + 2))
            if not second.by_third or index + 2 == len(tokens.keys):
                continue
            for third_word in _readings(tokens, index + 2):
                rest = second.by_third.get(third_word)
                if rest is not None:
                    PhraseIndex._collect_rest(rest, tokens, index, index + 3, found)

    @staticmethod
    def _collect_rest(rest: _Rest, tokens: Tokens, first: int, end: int,
                      found: list[PhraseMatch]) -> None:
        for section, entry in rest.complete:
            found.append(PhraseMatch(section=section, entry=entry, first=first, end=end))
        if rest.following and end < len(tokens.keys):
            for word in _readings(tokens, end):
                following = rest.following.get(word)
                if following is not None:
                    PhraseIndex._collect_rest(following, tokens, first, end + 1, found)

    def has_word(self, key: str, *, section: str) -> bool:
        """Whether ``key`` alone is an entry of ``section`` (in any spelling)."""
        self.build()
        node = self._first.get(key)
        return node is not None and any(hit == section for hit, _ in node.alone)

    def _collect_starred(self, tokens: Tokens, index: int, key: str,
                         found: list[PhraseMatch]) -> None:
        """A self-censored word ("f*ck", "b*tch") read as the listed word it can only be."""
        if key[0] == "*" or key.count("*") * 2 > len(key):
            return  # "*****" or "f***" says too little to call it a particular word
        for word in self._first_by_length.get(len(key), ()):
            if all(typed == wanted or (typed == "*" and wanted in _VOWELS)
                   for typed, wanted in zip(key, word, strict=True)):
                self._collect(self._first[word], tokens, index, found)


def _readings(tokens: Tokens, index: int) -> tuple[str, ...]:
    alternatives = tokens.alternatives[index]
    return (tokens.keys[index], *alternatives) if alternatives else (tokens.keys[index],)


def by_section(matches: Iterable[PhraseMatch]) -> dict[str, list[PhraseMatch]]:
    grouped: dict[str, list[PhraseMatch]] = {}
    for match in matches:
        grouped.setdefault(match.section, []).append(match)
    return grouped


def preceding_keys(keys: Sequence[str], boundaries: Sequence[bool], *, before: int,
                   limit: int) -> list[str]:
    """Up to ``limit`` token keys before token ``before``, nearest first, stopping at a
    clause boundary (``boundaries[i]`` is True when punctuation separates token i-1 from i)."""
    found: list[str] = []
    index = before
    while index > 0 and len(found) < limit and not boundaries[index]:
        index -= 1
        found.append(keys[index])
    return found
