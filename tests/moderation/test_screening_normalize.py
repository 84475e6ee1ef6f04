"""Text normalisation for screening: what the detectors see, and the map back to what the
member wrote (moderation/screening/normalize.py)."""

from __future__ import annotations

import pytest

from moderation.screening import normalize
from moderation.screening.normalize import normalize_text

ZERO_WIDTH_SPACE = "\u200b"
CYRILLIC_I = "\u0456"  # looks like "i"
CYRILLIC_O = "\u043e"  # looks like "o"
GREEK_ALPHA = "\u03b1"  # looks like "a"


def words(text: str) -> str:
    return normalize_text(text).words.text


def test_nfkc_and_casefold():
    assert words("\uff29\uff24\uff29\uff2f\uff34") == "idiot"  # fullwidth
    assert words("\U0001d422\U0001d41d\U0001d422\U0001d428\U0001d42d") == "idiot"  # bold
    assert words("STRASSE Stra\u00dfe") == "strasse strasse"


def test_confusables_become_latin():
    assert words(f"{CYRILLIC_I}d{CYRILLIC_I}{CYRILLIC_O}t") == "idiot"
    assert words(f"b{GREEK_ALPHA}d") == "bad"


def test_zero_width_and_format_characters_are_removed():
    assert words(f"i{ZERO_WIDTH_SPACE}d\u200ci\u2060o\ufefft") == "idiot"
    assert words("s\u00adtupid") == "stupid"  # soft hyphen


def test_accents_on_latin_letters_are_stripped_but_other_scripts_keep_their_marks():
    assert words("id\u00ed\u00f3t") == "idiot"
    assert words("ide\u0301ot") == "ideot"  # decomposed: the combining mark goes too
    hindi = "\u0928\u092e\u0938\u094d\u0924\u0947"
    assert words(hindi) == hindi


@pytest.mark.parametrize(("written", "read"), [
    ("1d10t", "idiot"),
    ("l0s3r", "loser"),
    ("b@stard", "bastard"),
    ("$tupid", "stupid"),
    ("!diot", "idiot"),
    ("k1ll urs3lf", "kill urself"),
])
def test_leetspeak_inside_words(written, read):
    assert words(written) == read


@pytest.mark.parametrize("text", [
    "2 years 3 months", "\u00a345.50", "call 07700 900123", "wow!!", "@sam hi", "10:30",
])
def test_leetspeak_leaves_numbers_mentions_and_punctuation_alone(text):
    assert words(text) == text.casefold()


def test_elongation_collapses_to_one_letter_and_keeps_the_doubled_reading():
    normalized = normalize_text("stuuuupid and killllll")
    assert normalized.words.text == "stupid and kil"
    assert normalized.tokens.keys == ("stupid", "and", "kil")
    assert "kill" in normalized.tokens.alternatives[2]
    assert words("good book") == "good book"  # doubled letters are ordinary spelling
    assert words("www.example.org") == "www.example.org"


def test_folded_view_keeps_digits_for_contact_details():
    normalized = normalize_text("C4ll me 0n 07700 900123")
    assert normalized.folded.text == "c4ll me 0n 07700 900123"
    assert normalized.words.text == "call me on 07700 900123"


def test_spans_map_back_to_the_original_text():
    original = f"You are an {CYRILLIC_I}d{ZERO_WIDTH_SPACE}{CYRILLIC_I}{CYRILLIC_O}t, okay"
    normalized = normalize_text(original)
    start = normalized.words.text.index("idiot")
    mapped = normalized.words.original_span(start, start + len("idiot"))
    assert original[slice(*mapped)] == f"{CYRILLIC_I}d{ZERO_WIDTH_SPACE}{CYRILLIC_I}{CYRILLIC_O}t"


def test_spans_cover_elongated_runs_and_expanded_characters():
    original = "so stuuuuupid"
    normalized = normalize_text(original)
    start = normalized.words.text.index("stupid")
    assert original[slice(*normalized.words.original_span(start, start + 6))] == "stuuuuupid"

    original = "\ufb01ne \uff33\uff34\uff35\uff30\uff29\uff24"  # "ﬁ" ligature, fullwidth
    normalized = normalize_text(original)
    assert normalized.words.text == "fine stupid"
    assert original[slice(*normalized.words.original_span(0, 1))] == "\ufb01"
    assert original[slice(*normalized.words.original_span(5, 11))] == original[4:]


