"""The moderators' websocket: the live review queue and the actions on it.

Parse, check the role, call a service, reply. Every action is audited by the service.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from channels.db import database_sync_to_async

from chat.errors import ErrorCode, HearthError
from chat.events import MODERATORS_GROUP
from chat.identity import member_id_from_session
from chat.models import Member
from chat.protocol import CloseCode, ProtocolError
from chat.socket_base import HearthSocket
from moderation import services
from moderation.models import ReviewItem, SanctionKind
from moderation.permissions import can_moderate, require_moderator
from moderation.selectors import open_queue, queue_item_frame

logger = logging.getLogger(__name__)

ITEM_ACTIONS = {"restore": services.restore_message, "hide": services.hide_message}
SANCTIONS = {"warn": SanctionKind.WARNING, "timeout": SanctionKind.TIMEOUT,
             "ban": SanctionKind.BAN}
STAFF_FRAME_TYPES = ("moderate", "sanction", "member_history")
STAFF_SERVER_FRAME_TYPES = ("queue", "queue_item", "queue_item_removed", "member_history",
                            "action_done", "error")


def _moderator_from_session(session: Any) -> Member:
    member_id = member_id_from_session(session)
    member = Member.objects.filter(pk=member_id).first() if member_id else None
    if member is None:
        raise HearthError(ErrorCode.UNAUTHENTICATED)
    if not can_moderate(member):
        raise HearthError(ErrorCode.FORBIDDEN)
    return member


def _queue_snapshot(room_slug: str | None) -> list[dict[str, Any]]:
    return [queue_item_frame(item) for item in open_queue(room_slug=room_slug)]


def _field(data: dict[str, Any], name: str, kind: type, *, required: bool = True,
           default: Any = None) -> Any:
    if name not in data:
        if required:
            raise ProtocolError(ErrorCode.MISSING_FIELD, f"The field '{name}' is required.")
        return default
    value = data[name]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ProtocolError(ErrorCode.INVALID_FIELD, f"The field '{name}' has the wrong type.")
    return value


def _timeout_duration(minutes: int) -> timedelta:
    # Checked here, before timedelta: a huge number would overflow it (a crash, not a refusal).
    if not 1 <= minutes <= services.MAX_TIMEOUT // timedelta(minutes=1):
        raise ProtocolError(ErrorCode.INVALID_FIELD,
                            "duration_minutes must be from 1 minute to 30 days.")
    return timedelta(minutes=minutes)


def _item_author(item_id: int) -> tuple[int, int]:
    item = ReviewItem.objects.select_related("message").filter(pk=item_id).first()
    if item is None:
        raise HearthError(ErrorCode.MESSAGE_NOT_FOUND)
    return item.message.author_id, item.message.room_id


def _run(moderator: Member, data: dict[str, Any]) -> dict[str, Any]:
    """Carry out one staff frame; returns the reply frame."""
    # The role as it is now, not as it was at connect: an admin may have taken it away.
    moderator = require_moderator(Member.objects.filter(pk=moderator.pk).first())
    if "type" not in data:
        raise ProtocolError(ErrorCode.MISSING_FIELD, "The field 'type' is required.")
    frame_type = data["type"]
    if frame_type not in STAFF_FRAME_TYPES:
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE,
                            f"Known types: {', '.join(STAFF_FRAME_TYPES)}.")
    item_id = _field(data, "item_id", int)
    if frame_type == "member_history":
        author_id, _room_id = _item_author(item_id)
        target, messages = services.read_member_history(moderator=moderator,
                                                        member_id=author_id)
        return {"type": "member_history", "item_id": item_id,
                "member": {"id": target.pk, "handle": target.handle},
                "messages": [{"room": m.room.slug, "seq": m.seq, "html": m.html,
                              "status": m.status, "sent_at": m.created_at.isoformat()}
                             for m in messages]}
    action = _field(data, "action", str)
    reason = _field(data, "reason", str, required=False, default="")
    if frame_type == "moderate":
        if action == "dismiss":
            services.dismiss_item(moderator=moderator, item_id=item_id, reason=reason)
        elif action in ITEM_ACTIONS:
            rule = _field(data, "rule", str)
            ITEM_ACTIONS[action](moderator=moderator, item_id=item_id, rule=rule, reason=reason)
        else:
            raise ProtocolError(ErrorCode.INVALID_FIELD,
                                "action must be restore, hide or dismiss.")
        return {"type": "action_done", "item_id": item_id, "action": action}
    if action not in SANCTIONS:
        raise ProtocolError(ErrorCode.INVALID_FIELD, "action must be warn, timeout or ban.")
    scope = _field(data, "scope", str, required=False, default="room")
    if scope not in ("room", "site"):
        raise ProtocolError(ErrorCode.INVALID_FIELD, "scope must be room or site.")
    minutes = _field(data, "duration_minutes", int, required=action == "timeout")
    author_id, room_id = _item_author(item_id)
    services.sanction_member(
        moderator=moderator, member_id=author_id, kind=SANCTIONS[action],
        rule=_field(data, "rule", str), reason=reason,
        room_id=room_id if scope == "room" else None,
        duration=_timeout_duration(minutes) if action == "timeout" else None, item_id=item_id)
    return {"type": "action_done", "item_id": item_id, "action": action}


class StaffConsumer(HearthSocket):
    moderator: Member | None = None

    async def connect(self) -> None:
        await self.accept()
        try:
            self.moderator = await database_sync_to_async(_moderator_from_session)(
                self.scope["session"])
        except HearthError as refusal:
            await self.refuse(refusal)
            await self.close(code=CloseCode.FORBIDDEN if refusal.code == ErrorCode.FORBIDDEN
                             else CloseCode.UNAUTHENTICATED)
            return
        await self.channel_layer.group_add(MODERATORS_GROUP, self.channel_name)
        # Join the group first, then read: an item arriving in between is sent twice at
        # worst (the dashboard replaces items by id), never missed.
        items = await database_sync_to_async(_queue_snapshot)(None)
        await self.send_frame({"type": "queue", "items": items,
                               "you": {"handle": self.moderator.handle,
                                       "role": self.moderator.role}})

    async def disconnect(self, code: int) -> None:
        if self.moderator is not None:
            await self.channel_layer.group_discard(MODERATORS_GROUP, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.moderator is None:
            return
        try:
            if text_data is None:
                raise ProtocolError(ErrorCode.BINARY_NOT_SUPPORTED)
            try:
                data = json.loads(text_data)
            except (json.JSONDecodeError, RecursionError):
                raise ProtocolError(ErrorCode.MALFORMED_JSON) from None
            if not isinstance(data, dict):
                raise ProtocolError(ErrorCode.NOT_AN_OBJECT)
            reply = await database_sync_to_async(_run)(self.moderator, data)
            await self.send_frame(reply)
        except HearthError as refusal:
            await self.refuse(refusal, item_id=_safe_item_id(text_data))
        except Exception as exc:
            logger.exception("staff frame failed: %s", type(exc).__name__)
            await self.refuse(HearthError(ErrorCode.INTERNAL_ERROR))


def _safe_item_id(text: str | None) -> int | None:
    try:
        value = json.loads(text or "").get("item_id")
    except (ValueError, AttributeError, RecursionError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
