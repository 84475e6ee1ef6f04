"""The fan-out benchmark's smoke run against real servers: s1 at low load on the in-memory
layer (also with the crisis probe), s3 (100 connects at once) on Redis, and s4 (two workers
sharing Redis). Correctness only, never timing: no delivery lost, duplicated or out of order,
no refused send, no failed connect, no missing support card (bench/fanout)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_env

pytestmark = pytest.mark.system

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _smoke(tmp_path: Path, *args: str, model: bool = False) -> dict[str, Any]:
    report = tmp_path / "report.json"
    env = {**os.environ, "HEARTH_STATE_DIR": str(tmp_path / "state"),
           "HEARTH_SCREENING_MODEL": "true" if model else "false"}
    # Like the system tests: PostgreSQL when DATABASE_URL points at one (a scratch database).
    database = os.environ.get("DATABASE_URL", "")
    if database.startswith(("postgres://", "postgresql://")):
        args = (*args, "--database", "postgres", "--postgres-url", database)
    done = subprocess.run(
        [sys.executable, "-m", "bench.fanout", "--smoke", "--json", str(report), *args],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    figures: dict[str, Any] = json.loads(report.read_text())["targets"]["hearth"]
    assert figures["failures"] == [], figures["failures"]
    assert figures["connect"]["failures"] == 0
    assert figures["closed_early"] == 0
    return figures


def test_s1_smoke_delivers_everything_once_and_in_order(tmp_path):
    figures = _smoke(tmp_path, "--scenario", "s1", "--layer", "memory", "--redis-url", "")
    load = figures["load"]
    assert load["sent"] > 0 and load["acked"] == load["sent"]
    assert load["delivered"] == load["expected_deliveries"] > 0
    assert (load["lost"], load["duplicates"], load["out_of_order"]) == (0, 0, 0)
    assert (load["refused"], load["unacked"], load["acked_not_visible"]) == (0, 0, 0)


def test_s1_smoke_with_the_crisis_probe_brings_every_card_outside_the_fan_out(tmp_path):
    figures = _smoke(tmp_path, "--scenario", "s1", "--layer", "memory", "--redis-url", "",
                     "--crisis-probe", "2", model=True)
    probe, load = figures["crisis_probe"], figures["load"]
    assert probe["sent"] > 0 and probe["acked"] == probe["sent"]
    assert (probe["cards"], probe["missing"]) == (probe["sent"], 0)
    assert set(probe["card_tiers"]) <= {"high_risk", "imminent"}
    assert figures["screening_model"]["state"] == "ready"
    assert figures["screening_model"]["read"] > 0
    # The probe's room is its own: the fan-out owes and counts only its rooms' messages
    # (the smoke's rooms have 10 members each).
    assert load["delivered"] == load["expected_deliveries"] == load["acked"] * 10
    assert (load["lost"], load["duplicates"], load["unknown_messages"]) == (0, 0, 0)


def test_s3_smoke_welcomes_every_burst_connect(tmp_path):
    redis_url = require_env("REDIS_URL", "the s3 smoke needs a real Redis server")
    figures = _smoke(tmp_path, "--scenario", "s3", "--redis-url", redis_url)
    assert figures["connect"]["welcomed"] == figures["connect"]["sockets"] == 100
    assert figures["hold"]["open_after"] == 100


def test_s4_smoke_two_workers_on_redis_deliver_everything_once_and_in_room_order(tmp_path):
    redis_url = require_env("REDIS_URL", "the s4 smoke needs a real Redis server")
    figures = _smoke(tmp_path, "--scenario", "s4", "--redis-url", redis_url)
    load = figures["load"]
    assert load["sent"] > 0 and load["acked"] == load["sent"]
    assert load["delivered"] == load["expected_deliveries"] > 0
    assert (load["lost"], load["duplicates"], load["out_of_order"]) == (0, 0, 0)
