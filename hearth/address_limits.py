"""Per-address limits on new member sessions and socket opens, kept in memory only.

A client address is never stored or logged: it is only a key in a bounded table of token
buckets in this worker's memory, forgotten oldest first when the table is full and all at once
when the worker restarts. Each worker counts on its own, so with several workers an address
gets up to that many times the limit; the point is to blunt floods, not to meter people.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

from chat.ratelimit import TokenBucket

# Addresses remembered per limit; an address pushed out simply starts afresh.
MAX_ADDRESSES = 50_000

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[_Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False  # a unix socket path or the like: never one of the listed proxies
    return any(ip in network for network in _networks(tuple(settings.HEARTH_TRUSTED_PROXIES)))


def client_address(peer: str | None) -> str | None:
    """The address to limit by, or None when there is none.

    `peer` is the address the server gives the application (ASGI scope["client"], Django's
    REMOTE_ADDR). Under `manage.py serve` uvicorn has already replaced a trusted proxy's
    address by the one it forwarded in X-Forwarded-For (HEARTH_TRUSTED_PROXIES, and only
    then). An address that is still a trusted proxy is one that forwarded none (deploy/nginx
    forwards none on purpose): every member would share its limit, so there is none.
    """
    if not peer or is_trusted_proxy(peer):
        return None
    return peer


class AddressLimit:
    """A token bucket per address: `limit` at once, refilling over `window_seconds`."""

    def __init__(self, *, limit: int, window_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def take(self, address: str) -> float:
        """0 when this address may go on, else the seconds until it may."""
        bucket = self._buckets.pop(address, None)
        if bucket is None:
            bucket = TokenBucket(burst=self.limit,
                                 per_second=self.limit / self.window_seconds, clock=self._clock)
        self._buckets[address] = bucket  # most recently used last
        while len(self._buckets) > MAX_ADDRESSES:
            self._buckets.popitem(last=False)
        return bucket.take()


@dataclass(frozen=True)
class _LimitSetting:
    limit: int
    window_seconds: float


_limits: dict[tuple[str, _LimitSetting], AddressLimit] = {}


def _limit_for(name: str, setting: _LimitSetting) -> AddressLimit:
    # Keyed by the values too, so a test that changes the settings gets a fresh table.
    key = (name, setting)
    limit = _limits.get(key)
    if limit is None:
        limit = _limits[key] = AddressLimit(limit=setting.limit,
                                            window_seconds=setting.window_seconds)
    return limit


def _take(name: str, setting: _LimitSetting, peer: str | None) -> float:
    address = client_address(peer)
    if address is None or setting.limit == 0:
        return 0.0
    return _limit_for(name, setting).take(address)


def take_new_session(peer: str | None) -> float:
    """Spend one new member session for this client; the seconds to wait when over."""
    return _take("new_sessions", _LimitSetting(
        settings.HEARTH_NEW_SESSIONS_PER_ADDRESS,
        settings.HEARTH_NEW_SESSIONS_WINDOW_SECONDS), peer)


def take_socket_open(peer: str | None) -> float:
    """Spend one socket open for this client; the seconds to wait when over."""
    return _take("socket_opens", _LimitSetting(
        settings.HEARTH_SOCKET_OPENS_PER_ADDRESS,
        settings.HEARTH_SOCKET_OPENS_WINDOW_SECONDS), peer)
