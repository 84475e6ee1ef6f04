"""Shared test set-up.

Unit tests always use the in-memory channel layer, whatever REDIS_URL says; system tests start
real servers and hand them REDIS_URL / DATABASE_URL themselves (tests/system/servers.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from channels.layers import channel_layers

IN_CI = os.environ.get("CI", "").lower() == "true"

IN_MEMORY_LAYER = {
    "default": {"BACKEND": "channels.layers.InMemoryChannelLayer",
                "CONFIG": {"capacity": 1000, "expiry": 60}},
}


def skip_or_fail(reason: str) -> None:
    """Skip a test that needs something this machine lacks; in CI that is a failure."""
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def require_env(name: str, purpose: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        skip_or_fail(f"{name} is not set; {purpose}")
    return value


@pytest.fixture(autouse=True)
def _in_memory_channel_layer(settings) -> Iterator[None]:
    settings.CHANNEL_LAYERS = IN_MEMORY_LAYER
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()
