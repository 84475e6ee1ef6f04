"""What the learned detector adds to the rules (moderation/screening/combine.py): more, never
less; an aimed insult never becomes its author's distress."""

from __future__ import annotations

import pytest

from moderation.screening.combine import added_by_model, writer_rank
from moderation.screening.types import DetectorName, Rule, Severity, Signal, SignalKind


def crisis(kind: SignalKind, severity: Severity = Severity.HIGH) -> Signal:
    return Signal(detector=DetectorName.CRISIS, kind=kind, rule=Rule.CRISIS_SUPPORT,
                  severity=severity)


def harassment(kind: SignalKind = SignalKind.INSULT) -> Signal:
    return Signal(detector=DetectorName.HARASSMENT, kind=kind, rule=Rule.RESPECT,
                  severity=Severity.HIGH)


CONCERN, HIGH, IMMINENT = (crisis(SignalKind.CONCERN, Severity.MEDIUM),
                           crisis(SignalKind.HIGH_RISK), crisis(SignalKind.IMMINENT,
                                                                Severity.CRITICAL))
METHOD = Signal(detector=DetectorName.CRISIS, kind=SignalKind.METHOD_DETAIL,
                rule=Rule.NO_METHOD_DETAILS, severity=Severity.HIGH)
WORRIED = crisis(SignalKind.WORRIED_ABOUT_SOMEONE)


@pytest.mark.parametrize(("rules", "model", "added"), [
    ([], [HIGH], [HIGH]),  # the rules missed it
    ([CONCERN], [IMMINENT], [IMMINENT]),  # a higher tier than the rules'
    ([HIGH], [HIGH], []),  # nothing new
    ([IMMINENT], [CONCERN], []),  # never lowered
    ([], [WORRIED], [WORRIED]),
    ([WORRIED], [WORRIED], []),
    ([], [METHOD], [METHOD]),
    ([METHOD, HIGH], [METHOD], []),
    ([], [harassment()], [harassment()]),
    ([harassment()], [harassment(SignalKind.THREAT)], []),  # the rules already decided
])
def test_the_model_adds_only_what_the_rules_missed(rules, model, added):
    assert added_by_model(rules, model) == added


def test_an_aimed_insult_with_distress_words_brings_no_crisis_tier():
    # "you're a pathetic idiot, nobody cares about you": harassment, not the author's crisis.
    assert added_by_model([harassment()], [HIGH]) == []


def test_an_imminent_reading_outweighs_an_insult_the_rules_found():
    assert added_by_model([harassment()], [IMMINENT]) == [IMMINENT]


def test_read_both_ways_low_the_model_adds_neither_card_nor_hold():
    # Neither a concern card for an insult nor a hold for someone who may be low.
    assert added_by_model([], [harassment(), CONCERN]) == []


def test_read_both_ways_at_risk_the_crisis_reading_wins_and_nothing_is_held():
    assert added_by_model([], [harassment(), HIGH]) == [HIGH]
    assert added_by_model([], [harassment(SignalKind.THREAT), IMMINENT]) == [IMMINENT]


def test_a_message_with_the_writers_distress_is_never_held_by_the_model():
    for rules in ([CONCERN], [HIGH], [IMMINENT]):
        for kind in (SignalKind.INSULT, SignalKind.THREAT, SignalKind.SELF_HARM_INCITEMENT):
            assert added_by_model(rules, [harassment(kind)]) == []


def test_writer_rank_ignores_other_detectors_and_worries():
    assert writer_rank([harassment(), WORRIED, METHOD]) == 0
    assert writer_rank([CONCERN, IMMINENT]) == 3
