"""The crisis detector, second round (issue 4): reaching out for a person, hopelessness said in
everyday words, weighted signs of distress, words run together, and how close a plan or a
time must be to make a message imminent. Sentences here are written for the tests."""

from __future__ import annotations

import pytest

from moderation.screening import ScreeningContext, Severity, screen_message


def crisis(text: str):
    return screen_message(text=text, context=ScreeningContext(), detectors=["crisis"])


def kinds(text: str) -> list[str]:
    return [signal.kind for signal in crisis(text)]


# Reaching out ----------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "I need someone to talk to",
    "i really need someone to talk to right now",
    "please help me",
    "someone please help",
    "help me please",
    "can someone talk to me?",
    "is anyone there?",
    "is there anybody listening",
    "I just need help.",
    "where can I get help",
    "need help now",
    "anyone willing to talk to me",
])
def test_asking_for_a_person_is_concern(text):
    signals = crisis(text)
    assert [signal.kind for signal in signals] == ["concern"], signals
    assert signals[0].severity == Severity.MEDIUM


@pytest.mark.parametrize("text", [
    "I need help with my homework",
    "can someone help me with this code",
    "please help me pick a name for my cat",
    "I need someone to water my plants next week",
    "anyone wanna talk about the match?",
    "is anyone there at the station yet",
    "where can I get help with my tax return",
    "please help me choose a dress for prom",
])
def test_asking_for_something_else_is_nothing(text):
    assert crisis(text) == []


# Hopelessness in everyday words ----------------------------------------------------------

@pytest.mark.parametrize("text", [
    "I give up.",
    "honestly I give up",
    "I've given up on everything",
    "I'm not okay",
    "im not ok anymore",
    "I can't cope",
    "i cant continue",
    "what's the point",
    "what's the fucking point",
    "nobody would care",
    "I've had it.",
    "it's all too much",
    "I don't know what to do anymore",
    "I'm at the end of my rope",
    "I don't see any other option",
    "I can't see a future for me",
    "I'm in a really dark place",
    "I'm not in a good place",
    "I'm just a waste of space",
    "the only thing keeping me alive is my dog",
    "give me one reason to stay",
    "it's all going to be over soon",
    "I don't want to be here",
    "I just want a break from my brain",
    "I'm sick of the suffering",
    "nobody gives a fuck about me",
])
def test_hopelessness_is_concern(text):
    assert kinds(text) == ["concern"], crisis(text)


@pytest.mark.parametrize("text", [
    "I give up on this game lol",
    "ok I give up on the riddle, what's the answer?",
    "I'm not okay with that plan",
    "I can't cope with how cute this puppy is",
    "what's the point of this rule in the game",
    "I'm so tired after football",
    "I've had it with this printer",
    "I can't continue the level without the key",
    "I'm not fine with pineapple on pizza",
])
def test_everyday_look_alikes_raise_nothing(text):
    assert crisis(text) == []


@pytest.mark.parametrize("text", [
    "I would like to die",
    "I just want to fucking die",
    "I don't deserve to live",
    "I keep thinking about who will find my body",
    "why do I even exist",
    "I wish I had the courage to go through with it",
    "it'll be better when I'm gone",
    "this isn't a cry for help",
])
def test_wanting_to_die_in_more_words(text):
    assert kinds(text) in (["high_risk"], ["concern"]), crisis(text)


def test_self_harm_in_more_words():
    assert kinds("I just want to watch myself bleed") == ["high_risk"]
    assert kinds("I'll just cut instead") == ["high_risk"]
    assert kinds("I cut the cake instead") == []


# Signs of distress, weighted -------------------------------------------------------------

def test_belonging_burden_and_entrapment_add_up():
    # Thwarted belongingness, perceived burdensomeness, entrapment: two clear signs together.
    assert kinds("I feel so isolated and helpless, there's no way out") == ["concern"]
    assert kinds("I'm drained and nobody understands") == ["concern"]


def test_one_sign_alone_is_an_ordinary_bad_day():
    assert crisis("I feel isolated since I moved") == []
    assert crisis("I had nightmares last night") == []
    assert crisis("my therapist is great") == []


def test_a_sign_inside_a_longer_one_counts_once():
    # "hate myself" is one sign, not also a second, everyday one.
    assert crisis("ptsd from that movie lol") == []
    assert crisis("flat earthers are mentally something else") == []


# Words run together ----------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("I want to dieRecently things got worse", ["high_risk"]),
    ("Thinking about suicideI don't know what to do", ["high_risk"]),
    ("helpMe please", ["concern"]),
    ("Lost all hopeI keep trying", ["concern"]),
])
def test_a_lowercase_letter_meeting_a_capital_is_a_word_break(text, expected):
    assert kinds(text) == expected, crisis(text)


def test_the_span_of_a_split_word_is_its_own_part():
    text = "I want to dieRecently"
    [signal] = crisis(text)
    assert text[slice(*signal.span)] == "want to die"


def test_addresses_are_not_split():
    assert crisis("I watched it on YouTube.com/SomeChannel") == []


# Imminent needs its plan or time close by --------------------------------------------------

@pytest.mark.parametrize("text", [
    "I want to die tonight",
    "tonight I'm going to end it all",
    "I have pills and I want to die",
    "I want to end my life, I have the pills here",
    "I'll be gone tonight",
    "I've got the note written. I want to die",
])
def test_imminent_with_its_plan_or_time(text):
    signals = crisis(text)
    assert [signal.kind for signal in signals] == ["imminent"], signals
    assert signals[0].severity == Severity.CRITICAL


@pytest.mark.parametrize("text", [
    "I want to die. Today was the worst day at work and my boss yelled at me",
    "Today I went to the shops and bought bread. Later I talked to my mum. "
    "I honestly just want to die",
    "I want to end it all. Anyway, we missed the first half of the film because "
    "the train was late",
])
def test_a_time_or_means_elsewhere_in_the_message_is_high_risk_not_imminent(text):
    assert kinds(text) == ["high_risk"], crisis(text)


def test_a_time_inside_the_farewell_still_counts():
    assert kinds("I won't be here tomorrow") == ["imminent"]


def test_someone_elses_plan_is_critical_only_when_close_to_the_wish():
    [signal] = crisis("my friend wants to die tonight")
    assert signal.severity == Severity.CRITICAL
    [signal] = crisis("my friend wants to die. Today we went to the cinema together and "
                      "she seemed happier than last week")
    assert signal.severity == Severity.HIGH
