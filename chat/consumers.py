"""The room websocket: parse, authorise, call a service, shape the reply. Nothing more."""

from __future__ import annotations

import logging
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from chat import selectors
from chat.errors import ErrorCode, HearthError
from chat.events import member_group, room_group
from chat.hub import WORKER_ID, hub
from chat.identity import member_id_from_session
from chat.limits import chat_limits
from chat.models import Member
from chat.protocol import (
    PROTOCOL_VERSION,
    CloseCode,
    HistoryFrame,
    ProtocolError,
    ResumeFrame,
    SendFrame,
    encode,
    error_frame,
    parse_client_frame,
)
from chat.services import post_message
from rooms.models import Room
from rooms.selectors import room_presence, room_summary
from rooms.services import join_room, leave_room

logger = logging.getLogger(__name__)

CLOSE_CODE_FOR_REFUSAL = {
    ErrorCode.UNAUTHENTICATED: CloseCode.UNAUTHENTICATED,
    ErrorCode.ROOM_NOT_FOUND: CloseCode.ROOM_NOT_FOUND,
    ErrorCode.ROOM_FULL: CloseCode.ROOM_FULL,
    ErrorCode.TOO_MANY_CONNECTIONS: CloseCode.TOO_MANY_CONNECTIONS,
}


def _join_from_session(session: Any, room_slug: str, channel_name: str) -> dict[str, Any]:
    member_id = member_id_from_session(session)
    if member_id is None:
        raise HearthError(ErrorCode.UNAUTHENTICATED)
    joined = join_room(room_slug=room_slug, member_id=member_id, channel_name=channel_name,
                       worker_id=WORKER_ID)
    return {
        "room": joined.room,
        "member": joined.member,
        "welcome": {
            "type": "welcome",
            "protocol": PROTOCOL_VERSION,
            "room": room_summary(joined.room),
            "you": {"handle": joined.member.handle, "role": joined.member.role},
            "head_seq": joined.room.last_seq,
            "presence": room_presence(room_id=joined.room.pk).as_frame_field(),
            "limits": _public_limits(),
        },
    }


def _public_limits() -> dict[str, Any]:
    limits = chat_limits()
    return {
        "max_body_chars": limits.max_body_chars,
        "max_frame_bytes": limits.max_frame_bytes,
        "send_burst": limits.send_burst,
        "send_per_second": limits.send_per_second,
        "heartbeat_seconds": limits.heartbeat_seconds,
        "history_page_max": 100,
    }


def _resume_page(room_id: int, after_seq: int, page: int) -> tuple[list[dict[str, Any]], int, bool]:
    # Read the head first: every seq up to it is committed, so "caught up to head" is true.
    head = selectors.room_head_seq(room_id=room_id)
    messages = selectors.messages_after(room_id=room_id, after_seq=after_seq, up_to_seq=head,
                                        limit=page + 1)
    has_more = len(messages) > page
    return [selectors.frame_for_message(m) for m in messages[:page]], head, has_more


def _history_page(room_id: int, before_seq: int, limit: int) -> tuple[list[dict[str, Any]], bool]:
    messages = selectors.messages_before(room_id=room_id, before_seq=before_seq, limit=limit + 1)
    has_more = len(messages) > limit
    page = messages[1:] if has_more else messages
    return [selectors.frame_for_message(m) for m in page], has_more


class RoomConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]
    room: Room | None = None
    member: Member | None = None
    room_id: int = 0
    member_id: int = 0

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' dispatch first runs close_old_connections in the one thread all database
        # work shares, for every message. Then the accept of a new socket and every broadcast
        # frame wait behind queued queries, and in a burst daphne's 10 s handshake timeout
        # drops sockets that arrive late. Every query here goes through
        # database_sync_to_async, which closes stale connections itself, before and after.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        # Accept first so a refusal can carry an error frame and a close code the browser
        # sees (a refused handshake is only an HTTP 403), and so a burst of connects is never
        # timed out by the server while it waits for the database.
        await self.accept()
        room_slug = self.scope["url_route"]["kwargs"]["room_slug"]
        try:
            joined = await database_sync_to_async(_join_from_session)(
                self.scope["session"], room_slug, self.channel_name)
        except HearthError as refusal:
            logger.info("socket refused", extra={"code": refusal.code.value})
            await self._send_frame(error_frame(refusal.code, refusal.detail))
            await self.close(code=CLOSE_CODE_FOR_REFUSAL.get(refusal.code, CloseCode.NORMAL))
            return
        self.room, self.member = joined["room"], joined["member"]
        self.room_id, self.member_id = self.room.pk, self.member.pk
        await self.channel_layer.group_add(room_group(self.room_id), self.channel_name)
        await self.channel_layer.group_add(member_group(self.member_id), self.channel_name)
        hub.register(self)
        await self._send_frame(joined["welcome"])
        hub.schedule_presence(self.room_id)

    async def disconnect(self, code: int) -> None:
        if self.room is None:
            return
        hub.unregister(self)
        await self.channel_layer.group_discard(room_group(self.room_id), self.channel_name)
        await self.channel_layer.group_discard(member_group(self.member_id), self.channel_name)
        await database_sync_to_async(leave_room)(channel_name=self.channel_name)
        hub.schedule_presence(self.room_id)
        self.room = None

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.room is None or self.member is None:
            return  # refused sockets are closing; nothing they send is acted on
        if text_data is None:
            await self._refuse(ProtocolError(ErrorCode.BINARY_NOT_SUPPORTED))
            return
        limits = chat_limits()
        # daphne closes over-size frames with 1009 before they reach us; this covers servers
        # configured without that limit.
        if len(text_data) > limits.max_frame_bytes or (
                len(text_data.encode("utf-8")) > limits.max_frame_bytes):
            await self._refuse(ProtocolError(ErrorCode.FRAME_TOO_LARGE))
            return
        try:
            frame = parse_client_frame(text_data, max_body_chars=limits.max_body_chars)
        except ProtocolError as refusal:
            await self._refuse(refusal)
            return
        client_id = frame.client_id if isinstance(frame, SendFrame) else None
        try:
            if isinstance(frame, SendFrame):
                await self._handle_send(frame)
            elif isinstance(frame, ResumeFrame):
                await self._handle_resume(frame)
            else:
                await self._handle_history(frame)
        except HearthError as refusal:
            await self._refuse(refusal, client_id=client_id)
        except Exception as exc:
            # Never crash the socket; the client keeps unacknowledged sends and retries them.
            logger.exception("frame handling failed: %s", type(exc).__name__)
            await self._send_frame(error_frame(ErrorCode.INTERNAL_ERROR, client_id=client_id))

    async def _handle_send(self, frame: SendFrame) -> None:
        if self.member is None or self.room is None:
            return  # receive() only dispatches for joined sockets
        wait = hub.send_bucket(self.member_id).take()
        if wait:
            await self._refuse(ProtocolError(ErrorCode.RATE_LIMITED, client_id=frame.client_id),
                               retry_after=wait)
            return
        result = await database_sync_to_async(post_message)(
            member=self.member, room=self.room, client_id=frame.client_id, body=frame.body)
        message = result.message
        await self._send_frame({"type": "ack", "client_id": frame.client_id, "seq": message.seq,
                                "duplicate": not result.created})
        if result.created:
            await self.channel_layer.group_send(room_group(self.room_id), {
                "type": "room.frame", "text": encode(selectors.frame_for_message(message))})

    async def _handle_resume(self, frame: ResumeFrame) -> None:
        wait = hub.read_bucket(self.member_id).take()
        if wait:
            await self._refuse(ProtocolError(ErrorCode.RATE_LIMITED), retry_after=wait)
            return
        frames, head, has_more = await database_sync_to_async(_resume_page)(
            self.room_id, frame.after_seq, chat_limits().resume_page)
        for message in frames:
            await self._send_frame(message)
        # through_seq: every seq up to it has now been sent (or no longer exists).
        through = frames[-1]["seq"] if has_more else head
        await self._send_frame({"type": "resumed", "after_seq": frame.after_seq,
                                "through_seq": max(through, frame.after_seq), "head_seq": head,
                                "has_more": has_more})

    async def _handle_history(self, frame: HistoryFrame) -> None:
        wait = hub.read_bucket(self.member_id).take()
        if wait:
            await self._refuse(ProtocolError(ErrorCode.RATE_LIMITED), retry_after=wait)
            return
        frames, has_more = await database_sync_to_async(_history_page)(
            self.room_id, frame.before_seq, frame.limit)
        await self._send_frame({"type": "history", "before_seq": frame.before_seq,
                                "messages": frames, "has_more": has_more})

    async def _refuse(self, refusal: HearthError, *, client_id: str | None = None,
                      retry_after: float | None = None) -> None:
        if client_id is None and isinstance(refusal, ProtocolError):
            client_id = refusal.client_id
        # Logged by code only: never the text, never an address.
        logger.info("frame refused", extra={"code": refusal.code.value})
        await self._send_frame(error_frame(refusal.code, refusal.detail, client_id=client_id,
                                           retry_after=retry_after))

    async def _send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=encode(frame))

    # --- channel layer events -------------------------------------------------------------
    async def room_frame(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["text"])

    async def member_erased(self, event: dict[str, Any]) -> None:
        await self._send_frame(error_frame(ErrorCode.MEMBER_ERASED))
        await self.close(code=CloseCode.MEMBER_ERASED)
