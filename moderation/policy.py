"""From screening signals to what happens to a message: the one place for that rule.

Crisis signals are special by design: someone in distress is never punished. Whatever a
policy row says, a crisis signal can at most hold a message for review (others see it
collapsed, its author still sees it) and never blocks it, masks it or sanctions anyone.
"""

from __future__ import annotations

from dataclasses import dataclass

from moderation.models import ScreeningAction
from moderation.screening.types import Severity, Signal, SignalKind

# Strongest first: when detectors disagree the strongest action wins.
_STRENGTH = {
    ScreeningAction.ALLOW: 0,
    ScreeningAction.MASK: 1,
    ScreeningAction.HOLD: 2,
    ScreeningAction.BLOCK: 3,
}
CRISIS_DETECTOR = "crisis"
CRISIS_ALLOWED_ACTIONS = frozenset({ScreeningAction.ALLOW, ScreeningAction.HOLD})
MASK_TEXT = "•••"


@dataclass(frozen=True)
class PolicyActions:
    contact: str = ScreeningAction.MASK
    harassment: str = ScreeningAction.BLOCK
    spam: str = ScreeningAction.BLOCK
    crisis: str = ScreeningAction.ALLOW

    def for_detector(self, detector: str) -> ScreeningAction:
        action = ScreeningAction(getattr(self, detector, ScreeningAction.HOLD))
        if detector == CRISIS_DETECTOR and action not in CRISIS_ALLOWED_ACTIONS:
            # A crisis signal may at most hold a message; anything stronger would punish
            # someone for saying they are struggling.
            return ScreeningAction.HOLD
        return action


@dataclass(frozen=True)
class Verdict:
    action: ScreeningAction
    signals: tuple[Signal, ...]
    # The rule the action cites (from the signal that decided it); "" when allowed.
    rule: str
    # The text others will see: the original, or with masked spans replaced.
    body: str
    masked: bool = False
    # The author's words as the rules read them (normalised), for the learned detector to
    # read next without normalising again; "" when not screened here.
    model_text: str = ""
    # What the author keeps of their own words (chat.models.Message.original_body): all of
    # them, but what would have been blocked for its own sake (a slur in a message held for
    # a crisis) stays masked, never stored. None: the text as written.
    author_body: str | None = None

    @property
    def crisis_signals(self) -> tuple[Signal, ...]:
        return tuple(s for s in self.signals if s.detector == CRISIS_DETECTOR)

    @property
    def collapsed(self) -> bool:
        """Details of a method or means: the room sees a placeholder until a moderator looks;
        its author still sees every word."""
        return self.action == ScreeningAction.HOLD and any(
            s.kind == SignalKind.METHOD_DETAIL for s in self.signals)


def decide(*, text: str, signals: list[Signal], actions: PolicyActions) -> Verdict:
    if not signals:
        return Verdict(action=ScreeningAction.ALLOW, signals=(), rule="", body=text)
    deciding: Signal | None = None
    action = ScreeningAction.ALLOW
    mask_spans: list[tuple[int, int]] = []
    blocked_spans: list[tuple[int, int]] = []
    for signal in sorted(signals, key=lambda s: -s.severity):
        signal_action = actions.for_detector(signal.detector)
        if signal_action == ScreeningAction.BLOCK and signal.span is not None:
            blocked_spans.append(signal.span)
        if signal_action == ScreeningAction.MASK and signal.span is None:
            # Nothing to mask (a whole-message signal): holding is the cautious reading.
            signal_action = ScreeningAction.HOLD
        if signal_action == ScreeningAction.MASK and signal.span is not None:
            mask_spans.append(signal.span)
        if _STRENGTH[signal_action] > _STRENGTH[action]:
            action, deciding = signal_action, signal
    if any(s.kind == SignalKind.METHOD_DETAIL for s in signals) and (
            _STRENGTH[action] < _STRENGTH[ScreeningAction.HOLD]):
        # Safe-messaging guidance: method details are never shown to the room unreviewed,
        # whatever the policy row says.
        action = ScreeningAction.HOLD
        deciding = next(s for s in signals if s.kind == SignalKind.METHOD_DETAIL)
    if action == ScreeningAction.BLOCK and any(s.detector == CRISIS_DETECTOR for s in signals):
        # Someone may be in crisis: a block would drop their words unseen. Hold instead, so a
        # moderator reads it at once and the author still sees what they wrote; what would
        # have been blocked for its own sake (a phone number) is masked, never stored.
        action = ScreeningAction.HOLD
        mask_spans.extend(blocked_spans)
    masked = bool(mask_spans) and action != ScreeningAction.BLOCK
    if deciding is None:
        deciding = max(signals, key=lambda s: s.severity)
    crisis_held = action == ScreeningAction.HOLD and bool(blocked_spans) and any(
        s.detector == CRISIS_DETECTOR for s in signals)
    return Verdict(action=action, signals=tuple(signals), rule=deciding.rule,
                   body=_mask(text, mask_spans) if masked else text, masked=masked,
                   author_body=_mask(text, blocked_spans) if crisis_held else None)


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, cursor = [], 0
    for start, end in merged:
        out.append(text[cursor:start])
        out.append(MASK_TEXT)
        cursor = end
    out.append(text[cursor:])
    return "".join(out)


def urgency_of(signals: tuple[Signal, ...], report_count: int) -> int:
    """Order for the review queue: crisis first, then severity, then how many reported it."""
    crisis = any(s.detector == CRISIS_DETECTOR for s in signals)
    top = max((int(s.severity) for s in signals), default=int(Severity.LOW))
    return (100 if crisis else 0) + top * 10 + min(report_count, 9)
