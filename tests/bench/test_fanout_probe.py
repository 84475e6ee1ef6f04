"""The fan-out benchmark's crisis probe and model counters, their pure parts: --crisis-probe's
parsing, the probe's tally, choosing its wordings, the learned detector's counters from
/readyz, and how all of it is reported and checked (bench/fanout)."""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import pytest

from bench.fanout.options import resolve_options
from bench.fanout.probe import ProbeTally, probe_figures
from bench.fanout.probe_texts import CANDIDATES, qualifying_texts
from bench.fanout.probe_texts import main as choose_texts
from bench.fanout.report import crisis_probe_rows, failed_checks, screening_model_text
from bench.fanout.screening_model import (
    any_ready,
    handled_since,
    model_figures,
    status_from_readyz,
)
from moderation.screening.types import DetectorName, Rule, Severity, Signal, SignalKind

# --- the option ----------------------------------------------------------------------------


def test_the_crisis_probe_is_off_unless_asked_for():
    assert resolve_options(["--scenario", "s1"]).crisis_probe is None
    options = resolve_options(["--scenario", "s1", "--crisis-probe", "2"])
    assert options.crisis_probe == 2.0
    # It adds nothing to the fan-out load.
    assert (options.rate, options.offered) == (8, 16_000)
    smoke = resolve_options(["--scenario", "s1", "--smoke", "--crisis-probe", "0.5"])
    assert (smoke.crisis_probe, smoke.check) == (0.5, True)


def test_only_hearths_scenario_line_names_the_probe():
    options = resolve_options(["--scenario", "s1", "--crisis-probe", "2"])
    assert "crisis probe 2 msg/s in a room of its own" in options.describe("hearth")
    assert "crisis probe" not in options.describe("reference")
    assert "crisis probe" not in resolve_options(["--scenario", "s1"]).describe()


