"""What every Hearth websocket consumer shares."""

from __future__ import annotations

import logging
import time
from typing import Any

from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.db import aclose_old_connections
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from uvicorn.protocols.utils import ClientDisconnected

from chat.errors import HearthError
from chat.protocol import encode, error_frame
from hearth.direct_frames import SCOPE_KEY

logger = logging.getLogger(__name__)


# What a server raises when a frame is sent to a socket its client has closed: daphne's
# (autobahn) and uvicorn's.
CLIENT_GONE: tuple[type[Exception], ...] = (Disconnected, ClientDisconnected)


# What uvicorn raises for a frame sent after the socket closed (the client's close arrived,
# or this consumer already sent its own): a plain RuntimeError, told apart by its text.
_SEND_AFTER_CLOSE = "Unexpected ASGI message"
# The close code a socket gets when a handler failed on the server's side.
INTERNAL_ERROR_CLOSE = 1011
# A socket flooding refused frames writes at most one log line per this many seconds; the
# line says how many refusals it stands for.
REFUSAL_LOG_SECONDS = 10.0


def _is_send_after_close(error: RuntimeError) -> bool:
    return str(error).startswith(_SEND_AFTER_CLOSE)


class HearthSocket(AsyncWebsocketConsumer):  # type: ignore[misc]
    # Set once the close is under way (ours or the client's): nothing more is sent.
    _closed = False
    # Set once disconnect() has been called, so its clean-up runs exactly once.
    _disconnected = False
    # When this socket may log a refusal again, and how many it refused meanwhile.
    _refusal_log_after = 0.0
    _refusals_unlogged = 0

    @property
    def direct_socket(self) -> Any:
        """This socket's daphne connection, for frames prepared once (hearth/direct_frames)."""
        return self.scope.get(SCOPE_KEY)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' dispatch first runs close_old_connections in the one thread all database
        # work shares, for every message. Then the accept of a new socket and every broadcast
        # frame wait behind queued queries, and in a burst daphne's 10 s handshake timeout
        # drops sockets that arrive late. Every query here goes through database_thread
        # (hearth/database_thread.py), which replaces a failed connection itself.
        try:
            handler = getattr(self, get_handler_name(message), None)
            if handler is None:
                raise ValueError(f"No handler for message type {message['type']}")
            await handler(message)
        except StopConsumer:
            raise
        except Exception:
            # A handler that raises ends this consumer, and the server never hands it the
            # websocket.disconnect: its seat, hub entry and groups are cleaned up here, or the
            # heartbeat would keep a ghost seat fresh for good.
            self._closed = True
            await self._disconnect_once(INTERNAL_ERROR_CLOSE)
            raise

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        self._closed = True
        await self._disconnect_once(message.get("code", 1005))
        await aclose_old_connections()  # as Channels' own websocket_disconnect does
        raise StopConsumer

    async def _disconnect_once(self, code: int) -> None:
        if self._disconnected:
            return
        self._disconnected = True
        try:
            for group in self.groups:  # Channels' own clean-up, which this replaces
                await self.channel_layer.group_discard(group, self.channel_name)
        except Exception as exc:
            logger.warning("group discard failed: %s", type(exc).__name__)
        try:
            await self.disconnect(code)
        except Exception:
            # A server-side failure (the database gone): logged, and the heartbeat of no
            # worker refreshes the seat, so it ages out (rooms.services).
            logger.exception("socket clean-up failed")

    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None,
                   close: bool = False) -> None:
        if self._closed:
            logger.debug("frame for a closed socket dropped")
            return
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except CLIENT_GONE:
            # The client closed while a frame (a broadcast, presence) was on its way. Its
            # websocket.disconnect is queued behind this frame; the consumer must live to
            # handle it, or its presence row and hub entry stay behind for good.
            logger.debug("frame for a closed socket dropped")
        except RuntimeError as error:
            if not _is_send_after_close(error):
                raise
            self._closed = True
            logger.debug("frame for a closed socket dropped")
        if close:
            self._closed = True

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await super().close(code=code, reason=reason)
        except CLIENT_GONE:
            logger.debug("close for a closed socket dropped")
        except RuntimeError as error:
            if not _is_send_after_close(error):
                raise
            logger.debug("close for a closed socket dropped")

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=encode(frame))

    async def refuse(self, refusal: HearthError, *, client_id: str | None = None,
                     retry_after: float | None = None, **extra: Any) -> None:
        self._log_refusal(refusal)
        frame = error_frame(refusal.code, refusal.detail, client_id=client_id,
                            retry_after=retry_after)
        await self.send_frame({**frame, **extra})

    def _log_refusal(self, refusal: HearthError) -> None:
        # Logged by code only: never the text, never an address. Bounded per socket, so a
        # flood of bad frames cannot flood the log.
        self._refusals_unlogged += 1
        now = time.monotonic()
        if now < self._refusal_log_after:
            return
        logger.info("frame refused", extra={"code": refusal.code.value,
                                            "refusals": self._refusals_unlogged})
        self._refusals_unlogged = 0
        self._refusal_log_after = now + REFUSAL_LOG_SECONDS

    async def room_frame(self, event: dict[str, Any]) -> None:
        """A pre-encoded frame from a group: the same text goes to every socket."""
        await self.send(text_data=event["text"])
