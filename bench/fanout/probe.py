"""The crisis probe (--crisis-probe RATE): one member, alone in a room of its own, sends crisis
messages the rules miss and the learned detector catches (bench/fanout/probe_texts.py), and
each is timed from its send to the private `support` card whose `seq` is that message's, as
its `ack` gave it (docs/protocol.md). Its room is its own, so none of its messages counts in
the fan-out figures. This module keeps the probe's tally; bench/fanout/load.py does its I/O.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.fanout.stats import Distribution

# After the load's drain: how long the last probe may still wait for its card. The card's
# promise is 2 s at the measured load (docs/protocol.md); the system test allows 10 s.
CARD_WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class ProbePlan:
    """What run.py hands the load: the probe's room, messages and rate."""

    room: str
    texts: tuple[str, ...]
    rate: float
    cookie: str | None = None  # --sessions direct: a session made with the rooms


@dataclass
class ProbeTally:
    """Times from time.perf_counter, like the load's Tally."""

    texts: tuple[str, ...]
    rate: float
    sent_at: dict[str, float] = field(default_factory=dict)  # client_id -> sent
    seq_of: dict[str, int] = field(default_factory=dict)  # client_id -> seq from its ack
    ack_status: dict[str, str] = field(default_factory=dict)  # client_id -> status
    refused: dict[str, str] = field(default_factory=dict)  # client_id -> error code
    card_at: dict[int, float] = field(default_factory=dict)  # seq -> first card's arrival
    card_tiers: Counter[str] = field(default_factory=Counter)
    duplicate_cards: int = 0
    cards_without_seq: int = 0  # seq null: a card for a message that was not posted
    other_errors: Counter[str] = field(default_factory=Counter)
    send_failures: int = 0
    failure: str = ""  # the probe could not join its room or accept its rules

    def text_for(self, number: int) -> str:
        """Wordings in turn: never the same one twice running (the spam rules' repeats)."""
        return self.texts[number % len(self.texts)]

    def note_sent(self, client_id: str, now: float) -> None:
        self.sent_at[client_id] = now

    def on_ack(self, frame: dict[str, Any]) -> None:
        client_id = str(frame.get("client_id", ""))
        if client_id in self.sent_at and frame.get("seq") is not None:
            self.seq_of[client_id] = int(frame["seq"])
            self.ack_status[client_id] = str(frame.get("status", "visible"))

    def on_card(self, frame: dict[str, Any], now: float) -> None:
        seq = frame.get("seq")
        if seq is None:
            self.cards_without_seq += 1
        elif int(seq) in self.card_at:
            self.duplicate_cards += 1
        else:
            self.card_at[int(seq)] = now
            self.card_tiers[str(frame.get("tier", "?"))] += 1

    def on_error(self, frame: dict[str, Any]) -> None:
        client_id = frame.get("client_id")
        code = str(frame.get("code", "?"))
        if client_id is not None and str(client_id) in self.sent_at:
            self.refused[str(client_id)] = code
        else:
            self.other_errors[code] += 1

    def awaiting_cards(self) -> int:
        """Acknowledged probes whose card has not come (yet)."""
        return sum(1 for seq in self.seq_of.values() if seq not in self.card_at)

    def card_latencies(self) -> list[float]:
        """Seconds from each probe's send to its card."""
        return [self.card_at[seq] - self.sent_at[client_id]
                for client_id, seq in self.seq_of.items() if seq in self.card_at]


def probe_figures(tally: ProbeTally) -> dict[str, Any]:
    """--json's `crisis_probe`: a card is missing for every probe sent that got none
    (unacknowledged and refused probes included)."""
    latencies = tally.card_latencies()
    probe_seqs = set(tally.seq_of.values())
    return {
        "rate": tally.rate,
        "texts": list(tally.texts),
        "sent": len(tally.sent_at),
        "acked": len(tally.seq_of),
        "acked_not_visible": sum(1 for s in tally.ack_status.values() if s != "visible"),
        "refused": len(tally.refused),
        "refusal_codes": dict(Counter(tally.refused.values())),
        "send_failures": tally.send_failures,
        "cards": len(latencies),
        "missing": len(tally.sent_at) - len(latencies),
        "card_tiers": dict(tally.card_tiers),
        "card_latency_ms": Distribution.of_seconds(latencies).as_dict(),
        "duplicate_cards": tally.duplicate_cards,
        "other_cards": tally.cards_without_seq + sum(
            1 for seq in tally.card_at if seq not in probe_seqs),
        "other_error_frames": dict(tally.other_errors),
        "failure": tally.failure,
    }
