"""The crisis detector: tiers, negation, someone else's crisis, and the everyday language it
must not mistake for one. Its signals route support; they never sanction anyone. Method
details, history and recovery, quotes and disguised spellings: test_screening_crisis_*.py."""

from __future__ import annotations

import pytest

from moderation.models import ScreeningAction
from moderation.policy import PolicyActions, decide
from moderation.screening import ScreeningContext, Severity, screen_message


def crisis(text: str):
    return screen_message(text=text, context=ScreeningContext(), detectors=["crisis"])


def kinds(text: str) -> list[str]:
    return [signal.kind for signal in crisis(text)]


@pytest.mark.parametrize("text", [
    "I want to die",
    "i just wanna die",
    "I'm going to kill myself",
    "kms",
    "I want to end it all",
    "I'm suicidal",
    "I don't want to live anymore",
    "thinking about suicide a lot lately",
    "I want to unalive myself",
    "i w4nt t0 d1e",
    "I waaaant to diiie",
    # Passive wishes to be dead are wanting to die (issue 4), and so is self-harm.
    "i can't do this anymore, i just want to sleep and not wake up",
    "sometimes I wish I was dead",
    "I want to go to sleep and not wake up",
    "I just want to not wake up",
    "I should just die",
    "suicide has been on my mind",
    "I keep cutting myself",
    "I want to unalive",
    "everyone would be better off without me",
])
def test_high_risk(text):
    signals = crisis(text)
    assert [signal.kind for signal in signals] == ["high_risk"], signals
    assert signals[0].severity == Severity.HIGH and signals[0].rule == "crisis-support"


@pytest.mark.parametrize("text", [
    "i can't do this anymore",
    "I feel so hopeless",
    "I'm worthless and everyone hates me",
    "what's the point of anything",
    "I hate myself",
    "I'm a burden to everyone",
    "kms lol",  # laughter lowers the tier, never to nothing
    "sewerslide haha",
])
def test_concern(text):
    signals = crisis(text)
    assert [signal.kind for signal in signals] == ["concern"], signals
    assert signals[0].severity == Severity.MEDIUM


@pytest.mark.parametrize("text", [
    "I want to die tonight",
    "goodbye everyone. I have the pills ready",
    "I'm going to kill myself, I have a plan",
    "this is goodbye, I won't be here tomorrow",
    "I wish I was dead. I've saved up my pills",
])
def test_imminent(text):
    signals = crisis(text)
    assert [signal.kind for signal in signals] == ["imminent"], signals
    assert signals[0].severity == Severity.CRITICAL


def test_the_signal_points_at_the_phrase():
    text = "Honestly? I w\u0430nt to die."
    [signal] = crisis(text)
    assert text[slice(*signal.span)] == "w\u0430nt to die"


@pytest.mark.parametrize("text", [
    "I'm not suicidal, just tired",
    "I don't want to die, I want things to change",
    "I would never kill myself",
    "I'm not going to kill myself, don't worry",
    "I am no longer suicidal",
])
def test_negated(text):
    assert crisis(text) == []


def test_several_signs_of_distress_together_are_concern():
    assert kinds("I'm so tired today") == []  # an ordinary bad day
    assert kinds("I feel lonely") == []
    assert kinds("therapy isn't helping, the meds make me numb, I feel trapped and ashamed, "
                 "and nothing is getting easier") == ["concern"]


def test_negation_does_not_reach_across_a_new_clause():
    assert kinds("I don't know if I want to live") == []  # nothing listed: no false tier
    assert kinds("I'm not okay and I want to die") == ["high_risk"]
    assert kinds("I'm not sure, but I want to die") == ["high_risk"]


@pytest.mark.parametrize(("text", "severity"), [
    ("my friend wants to die", Severity.HIGH),
    ("my sister is suicidal and I don't know what to do", Severity.HIGH),
    ("he said he's going to kill himself", Severity.HIGH),
    ("my friend says she wants to end her life tonight", Severity.CRITICAL),
    ("I think my brother is self harming", Severity.HIGH),
    ("I'm really worried about my friend, she stopped eating", Severity.MEDIUM),
    ("my sister told me \"I want to die\" last night", Severity.HIGH),
])
def test_worried_about_someone(text, severity):
    signals = crisis(text)
    assert [signal.kind for signal in signals] == ["worried_about_someone"], signals
    assert signals[0].severity == severity


def test_someone_else_and_the_writer_together():
    assert sorted(kinds("my friend is suicidal and so am I, I want to die")) == [
        "high_risk", "worried_about_someone"]


