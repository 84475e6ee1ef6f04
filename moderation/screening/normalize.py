"""Text normalisation for matching, with a map back to the original text.

Detectors match on normalised text so that "idiot" in fullwidth letters, in Cyrillic
look-alikes, with a zero-width space inside, as "1d10t" or as "idiiiiot" all read "idiot";
but what they report must be a span of the text the member wrote, so the caller can mask
exactly that. Every view therefore carries, for each of its characters, the span of original
characters it came from.

Two views, because contact details and words need different treatment:

* ``folded``: NFKC, casefolded, look-alike letters mapped to Latin, accents stripped from
  Latin letters, invisible characters removed. Digits stay digits, so phone numbers, e-mail
  addresses and URLs can be found here.
* ``words``: ``folded`` plus leetspeak inside words ("k1ll" -> "kill", "b@stard") and letter
  elongation collapsed ("stuuuupid" -> "stupid"). Word lists are matched here.
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Final


def _read_confusables() -> dict[str, str]:
    """data/confusables.txt: "<from> <to>" as hexadecimal code points, one pair a line."""
    table: dict[str, str] = {}
    path = Path(__file__).resolve().parent / "data" / "confusables.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("#", 1)[0].split()
        if fields:
            source, target = fields
            table[chr(int(source, 16))] = chr(int(target, 16))
    return table


# Look-alikes that NFKC leaves alone: Cyrillic and Greek letters, small capitals, curly
# apostrophes.
CONFUSABLES: Final = _read_confusables()

# Default-ignorable characters that are not category Cf but are used to hide words.
_INVISIBLE_EXTRA: Final = frozenset("\u034f\u115f\u1160\u3164\uffa0")

# Leetspeak, applied only inside a word that also has a letter, so "2 years" and "£45" stay.
# "1" and "!" become "i"; word lists treat i and l as the same letter (see lexicon.py).
_LEET: Final = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t",
                              "8": "b", "9": "g", "@": "a", "$": "s", "!": "i", "|": "l"})
# A leet character next to a letter marks a word to read; "!" counts only before a letter,
# so "wow!" is left alone.
_LEET_NEXT_TO_LETTER: Final = re.compile(r"[a-z][0-9@$|]|[0-9@$!|][a-z]")
_LEET_WORD_CHARACTERS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789@$!|")
_LEET_CHARACTER: Final = re.compile(r"[0-9@$!|]")
# A run of three or more of the same letter is elongation; two is ordinary spelling. Not "w":
# "www." is an address, not a drawl.
_ELONGATION: Final = re.compile(r"([a-vx-z])\1{2,}")
_NON_ASCII_RUN: Final = re.compile(r"[^\x00-\x7f]+")


@dataclass(frozen=True, slots=True)
class TextView:
    """A normalised string and where each of its characters came from in the original."""

    text: str
    # starts[i]/ends[i]: the original span of text[i]; None when the view is position-for-
    # position identical to the original (the common, all-ASCII case, kept allocation-free).
    starts: Sequence[int] | None = None
    ends: Sequence[int] | None = None
    # Positions in ``text`` of letters that stand for a collapsed run ("stuuuupid" -> the "u"
    # of "stupid"): the writer may have elongated a doubled letter ("killllll").
    elongated: tuple[int, ...] = ()

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of this view to the span of the original text it was made from."""
        if self.starts is None or self.ends is None:
            return start, end
        if start >= end:  # an empty span: anchor it where it would start
            anchor = self.starts[start] if start < len(self.starts) else (
                self.ends[-1] if self.ends else 0)
            return anchor, anchor
        return self.starts[start], self.ends[end - 1]