def test_plain_ascii_needs_no_position_map():
    normalized = normalize_text("Hello there, friends")
    assert normalized.folded.starts is None
    assert normalized.words.original_span(6, 11) == (6, 11)


def test_tokens_drop_apostrophes_and_mark_clause_starts():
    tokens = normalize_text("Well, you\u2019re kind - thanks. ok").tokens
    assert tokens.keys == ("well", "youre", "kind", "thanks", "ok")
    assert tokens.clause_start == (True, True, False, True, True)
    assert len(tokens.spans) == len(tokens.keys)


@pytest.mark.parametrize("run", ["?" * 20_000, "?!" * 10_000, "-" * 20_000, "\u2026" * 20_000,
                                 " -" * 10_000])
def test_a_long_run_of_punctuation_is_read_like_a_short_one(run):
    # The gap before each word is read once (it used to be retried from every character,
    # quadratic in the run's length); the words and clause starts are what a short run gives.
    for text in (f"help me{run}", f"help {run} me", run):
        short = normalize_text(text.replace(run, run[:4])).tokens
        tokens = normalize_text(text).tokens
        assert tokens.keys == short.keys
        assert tokens.clause_start == short.clause_start
    tokens = normalize_text(f"help {run} me").tokens
    assert tokens.keys == ("help", "me")
    assert tokens.clause_start == (True, run[:3] != "---")


def test_empty_text():
    normalized = normalize_text("")
    assert normalized.words.text == ""
    assert normalized.tokens.keys == ()


def test_folding_does_not_depend_on_the_character_cache(monkeypatch):
    # The per-process cache is bounded; characters past the bound are folded every time.
    monkeypatch.setattr(normalize, "_fold_cache", {})
    monkeypatch.setattr(normalize, "_FOLD_CACHE_LIMIT", 0)
    normalized = normalize_text(f"H\u00e9llo {CYRILLIC_I}d{ZERO_WIDTH_SPACE}iot stra\u00dfe")
    assert normalized.words.text == "hello idiot strasse"
    assert normalize._fold_cache == {}


def split_keys(text: str) -> tuple[str, ...]:
    return normalize_text(text).tokens_split_at_case_joins.keys


@pytest.mark.parametrize(("text", "keys"), [
    ("helpMe please", ("help", "me", "please")),
    ("about SuicideRecently I", ("about", "suicide", "recently", "i")),
    ("Lost all hopeI don't", ("lost", "all", "hope", "i", "dont")),
    ("Just OD'dBye", ("just", "odd", "bye")),
])
def test_a_capital_after_a_lowercase_letter_is_a_word_break_on_request(text, keys):
    assert split_keys(text) == keys


def test_the_split_opens_a_clause_and_keeps_spans_in_the_words_view():
    text = "I want to dieRecently"
    tokens = normalize_text(text).tokens_split_at_case_joins
    assert tokens.clause_start == (True, False, False, False, True)
    assert [text[start:end] for start, end in tokens.spans] == [
        "I", "want", "to", "die", "Recently"]


@pytest.mark.parametrize("text", [
    "iPhone and eBay",  # a left part of one letter
    "watch YouTube.com/SomeChannel",  # an address
    "ping @SamJones",  # a handle
    "all lowercase words",
])
def test_words_that_are_not_split(text):
    normalized = normalize_text(text)
    assert normalized.tokens_split_at_case_joins.keys == normalized.tokens.keys


def test_the_default_tokens_are_unchanged():
    # Other detectors read brand names whole ("FaceTime me"): the split is only on request.
    normalized = normalize_text("FaceTime me")
    assert normalized.tokens.keys == ("facetime", "me")
    assert normalized.tokens_split_at_case_joins.keys == ("face", "time", "me")


def test_a_message_without_a_join_shares_its_tokens():
    normalized = normalize_text("nothing to split here")
    assert normalized.tokens_split_at_case_joins is normalized.tokens


def test_the_split_follows_folding_and_elongation():
    # An accent, an invisible character and a drawl before the join: positions still line up.
    text = "caf\u00e9\u200b so tiiiiredNow"
    normalized = normalize_text(text)
    tokens = normalized.tokens_split_at_case_joins
    assert tokens.keys == ("cafe", "so", "tired", "now")
    assert [text[slice(*normalized.words.original_span(*span))] for span in tokens.spans] == [
        "caf\u00e9", "so", "tiiiired", "Now"]
