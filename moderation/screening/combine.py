"""The rules and the learned detector together: what the model adds, and never takes away.

The rules run before a message is stored and decide mask, hold or block; the model reads the
stored message moments later (moderation/model_reader.py). What it adds is what the rules
missed: a writer's crisis tier above the rules' own, a worry about someone else, details of a
method, aimed harassment. The model never lowers what the rules found: a rules signal was
already acted on, and a word list's explicit finding outranks a probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from moderation.screening.types import DetectorName, Severity, Signal, SignalKind

# The writer's own tiers, gentlest first.
_WRITER_RANK: Final = {SignalKind.CONCERN: 1, SignalKind.HIGH_RISK: 2, SignalKind.IMMINENT: 3}


def writer_rank(signals: Sequence[Signal]) -> int:
    return max((_WRITER_RANK.get(SignalKind(s.kind), 0) for s in signals
                if s.detector == DetectorName.CRISIS and s.kind in _WRITER_RANK), default=0)


def added_by_model(rules: Sequence[Signal], model: Sequence[Signal]) -> list[Signal]:
    """The model's signals that say more than the rules'.

    Two things must never happen: distress leads to a hidden message, and an aimed insult
    brings its author a crisis card. So when the model reads a message both ways, the crisis
    reading wins from high_risk up (the card, the escalation; no hold), and below that
    neither is added (a concern card for an insult, or a hold for someone low, would each
    be the wrong one).
    """
    rules_rank = writer_rank(rules)
    model_rank = writer_rank(model)
    rules_aimed = any(s.detector == DetectorName.HARASSMENT for s in rules)
    model_aimed = any(s.detector == DetectorName.HARASSMENT for s in model)
    distressed = max(rules_rank, model_rank) >= _WRITER_RANK[SignalKind.CONCERN]
    added: list[Signal] = []
    for signal in model:
        kind = SignalKind(signal.kind)
        if kind in _WRITER_RANK:
            rank = _WRITER_RANK[kind]
            # An aimed insult with distress words ("nobody cares about you") is not its
            # author's distress; only an imminent reading outweighs the rules' finding.
            if rank > rules_rank and (not rules_aimed or kind == SignalKind.IMMINENT) and (
                    not model_aimed or rank >= _WRITER_RANK[SignalKind.HIGH_RISK]):
                added.append(signal)
        elif kind == SignalKind.WORRIED_ABOUT_SOMEONE:
            if not any(s.kind == kind and s.severity >= Severity.HIGH for s in rules):
                added.append(signal)
        elif kind == SignalKind.METHOD_DETAIL:
            if not any(s.kind == kind for s in rules):
                added.append(signal)
        elif signal.detector == DetectorName.HARASSMENT and not rules_aimed and not distressed:
            # Someone in distress who calls themself names is not harassing anyone, and a
            # model reading never holds a message its writer's distress is in.
            added.append(signal)
    return added
