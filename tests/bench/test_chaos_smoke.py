"""The chaos run's smoke (bench/chaos): two workers, two members each, a few seconds per phase,
the kill -9 and Redis faults against a private Redis and a private PostgreSQL. Fails only on an
acknowledged message lost (or a run that could not measure), never on timing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.chaos.client import Member, Received, Sent
from bench.chaos.network import netns_unavailable
from bench.chaos.run import Phase, phase_figures

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _can_run_chaos() -> bool:
    return bool(shutil.which("redis-server")) and any(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"))


@pytest.mark.system
@pytest.mark.skipif(not _can_run_chaos() and os.environ.get("CI") != "true",
                    reason="needs redis-server and PostgreSQL's server programs")
def test_chaos_smoke_loses_no_acknowledged_message(tmp_path):
    phases = _run_chaos(tmp_path, "--faults", "kill9,redis", "--redis-outage", "3")
    assert [phase["fault"] for phase in phases] == ["kill9", "redis"]
    for phase in phases:
        assert phase["acked"] > 0, phase
        assert phase["acked_lost_messages"] == 0, phase


def _run_chaos(tmp_path: Path, *args: str) -> list[dict[str, Any]]:
    """Two members per worker, 5 s phases; the figures of each phase. Fails on exit status 1
    (an acknowledged message lost) or a run that could not measure."""
    report = tmp_path / "chaos.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.chaos", "--duration", "5", "--members", "2", *args,
         "--json", str(report)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=280, check=False,
        env={**os.environ, "HEARTH_STATE_DIR": str(tmp_path / "state")})
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    phases: list[dict[str, Any]] = json.loads(report.read_text())["phases"]
    return phases


@pytest.mark.system
@pytest.mark.skipif(netns_unavailable() is not None and os.environ.get("CI") != "true",
                    reason=f"{netns_unavailable()}")
@pytest.mark.skipif(not _can_run_chaos() and os.environ.get("CI") != "true",
                    reason="needs redis-server and PostgreSQL's server programs")
def test_chaos_smoke_netsplit_loses_no_acknowledged_message(tmp_path):
    """Workers in two network namespaces, Redis and PostgreSQL in a third; worker 1's link cut
    for 3 s. The namespaces go with the run."""
    namespaces_before = _namespaces()
    (phase,) = _run_chaos(tmp_path, "--faults", "netsplit", "--cut-seconds", "3")
    assert phase["fault"] == "netsplit"
    assert phase["acked"] > 0, phase
    assert phase["acked_lost_messages"] == 0, phase
    assert _namespaces() == namespaces_before


def _namespaces() -> set[str]:
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                            check=True).stdout
    return {line.split()[0] for line in listed.splitlines() if line.strip()}


def _member(index: int, worker: int) -> Member:
    return Member(index=index, worker=worker, slug="room", port=1, cookie="c", heartbeat=1.0)


def test_figures_count_an_acked_message_a_member_never_got_as_lost():
    members = [_member(0, 0), _member(1, 1)]
    phase = Phase(fault="kill9", started=0.0, send_ended=10.0)
    phase.sent = [Sent("a", sender=0, sent_at=1.0, acked_at=1.1, seq=1),
                  Sent("b", sender=1, sent_at=2.0, acked_at=2.1, seq=2),
                  Sent("c", sender=1, sent_at=3.0)]  # never acked: not a loss
    members[1].send_times = [2.0, 3.0]
    for member in members:
        member.received[1] = Received(1, "a", 1.2)
    members[1].received[2] = Received(2, "b", 2.2)
    figures = phase_figures(phase, members)
    assert (figures["acked"], figures["unacked"]) == (2, 1)
    assert (figures["acked_lost_messages"], figures["acked_lost_deliveries"]) == (1, 1)
    # Member 0 heard nothing from the other worker all phase, while it sent at 2 s and 3 s;
    # its own message does not count.
    assert figures["members"][0]["deaf_cross_worker"] == pytest.approx(10.0)
    assert figures["members"][0]["deaf_same_worker"] == 0.0  # nobody else on its worker


def test_figures_count_a_retry_stored_under_a_second_seq_as_a_duplicate():
    members = [_member(0, 0)]
    phase = Phase(fault="redis", started=0.0, send_ended=5.0)
    phase.sent = [Sent("a", sender=0, sent_at=1.0, acked_at=1.1, seq=1)]
    members[0].ids_seen["a"] = {1, 2}
    assert phase_figures(phase, members)["duplicates"] == 1
