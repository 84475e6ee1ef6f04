"""Message bodies for the load: benign English of an exact length, never twice the same.

Hearth screens every message (docs/screening.md): digits, links, contact-like words, crisis
language, insults, shouting and repeats would be masked, held, blocked or answered with a
support card, and the benchmark would measure moderation instead of fan-out. The words
below are everyday things (weather, gardens, food, hobbies): no pronoun to aim an insult
with, no words of distress, no app or street names, no "at"/"dot" to read as an address.
"""

from __future__ import annotations

import random

WORDS: tuple[str, ...] = (
    # 2-3 letters
    "an", "as", "so", "to", "we", "up", "of", "in", "on", "is",
    "tea", "sun", "jam", "oak", "pea", "fig", "owl", "bee", "map", "cup", "pie", "elm", "hat",
    # 4
    "soup", "kite", "leaf", "moss", "fern", "pear", "plum", "rain", "wind", "song", "book",
    "lamp", "wool", "yarn", "bird", "park", "pond", "tree", "warm", "calm", "soft", "mild",
    # 5
    "bread", "river", "quiet", "music", "apple", "honey", "cloud", "maple", "tulip", "daisy",
    "scarf", "piano", "lemon", "olive", "cocoa", "grass", "birch", "sunny",
    # 6
    "garden", "kettle", "window", "autumn", "recipe", "pebble", "meadow", "violin", "cotton",
    "carrot", "gentle", "bright", "walked", "picnic", "forest", "breeze", "spring", "summer",
    "winter", "butter", "cheese", "puzzle",
    # 7
    "morning", "reading", "sparrow", "blanket", "orchard", "lantern", "pottery", "harbour",
    "weekend", "cabbage", "chapter", "evening", "painted", "knitted", "planted", "cookies",
    # 8
    "sunshine", "woodland", "daffodil", "cinnamon", "notebook", "seedling", "porridge",
    "hedgehog", "raindrop", "lavender", "blossoms", "painting", "sketches",
    # 9
    "afternoon", "buttercup", "marigolds", "beautiful", "wonderful", "chocolate", "gardening",
    "sunflower", "butterfly", "crossword", "bookshelf",
    # 10
    "watercolor", "strawberry", "blackberry", "houseplant", "wildflower", "greenhouse",
    "peppermint",
    # 11
    "marshmallow", "countryside", "celebration",
)
MIN_BODY_CHARS = 10
_BY_LENGTH: dict[int, tuple[str, ...]] = {}
for _word in WORDS:
    _BY_LENGTH[len(_word)] = (*_BY_LENGTH.get(len(_word), ()), _word)
_SHORTEST, _LONGEST = min(_BY_LENGTH), max(_BY_LENGTH)
# Before this many characters are left, the rest is filled with words of exact lengths.
_FINISH_WITHIN = 40


class BodyGenerator:
    """Distinct bodies of exactly `length` characters: capitalised sentences of 6-12 words."""

    def __init__(self, length: int, *, seed: int = 0) -> None:
        if length < MIN_BODY_CHARS:
            raise ValueError(f"bodies need at least {MIN_BODY_CHARS} characters")
        self.length = length
        self._rng = random.Random(seed)
        self._used: set[str] = set()

    def next_body(self) -> str:
        for _attempt in range(1000):
            body = self._compose()
            if body not in self._used:
                self._used.add(body)
                return body
        raise RuntimeError(f"no new body of {self.length} characters after 1000 tries")

    def _compose(self) -> str:
        rng = self._rng
        text = ""
        words_in_sentence = 0
        sentence_words = rng.randint(6, 12)
        while self.length - len(text) > _FINISH_WITHIN:
            if words_in_sentence >= sentence_words:
                text += "."
                words_in_sentence, sentence_words = 0, rng.randint(6, 12)
            word = rng.choice(WORDS)
            if words_in_sentence == 0:
                word = word.capitalize()
            text += (" " if text else "") + word
            words_in_sentence += 1
        # The rest: "[.] word word." of exactly the characters left.
        ends_sentence = bool(text) and words_in_sentence >= sentence_words
        prefix = ("." if ends_sentence else "") + (" " if text else "")
        tail = _exact_words(rng, self.length - len(text) - len(prefix) - 1)
        if not text or ends_sentence:
            tail = tail[:1].upper() + tail[1:]
        return f"{text}{prefix}{tail}."


def _exact_words(rng: random.Random, total: int) -> str:
    """Words joined by single spaces, `total` characters in all (total >= the shortest word)."""
    fewest = max(1, -(-(total + 1) // (_LONGEST + 1)))
    most = (total + 1) // (_SHORTEST + 1)
    # A word or two more than the fewest, when they fit: short bodies still vary.
    count = rng.randint(fewest, max(fewest, min(most, fewest + 2)))
    letters = total - (count - 1)
    if letters < count * _SHORTEST:
        raise ValueError(f"cannot fill {total} characters with words")
    lengths = [_SHORTEST] * count
    spare = letters - count * _SHORTEST
    while spare:
        index = rng.randrange(count)
        if lengths[index] < _LONGEST:
            lengths[index] += 1
            spare -= 1
    return " ".join(rng.choice(_BY_LENGTH[n]) for n in lengths)