@pytest.mark.parametrize(("argv", "message"), [
    (["--crisis-probe", "0"], "must be above 0"),
    (["--crisis-probe", "often"], "not a number: 'often'"),
    (["--crisis-probe", "2", "--target", "reference"], "--crisis-probe measures Hearth's"),
    (["--scenario", "s2", "--crisis-probe", "2"], "--crisis-probe runs during the load"),
])
def test_bad_crisis_probe_options_are_clear_argparse_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        resolve_options(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


# --- the probe's tally -----------------------------------------------------------------------

def _tally(**sends: tuple[float, int | None]) -> ProbeTally:
    """client_id -> (sent at, seq from its ack or None when unacknowledged)."""
    tally = ProbeTally(texts=("first wording", "second wording"), rate=2.0)
    for client_id, (sent, seq) in sends.items():
        tally.note_sent(client_id, sent)
        if seq is not None:
            tally.on_ack({"type": "ack", "client_id": client_id, "seq": seq,
                          "status": "visible"})
    return tally


def _card(seq: int | None, tier: str = "imminent") -> dict[str, Any]:
    return {"type": "support", "tier": tier, "seq": seq}


def test_wordings_take_turns_so_none_comes_twice_running():
    tally = _tally()
    said = [tally.text_for(number) for number in range(6)]
    assert all(a != b for a, b in itertools.pairwise(said))
    assert set(said) == {"first wording", "second wording"}


def test_each_card_is_matched_to_its_probe_by_the_acks_seq():
    tally = _tally(a=(10.0, 3), b=(10.5, 4), c=(11.0, 5))
    tally.on_card(_card(4), 10.62)
    tally.on_card(_card(3, "high_risk"), 10.2)
    assert sorted(tally.card_latencies()) == pytest.approx([0.12, 0.2])
    assert tally.awaiting_cards() == 1  # c's card has not come
    figures = probe_figures(tally)
    assert (figures["sent"], figures["acked"], figures["cards"], figures["missing"]) == (
        3, 3, 2, 1)
    assert figures["card_tiers"] == {"imminent": 1, "high_risk": 1}
    assert figures["card_latency_ms"]["max"] == pytest.approx(200)


def test_a_card_that_comes_before_its_ack_still_counts():
    tally = ProbeTally(texts=("x", "y"), rate=1.0)
    tally.note_sent("a", 1.0)
    tally.on_card(_card(7), 1.3)
    tally.on_ack({"type": "ack", "client_id": "a", "seq": 7})
    assert tally.card_latencies() == pytest.approx([0.3])


def test_refused_and_unacknowledged_probes_count_as_missing_cards():
    tally = _tally(a=(1.0, 1), b=(1.5, None), c=(2.0, None))
    tally.on_error({"type": "error", "client_id": "c", "code": "rate_limited"})
    tally.on_card(_card(1), 1.1)
    figures = probe_figures(tally)
    assert (figures["sent"], figures["acked"], figures["refused"]) == (3, 1, 1)
    assert (figures["cards"], figures["missing"]) == (1, 2)
    assert figures["refusal_codes"] == {"rate_limited": 1}


def test_cards_for_no_probe_and_repeated_cards_are_counted_apart():
    tally = _tally(a=(1.0, 1))
    tally.on_card(_card(1), 1.1)
    tally.on_card(_card(1), 1.2)  # the same card again
    tally.on_card(_card(None), 1.3)  # a card for a message that was not posted
    tally.on_card(_card(99), 1.4)  # no probe has seq 99
    tally.on_error({"type": "error", "code": "invalid_frame"})
    figures = probe_figures(tally)
    assert (figures["cards"], figures["missing"]) == (1, 0)
    assert (figures["duplicate_cards"], figures["other_cards"]) == (1, 2)
    assert figures["other_error_frames"] == {"invalid_frame": 1}
    assert figures["card_latency_ms"]["p50"] == pytest.approx(100)


# --- choosing the wordings -------------------------------------------------------------------

class _Model:
    """Stands in for LearnedScreener: raises `kind` for every text."""

    def __init__(self, kind: SignalKind | None) -> None:
        self.kind = kind

    def signals(self, texts: list[str]) -> list[list[Signal]]:
        if self.kind is None:
            return [[] for _ in texts]
        return [[Signal(detector=DetectorName.CRISIS, kind=self.kind, rule=Rule.CRISIS_SUPPORT,
                        severity=Severity.HIGH)] for _ in texts]


def test_a_wording_qualifies_when_the_rules_miss_it_and_the_model_raises_it():
    caught_by_the_rules = "i want to kill myself"
    missed = "been saying quiet goodbyes all day, it will all be over for me before morning"
    candidates = (caught_by_the_rules, missed)
    assert qualifying_texts(_Model(SignalKind.IMMINENT), candidates) == [missed]  # type: ignore[arg-type]
    assert qualifying_texts(_Model(SignalKind.HIGH_RISK), candidates) == [missed]  # type: ignore[arg-type]
    # The gentler tier brings no card every time: it does not qualify.
    assert qualifying_texts(_Model(SignalKind.CONCERN), candidates) == []  # type: ignore[arg-type]
    assert qualifying_texts(_Model(None), candidates) == []  # type: ignore[arg-type]


def test_choosing_without_a_model_fails_clearly(settings, tmp_path, capsys):
    settings.HEARTH_SCREENING_MODEL_DIR = str(tmp_path)  # no model files
    assert choose_texts() == 1
    assert "the probe needs it to choose its messages" in capsys.readouterr().err


def test_choosing_with_too_few_wordings_fails_clearly(monkeypatch, capsys):
    monkeypatch.setattr("moderation.screening.learned.LearnedScreener.__init__",
                        lambda self, directory: setattr(self, "version", "test"))
    monkeypatch.setattr("moderation.screening.learned.LearnedScreener.signals",
                        lambda self, texts: _Model(None).signals(texts))
    assert choose_texts() == 1
    err = capsys.readouterr().err
    assert f"0 of the {len(CANDIDATES)} wordings" in err and "Add wordings" in err


# --- the learned detector's counters ---------------------------------------------------------

def _status(state: str = "ready", read: int = 0, seconds: float = 0.0, over: int = 0,
            failed: int = 0, reason: str = "") -> dict[str, Any]:
    return {"state": state, "reason": reason, "read": read, "seconds_total": seconds,
            "over_backlog": over, "failed": failed, "batch_seconds_median": None}


def test_readyz_gives_the_models_status_or_none():
    body = json.dumps({"status": "ok", "database": "ok",
                       "screening_model": _status(read=3)}).encode()
    assert status_from_readyz(body) == _status(read=3)
    assert status_from_readyz(b'{"status": "ok"}') is None  # an older checkout
    assert status_from_readyz(b"<html>Not Found</html>") is None


def test_model_figures_are_the_differences_over_the_load():
    before = [_status(read=10, seconds=0.5), _status(read=4, seconds=0.2)]
    after = [_status(read=310, seconds=2.0, over=2), _status(read=104, seconds=0.6)]
    figures = model_figures(before, after, stored=402)
    assert (figures["state"], figures["read"], figures["over_backlog"]) == ("ready", 400, 2)
    assert figures["seconds_total"] == pytest.approx(1.9)
    assert figures["seconds_per_read"] == pytest.approx(1.9 / 400)
    assert figures["behind"] == 0
    assert [w["read"] for w in figures["per_worker"]] == [300, 100]
    assert handled_since(before, after) == 402
    assert model_figures(before, after, stored=410)["behind"] == 8


def test_a_model_turned_off_reads_nothing_and_says_so():
    off = _status(state="off", reason="HEARTH_SCREENING_MODEL is off")
    figures = model_figures([off], [off], stored=500)
    assert (figures["state"], figures["read"], figures["behind"]) == ("off", 0, None)
    assert math.isnan(figures["seconds_per_read"])
    assert not any_ready([off, None])
    assert screening_model_text(figures) == (
        "off (HEARTH_SCREENING_MODEL is off); 0 messages read")


def test_workers_without_the_model_status_are_not_reported():
    figures = model_figures([None], [None], stored=5)
    assert (figures["state"], figures["read"]) == ("not reported", 0)
    assert screening_model_text(figures) == "not reported by /readyz"


# --- printing and checking -------------------------------------------------------------------

def test_the_model_row_gives_reads_and_time_per_message_read():
    before = [_status(read=0), _status(read=0)]
    after = [_status(read=3000, seconds=1.2), _status(read=1000, seconds=0.4, over=5,
                                                       failed=1)]
    assert screening_model_text(model_figures(before, after, stored=4010)) == (
        "ready; 4,000 messages read (3,000 + 1,000), 0.400 ms per message read (1.60 s in all)"
        "; 5 over backlog, 1 failed; 5 of the 4,010 stored not read yet")


def test_the_probe_rows_give_sends_cards_and_card_latency():
    tally = _tally(a=(1.0, 1), b=(1.5, 2), c=(2.0, None))
    tally.on_error({"type": "error", "client_id": "c", "code": "room_full"})
    tally.on_card(_card(1), 1.05)
    tally.on_card(_card(2, "high_risk"), 1.6)
    rows = crisis_probe_rows(probe_figures(tally))
    assert rows == [
        ("crisis probe", "3 sent at 2/s in its own room (2 wordings the rules miss), 2 acked, "
                         "1 refused (room_full 1); 2 cards (high_risk 1, imminent 1), 1 missing"),
        ("card latency ms", "p50 75.0  p95 97.5  p99 99.5  max 100.0  (2 samples)"),
    ]


def test_a_probe_that_could_not_join_says_why():
    tally = ProbeTally(texts=("x", "y"), rate=2.0, failure="the probe could not join its "
                       "room: InvalidStatus: server rejected WebSocket connection: HTTP 403")
    rows = dict(crisis_probe_rows(probe_figures(tally)))
    assert rows["card latency ms"] == "no samples"
    assert rows["crisis probe failure"].startswith("the probe could not join its room")


def _result(probe: dict[str, Any] | None) -> dict[str, Any]:
    return {"connect": {"failures": 0}, "load": None, "hold": None, "closed_early": 0,
            "crisis_probe": probe}


def test_check_fails_on_a_missing_card_never_on_its_latency():
    slow = _tally(a=(1.0, 1), b=(1.5, 2))
    slow.on_card(_card(1), 9.0)  # 8 s: slow, but it came
    slow.on_card(_card(2), 9.5)
    assert failed_checks(_result(probe_figures(slow))) == []
    slow.note_sent("c", 2.0)  # never acknowledged, no card
    assert failed_checks(_result(probe_figures(slow))) == ["crisis probe cards missing: 1 of 3"]
    assert failed_checks(_result(None)) == []


def test_check_fails_when_the_probe_could_not_run():
    silent = ProbeTally(texts=("x", "y"), rate=2.0)
    assert failed_checks(_result(probe_figures(silent))) == ["the crisis probe sent nothing"]
    broken = ProbeTally(texts=("x", "y"), rate=2.0, failure="the probe could not join its room")
    assert failed_checks(_result(probe_figures(broken))) == ["the probe could not join its room"]
