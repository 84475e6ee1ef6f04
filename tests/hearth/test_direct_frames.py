"""Frames framed once for many sockets (hearth/direct_frames.py)."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from websockets.frames import Opcode
from websockets.protocol import State
from websockets.streams import StreamReader

from hearth.direct_frames import (
    PreparedFrame,
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


class WebSocketsSansIOProtocol:  # the name uvicorn's class has, outside uvicorn's package
    def __init__(self) -> None:
        self.transport, self.conn, self.close_sent = _Transport(), _Conn(), False

    async def send(self, message: dict[str, Any]) -> None:
        raise AssertionError("not called")


def test_an_open_plain_connection_gets_the_bytes_and_any_other_falls_back():
    frame = PreparedFrame("hi")
    protocol = WebSocketsSansIOProtocol()
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


def test_only_the_servers_hearth_knows_are_written_to_directly():
    async def plain_send(message: dict[str, Any]) -> None:
        return None

    def handle_reply(protocol: Any, message: dict[str, Any]) -> None:
        return None

    assert direct_socket_for(plain_send) is None
    assert direct_socket_for(WebSocketsSansIOProtocol().send) is None  # not uvicorn's
    assert direct_socket_for(functools.partial(handle_reply, object())) is None
    assert direct_socket_for(None) is None