@pytest.mark.parametrize("text", [
    "are you suicidal? it's ok to tell me",  # a peer asking, as they should
    "do you want to die, or do you want the pain to stop?",
    "I thought I was going to die during that panic attack",
    "this homework is killing me",
    "I'm dead \U0001f480",
    "I ran 5 kms today",
    "it's suicide prevention week",
    "my dad died by suicide when I was nine",
    "I lost my brother to suicide",
    "that plan would be career suicide",
    "I'll die of embarrassment",
    "I could not wake up this morning",
    "goodbye everyone, see you tomorrow!",
    "my phone is about to die",
    "I want to go to the party",
])
def test_not_a_crisis(text):
    assert crisis(text) == []


def test_plain_chat():
    assert crisis("Thanks for listening everyone, today was a rough one at work.") == []


@pytest.mark.parametrize(("text", "kind"), [
    # Means stockpiled or ready: high_risk alone (issue 4: means is the imminent tier's).
    ("I have the rope ready", "high_risk"),
    ("i've been saving up my pills", "high_risk"),
    ("I have pills stockpiled", "high_risk"),
    ("i've been saving up my pills for months", "high_risk"),  # a duration is no purpose
    # ...imminent with a time in its sentence, or with any other sign of crisis.
    ("i bought a rope today", "imminent"),
    ("I have the rope ready for tonight", "imminent"),
    ("tonight is the night, I have everything ready", "imminent"),
    ("I can't do this anymore. I have the rope ready", "imminent"),
    ("I feel so trapped. I bought a rope", "imminent"),
    ("I have everything ready, goodbye everyone", "imminent"),
    ("I've got it all planned out, tomorrow I'm done", "imminent"),
])
def test_having_the_means_ready(text, kind):
    signals = crisis(text)
    assert [signal.kind for signal in signals] == [kind], signals


@pytest.mark.parametrize("text", [
    "I have my pills for my headache",
    "I bought rope for climbing",
    "I bought a rope today for climbing",
    "I have everything ready for the party tonight",
    "saving up for a new phone",
    "I have everything ready",  # no means, no time, no distress
    "I bought a rope swing today",
    "I don't have the rope ready",
])
def test_means_look_alikes(text):
    assert crisis(text) == []


def test_means_ready_someone_else_and_history():
    assert kinds("my friend bought a rope") == ["worried_about_someone"]
    assert kinds("I used to stockpile my pills") == ["concern"]


# Whose words: a phrase of distress aimed at the person addressed is not the writer's --------

@pytest.mark.parametrize("text", [
    "you're a pathetic idiot, nobody cares about you",
    "nobody cares about you",
    "literally nobody cares about u lmao",
    "no one gives a shit about you",
    "nobody would care if you died",
    "no one would notice if you disappeared",
    "nobody understands you, freak",
    "you should just die",
    "you are worthless",
    "ur worthless",
    "your so worthless",
    "your life isn't worth living",
    "you'd be better off dead",
    "your depression is lying to you",  # a peer's support
])
def test_distress_words_aimed_at_the_person_addressed_are_not_the_writers(text):
    assert crisis(text) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("nobody cares about me", ["concern"]),
    ("nobody cares", ["concern"]),
    ("I feel like nobody cares about me", ["concern"]),
    ("nobody cares you know", ["concern"]),  # a filler, not an object
    # Its object makes the phrase the writer's, whoever reports it.
    ("my mum says nobody cares about me", ["concern"]),
    ("nobody would miss me if I died", ["high_risk"]),
    ("your family would be better off without me", ["high_risk"]),
    # "your" in another clause is not the subject.
    ("I read your post and want to die", ["high_risk"]),
    ("no one cares about him, he's all alone", ["worried_about_someone"]),
])
def test_distress_words_about_the_writer_or_someone_else(text, expected):
    assert kinds(text) == expected


def test_an_aimed_insult_gives_its_author_no_crisis_card():
    text = "you're a pathetic idiot, nobody cares about you"
    signals = screen_message(text=text, context=ScreeningContext())
    assert {signal.detector for signal in signals} == {"harassment"}
    verdict = decide(text=text, signals=signals, actions=PolicyActions())
    assert verdict.action == ScreeningAction.BLOCK and verdict.crisis_signals == ()
    text = "you're a pathetic idiot, nobody cares about me"  # both: the writer is hurting
    signals = screen_message(text=text, context=ScreeningContext())
    assert {signal.detector for signal in signals} == {"harassment", "crisis"}


# Precision: every rules signal shows its writer a card at once, and imminent pages staff ---

