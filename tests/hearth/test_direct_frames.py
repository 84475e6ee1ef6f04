"""Frames framed once for many sockets (hearth/direct_frames.py)."""

from __future__ import annotations

import functools
import logging
from typing import Any

import pytest
from websockets.frames import Opcode
from websockets.protocol import State
from websockets.streams import StreamReader

from hearth import counters
from hearth.direct_frames import (
    SCOPE_KEY,
    ExposeDirectSocket,
    PreparedFrame,
    _FallbackNotice,
    _UvicornSansIO,
    direct_socket_for,
    write_prepared,
)


def _parse(wire: bytes) -> tuple[Opcode, bool, bytes]:
    from websockets.frames import Frame

    reader = StreamReader()
    reader.feed_data(wire)
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        frame = done.value
        return frame.opcode, frame.fin, frame.data
    raise AssertionError("incomplete frame")


@pytest.mark.parametrize("length", [0, 1, 125, 126, 300, 65535, 65536, 200_000])
def test_the_wire_frame_is_a_final_unmasked_text_frame_of_the_exact_text(length):
    text = ("é" + "x" * length)[:length] if length else ""
    opcode, fin, data = _parse(PreparedFrame(text).wire())
    assert (opcode, fin, data.decode("utf-8")) == (Opcode.TEXT, True, text)


def test_a_frame_is_framed_once_per_kind_of_connection():
    calls: list[bytes] = []

    class Factory:
        def prepareMessage(self, payload: bytes) -> tuple[str, bytes]:  # noqa: N802
            calls.append(payload)
            return ("prepared", payload)

    frame, first, second = PreparedFrame("hello"), Factory(), Factory()
    assert frame.autobahn_message(first) is frame.autobahn_message(first)
    frame.autobahn_message(second)
    assert calls == [b"hello", b"hello"]
    assert frame.wire() is frame.wire()


class _Transport:
    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closing


class _Conn:
    def __init__(self) -> None:
        self.state = State.OPEN
        self.extensions: list[Any] = []


class SansIOConnection:  # what uvicorn's sans-I/O protocol offers, under another name
    def __init__(self) -> None:
        self.transport, self.conn, self.close_sent = _Transport(), _Conn(), False

    async def send(self, message: dict[str, Any]) -> None:
        raise AssertionError("not called")


def test_an_open_plain_connection_gets_the_bytes_and_any_other_falls_back():
    frame = PreparedFrame("hi")
    protocol = SansIOConnection()
    socket = _UvicornSansIO(protocol)
    assert write_prepared(socket, frame) and protocol.transport.written == [frame.wire()]
    protocol.conn.extensions = ["permessage-deflate"]
    assert not write_prepared(socket, frame)
    protocol.conn.extensions = []
    protocol.conn.state = State.CLOSING
    assert not write_prepared(socket, frame)
    protocol.conn.state = State.OPEN
    protocol.close_sent = True
    assert not write_prepared(socket, frame)
    protocol.close_sent, protocol.transport.closing = False, True
    assert not write_prepared(socket, frame)
    assert len(protocol.transport.written) == 1
    assert not write_prepared(None, frame)


def test_a_connection_is_written_to_directly_only_when_it_can_do_what_the_writes_use():
    async def plain_send(message: dict[str, Any]) -> None:
        return None

    def handle_reply(protocol: Any, message: dict[str, Any]) -> None:
        return None

    assert isinstance(direct_socket_for(SansIOConnection().send), _UvicornSansIO)
    changed = SansIOConnection()
    del changed.conn.extensions  # a server whose internals moved on
    assert direct_socket_for(changed.send) is None
    assert direct_socket_for(plain_send) is None
    assert direct_socket_for(functools.partial(handle_reply, object())) is None
    assert direct_socket_for(None) is None


class _Factory:
    def prepareMessage(self, payload: bytes) -> tuple[str, bytes]:  # noqa: N802
        return ("prepared", payload)


class AutobahnLike:
    STATE_OPEN = 3

    def __init__(self) -> None:
        self.state, self.factory = 3, _Factory()
        self.sent: list[Any] = []

    def sendPreparedMessage(self, message: Any) -> None:  # noqa: N802
        self.sent.append(message)


def test_daphnes_connection_is_found_by_what_it_can_do():
    def handle_reply(protocol: Any, message: dict[str, Any]) -> None:
        return None

    connection = AutobahnLike()
    socket = direct_socket_for(functools.partial(handle_reply, connection))
    assert socket is not None and write_prepared(socket, PreparedFrame("hi"))
    assert connection.sent == [("prepared", b"hi")]
    connection.state = 4  # closing
    assert not write_prepared(socket, PreparedFrame("hi"))


async def test_a_socket_without_a_direct_path_is_counted_and_said_once(caplog):
    seen: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope)

    async def plain_send(message: dict[str, Any]) -> None:
        return None

    before = counters.DIRECT_FRAMES_FALLBACKS._value.get()
    middleware = ExposeDirectSocket(app)
    _FallbackNotice.said = False
    with caplog.at_level(logging.WARNING, logger="hearth.direct_frames"):
        for _ in range(3):
            await middleware({"type": "websocket"}, None, plain_send)
        await middleware({"type": "http"}, None, plain_send)
    assert counters.DIRECT_FRAMES_FALLBACKS._value.get() - before == 3  # not the HTTP one
    assert caplog.text.count("go through the ASGI send") == 1
    assert all(SCOPE_KEY not in scope for scope in seen)
    await middleware({"type": "websocket"}, None, SansIOConnection().send)
    assert isinstance(seen[-1][SCOPE_KEY], _UvicornSansIO)
