"""The spam detector: repeats, link floods, shouting, mass mentions and character floods."""

from __future__ import annotations

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


def test_shouting_needs_enough_letters_and_almost_all_capitals():
    assert kinds("WHY DOES NOBODY EVER LISTEN TO ANYTHING I SAY") == ["shouting"]
    [signal] = spam("WHY DOES NOBODY EVER LISTEN TO ANYTHING I SAY")
    assert signal.severity == Severity.LOW
    assert kinds("OMG YES") == []
    assert kinds("I saw the NHS GP at the CAMHS clinic about my ADHD and OCD today") == []
    assert kinds("@SAM @JO thanks both, see you later tonight at the group") == []


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
