"""The learned detector's counters, from each Hearth worker's /readyz (`screening_model`, see
moderation/model_reader.py: `state`, `read`, `seconds_total`, `over_backlog`, `failed`), read
before and after the load: how many messages it read meanwhile, and its time per message.

`seconds_total` is the reader thread's own clock around each batch (time.perf_counter in the
worker), so on a busy core it includes time the thread waited for the CPU.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bench.fanout.stats import ratio

READY = "ready"  # moderation.model_reader.ModelState.READY
NOT_REPORTED = "not reported"  # no /readyz, or one without `screening_model` (older checkouts)
# The model reads each message after it is delivered, so when the last delivery arrives it may
# still be reading: after the drain the benchmark waits this long at most for it to finish.
CATCH_UP_SECONDS = 10.0

Status = dict[str, Any] | None


def status_from_readyz(body: bytes) -> Status:
    """/readyz's `screening_model`, or None when the answer has none."""
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    status = payload.get("screening_model") if isinstance(payload, dict) else None
    return status if isinstance(status, dict) else None


def any_ready(statuses: Sequence[Status]) -> bool:
    return any(status is not None and status.get("state") == READY for status in statuses)


def handled_since(before: Sequence[Status], after: Sequence[Status]) -> int:
    """Messages the workers' models dealt with between the readings: read, or passed over
    because the backlog was full."""
    return sum(_delta(b, a, "read") + _delta(b, a, "over_backlog")
               for b, a in zip(before, after, strict=True) if b is not None and a is not None)


def model_figures(before: Sequence[Status], after: Sequence[Status],
                  stored: int) -> dict[str, Any]:
    """--json's `screening_model`: per worker and in all. `stored` is the messages the load
    (and the crisis probe) stored, each of which a ready model reads once."""
    per_worker: list[dict[str, Any]] = []
    for b, a in zip(before, after, strict=True):
        latest = a if a is not None else b
        worker: dict[str, Any] = {"state": str(latest.get("state")) if latest else NOT_REPORTED,
                                  "reason": str(latest.get("reason", "")) if latest else ""}
        if a is not None and b is not None:
            worker.update({key: _delta(b, a, key)
                           for key in ("read", "seconds_total", "over_backlog", "failed")})
        per_worker.append(worker)
    reported = [w for w in per_worker if "read" in w]
    read = sum(w["read"] for w in reported)
    seconds = sum(w["seconds_total"] for w in reported)
    over_backlog = sum(w["over_backlog"] for w in reported)
    states = [w["state"] for w in per_worker]
    return {
        "state": states[0] if len(set(states)) == 1 else " + ".join(states),
        "reason": next((w["reason"] for w in per_worker if w["reason"]), ""),
        "read": read,
        "seconds_total": seconds,
        "seconds_per_read": ratio(seconds, read),
        "over_backlog": over_backlog,
        "failed": sum(w["failed"] for w in reported),
        "stored_messages": stored,
        # Stored but not read when the counters were read after the load (a ready model).
        "behind": max(0, stored - read - over_backlog) if any_ready(after) else None,
        "per_worker": per_worker,
    }


def _delta(before: dict[str, Any], after: dict[str, Any], key: str) -> Any:
    return (after.get(key) or 0) - (before.get(key) or 0)
