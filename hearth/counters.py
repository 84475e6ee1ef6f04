"""The metrics counted as things happen in this process (hearth/metrics.py serves them with
the ones read at scrape time). A kernel module: the features that count (escalations, the
fallback, the watcher) import this, never the collectors above them.

Privacy: no label ever holds an address, an email, a handle or words.
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram

ACKNOWLEDGE_SECONDS = Histogram(
    "hearth_escalation_acknowledge_seconds",
    "Seconds from an escalation being raised to a staff member acknowledging it "
    "(acknowledgements recorded by this worker).",
    buckets=(5, 15, 30, 60, 120, 300, 600, 1800, 3600, float("inf")))
FALLBACK_SENDS = Counter(
    "hearth_fallback_sends",
    "Attempts of the operator's fallback (webhook and/or email) by this process, by outcome: "
    "success, failure (will retry) or gave_up (the last attempt failed).",
    ["outcome"])
WATCHER_LAST_RUN = Gauge(
    "hearth_watcher_last_run_timestamp_seconds",
    "Unix time this process's escalation watcher last finished a check (0: not yet).")
WATCHER_FAILURES = Counter(
    "hearth_watcher_check_failures",
    "Watcher checks in this process that raised (the next one runs as usual).")

for _outcome in ("success", "failure", "gave_up"):
    FALLBACK_SENDS.labels(outcome=_outcome)  # every series exists from the start, at 0


DIRECT_FRAMES_FALLBACKS = Counter(
    "hearth_direct_frames_fallbacks",
    "Sockets opened on a server whose connections Hearth cannot write to directly: their "
    "room frames go through the ASGI send (slower fan-out).")


def observe_acknowledged(seconds: float) -> None:
    ACKNOWLEDGE_SECONDS.observe(max(seconds, 0.0))


def note_fallback_send(outcome: str) -> None:
    FALLBACK_SENDS.labels(outcome=outcome).inc()


def note_watcher_run() -> None:
    WATCHER_LAST_RUN.set(time.time())


def note_direct_frames_fallback() -> None:
    DIRECT_FRAMES_FALLBACKS.inc()


def note_watcher_failure() -> None:
    WATCHER_FAILURES.inc()
