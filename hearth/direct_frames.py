"""Room frames framed once, written to many: the fan-out fast path.

A room message goes to every local socket in its room. Through the ASGI `send` chain
(Channels' session wrapper, the server's checks, websocket framing) each of those sends
cost 60 to 100 µs of Python on this project's machine kind, which capped a worker near 10,000
deliveries a second (docs/benchmarks.md, "Fast path"). A server frame is the same bytes for
every socket (no masking, and Hearth turns compression off), so it is framed once and
written straight to each connection. This module lets a socket find its own connection
under the servers Hearth runs on (uvicorn's sans-I/O websockets protocol, daphne), known by
what their connections can do rather than by their names; under anything else (tests'
communicators, a server whose internals changed) it finds none, says so once in the log and
counts it (`hearth_direct_frames_fallbacks`), and frames go through `send` as usual.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Protocol

from websockets.protocol import State

from hearth import counters

logger = logging.getLogger(__name__)

SCOPE_KEY = "hearth.direct_socket"


class PreparedFrame:
    """One text frame, framed for the wire at most once per kind of connection."""

    __slots__ = ("_autobahn", "_autobahn_factory", "_wire", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._wire: bytes | None = None
        self._autobahn: Any = None
        self._autobahn_factory: Any = None

    def wire(self) -> bytes:
        """The frame as a server sends it: FIN, text opcode, length, unmasked payload."""
        if self._wire is None:
            from websockets.frames import Frame, Opcode

            self._wire = Frame(Opcode.TEXT, self.text.encode("utf-8")).serialize(mask=False)
        return self._wire

    def autobahn_message(self, factory: Any) -> Any:
        if self._autobahn_factory is not factory:
            self._autobahn = factory.prepareMessage(self.text.encode("utf-8"))
            self._autobahn_factory = factory
        return self._autobahn


class DirectSocket(Protocol):
    def write(self, frame: PreparedFrame) -> bool:
        """Write the frame if the connection is open and plain; False to fall back to
        `send` (which knows how to report a closed socket)."""


# Imported once: an import statement in write() cost 3 % of a busy worker's event loop.
_OPEN = State.OPEN


class _UvicornSansIO:
    __slots__ = ("_protocol",)

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol

    def write(self, frame: PreparedFrame) -> bool:
        protocol = self._protocol
        if (protocol.close_sent or protocol.transport.is_closing()
                or protocol.conn.state is not _OPEN or protocol.conn.extensions):
            return False
        protocol.transport.write(frame.wire())
        return True


class _Daphne:
    __slots__ = ("_connection",)

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def write(self, frame: PreparedFrame) -> bool:
        connection = self._connection
        if connection.state != connection.STATE_OPEN:
            return False
        connection.sendPreparedMessage(frame.autobahn_message(connection.factory))
        return True


def direct_socket_for(send: Any) -> DirectSocket | None:
    """The connection behind an ASGI `send`, when it can do what Hearth's direct writes use."""
    owner = getattr(send, "__self__", None)
    if owner is not None and _writes_like_uvicorn_sans_io(owner):
        return _UvicornSansIO(owner)
    if isinstance(send, functools.partial) and send.args and _writes_like_autobahn(
            send.args[0]):
        return _Daphne(send.args[0])
    return None


def _writes_like_uvicorn_sans_io(owner: Any) -> bool:
    conn, transport = getattr(owner, "conn", None), getattr(owner, "transport", None)
    return (isinstance(getattr(owner, "close_sent", None), bool)
            and hasattr(conn, "state") and hasattr(conn, "extensions")
            and callable(getattr(transport, "write", None))
            and callable(getattr(transport, "is_closing", None)))


def _writes_like_autobahn(connection: Any) -> bool:
    return (callable(getattr(connection, "sendPreparedMessage", None))
            and hasattr(connection, "state") and hasattr(connection, "STATE_OPEN")
            and callable(getattr(getattr(connection, "factory", None), "prepareMessage", None)))


class _FallbackNotice:
    """Once per process: a server Hearth cannot write to directly is worth one log line."""

    said = False

    @classmethod
    def note(cls, send: Any) -> None:
        counters.note_direct_frames_fallback()
        if not cls.said:
            cls.said = True
            owner = getattr(send, "__self__", send)
            logger.warning("room frames go through the ASGI send on this server (slower "
                           "fan-out): its connection is not one Hearth writes to directly",
                           extra={"server": type(owner).__module__.split(".")[0]})


def write_prepared(socket: DirectSocket | None, frame: PreparedFrame) -> bool:
    return socket is not None and socket.write(frame)


class ExposeDirectSocket:
    """ASGI middleware: put the socket's own connection in the scope for the room hub."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        direct = direct_socket_for(send) if scope.get("type") == "websocket" else None
        if direct is not None:
            scope = {**scope, SCOPE_KEY: direct}
        elif scope.get("type") == "websocket":
            _FallbackNotice.note(send)
        return await self.app(scope, receive, send)
