"""Method and means details (rule "no-method-details"): raised with the writer's own tier when
both apply, alone when the writer is asking, and never for a means named in plain words or
for everyday talk about medicine, bridges and kilometres. The sentences are written here."""

from __future__ import annotations

import pytest

from moderation.screening import ScreeningContext, Severity, screen_message


def crisis(text: str):
    return screen_message(text=text, context=ScreeningContext(), detectors=["crisis"])


def kinds(text: str) -> list[str]:
    return sorted(signal.kind for signal in crisis(text))


@pytest.mark.parametrize(("text", "expected"), [
    # A lethality question is a detail, and the person asking is at high risk.
    ("how many paracetamol would it take", ["high_risk", "method_detail"]),
    ("what's a lethal dose of my meds?", ["high_risk", "method_detail"]),
    ("how long does it take to die from blood loss", ["high_risk", "method_detail"]),
    ("what is the most painless way to die", ["high_risk", "method_detail"]),
    # An amount with a medicine, in a message about suicide or overdosing.
    ("I want to die, I have 40 tablets of sertraline saved", ["imminent", "method_detail"]),
    # An overdose told with its amount is an emergency whatever else is said.
    ("I swallowed 30 pills an hour ago", ["imminent", "method_detail"]),
    ("tonight I'm going to kill myself with a whole bottle of sleeping pills",
     ["imminent", "method_detail"]),
    # A place to fall from with a height.
    ("I want to end it, I'll go to the 14th floor of the car park", ["high_risk",
                                                                      "method_detail"]),
    # A ligature or cutting technique.
    ("I want to die. I tied the rope to the beam", ["imminent", "method_detail"]),
    ("I keep cutting myself and want to go for the veins", ["high_risk", "method_detail"]),
])
def test_method_detail(text, expected):
    assert kinds(text) == expected


def test_the_detail_signal_cites_its_own_rule_and_points_at_the_detail():
    text = "I want to die, I have 40 tablets of sertraline saved"
    [detail] = [signal for signal in crisis(text) if signal.kind == "method_detail"]
    assert detail.rule == "no-method-details" and detail.detector == "crisis"
    assert detail.severity == Severity.HIGH
    assert text[slice(*detail.span)] == "40 tablets"


def test_someone_elses_method_is_a_detail_too():
    assert kinds("my friend says she took 25 pills and wants to die") == [
        "method_detail", "worried_about_someone"]
    assert kinds("my brother swallowed 20 tablets") == [
        "method_detail", "worried_about_someone"]


@pytest.mark.parametrize(("text", "expected"), [
    # A means in plain words is the imminent tier, not a detail.
    ("I want to die and I have pills", ["imminent"]),
    ("I bought a rope, I'm going to kill myself", ["imminent"]),
    ("I want to die, my meds are in the drawer", ["imminent"]),
    # One or two of something is an ordinary dose (a wish to die with a medicine named is
    # still the imminent tier).
    ("I want to die. I took 2 paracetamol for the headache though", ["imminent"]),
])
def test_a_means_without_details_is_not_a_detail(text, expected):
    assert kinds(text) == expected


@pytest.mark.parametrize("text", [
    "I take 2 paracetamol for headaches",
    "my doctor put me on 50 mg of sertraline and it's helping",
    "the bridge in my town is pretty",
    "we climbed to the 10th floor to see the view",
    "I ran 12 kms this morning",
    "how many hours would it take to finish this game?",
    "how much paracetamol can I take in a day?",
    "I tied my shoelaces and cut the tag off my shirt",
    "the rope swing over the river is back",
    "🔪🥕🥔 soup tonight",
    "💊 reminder: take your vitamins",
])
def test_everyday_look_alikes_raise_nothing(text):
    assert crisis(text) == []
