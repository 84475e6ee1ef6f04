"""What Hearth takes from other packages' insides, checked against the installed versions, so
that an upgrade that moves them fails here, by name, rather than in production as a Redis
outage that closes every socket or a fan-out that quietly slows down.

The versions are bounded in pyproject.toml; raise a bound after this file passes on the new
release (and the chaos and fan-out benchmarks say the same as before)."""

from __future__ import annotations

import functools
import inspect
from typing import Any

from autobahn.websocket.protocol import WebSocketProtocol
from channels.layers import InMemoryChannelLayer
from channels_redis import core, pubsub
from daphne.ws_protocol import WebSocketProtocol as DaphneWebSocketProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from hearth.direct_frames import _writes_like_autobahn, _writes_like_uvicorn_sans_io


def _parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_channels_redis_still_has_what_the_outage_tolerant_layers_override_and_call():
    # hearth/channel_layer.py
    assert _parameters(core.RedisChannelLayer._clean_receive_backup) == [
        "self", "index", "channel"]
    assert _parameters(pubsub._wrap_close) == ["proxy", "loop"]
    assert callable(pubsub.RedisPubSubLoopLayer._get_shard)
    assert "channel_layer" in _parameters(pubsub.RedisPubSubLoopLayer.__init__)
    layer = pubsub.RedisPubSubChannelLayer(hosts=["redis://127.0.0.1:1/0"])
    assert isinstance(layer._layers, dict)
    assert isinstance(layer._args, tuple) and isinstance(layer._kwargs, dict)


def test_channels_in_memory_layer_still_sweeps_with_clean_expired():
    assert _parameters(InMemoryChannelLayer._clean_expired) == ["self"]


def test_uvicorns_sans_io_connection_still_sets_what_direct_writes_use():
    # hearth/direct_frames.py writes frames to uvicorn's connection itself.
    source = inspect.getsource(WebSocketsSansIOProtocol.__init__)
    for attribute in ("self.conn", "self.transport", "self.close_sent"):
        assert attribute in source, attribute
    assert callable(WebSocketsSansIOProtocol.send)  # the ASGI send whose __self__ is found


def test_the_capability_checks_accept_daphnes_connection_class():
    assert callable(WebSocketProtocol.sendPreparedMessage)
    assert hasattr(WebSocketProtocol, "STATE_OPEN")
    assert issubclass(DaphneWebSocketProtocol, WebSocketProtocol)
    assert callable(DaphneWebSocketProtocol.handle_reply)

    class Factory:
        def prepareMessage(self, payload: bytes) -> Any:  # noqa: N802
            return payload

    connection = DaphneWebSocketProtocol.__new__(DaphneWebSocketProtocol)
    connection.state = WebSocketProtocol.STATE_OPEN
    connection.factory = Factory()
    assert _writes_like_autobahn(connection)
    assert _writes_like_autobahn(functools.partial(lambda: None)) is False


def test_the_capability_checks_accept_uvicorns_connection_shape():
    class Transport:
        def write(self, data: bytes) -> None: ...

        def is_closing(self) -> bool:
            return False

    protocol = WebSocketsSansIOProtocol.__new__(WebSocketsSansIOProtocol)
    protocol.close_sent = False
    protocol.transport = Transport()  # type: ignore[assignment]
    from websockets.server import ServerProtocol

    protocol.conn = ServerProtocol()
    assert _writes_like_uvicorn_sans_io(protocol)