@pytest.mark.parametrize("text", [
    # Hyperbole and laughter
    "kill me now lol, 3 hours of maths",
    "kill me now, two more chapters of chemistry to read",
    "i'm literally dead \U0001f480",
    "i'm literally deceased, my teacher called me mum \U0001f480",
    "kms lmao the quiz is so hard",
    "i want to die \U0001f602 this essay",
    "i'd rather die than sit that meeting tomorrow lol",
    # Units and acronyms
    "ran 5 kms today",
    "the limit is 120 kms/h on that road",
    "we cycled 40 KMS this morning",
    "the KMS server rejected the licence again",
    "kms as in kilometres, sorry, I'm Canadian",
    "CTB on our team means close to budget",
    # Goodbyes to a place, a job, a group or a person leaving
    "goodbye london, moving to leeds tomorrow!",
    "last shift at the cafe, bye everyone",
    "this is goodbye manchester, off to leeds tonight!",
    "bye everyone, last day at the office today, new job on monday \U0001f389",
    "goodbye everyone! flying to spain tomorrow, back in two weeks",
    "i won't be here tomorrow, off to my nan's",
    "i'll be gone by tomorrow, my flight is at 6",
    "this is my last message for tonight, phone is on 3%",
    "goodbye forever to my old retainer!!!",
    "farewell old sofa, good riddance",
    # "tonight's the night" with an event
    "tonight's the night, I have everything ready, the concert starts at 8",
    "it's all planned for the wedding tomorrow, can't wait",
    "I have everything ready, my flight leaves tomorrow",
    # Idioms
    "I'm dying to see the new episode tonight",
    "that lasagne is to die for",
    "you're killing it with that haircut",
    "dead tired after the night shift, bye all",
    "overdosed on chocolate at the party tonight",
    # Games and code
    "kill myself in minecraft tonight to reset my spawn",
    "suicide run in the raid tonight, who's in?",
    "my code wants to die today, the build keeps failing",
    "did a suicide burn and landed the rocket first try!!",
    # Talking about suicide, history and recovery
    "two years since i last self harmed and i'm proud of myself",
    "one year free of self harm today",
    "my scars have faded and i wore shorts today",
    "thank you for saying 'i want to die' here, that took courage",
    "it's okay to say suicidal in this room, we'll listen",
    "my gp asked me about suicidal thoughts at the review, just routine",
    "there was a talk on veteran suicide at the base today",
    "the series deals with suicide, so take care if you watch it",
    "why does everyone say 'unalive' now, such a strange word",
    "the theme song is called 'suicide is painless'",
    "rates of suicidal thoughts are higher in young people",
])
def test_everyday_language_raises_at_most_concern(text):
    assert set(kinds(text)) <= {"concern"}, crisis(text)


@pytest.mark.parametrize(("text", "kind"), [
    # A plan, a means or a farewell keeps imminent, laughing or not.
    ("i want to die lol. i have the pills ready", "imminent"),
    ("i want to die \U0001f602 goodbye everyone", "imminent"),
    # Saying it is no joke cancels the laughter.
    ("kms tonight, not joking", "imminent"),
    ("lol i'm going to kill myself tonight. for real", "imminent"),
    ("honestly want to kms \U0001f480 and not the funny kind", "high_risk"),
    # Laughter before the phrase's sentence is not about it.
    ("burnt the toast lol. also i've been thinking about suicide every day", "high_risk"),
    # A time said laughing or in hyperbole is one tier lower: high_risk, not a page.
    ("kms lol, tonight", "high_risk"),
    ("kms lmao the quiz is tomorrow", "high_risk"),
    ("i want to die \U0001f602 the essay is due tonight", "high_risk"),
    ("i literally want to die tonight", "high_risk"),
    # A comparison or a condition takes the time after it.
    ("i'd rather die than go to that meeting tomorrow", "high_risk"),
    ("i'm going to kill myself if i fail the test tomorrow", "high_risk"),
    ("i'll kill myself tonight if nobody answers", "imminent"),
    # A farewell to the room, the world or a person stays a farewell.
    ("this is goodbye. i won't be here tomorrow", "imminent"),
    ("goodbye cruel world, tonight is the night!", "imminent"),
    ("goodbye london. i'm going to jump off the bridge tonight", "imminent"),
    ("this is goodbye, i'm going to a better place tonight", "imminent"),
    ("goodnight forever everyone", "concern"),
    ("i won't be back. goodbye everyone, see you on the other side", "concern"),
    # The writer's wish next to a thing is still the writer's.
    ("staring at my code wanting to die tonight", "imminent"),
    ("the gp asked about suicidal thoughts and i said i want to die every day", "high_risk"),
])
def test_precision_keeps_the_real_ones(text, kind):
    assert kinds(text) == [kind], crisis(text)
