"""What every Hearth websocket consumer shares."""

from __future__ import annotations

import logging
from typing import Any

from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from uvicorn.protocols.utils import ClientDisconnected

from chat.errors import HearthError
from chat.protocol import encode, error_frame
from hearth.direct_frames import SCOPE_KEY

logger = logging.getLogger(__name__)


# What a server raises when a frame is sent to a socket its client has closed: daphne's
# (autobahn) and uvicorn's.
CLIENT_GONE: tuple[type[Exception], ...] = (Disconnected, ClientDisconnected)


class HearthSocket(AsyncWebsocketConsumer):  # type: ignore[misc]
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
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None,
                   close: bool = False) -> None:
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except CLIENT_GONE:
            # The client closed while a frame (a broadcast, presence) was on its way. Its
            # websocket.disconnect is queued behind this frame; the consumer must live to
            # handle it, or its presence row and hub entry stay behind for good.
            logger.debug("frame for a closed socket dropped")

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=encode(frame))

    async def refuse(self, refusal: HearthError, *, client_id: str | None = None,
                     retry_after: float | None = None, **extra: Any) -> None:
        # Logged by code only: never the text, never an address.
        logger.info("frame refused", extra={"code": refusal.code.value})
        frame = error_frame(refusal.code, refusal.detail, client_id=client_id,
                            retry_after=retry_after)
        await self.send_frame({**frame, **extra})

    async def room_frame(self, event: dict[str, Any]) -> None:
        """A pre-encoded frame from a group: the same text goes to every socket."""
        await self.send(text_data=event["text"])