@dataclass(frozen=True)
class Tokens:
    """The words of the ``words`` view, as lookup keys.

    A key is the word without apostrophes ("you're" -> "youre"), so word lists need not
    spell every apostrophe variant. ``clause_start[i]`` is True when token i opens a clause:
    it is the first token, or punctuation stands between it and the token before.
    ``alternatives[i]`` holds other readings of an elongated word: "killllll" is normalised to
    "kil", which may have been "kill"; most words have none. ``spans`` (in the words view)
    are worked out only when a detector asks, which is when it has found something.
    """

    keys: tuple[str, ...]
    clause_start: tuple[bool, ...]
    alternatives: tuple[tuple[str, ...], ...]
    text: str = field(repr=False)
    # The spans, when tokenising already needed them (words split at a case join).
    known_spans: tuple[tuple[int, int], ...] | None = field(default=None, repr=False)
    # The keys as a set, for the cheap "could this list match at all?" checks.
    key_set: frozenset[str] = field(init=False, repr=False)
    has_alternatives: bool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key_set", frozenset(self.keys))
        object.__setattr__(self, "has_alternatives", any(self.alternatives))

    @cached_property
    def spans(self) -> tuple[tuple[int, int], ...]:
        if self.known_spans is not None:
            return self.known_spans
        return _word_spans(self.text)


def _word_spans(text: str) -> tuple[tuple[int, int], ...]:
    if "'" in text or "*" in text:  # a word of only "'" or "*" has no key
        return tuple([match.span() for match in _TOKEN.finditer(text)
                      if match.group().strip("'*")])
    return tuple([match.span() for match in _TOKEN.finditer(text)])


_TOKEN: Final = re.compile(r"[\w*']+")
# Punctuation that ends a clause. Quotation marks do not: in `he said "you're worthless"` the
# "said" matters.
# Each word with the gap before it, and the gap after the last word (its word is empty). The
# gap is taken whole, from the end of the word before: a regex that looked for the break
# itself would retry at every character of a long run of punctuation (quadratic).
_GAP_AND_WORD: Final = re.compile(r"([^\w*']*)([\w*']+|\Z)")
_BREAK: Final = re.compile(r"[.,;:!?()\[\]\n]|\s-\s")


def _token_key(word: str) -> str:
    return word.replace("'", "").strip("*")


# A lowercase letter followed by a capital inside a word: "helpMe", or a title run into its
# post with no space ("…about SuicideRecently I…").
_CASE_JOIN: Final = re.compile(r"(?<=[a-z])[A-Z]")
# A word touching one of these, or a dot with no space after it, is part of an address, a
# handle or a file name ("YouTube.com", "site/SomeChannel", "@SamJones"), and is left whole.
_SHORTEST_LEFT_PART: Final = 2
_ADDRESS_CHARACTERS: Final = frozenset("@/\\=&?%")


@dataclass(frozen=True)
class NormalizedText:
    original: str
    folded: TextView
    words: TextView
    tokens: Tokens  # the words view's words, shared by every detector that matches words

    @cached_property
    def tokens_split_at_case_joins(self) -> Tokens:
        """``tokens`` with a word break also where a lowercase letter meets a capital inside a
        word ("helpMe" -> "help", "me"; "SuicideRecently" -> "suicide", "recently"), which
        also opens a clause: a capital after a lowercase letter usually starts a sentence
        whose break was lost. The same object as ``tokens`` when there is no such join.

        Not the default, as brand and app names are written that way ("FaceTime",
        "WhatsApp") and other detectors look for them whole. A left part of one letter
        ("iPhone", "eBay") and words of addresses and handles are never split.
        """
        joins = _case_joins(self.original, self.words)
        if not joins:
            return self.tokens
        return _split_at(self.tokens, joins)


