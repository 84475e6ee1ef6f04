"""Pure arithmetic of the benchmark: percentiles and offered load."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) of already sorted values, interpolating between ranks
    (numpy's default); NaN for no values."""
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100, got {p}")
    if not sorted_values:
        return math.nan
    rank = (len(sorted_values) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


@dataclass(frozen=True)
class Distribution:
    """Milliseconds, from samples in seconds."""

    count: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of_seconds(cls, samples: Sequence[float]) -> Distribution:
        ordered = sorted(samples)
        return cls(count=len(ordered), p50=percentile(ordered, 50) * 1000,
                   p95=percentile(ordered, 95) * 1000, p99=percentile(ordered, 99) * 1000,
                   max=(ordered[-1] * 1000) if ordered else math.nan)

    def as_dict(self) -> dict[str, float]:
        return {"count": self.count, "p50": self.p50, "p95": self.p95, "p99": self.p99,
                "max": self.max}


def offered_deliveries_per_second(*, rooms: int, senders: int, rate: float,
                                  members: int) -> float:
    """Every member of a room, the author included, receives each message once."""
    return rooms * senders * rate * members


def rate_for_offered(*, offered: float, rooms: int, senders: int, members: int) -> float:
    """Messages per second per sender that offer `offered` deliveries per second."""
    if rooms * senders * members == 0:
        raise ValueError("no senders: nothing can be offered")
    return offered / (rooms * senders * members)


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN when either is missing or the denominator is zero."""
    if denominator == 0 or math.isnan(numerator) or math.isnan(denominator):
        return math.nan
    return numerator / denominator
