"""The crisis detector reading around a phrase: history and recovery, quotes, laughter,
disguised spellings and emoji, and input of any shape. The sentences are written here."""

from __future__ import annotations

import pytest

from moderation.screening import ScreeningContext, screen_message
from moderation.screening.crisis import detect_crisis
from moderation.screening.normalize import normalize_text


def crisis(text: str):
    return screen_message(text=text, context=ScreeningContext(), detectors=["crisis"])


def kinds(text: str) -> list[str]:
    return sorted(signal.kind for signal in crisis(text))


@pytest.mark.parametrize("text", [
    "two years since my attempt and I'm doing better",
    "I used to want to die, but I'm in recovery now and things got better",
    "I was suicidal years ago. I'm glad I'm still here",
    "I used to self harm, 3 years clean today!",
])
def test_history_with_recovery_raises_nothing(text):
    assert crisis(text) == []


@pytest.mark.parametrize("text", [
    "I used to want to die",
    "years ago I tried to kill myself",
])
def test_history_alone_is_concern(text):
    assert kinds(text) == ["concern"]


def test_recovery_does_not_hide_a_crisis_now():
    assert kinds("I was doing better but now I want to die again") == ["high_risk"]
    assert kinds("two years since my attempt and I'm doing better, but tonight I want to "
                 "kill myself") == ["imminent"]


def test_a_recent_attempt_is_not_history():
    assert kinds("I tried to kill myself last night") == ["high_risk"]


@pytest.mark.parametrize("text", [
    'that song "I want to die" by the band is so good',
    'my favourite line in the movie is "I wish I was dead"',
    '"kill myself" is the title of the track, lol no',
])
def test_lines_quoted_from_a_song_or_film_raise_nothing(text):
    assert crisis(text) == []


def test_quoted_speakers():
    assert kinds('my friend texted me "I want to die"') == ["worried_about_someone"]
    assert kinds('I told my mum "I want to die"') == ["high_risk"]
    assert kinds('everything feels "fine" but I want to die') == ["high_risk"]


@pytest.mark.parametrize(("text", "expected"), [
    ("kms lol", ["concern"]),
    ("kms", ["high_risk"]),
    ("k m s", ["high_risk"]),
    ("k.m.s", ["high_risk"]),
    ("I want to k*** myself", ["high_risk"]),
    ("thinking about sewerslide", ["high_risk"]),
    ("sewer slide seems nice", ["high_risk"]),
    ("I want to unalive myself", ["high_risk"]),
    ("su1c1dal again", ["high_risk"]),
    ("ready to ctb", ["high_risk"]),
    ("I'm so done with everything 💊💊", ["high_risk"]),
    ("I want to die 🔪", ["imminent"]),
    ("hahaha I want to die 😂 this exam", ["concern"]),
])
def test_disguised_spellings_emoji_and_laughter(text, expected):
    assert kinds(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "💊", "🔪🔪🔪", "😭😭😭", "...", "\u200b"])
def test_empty_and_symbol_only_input_raises_nothing(text):
    assert crisis(text) == []


def test_a_huge_message_is_read_in_one_pass():
    # Linear by construction; this checks the answer, not a time.
    filler = "the day was long and the bus was late, " * 300
    assert crisis(filler) == []
    signals = crisis(filler + "and honestly I want to die. " + filler)
    assert [signal.kind for signal in signals] == ["high_risk"]
    quoted = '"a quoted line" ' * 700 + "I want to die"
    assert [signal.kind for signal in crisis(quoted)] == ["high_risk"]


def test_runs_on_a_bare_normalised_text():
    assert detect_crisis(text=normalize_text("I want to die"),
                         context=ScreeningContext())[0].kind == "high_risk"