def _tokenize(words: TextView) -> Tokens:
    """The words of the words view, with where clauses start and the other readings of
    elongated words. On the hot path: one findall for words and the gaps before them, and
    spans only when a detector asks."""
    text = words.text
    pairs = _GAP_AND_WORD.findall(text.replace("'", "") if "'" in text else text)
    keys = [word for _, word in pairs if word]
    # A word opens a clause when a break (or the start) comes in the gap before it.
    clause_start = [gap != " " and _BREAK.search(gap) is not None
                    for gap, word in pairs if word]
    if "*" in text:  # "*hugs*", "f*ck": stars at the ends go; a word of only stars goes
        kept = [(key.strip("*"), opens) for key, opens in zip(keys, clause_start,
                                                               strict=True)]
        keys = [key for key, _ in kept if key]
        clause_start = [opens for key, opens in kept if key]
    if clause_start:
        clause_start[0] = True
    alternatives: list[tuple[str, ...]] = [()] * len(keys)
    elongated = words.elongated
    if elongated:
        matches = [match for match in _TOKEN.finditer(text) if match.group().strip("'*")]
        starts = [match.start() for match in matches]
        for position in elongated:
            index = bisect.bisect_right(starts, position) - 1
            if index >= 0 and position < matches[index].end() and not alternatives[index]:
                match = matches[index]
                alternatives[index] = _doubled_readings(match.group(), match.start(),
                                                        elongated)
    return Tokens(keys=tuple(keys), clause_start=tuple(clause_start),
                  alternatives=tuple(alternatives), text=text)


_MAX_ELONGATIONS_PER_WORD: Final = 3


def _doubled_readings(word: str, start: int, elongated: tuple[int, ...]) -> tuple[str, ...]:
    """"kil" from "kiiilllll" may be "kil", "kill", "kiil" or "kiill"."""
    positions = [position - start for position in elongated
                 if start <= position < start + len(word)][:_MAX_ELONGATIONS_PER_WORD]
    if not positions:
        return ()
    readings: set[str] = set()
    for doubled in itertools.product((False, True), repeat=len(positions)):
        letters = list(word)
        for position, double in zip(positions, doubled, strict=True):
            if double:
                letters[position] *= 2
        readings.add(_token_key("".join(letters)))
    readings.discard(_token_key(word))
    return tuple(sorted(readings))


def _case_joins(original: str, words: TextView) -> list[int]:
    """Positions in the words view of capitals that follow a lowercase letter in the same
    word, as the member wrote them."""
    joins: list[int] = []
    for join in _CASE_JOIN.finditer(original):
        position = join.start()
        if words.starts is not None:
            index = bisect.bisect_left(words.starts, position)
            if index >= len(words.starts) or words.starts[index] != position:
                continue  # folded away or into another letter
            position = index
        if 0 < position < len(words.text) and words.text[position - 1].isalpha():
            joins.append(position)
    return joins


