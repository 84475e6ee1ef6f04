"""TimedCache: load once, keep for the configured seconds, forget on demand."""

import pytest

from hearth.hotcache import TimedCache, forget_everything


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr("hearth.hotcache.time.monotonic", fake)
    return fake


def counting_cache(name: str = "test") -> tuple[TimedCache[int, str], list[int]]:
    loads: list[int] = []

    def load(key: int) -> str:
        loads.append(key)
        return f"value-{key}-{len(loads)}"

    return TimedCache(name, load), loads


def test_a_value_is_loaded_once_while_fresh_and_again_after(settings, clock):
    settings.HEARTH_HOT_CACHE_SECONDS = 2.0
    cache, loads = counting_cache()
    assert cache.get(1) == "value-1-1"
    clock.now += 1.9
    assert cache.get(1) == "value-1-1"
    clock.now += 0.2
    assert cache.get(1) == "value-1-2"
    assert loads == [1, 1]


def test_forget_one_key_or_all(settings, clock):
    settings.HEARTH_HOT_CACHE_SECONDS = 60.0
    cache, loads = counting_cache()
    cache.get(1)
    cache.get(2)
    cache.forget(1)
    cache.get(1)
    cache.get(2)
    assert loads == [1, 2, 1]
    forget_everything()
    assert len(cache) == 0


def test_peek_never_loads_and_sees_only_fresh_values(settings, clock):
    settings.HEARTH_HOT_CACHE_SECONDS = 1.0
    cache, loads = counting_cache()
    assert cache.peek(5) is None
    cache.put(5, "five")
    assert cache.peek(5) == "five"
    clock.now += 1.5
    assert cache.peek(5) is None
    assert loads == []


def test_zero_seconds_means_always_read_again(settings, clock):
    settings.HEARTH_HOT_CACHE_SECONDS = 0.0
    cache, loads = counting_cache()
    cache.get(1)
    cache.get(1)
    assert loads == [1, 1]


def test_expired_entries_are_swept_when_the_cache_grows(settings, clock, monkeypatch):
    settings.HEARTH_HOT_CACHE_SECONDS = 1.0
    monkeypatch.setattr("hearth.hotcache._SWEEP_AT", 10)
    cache, _loads = counting_cache()
    for key in range(10):
        cache.get(key)
    clock.now += 5
    cache.get(99)
    assert len(cache) == 1


def test_forget_where_drops_only_the_keys_it_picks(settings, clock):
    settings.HEARTH_HOT_CACHE_SECONDS = 60.0
    pairs: TimedCache[tuple[int, int], str] = TimedCache("pairs", lambda key: f"{key}")
    for key in [(1, 10), (1, 11), (2, 10)]:
        pairs.get(key)
    pairs.forget_where(lambda key: key[0] == 1)
    assert len(pairs) == 1 and pairs.peek((2, 10)) == "(2, 10)"


def test_is_fresh_counts_a_cached_none_and_not_an_expired_value(settings, clock):
    settings.HEARTH_HOT_CACHE_SECONDS = 2.0
    cache: TimedCache[int, str | None] = TimedCache("fresh", lambda key: None)
    assert not cache.is_fresh(1)
    assert cache.get(1) is None
    assert cache.is_fresh(1)  # "nothing there" is an answer too
    clock.now += 2.1
    assert not cache.is_fresh(1)
