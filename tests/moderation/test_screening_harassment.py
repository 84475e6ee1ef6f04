"""The harassment detector: insults aimed at someone, telling someone to harm themselves,
threats and slurs; and, just as much, what it must leave alone: members venting about
themselves, swearing at the day, talking about people who are not in the room, and supporting
each other.

Slurs are never written here: the tests read them from the detector's data file.
"""

from __future__ import annotations

import pytest

from moderation.screening import ScreeningContext, Severity, screen_message
from moderation.screening.lexicon import read_sections

SLURS = read_sections("slurs.txt")
ALLOW = read_sections("allow.txt")


def harassment(text: str):
    return screen_message(text=text, context=ScreeningContext(), detectors=["harassment"])


def kinds(text: str) -> list[str]:
    return [signal.kind for signal in harassment(text)]


@pytest.mark.parametrize("text", [
    "you're an idiot",
    "you idiot",
    "ur pathetic",
    "you are SO stupid",
    "shut up loser",
    "stfu stupid",
    "you're such a worthless piece of shit",
    "you guys are idiots",
    "You are a loser and a liar",
    "@sam is a joke",
    "@sam idiot",
    "your an idiot",
    "are you stupid?",
    "I think you're an idiot",
    "nobody cares about you",
    "no one likes you",
    "fuck you",
    "f*ck you",
    "you st*pid idiot",
    "u r a l0000ser",
    "y\u043eu'r\u0435 \u0430n idi\u043et",  # Cyrillic look-alikes
    "you stuuuupid cr3tin",
    # The words of distress, aimed at the person addressed.
    "nobody gives a fuck about you",
    "no one cares about ya",
    "nobody would miss you",
    "no one will ever miss you",
    "nobody wants you around",
    "you're a burden to everyone",
    "you have nothing to live for",
])
def test_insults_aimed_at_someone(text):
    signals = harassment(text)
    assert [signal.kind for signal in signals] == ["insult"], signals
    assert signals[0].rule == "respect" and signals[0].severity == Severity.MEDIUM


def test_the_insult_span_is_on_the_original_text():
    text = "honestly, y\u043eu are a l00000ser."
    [signal] = harassment(text)
    assert signal.span is not None
    assert text[slice(*signal.span)] == "y\u043eu are a l00000ser"


@pytest.mark.parametrize("text", [
    # Venting about oneself.
    "I'm such an idiot",
    "I hate myself",
    "I feel like a complete failure",
    "what an idiot I am, I locked myself out again",
    "I'm so stupid for believing him",
    # Swearing without a target.
    "this week was shit",
    "fuck this day",
    "ugh, fucking hell",
    "life's a bitch sometimes",
    # About people who are not in the room.
    "my ex is a jerk",
    "my boss is such an idiot",
    "he called me a loser and I believed him",
    # Support.
    "you're not worthless",
    "you are not a failure, you're doing your best",
    "I don't think you're stupid at all",
    "if you feel like a failure, talk to us",
    "he told you you're worthless, but that's not true",
    "it doesn't mean you're a loser",
    "even when it feels that you are worthless, you matter",
    # Ordinary words near insult words.
    "thank you stupid autocorrect",
    "your stupid question made me laugh",
    "you creep me out with those horror films lol",
    "@sam gross! where did you find that",
    "did you see that stupid movie?",
    "ok dumb question but how do I sleep",
    "Scunthorpe is where I grew up",
    "I need to assess my options",
    "you're killing it!",
])
def test_not_harassment(text):
    assert harassment(text) == []


@pytest.mark.parametrize("text", [
    "go kill yourself",
    "kys",
    "just kill urself lol",
    "I hope you die",
    "you should just die",
    "do everyone a favour and disappear",
    "I think you should kill yourself",
    "go k1ll yourse1f",
    "you should kill yourself",
    "the world would be better without you",
    "everyone would be happier if you were gone",
    "nobody would care if you died",
    "no one would notice if you disappeared",
    "lol nobody would even care if u died",
    "you'd be better off dead",
    "your life isn't worth living",
    "why are you still alive",
    "you should end your life",
    "I hope you kill yourself",
    "you don't deserve to be alive",
])
def test_telling_someone_to_harm_themselves_is_critical(text):
    signals = harassment(text)
    assert [signal.kind for signal in signals] == ["self_harm_incitement"], signals
    assert signals[0].severity == Severity.CRITICAL and signals[0].rule == "respect"


