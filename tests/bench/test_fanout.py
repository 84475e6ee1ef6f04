"""The fan-out benchmark's pure parts: percentiles, offered-load arithmetic, message bodies,
scenario presets and option errors (bench/fanout)."""

from __future__ import annotations

import math
import re

import pytest

from bench.fanout.bodies import BodyGenerator
from bench.fanout.options import parse_cpus, resolve_options
from bench.fanout.stats import (
    Distribution,
    offered_deliveries_per_second,
    percentile,
    rate_for_offered,
    ratio,
)
from moderation.screening import ScreeningContext, screen_message

REDIS = ["--redis-url", "redis://127.0.0.1:1/0"]  # never contacted: options only


# --- percentiles ---------------------------------------------------------------------------

@pytest.mark.parametrize(("p", "expected"), [(0, 1.0), (25, 2.0), (50, 3.0), (90, 4.6),
                                              (100, 5.0)])
def test_percentile_interpolates_between_ranks(p, expected):
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], p) == pytest.approx(expected)


def test_percentile_of_one_value_and_of_none():
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))


@pytest.mark.parametrize("p", [-1, 100.5])
def test_percentile_outside_0_to_100_is_refused(p):
    with pytest.raises(ValueError, match=r"within 0\.\.100"):
        percentile([1.0], p)


def test_distribution_reports_milliseconds():
    spread = Distribution.of_seconds([0.004, 0.001, 0.003, 0.002, 0.005])
    assert spread.count == 5
    assert (spread.p50, spread.max) == pytest.approx((3.0, 5.0))
    assert math.isnan(Distribution.of_seconds([]).p99)


# --- offered load --------------------------------------------------------------------------

def test_offered_deliveries_count_every_member_including_the_author():
    # s1: 4 rooms x 10 senders x 8 msg/s, each message to 50 members.
    assert offered_deliveries_per_second(rooms=4, senders=10, rate=8, members=50) == 16_000
    assert rate_for_offered(offered=16_000, rooms=4, senders=10, members=50) == 8


def test_no_senders_cannot_offer_anything():
    with pytest.raises(ValueError, match="no senders"):
        rate_for_offered(offered=100, rooms=4, senders=0, members=50)


def test_ratio_is_nan_without_a_denominator():
    assert ratio(3, 2) == 1.5
    assert math.isnan(ratio(3, 0))
    assert math.isnan(ratio(math.nan, 2))


# --- bodies --------------------------------------------------------------------------------

@pytest.mark.parametrize("length", [10, 11, 37, 300, 2000])
def test_bodies_have_exactly_the_length_asked(length):
    generator = BodyGenerator(length, seed=length)
    assert {len(generator.next_body()) for _ in range(200)} == {length}


def test_bodies_are_distinct_benign_and_pass_screening_untouched():
    generator = BodyGenerator(300, seed=3)
    bodies = [generator.next_body() for _ in range(1000)]
    assert len(set(bodies)) == len(bodies)
    recent: tuple[str, ...] = ()
    for body in bodies:
        assert not re.search(r"[0-9@/:]|www|\bat\b|\bdot\b", body), body
        assert body[0].isupper() and body.endswith("."), body
        assert screen_message(text=body, context=ScreeningContext(recent_bodies=recent)) == []
        recent = (*recent[-4:], body)


def test_bodies_shorter_than_a_sentence_are_refused():
    with pytest.raises(ValueError, match="at least 10"):
        BodyGenerator(9)


# --- presets and options --------------------------------------------------------------------

def test_s1_preset():
    options = resolve_options(["--scenario", "s1"])
    assert (options.rooms, options.members, options.senders, options.body_chars) == (
        4, 50, 10, 300)
    assert (options.workers, options.layer, options.duration) == (1, "memory", 20)
    assert (options.rate, options.offered) == (8, 16_000)
    assert options.targets == ("hearth", "reference")
    assert not options.check


def test_s2_preset_is_five_thousand_idle_members_held_past_a_heartbeat():
    options = resolve_options(["--scenario", "s2"])
    assert (options.connections, options.rooms, options.senders) == (5000, 100, 0)
    assert not options.has_load
    assert options.heartbeat_seconds is not None
    assert options.hold > options.heartbeat_seconds
    assert options.sessions == "direct"


def test_s3_and_s4_presets_use_redis():
    burst = resolve_options(["--scenario", "s3", *REDIS])
    assert (burst.connections, burst.layer, burst.workers) == (1000, "redis", 1)
    split = resolve_options(["--scenario", "s4", *REDIS])
    assert (split.workers, split.layer, split.offered, split.rate) == (2, "redis", 16_000, 8)


def test_smoke_is_small_short_checked_and_hearth_only():
    options = resolve_options(["--scenario", "s1", "--smoke"])
    assert options.check and options.smoke
    assert options.connections <= 20 and options.duration <= 10
    assert options.offered <= 100
    assert options.targets == ("hearth",)
    assert resolve_options(["--scenario", "s3", "--smoke", *REDIS]).connections == 100


def test_options_override_the_preset():
    # Fewer rooms: the offered load stays, so each sender sends faster.
    options = resolve_options(["--scenario", "s1", "--rooms", "2", "--target", "reference"])
    assert (options.rooms, options.rate, options.offered) == (2, 16, 16_000)
    assert options.targets == ("reference",)
    # A rate given: the offered load follows from it.
    options = resolve_options(["--scenario", "s1", "--rate", "3"])
    assert options.offered == 4 * 10 * 3 * 50
    # An offered load given on top of a smoke preset's rate.
    options = resolve_options(["--scenario", "s1", "--smoke", "--offered", "400"])
    assert options.rate == pytest.approx(400 / (2 * 2 * 10))


def test_cpu_lists():
    assert parse_cpus("0-2,5") == frozenset({0, 1, 2, 5})
    assert parse_cpus("1") == frozenset({1})
    assert parse_cpus("none") is None


@pytest.mark.parametrize(("argv", "message"), [
    (["--scenario", "s9"], "invalid choice: 's9'"),
    (["--members", "0"], "must be at least 1"),
    (["--rate", "fast"], "not a number: 'fast'"),
    (["--rate", "2", "--offered", "100"], "give --rate or --offered, not both"),
    (["--workers", "2"], "in-memory channel layer works within one process only"),
    (["--senders", "60"], "cannot exceed --members"),
    (["--body-chars", "5000"], "--body-chars must be within 10..2000"),
    (["--server-cpus", "zero"], "not a CPU list"),
    (["--server-cpus", "4096"], "CPU 4096 is not available"),
    (["--layer", "redis", "--redis-url", ""], "--layer redis needs --redis-url"),
    (["--database", "postgres"], "--database postgres needs --postgres-url"),
    (["--duration", "0"], "senders need a --duration above 0"),
])
def test_bad_options_are_clear_argparse_errors(argv, message, capsys, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(SystemExit) as exited:
        resolve_options(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_each_targets_scenario_line_names_the_server_it_ran_on():
    options = resolve_options(["--scenario", "s1"])
    assert "1 worker (uvicorn)" in options.describe()
    assert "1 worker (daphne)" in options.describe("reference")
    other = resolve_options(["--scenario", "s1", "--reference-server", "uvicorn",
                           "--server", "daphne"])
    assert "(daphne)" in other.describe("hearth") and "(uvicorn)" in other.describe("reference")
