"""Per-process caches for what every message post reads: the room's screening policy, its
rules version, who accepted which version, and who is under a sanction.

A post used to read each of these from the database, which cost more than screening and
storing the message together. Each value is kept for at most `HEARTH_HOT_CACHE_SECONDS`
(default 2 s). A change made in this process forgets the value at once; a change made in
another worker reaches this one through the live event it sends (rules changed, a sanction
notice) and, if that event is lost, when the value expires. docs/operations.md says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from django.conf import settings

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# Past this many entries, expired ones are swept on the next store.
_SWEEP_AT = 10_000
_ALL: list[TimedCache[object, object]] = []


class TimedCache(Generic[K, V]):
    """Values loaded on first use and kept for the configured seconds."""

    def __init__(self, name: str, load: Callable[[K], V]) -> None:
        self.name = name
        self._load = load
        self._values: dict[K, tuple[float, V]] = {}
        _ALL.append(self)  # type: ignore[arg-type]

    def get(self, key: K) -> V:
        hit = self._values.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        value = self._load(key)
        self.put(key, value)
        return value

    def peek(self, key: K) -> V | None:
        """The cached value if it is still fresh; never loads."""
        hit = self._values.get(key)
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def is_fresh(self, key: K) -> bool:
        """Whether a value is cached and not expired (a cached None counts)."""
        hit = self._values.get(key)
        return hit is not None and hit[0] > time.monotonic()

    def put(self, key: K, value: V) -> None:
        now = time.monotonic()
        if len(self._values) >= _SWEEP_AT:
            self._values = {k: hit for k, hit in self._values.items() if hit[0] > now}
        self._values[key] = (now + settings.HEARTH_HOT_CACHE_SECONDS, value)

    def forget(self, key: K | None = None) -> None:
        if key is None:
            self._values.clear()
        else:
            self._values.pop(key, None)

    def forget_where(self, matches: Callable[[K], bool]) -> None:
        """Forget every key `matches` picks (say, one member's entries in every room)."""
        for key in [k for k in self._values if matches(k)]:
            del self._values[key]

    def __len__(self) -> int:
        return len(self._values)


def forget_everything() -> None:
    """Drop every cached value (tests start each case from the database)."""
    for cache in _ALL:
        cache.forget()
