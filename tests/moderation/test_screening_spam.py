"""The spam detector: repeats, link floods, mass mentions and character floods; shouting only
alongside one of those, as capitals alone are often distress."""

from __future__ import annotations

import pytest

from moderation.models import ScreeningAction
from moderation.policy import PolicyActions, decide
from moderation.screening import ScreeningContext, Severity, screen_message


def spam(text: str, context: ScreeningContext | None = None):
    return screen_message(text=text, context=context or ScreeningContext(), detectors=["spam"])


def kinds(text: str, context: ScreeningContext | None = None) -> list[str]:
    return [signal.kind for signal in spam(text, context)]


def test_the_third_identical_message_in_a_row_is_a_repeat():
    earlier = ("Buy followers now", "buy   FOLLOWERS now")
    [signal] = spam("BUY followers now", ScreeningContext(recent_bodies=earlier))
    assert (signal.kind, signal.rule, signal.severity, signal.span) == (
        "repeat", "no-spam", Severity.MEDIUM, None)


def test_two_in_a_row_or_a_different_one_in_between_is_not_a_repeat():
    assert kinds("hello", ScreeningContext(recent_bodies=("hello",))) == []
    assert kinds("hello", ScreeningContext(recent_bodies=("hello", "hi", "hello"))) == []
    assert kinds("hello", ScreeningContext(recent_bodies=("hello", "hello"),
                                           seconds_since_previous=3600)) == []


def test_link_floods():
    assert kinds("https://a.example.com/1 www.b.org and c.net/x") == ["link_flood"]
    assert kinds("two links: https://www.nhs.uk/ and https://www.mind.org.uk/") == []
    assert kinds("I went to the shop. Then home. Then bed. Then up.") == []


@pytest.mark.parametrize("text", [
    "I CANT DO THIS ANYMORE, NOBODY EVER LISTENS",
    "WHY DOES NOBODY EVER LISTEN TO ANYTHING I SAY",
    "I CANT DO THIS ANYMORE",
    "WHY DOES NOBODY LISTEN",
    "PLEASE SOMEONE TALK TO ME I AM SO SCARED RIGHT NOW",
])
def test_capitals_alone_are_never_spam(text):
    # Someone shouting in distress must reach the room: the policy blocks on any spam signal.
    assert spam(text) == []
    assert spam(text, ScreeningContext(recent_bodies=("hi", "is anyone there"))) == []


def test_capitals_alone_are_never_blocked_by_the_default_policy():
    text = "WHY DOES NOBODY EVER LISTEN TO ANYTHING I SAY"
    verdict = decide(text=text, signals=screen_message(text=text, context=ScreeningContext()),
                     actions=PolicyActions())
    assert verdict.action == ScreeningAction.ALLOW and verdict.body == text


def test_shouting_is_reported_only_with_another_sign_of_spam():
    shouted = "BUY CHEAP FOLLOWERS NOW AT MY SHOP TODAY"
    signals = spam(shouted, ScreeningContext(recent_bodies=(shouted, shouted)))
    assert [signal.kind for signal in signals] == ["repeat", "shouting"]
    assert signals[1].severity == Severity.LOW and signals[1].span is None
    assert kinds("VISIT MY PAGE RIGHT NOW FOR FREE STUFF " + "!" * 25) == [
        "character_flood", "shouting"]
    # Not shouting: too few letters, or not almost all capitals.
    assert kinds("OMG YES " + "!" * 25) == ["character_flood"]
    assert kinds("I saw the NHS GP at the CAMHS clinic about my ADHD and OCD today "
                 + "!" * 25) == ["character_flood"]
    assert kinds("@SAM @JO thanks both, see you later tonight at the group "
                 "https://a.example.com www.b.org c.net/x") == ["link_flood"]


def test_mass_mentions():
    assert kinds("@a1 @b2 @c3 @d4 @e5 look at this") == ["mass_mention"]
    assert kinds("@a1 @b2 @c3 @d4 thanks all") == []
    assert kinds("mail sam@example.com, jo@example.com, al@example.com, "
                 "bo@example.com, cy@example.com") == []


def test_character_floods_are_reported_with_their_span():
    text = "help " + "!" * 30 + " please"
    [signal] = spam(text)
    assert signal.kind == "character_flood" and signal.severity == Severity.LOW
    assert text[slice(*signal.span)] == "!" * 30
    assert kinds("lol" * 15) == ["character_flood"]
    assert kinds("a" + "\n" * 12 + "b") == ["character_flood"]
    assert kinds("hahaha that's brilliant!!! \U0001f602\U0001f602\U0001f602") == []


def test_plain_chat_is_not_spam():
    assert spam("Thanks for listening everyone, today was a rough one at work.",
                ScreeningContext(recent_bodies=("hi", "how is everyone"))) == []
