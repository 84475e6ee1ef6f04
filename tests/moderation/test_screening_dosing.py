"""The dosing detector (rule "no-medication-dosing"): one member advising another to take,
raise, lower, double, skip, stop or switch a medicine or a dose; and, just as much, what it
must leave alone: members telling their own story, asking questions, and pointing each other
to the person who prescribed it. The sentences are written here."""

from __future__ import annotations

import pytest

from moderation.models import ScreeningAction
from moderation.policy import PolicyActions, decide
from moderation.screening import ScreeningContext, Severity, screen_message
from moderation.screening.dosing import detect_dosing
from moderation.screening.normalize import normalize_text


def dosing(text: str):
    return screen_message(text=text, context=ScreeningContext(), detectors=["dosing"])


def advises(text: str) -> bool:
    return bool(dosing(text))


@pytest.mark.parametrize("text", [
    # The brief's examples.
    "you should take 200mg of sertraline",
    "just double your dose",
    "try 50mg of quetiapine to sleep",
    "stop taking your lithium, it's poison",
    "come off your meds cold turkey",
    "ask for xanax and take two",
    "u could cut the pill in half",
    # Frames.
    "why don't you just up your sertraline to 100mg",
    "if i were you i'd stop taking them, sertraline is awful",
    "have you tried quetiapine?",
    "Have you ever tried Xanax?",
    "you should try melatonin",
    "I recommend sertraline, it worked for me",
    "why not try going off them for a week, lexapro is overrated",
    "you might want to halve your quetiapine",
    "have you tried upping your dose?",
    "maybe try lowering your dose",
    "the trick is to halve the tablets",
    "you could ask your gp for xanax and take two",
    "you should be on lithium",
    "you need to get off the benzos",
    # Orders.
    "honestly just switch to prozac",
    "skip your meds tonight, one night won't hurt",
    "take 2 xanax before bed",
    "Take 3 tablets",
    "take 1/2 a pill",
    "honestly just take a couple of xanax, you'll be fine",
    "bump your dose up to 100mg",
    "lithium is poison, flush it",
    "skip a dose or two, it's fine",
    "crush the pill and mix it with food",
    "seriously, stop taking the seroquel",
    "if the sertraline isn't working, just double it",
    "I know it's hard, but just double your dose",
    "just take an extra one, the zopiclone is mild",
    "you can take up to 8 paracetamol a day",
    # Telling someone to stop.
    "don't take your lithium, it's poison",
    "you don't need your meds",
    "you don't need meds, just go outside more",
    # Around a professional, not to them.
    "don't tell your doctor, just stop taking your meds",
    "your doctor is useless, just double it. sertraline is fine",
    "you should just double it lol, my psychiatrist says sertraline is fine",
    # Disguised.
    "U SHOULD TAKE 200MG OF SERTRALINE",
    "y\u043eu sh\u043euld t\u0430ke 200mg \u043ef sertraline",  # Cyrillic look-alikes
    "you should take 200 mg of s3rtral1ne",
])
def test_advice_to_someone_else(text):
    signals = dosing(text)
    assert [(s.detector, s.kind, s.rule, s.severity, s.span) for s in signals] == [
        ("dosing", "dosing_advice", "no-medication-dosing", Severity.MEDIUM, None)], text


@pytest.mark.parametrize("text", [
    # The writer's own medicine and story.
    "my doctor put me on 50mg sertraline",
    "i take 20mg citalopram and it helps",
    "i stopped my meds last year, with my GP's help",
    "I used to take 300mg of quetiapine",
    "I take 2 paracetamol for headaches",
    "lowering my dose helped a lot",
    "taking 50mg sertraline now, it helps",
    "when I doubled my dose I felt way better",
    "I had to come off venlafaxine slowly, the withdrawal was rough",
    "I came off my meds cold turkey and it was hell, please don't do that",
    "I switched to prozac last month",
    "my gp switched me to prozac",
    "the doctor doubled my dose",
    "I drink, take painkillers or both",
    "I'll eat dinner, then take some xanax and sleep",
    "my mum takes lithium and it changed her life",
    "I'd take a xanax right now if I could",
    "I'll try reducing my dose with my doctor",
    # Someone else's advice, reported.
    "my psychiatrist told me to double my dose",
    "he told me to stop taking lithium",
    "my psychiatrist wants me to try lithium",
    # Questions.
    "should I take 100mg or 50mg of sertraline?",
    "can I double my dose? my psychiatrist is away",
    "is it safe to take ibuprofen with sertraline?",
    "can you take ibuprofen with sertraline?",
    "how much sertraline do you take?",
    "what dose are you on?",
    "did you take your meds?",
    "I'm on sertraline, should I stop it?",
    # The good advice: the person who prescribed it decides.
    "talk to your doctor before changing your dose",
    "talk to your pharmacist before changing your dose",
    "you should talk to your doctor before changing your dose",
    "don't stop taking your meds without talking to your doctor",
    "never stop antidepressants suddenly, talk to your gp",
    "ask your doctor about switching to sertraline",
    "you could ask your gp to lower your dose",
    "you could ask your doctor for a lower dose",
    "check with your GP before you lower it",
    "your gp can help you taper off sertraline safely",
    "the pharmacist said you can take 2 paracetamol with it",
    "maybe ask your doctor if you can try something else",
    "I recommend talking to your doctor about sertraline",
    "if your meds aren't working, tell your doctor",
    # Encouragement and caution, not a change.
    "please take your meds",
    "remember to take your meds today",
    "please keep taking your meds",
    "don't skip your meds",
    "never double your dose",
    "you shouldn't stop your meds suddenly",
    "you can't just stop taking lithium",
    "never take your meds with alcohol",
    "don't take more than 4g of paracetamol a day",
    # Ordinary words.
    "take care of yourself",
    "take a deep breath",
    "take it easy, your meds will kick in soon",
    "just take two minutes to breathe",
    "take two, they're small",
    "you should get some sleep",
    "you should try therapy",
    "stop worrying about your meds",
    "stop it, you're making me laugh. my meds make me giggly",
    "just drop it, my meds are fine",
    "up to you",
    "rent went up by 120 a month, I can't afford my prescription",
    "sertraline made me so sleepy at first, it gets better after a few weeks",
    "don't give up on meds, it took me three tries to find the right one",
    "a couple of pills a day is what I take",
])
def test_not_advice(text):
    assert dosing(text) == [], text