def _in_address(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start else " "
    after = text[end:end + 2]
    return (before in _ADDRESS_CHARACTERS or after[:1] in _ADDRESS_CHARACTERS
            or (before == "." and start > 1 and not text[start - 2].isspace())
            or (after[:1] == "." and after[1:2].isalnum()))


def _split_at(tokens: Tokens, joins: list[int]) -> Tokens:
    """``tokens`` with the words that hold a join split there; only those words are rebuilt."""
    text = tokens.text
    spans = tokens.spans
    cuts_by_word: dict[int, list[int]] = {}
    for join in joins:
        index = bisect.bisect_right(spans, join, key=_span_start) - 1
        if index >= 0 and spans[index][0] < join < spans[index][1]:
            cuts_by_word.setdefault(index, []).append(join)
    keys: list[str] = []
    clause_start: list[bool] = []
    alternatives: list[tuple[str, ...]] = []
    new_spans: list[tuple[int, int]] = []
    done = 0
    for index in sorted(cuts_by_word):
        start, end = spans[index]
        cuts = cuts_by_word[index]
        if len(_token_key(text[start:cuts[0]])) < _SHORTEST_LEFT_PART:
            cuts = cuts[1:]  # "iPhone", "eBay"
        if not cuts or _in_address(text, start, end):
            continue
        keys.extend(tokens.keys[done:index])
        clause_start.extend(tokens.clause_start[done:index])
        alternatives.extend(tokens.alternatives[done:index])
        new_spans.extend(spans[done:index])
        piece_start = start
        for piece_end in [*cuts, end]:
            key = _token_key(text[piece_start:piece_end])
            if key:
                keys.append(key)
                clause_start.append(tokens.clause_start[index] if piece_start == start
                                    else True)
                alternatives.append(())  # a split word is read as written
                new_spans.append((piece_start, piece_end))
            piece_start = piece_end
        done = index + 1
    if not done:
        return tokens
    keys.extend(tokens.keys[done:])
    clause_start.extend(tokens.clause_start[done:])
    alternatives.extend(tokens.alternatives[done:])
    new_spans.extend(spans[done:])
    return Tokens(keys=tuple(keys), clause_start=tuple(clause_start),
                  alternatives=tuple(alternatives), text=text, known_spans=tuple(new_spans))


def _span_start(span: tuple[int, int]) -> int:
    return span[0]


def normalize_text(text: str) -> NormalizedText:
    folded = _fold(text)
    words = _to_words_view(folded)
    return NormalizedText(original=text, folded=folded, words=words, tokens=_tokenize(words))


def fold_text(text: str) -> str:
    """Just the ``folded`` string, for comparing texts without matching words in them."""
    return _fold(text).text


# Per process: each non-ASCII character's folded form, and whether it is a combining mark.
_fold_cache: dict[str, tuple[str, bool]] = {}
_FOLD_CACHE_LIMIT: Final = 10_000  # bounded against odd input


def _fold_char(char: str) -> tuple[str, bool]:
    """NFKC + casefold + look-alikes + accent stripping for one non-ASCII character, and
    whether it is a combining mark."""
    cached = _fold_cache.get(char)
    if cached is not None:
        return cached
    if unicodedata.category(char) == "Cf" or char in _INVISIBLE_EXTRA or (
            "\ufe00" <= char <= "\ufe0f" or "\U000e0100" <= char <= "\U000e01ef"):
        folded = ""
    else:
        pieces = []
        for piece in unicodedata.normalize("NFKC", char).casefold():
            piece = CONFUSABLES.get(piece, piece)
            decomposed = unicodedata.normalize("NFD", piece)
            # "é" -> "e", but only for Latin letters: in other scripts combining marks are
            # part of the spelling (Devanagari vowel signs, for instance).
            if len(decomposed) > 1 and decomposed[0].isascii():
                piece = decomposed[0]
            pieces.append(piece)
        folded = "".join(pieces)
    result = (folded, unicodedata.combining(char) != 0)
    if len(_fold_cache) < _FOLD_CACHE_LIMIT:
        _fold_cache[char] = result
    return result


def _fold(text: str) -> TextView:
    if text.isascii():
        return TextView(text=text.lower())
    one_to_one = _fold_one_to_one(text)
    if one_to_one is not None:
        return one_to_one
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    cache_get = _fold_cache.get
    for run in _NON_ASCII_RUN.finditer(text):
        run_start, run_end = run.span()
        if position < run_start:  # the ASCII stretch before this run maps one to one
            out.append(text[position:run_start].lower())
            starts.extend(range(position, run_start))
            ends.extend(range(position + 1, run_start + 1))
        for index in range(run_start, run_end):
            char = text[index]
            folded, combining = cache_get(char) or _fold_char(char)
            if combining and out and out[-1][-1:].isascii() and out[-1][-1:].isalpha():
                # A combining mark after a Latin letter (decomposed input, or "zalgo" text):
                # drop it, and let the letter's span cover it.
                ends[-1] = index + 1
            elif len(folded) == 1:
                out.append(folded)
                starts.append(index)
                ends.append(index + 1)
            elif folded:  # "ﬁ" -> "fi", "ß" -> "ss": every piece maps to the one character
                out.append(folded)
                starts.extend([index] * len(folded))
                ends.extend([index + 1] * len(folded))
        position = run_end
    if position < len(text):
        out.append(text[position:].lower())
        starts.extend(range(position, len(text)))
        ends.extend(range(position + 1, len(text) + 1))
    return TextView(text="".join(out), starts=starts, ends=ends)


def _fold_one_to_one(text: str) -> TextView | None:
    """The common non-ASCII case: every non-ASCII character folds to one character or to
    nothing, so only the (few) non-ASCII runs need replacing. None when one expands ("ß" ->
    "ss") or is a combining mark, which need the character-by-character map."""
    removed = False
    for run in _NON_ASCII_RUN.findall(text):
        for char in run:
            folded, combining = _fold_cache.get(char) or _fold_char(char)
            if combining or len(folded) > 1:
                return None
            removed = removed or not folded
    folded_text = _NON_ASCII_RUN.sub(_fold_run, text).lower()
    if not removed:
        return TextView(text=folded_text)  # position for position: no map needed
    starts = [index for index, char in enumerate(text)
              if char.isascii() or _folded_char(char)]
    return TextView(text=folded_text, starts=starts, ends=[start + 1 for start in starts])


def _fold_run(run: re.Match[str]) -> str:
    return "".join(map(_folded_char, run.group()))


def _folded_char(char: str) -> str:
    return (_fold_cache.get(char) or _fold_char(char))[0]


def _unleet(text: str) -> str:
    """Leetspeak read as letters in each word that has a leet character next to a letter.
    Found from those pairs, as digits elsewhere ("10:30", "2 years") are the common case."""
    pieces: list[str] = []
    done = 0
    length = len(text)
    for pair in _LEET_NEXT_TO_LETTER.finditer(text):
        if pair.start() < done:
            continue  # in a word already read
        start, end = pair.start(), pair.end()
        while start > done and text[start - 1] in _LEET_WORD_CHARACTERS:
            start -= 1
        while end < length and text[end] in _LEET_WORD_CHARACTERS:
            end += 1
        pieces.append(text[done:start])
        pieces.append(_read_leet_word(text[start:end]))
        done = end
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def _read_leet_word(word: str) -> str:
    if word[0] != "@" and word[-1] not in "!|":
        return word.translate(_LEET)
    # "@name" is a mention and "wow!!" is punctuation: only translate what sits inside
    # the word, keeping a leading "@" and trailing "!"/"|" as they are.
    core_start = 1 if word.startswith("@") else 0
    core_end = len(word.rstrip("!|"))
    if core_end <= core_start:
        return word
    return word[:core_start] + word[core_start:core_end].translate(_LEET) + word[core_end:]


def _to_words_view(folded: TextView) -> TextView:
    text = folded.text
    if _LEET_CHARACTER.search(text) is not None:
        text = _unleet(text)  # same length: positions are unchanged
    if _ELONGATION.search(text) is None:
        # Most messages: no leetspeak and no elongation, the folded view itself.
        return folded if text is folded.text else TextView(text=text, starts=folded.starts,
                                                            ends=folded.ends)

    length = len(folded.text)
    old_starts = folded.starts if folded.starts is not None else range(length)
    old_ends = folded.ends if folded.ends is not None else range(1, length + 1)
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    elongated: list[int] = []
    position = 0
    for run in _ELONGATION.finditer(text):
        run_start, run_end = run.span()
        pieces.append(text[position:run_start])
        starts.extend(old_starts[position:run_start])
        ends.extend(old_ends[position:run_start])
        elongated.append(len(starts))
        pieces.append(run.group(1))
        starts.append(old_starts[run_start])  # the single letter stands for the whole run
        ends.append(old_ends[run_end - 1])
        position = run_end
    pieces.append(text[position:])
    starts.extend(old_starts[position:])
    ends.extend(old_ends[position:])
    return TextView(text="".join(pieces), starts=starts, ends=ends, elongated=tuple(elongated))
