"""The phrase index behind the word lists: built on first use, once, whichever thread asks."""

from __future__ import annotations

import subprocess
import sys
import threading

from moderation.screening.lexicon import PhraseIndex
from moderation.screening.normalize import normalize_text


def _entries(index: PhraseIndex, text: str) -> list[tuple[str, str]]:
    return sorted((match.section, match.entry) for match in index.find(normalize_text(text).tokens))


def test_an_index_finds_its_entries_without_being_built_first() -> None:
    index = PhraseIndex({"greeting": ["good morning", "hello"], "farewell": ["see you soon"]})
    assert _entries(index, "hello and good morning") == [
        ("greeting", "good morning"), ("greeting", "hello")]
    assert index.has_word("hello", section="greeting")
    assert not index.has_word("hello", section="farewell")


def test_threads_that_find_at_once_all_see_the_whole_index() -> None:
    syllables = ("ba", "ce", "di", "fo", "gu", "ha", "je", "ki", "lo", "mu")

    def word(n: int) -> str:  # syllables: the tokenizer reads digits and doubled letters
        return "".join(syllables[int(digit)] for digit in f"{n:04d}")

    entries = [f"w{word(n)} o{word(n)}" for n in range(3000)]
    index = PhraseIndex({"list": entries})
    start = threading.Barrier(8)
    seen: list[list[tuple[str, str]]] = []

    def look() -> None:
        start.wait()
        seen.append(_entries(index, f"so w{word(2999)} o{word(2999)} then w{word(7)} o{word(7)}"))

    threads = [threading.Thread(target=look) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [[("list", f"w{word(7)} o{word(7)}"),
                     ("list", f"w{word(2999)} o{word(2999)}")]] * 8


def test_building_twice_adds_nothing() -> None:
    index = PhraseIndex({"list": ["take care"]})
    index.build()
    index.build()
    assert _entries(index, "take care") == [("list", "take care")]


def test_importing_the_screeners_builds_no_index() -> None:
    # Management commands import the screeners and screen nothing; a worker builds them at
    # start-up (hearth/asgi.py).
    code = ("import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
            "'hearth.settings'); django.setup()\n"
            "import moderation.screening.registry\n"
            "from moderation.screening.lexicon import _PHRASE_INDEXES\n"
            "assert _PHRASE_INDEXES and not any(i._built for i in _PHRASE_INDEXES)\n"
            "import hearth.asgi\n"
            "assert all(i._built for i in _PHRASE_INDEXES)\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
