"""hearth/address_limits.py: per-address buckets in memory, and which address counts."""

from __future__ import annotations

import pytest

from hearth import address_limits
from hearth.address_limits import AddressLimit, client_address, take_new_session


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_address_is_refused_after_its_limit_and_others_are_not():
    clock = FakeClock()
    limit = AddressLimit(limit=3, window_seconds=60, clock=clock)
    assert [limit.take("198.51.100.1") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limit.take("198.51.100.1") == pytest.approx(20.0)
    assert limit.take("198.51.100.2") == 0.0
    clock.now = 20.0  # one more refilled: 3 per 60 s
    assert limit.take("198.51.100.1") == 0.0


def test_the_table_of_addresses_is_bounded(monkeypatch):
    monkeypatch.setattr(address_limits, "MAX_ADDRESSES", 2)
    limit = AddressLimit(limit=1, window_seconds=60, clock=FakeClock())
    limit.take("198.51.100.1")
    limit.take("198.51.100.2")
    limit.take("198.51.100.3")  # pushes .1 out: it starts afresh
    assert limit.take("198.51.100.1") == 0.0


def test_a_trusted_proxy_forwarding_no_address_is_no_client(settings):
    settings.HEARTH_TRUSTED_PROXIES = ["127.0.0.1", "::1", "10.0.0.0/8"]
    assert client_address("127.0.0.1") is None
    assert client_address("10.1.2.3") is None
    assert client_address(None) is None
    assert client_address("198.51.100.1") == "198.51.100.1"
    settings.HEARTH_TRUSTED_PROXIES = []
    assert client_address("127.0.0.1") == "127.0.0.1"


def test_a_limit_of_zero_is_off(settings):
    settings.HEARTH_NEW_SESSIONS_PER_ADDRESS = 0
    assert all(take_new_session("198.51.100.9") == 0.0 for _ in range(100))