@pytest.mark.parametrize("text", [
    "please don't kill yourself",
    "I really don't think you should ever kill yourself",
    "are you thinking of killing yourself?",
    "do you want to kill yourself? it's ok to say",
    "he said go kill yourself and I can't stop thinking about it",
    "I should just die",  # the writer's own distress, for the crisis detector
    "I'd rather die in a fire than go back there",
    "I will just die of embarrassment",
    "you should die your hair pink",
    "dont kys",
    # Naming someone's feeling to contradict it, and asking about it.
    "it feels like nobody would care if you died, but we would",
    "do you ever feel like nobody would care if you died?",
    "sometimes it feels like the world would be better without you. it wouldn't",
    "nobody would care if I died",  # the writer's own: crisis.py
])
def test_not_incitement(text):
    assert "self_harm_incitement" not in kinds(text)


@pytest.mark.parametrize("text", [
    "it's not true that nobody cares about you",
    "if you feel like nobody cares about you, we're here",
    "sometimes it feels like nobody would miss you, but they would",
    "you feel like you have nothing to live for, and that's the depression talking",
    "you're not a burden to everyone",
    "nobody cares about me",
    "nobody would miss me if i died",
])
def test_support_and_the_writers_own_distress_are_not_aimed(text):
    assert harassment(text) == []


def test_threats():
    [signal] = harassment("I'm going to hurt you")
    assert signal.kind == "threat" and signal.severity == Severity.HIGH
    assert kinds("I know where you live") == ["threat"]
    assert kinds("I would never hurt you") == []
    assert kinds("I'm gonna find you a good therapist") == []


def test_slurs_from_the_data_file_are_flagged_anywhere():
    for slur in SLURS["slurs"]:
        signals = harassment(f"they are all {slur} anyway")
        assert [(s.kind, s.rule, s.severity) for s in signals] == [
            ("slur", "no-slurs", Severity.HIGH)], slur


def test_slurs_survive_obfuscation():
    slur = SLURS["slurs"][0]
    obfuscated = slur[0] + "\u200b" + slur[1:].replace("i", "1") + slur[-1] * 3 + "s"
    [signal] = harassment(f"look at those {obfuscated}")
    assert signal.kind == "slur"
    text = f"look at those {obfuscated}"
    assert text[slice(*signal.span)] == obfuscated


def test_slur_stems_inside_other_words_are_caught_but_allowed_words_are_not():
    stem = SLURS["substrings"][0]
    assert kinds(f"xx{stem}xx") == ["slur"]
    for word in ALLOW["words"]:
        assert kinds(f"she was {word} at the back") == [], word


def test_a_slur_said_of_oneself_or_reported_is_low_severity():
    slur = SLURS["slurs"][-1]
    assert [s.severity for s in harassment(f"I'm such a {slur}")] == [Severity.LOW]
    assert [s.severity for s in harassment(f"he called me a {slur} at school")] == [
        Severity.LOW]
    assert [s.severity for s in harassment(f'they kept shouting "{slur}" at me')] == [
        Severity.LOW]


def test_reclaimed_and_ordinary_meanings_count_only_when_aimed():
    for word in SLURS["only_when_aimed"]:
        assert harassment(f"as a {word} person I get it") == [], word
        assert harassment(f"I'm {word} and proud") == [], word
        assert kinds(f"you {word}") == ["slur"], word
        assert kinds(f"@sam is a {word}") == ["slur"], word


def test_clinical_and_idiomatic_phrases_on_the_allow_list():
    listed = {word for entry in SLURS["slurs"] for word in entry.split()}
    phrases = [phrase for phrase in ALLOW["phrases"] if set(phrase.split()) & listed]
    assert phrases, "allow.txt should cover the clinical uses it documents"
    for phrase in phrases:
        assert harassment(f"the doctor mentioned {phrase} today") == [], phrase