@pytest.mark.parametrize("text", [
    # An order with a medicine, but about overdosing and addressed to nobody: as likely the
    # writer's own plan. Crisis support and method details (crisis.py) are the signals.
    "take 30 sertraline, that's a lethal dose",
    "Take 40 sertraline tonight and overdose, that's the plan",
])
def test_the_writers_overdose_is_the_crisis_detectors(text):
    assert dosing(text) == []
    assert "crisis" in {signal.detector for signal in screen_message(
        text=text, context=ScreeningContext())}


@pytest.mark.parametrize("text", [
    "take 40 of your sertraline tonight, it'll be an overdose",
    "double your sertraline and take the whole lot",
])
def test_telling_someone_to_overdose_is_still_advice(text):
    assert advises(text)


def test_a_dosing_signal_holds_the_message_for_review():
    text = "you should take 200mg of sertraline"
    signals = screen_message(text=text, context=ScreeningContext())
    assert [signal.detector for signal in signals] == ["dosing"]
    verdict = decide(text=text, signals=signals, actions=PolicyActions())
    assert verdict.action == ScreeningAction.HOLD
    assert verdict.rule == "no-medication-dosing"
    assert verdict.body == text and not verdict.masked and not verdict.collapsed


def test_own_medicine_is_allowed_by_the_default_policy():
    text = "my doctor put me on 50mg sertraline and it's helping"
    signals = screen_message(text=text, context=ScreeningContext())
    assert decide(text=text, signals=signals, actions=PolicyActions()).action == (
        ScreeningAction.ALLOW)


def test_advice_is_found_in_a_long_message():
    filler = "the day was long and the bus was late, " * 250
    assert not advises(filler)
    assert advises(filler + ". Honestly, just double your sertraline. " + filler)
    # "it" and "two" far from any medicine are not a dose.
    assert not advises("sertraline was fine. " + filler + ". just double it")


@pytest.mark.parametrize("text", [
    "", "   ", "\n\n", "\u200b", "...", "💊", "💊💊💊 take 💊", "😭😭😭", "🙂" * 500,
    "x" * 10_000, "take " * 2_000, "double your dose " * 600, "200mg " * 1_500,
    "\u062e\u0630 200mg \u0645\u0646 sertraline",  # Arabic with a Latin medicine
    "\u043f\u0440\u0438\u043c\u0438 200mg sertraline",  # Russian "take"
    "\u670d\u7528 sertraline 200mg \u5427",  # Chinese around a Latin medicine
    # Hindi around a Latin medicine.
    "\u0924\u0941\u092e\u094d\u0939\u0947\u0902 xanax "
    "\u0932\u0947\u0928\u093e \u091a\u093e\u0939\u093f\u090f",
    "take\u0000 200mg\ud800 of sertraline",  # a NUL and a lone surrogate
    "\u202etake 200mg of sertraline",  # right-to-left override
])
def test_bad_input_never_raises(text):
    signals = dosing(text)
    assert all(signal.detector == "dosing" and signal.span is None for signal in signals)


def test_mixed_scripts_around_an_english_order():
    assert advises("\u041f\u0440\u0438\u0432\u0435\u0442! just double your sertraline")
    assert not advises("\u041f\u0440\u0438\u0432\u0435\u0442! I take sertraline")


def test_runs_on_a_bare_normalised_text():
    signals = detect_dosing(text=normalize_text("just double your dose"),
                            context=ScreeningContext())
    assert [signal.kind for signal in signals] == ["dosing_advice"]
