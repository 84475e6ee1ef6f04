"""The pages' scripts' own unit tests (tests/frontend/js/*.test.mjs), run by node's test
runner: the delivery logic (seq gaps, resume, the outbox) without a browser."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]


def test_the_scripts_unit_tests_pass() -> None:
    node = shutil.which("node")
    if node is None:
        skip_or_fail("node is not installed; the scripts' unit tests need it")
    done = subprocess.run([str(node), "--test", "tests/frontend/js/"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout and "# pass 0" not in done.stdout
