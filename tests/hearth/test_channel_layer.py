"""Hearth's channel layers: the embedded one sweeps for expired entries at most once a second;
the pub/sub one lets sockets open while Redis is down, and says so in one line."""

from __future__ import annotations

import time

from hearth.channel_layer import EmbeddedChannelLayer


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


async def test_a_socket_channel_opens_while_redis_is_down_and_keeps_trying(caplog):
    from hearth.channel_layer import OutageTolerantPubSubChannelLayer

    layer = OutageTolerantPubSubChannelLayer(hosts=[{"address": "redis://127.0.0.1:1/0"}])
    channel = await layer.new_channel()  # nothing listens on port 1
    assert channel.startswith("asgi") or "specific." in channel
    loop_layer = layer._get_layer()
    assert channel in loop_layer.channels  # the socket can open and wait for frames
    assert "subscribing later" in caplog.text
    del loop_layer.channels[channel]  # the socket closed: the retries stop


def test_the_pubsub_layers_outage_errors_are_one_line_not_a_traceback(caplog):
    import logging

    import hearth.channel_layer  # noqa: F401  (installs the filter)

    try:
        raise ConnectionError("Redis is down")
    except ConnectionError:
        logging.getLogger("channels_redis.pubsub").exception("Unexpected exception in receive")
    [record] = [r for r in caplog.records if r.name == "channels_redis.pubsub"]
    assert record.levelname == "WARNING" and record.exc_info is None
    assert record.getMessage() == "Unexpected exception in receive: ConnectionError"
