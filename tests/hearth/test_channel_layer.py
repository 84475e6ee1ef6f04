"""The embedded (in-memory) channel layer sweeps for expired entries at most once a second."""

from __future__ import annotations

import time

import pytest

from hearth.channel_layer import EmbeddedChannelLayer

pytestmark = pytest.mark.asyncio


async def test_expired_messages_go_on_the_next_sweep_not_on_every_call(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("hearth.channel_layer.time.monotonic", lambda: clock[0])
    layer = EmbeddedChannelLayer(expiry=60, capacity=10)
    await layer.send("a-channel", {"type": "x"})
    await layer.send("b-channel", {"type": "y"})
    layer._clean_expired()  # the sweep of time 1000: nothing has expired yet
    assert set(layer.channels) == {"a-channel", "b-channel"}
    later = time.time() + 120  # every message has expired by then
    monkeypatch.setattr("channels.layers.time.time", lambda: later)
    clock[0] += 0.5
    layer._clean_expired()
    assert "a-channel" in layer.channels  # within the second: no sweep
    clock[0] += 0.6
    layer._clean_expired()
    assert "a-channel" not in layer.channels and "b-channel" not in layer.channels
