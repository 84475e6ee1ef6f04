"""The protocol fuzzer's smoke run against a real worker (bench/fuzz.py): 500 fuzzed frames,
then no handler crash, no seat left behind, presence equal to the sockets open. Correctness
only, never timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.system

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_500_fuzzed_frames_crash_nothing_and_leave_no_ghosts(tmp_path):
    report_path = tmp_path / "fuzz.json"
    args = ["--frames", "500", "--sockets", "5", "--seed", "7", "--json", str(report_path),
            "--work-dir", str(tmp_path / "work")]
    # Like the system tests: PostgreSQL when DATABASE_URL points at one (a scratch database).
    database = os.environ.get("DATABASE_URL", "")
    if database.startswith(("postgres://", "postgresql://")):
        args += ["--postgres-url", database]
    env = {**os.environ, "HEARTH_STATE_DIR": str(tmp_path / "state")}
    done = subprocess.run([sys.executable, "-m", "bench.fuzz", *args], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    report = json.loads(report_path.read_text())
    assert report["ok"] is True
    assert report["frames_sent"] == 500
    assert (report["crashes"], report["crash_lines"]) == (0, [])
    assert report["seat_rows_after_close"] == 0
    assert report["seat_rows_while_open"] == report["presence_while_open"] == 5
    # The fuzz reached the handlers: bad frames were refused, valid ones answered.
    assert report["error_codes"].get("malformed_json", 0) > 0
    assert report["error_codes"].get("binary_not_supported", 0) > 0
    assert report["answers"].get("ack", 0) + report["answers"].get("muted", 0) > 0
    assert "internal_error" not in report["error_codes"]

