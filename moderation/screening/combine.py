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
# Harassment the model may add even beside a writer at risk: a threat or incitement is about
# someone else's safety, whatever the writer's state.
_ABOUT_OTHERS: Final = frozenset({SignalKind.THREAT, SignalKind.SELF_HARM_INCITEMENT})


def writer_rank(signals: Sequence[Signal]) -> int:
    return max((_WRITER_RANK.get(SignalKind(s.kind), 0) for s in signals
                if s.detector == DetectorName.CRISIS and s.kind in _WRITER_RANK), default=0)


def added_by_model(rules: Sequence[Signal], model: Sequence[Signal]) -> list[Signal]:
    """The model's signals that say more than the rules'."""
    rules_rank = writer_rank(rules)
    aimed = any(s.detector == DetectorName.HARASSMENT for s in (*rules, *model))
    at_risk = max(rules_rank, writer_rank(model)) >= _WRITER_RANK[SignalKind.HIGH_RISK]
    added: list[Signal] = []
    for signal in model:
        kind = SignalKind(signal.kind)
        if kind in _WRITER_RANK:
            # An aimed insult with distress words ("nobody cares about you") is not its
            # author's distress; only an imminent reading outweighs that.
            if _WRITER_RANK[kind] > rules_rank and (not aimed or kind == SignalKind.IMMINENT):
                added.append(signal)
        elif kind == SignalKind.WORRIED_ABOUT_SOMEONE:
            if not any(s.kind == kind and s.severity >= Severity.HIGH for s in rules):
                added.append(signal)
        elif kind == SignalKind.METHOD_DETAIL:
            if not any(s.kind == kind for s in rules):
                added.append(signal)
        elif signal.detector == DetectorName.HARASSMENT and not any(
                s.detector == DetectorName.HARASSMENT for s in rules) and (
                not at_risk or kind in _ABOUT_OTHERS):
            # Someone at risk who calls themself names is not harassing anyone.
            added.append(signal)
    return added
