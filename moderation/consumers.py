"""The moderators' websocket: the live review queue and the actions on it.

Parse, check the role, call a service, reply. Every action is audited by the service.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from chat.consumers import handle_aside_frame
from chat.errors import ErrorCode, HearthError
from chat.events import MODERATORS_GROUP, STAFF_GROUP, aside_group
from chat.frames import STAFF, frame_types
from chat.identity import member_id_from_session
from chat.limits import chat_limits
from chat.models import Member
from chat.protocol import CloseCode, ProtocolError, decode_frame, parse_aside_frame
from chat.rendering import render_message_html
from chat.socket_base import HearthSocket
from chat.staff_login import staff_session_expired, touch_staff_session
from chat.two_factor import staff_session_lacks_second_factor
from hearth.database_thread import database_thread
from moderation import asides, duty, escalations, services
from moderation.distress import MemberInDistressError
from moderation.models import ReviewItem, SanctionKind
from moderation.permissions import can_moderate, can_staff, require_moderator, require_staff
from moderation.selectors import open_queue, queue_item_frame
from moderation.watch import watcher

logger = logging.getLogger(__name__)

ITEM_ACTIONS = {"restore": services.restore_message, "hide": services.hide_message}
SANCTIONS = {"warn": SanctionKind.WARNING, "timeout": SanctionKind.TIMEOUT,
             "ban": SanctionKind.BAN}
MODERATOR_FRAME_TYPES = ("moderate", "sanction", "member_history", "read_original")
CRISIS_FRAME_TYPES = ("check_in", "check_out", "acknowledge", "resolve", "open_take_aside",
                      "escalate")
ASIDE_FRAME_TYPES = ("take_aside_send", "take_aside_leave")
STAFF_FRAME_TYPES = MODERATOR_FRAME_TYPES + CRISIS_FRAME_TYPES + ASIDE_FRAME_TYPES
STAFF_SERVER_FRAME_TYPES = frame_types(STAFF)  # the catalogue's (chat/frames.py)


def _staff_from_session(session: Any) -> Member:
    if staff_session_expired(session):
        raise HearthError(ErrorCode.UNAUTHENTICATED)
    member_id = member_id_from_session(session)
    member = Member.objects.filter(pk=member_id).first() if member_id else None
    if member is None:
        raise HearthError(ErrorCode.UNAUTHENTICATED)
    if not can_staff(member):
        raise HearthError(ErrorCode.FORBIDDEN)
    if staff_session_lacks_second_factor(session, member):
        raise HearthError(ErrorCode.UNAUTHENTICATED)
    return member


def _keep_session_alive(session: Any) -> None:
    """A frame from the dashboard is activity: the staff session's idle clock starts again."""
    if touch_staff_session(session):
        session.save()


def _snapshot(member: Member) -> list[dict[str, Any]]:
    """Everything a dashboard shows, read after joining the groups: an event arriving in
    between is sent twice at worst (the dashboard replaces by id), never missed."""
    items = ([queue_item_frame(item) for item in open_queue()] if can_moderate(member)
             else [])
    frames: list[dict[str, Any]] = [
        {"type": "queue", "items": items, "you": {"handle": member.handle, "role": member.role}},
        escalations.escalations_frame(),
        duty.duty_frame(member_id=member.pk),
    ]
    frames += [{"type": "take_aside_state", "aside": aside}
               for aside in asides.live_asides_for(member_id=member.pk, you="staff")]
    return frames


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


def _run(staff: Member, data: dict[str, Any]) -> dict[str, Any]:
    """Carry out one staff frame; returns the reply frame."""
    # The role as it is now, not as it was at connect: an admin may have taken it away.
    staff = require_staff(Member.objects.filter(pk=staff.pk).first())
    frame_type = data["type"]
    if frame_type in CRISIS_FRAME_TYPES:
        return _run_crisis(staff, frame_type, data)
    return _run_moderation(require_moderator(staff), frame_type, data)


def _run_crisis(staff: Member, frame_type: str, data: dict[str, Any]) -> dict[str, Any]:
    if frame_type == "check_in":
        duty.check_in(member=staff)
        return duty.duty_frame(member_id=staff.pk)
    if frame_type == "check_out":
        duty.check_out(member=staff)
        return duty.duty_frame(member_id=staff.pk)
    if frame_type == "open_take_aside":
        aside = asides.open_take_aside(
            staff=staff, escalation_id=_field(data, "escalation_id", int, required=False),
            item_id=_field(data, "item_id", int, required=False),
            room_slug=_field(data, "room", str, required=False),
            handle=_field(data, "handle", str, required=False))
        return {"type": "take_aside_state", "aside": asides.aside_field(aside, you="staff")}
    if frame_type == "escalate":
        escalation = escalations.escalate_by_staff(
            staff=staff, room_slug=_field(data, "room", str), handle=_field(data, "handle", str),
            seq=_field(data, "seq", int, required=False))
        return {"type": "action_done", "escalation_id": escalation.pk, "action": "escalate"}
    escalation_id = _field(data, "escalation_id", int)
    if frame_type == "acknowledge":
        escalations.acknowledge(staff=staff, escalation_id=escalation_id)
    else:
        escalations.resolve(staff=staff, escalation_id=escalation_id,
                            note=_field(data, "note", str))
    return {"type": "action_done", "escalation_id": escalation_id, "action": frame_type}


def _run_moderation(moderator: Member, frame_type: str, data: dict[str, Any]) -> dict[str, Any]:
    item_id = _field(data, "item_id", int)
    if frame_type == "member_history":
        author_id, _room_id = _item_author(item_id)
        target, messages = services.read_member_history(moderator=moderator,
                                                        member_id=author_id)
        return {"type": "member_history", "item_id": item_id,
                "member": {"id": target.pk, "handle": target.handle},
                # An audited read: the member's own words, masked or not.
                "messages": [{"room": m.room.slug, "seq": m.seq,
                              "html": render_message_html(m.original_body) if m.original_body
                              else m.html, "masked": bool(m.original_body),
                              "status": m.status, "sent_at": m.created_at.isoformat()}
                             for m in messages]}
    if frame_type == "read_original":
        message = services.read_original(moderator=moderator, item_id=item_id)
        return {"type": "original", "item_id": item_id,
                "html": render_message_html(message.original_body or message.body)}
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
    confirm_distress = _field(data, "confirm_distress", bool, required=False, default=False)
    author_id, room_id = _item_author(item_id)
    services.sanction_member(
        moderator=moderator, member_id=author_id, kind=SANCTIONS[action],
        rule=_field(data, "rule", str), reason=reason,
        room_id=room_id if scope == "room" else None,
        duration=_timeout_duration(minutes) if action == "timeout" else None, item_id=item_id,
        confirm_distress=confirm_distress)
    return {"type": "action_done", "item_id": item_id, "action": action}


def _groups(staff: Member) -> list[str]:
    groups = [STAFF_GROUP, aside_group(staff.pk)]
    return [*groups, MODERATORS_GROUP] if can_moderate(staff) else groups


class StaffConsumer(HearthSocket):
    staff: Member | None = None
    on_duty: bool = False

    async def connect(self) -> None:
        await self.accept()
        try:
            self.staff = await database_thread(_staff_from_session)(
                self.scope["session"])
        except HearthError as refusal:
            await self.refuse(refusal)
            await self.close(code=CloseCode.FORBIDDEN if refusal.code == ErrorCode.FORBIDDEN
                             else CloseCode.UNAUTHENTICATED)
            return
        for group in _groups(self.staff):
            await self._join(group)
        watcher.staff_connected(self.staff.pk)
        for frame in await database_thread(_snapshot)(self.staff):
            if frame["type"] == "duty":
                self.on_duty = frame["on_duty"]
            await self.send_frame(frame)

    async def _join(self, group: str) -> None:
        try:
            await self.channel_layer.group_add(group, self.channel_name)
        except Exception as exc:
            # With the layer down the dashboard still shows what the database holds; live
            # updates resume when the page reconnects.
            logger.warning("staff socket without live updates: %s", type(exc).__name__)

    async def disconnect(self, code: int) -> None:
        if self.staff is None:
            return
        watcher.staff_disconnected(self.staff.pk)
        for group in _groups(self.staff):
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception as exc:
                logger.warning("group discard failed: %s", type(exc).__name__)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.staff is None:
            return
        try:
            if text_data is None:
                raise ProtocolError(ErrorCode.BINARY_NOT_SUPPORTED)
            # The members' decoder: bounded numbers, no lone surrogates, only ProtocolErrors.
            data = decode_frame(text_data)
            if "type" not in data:
                raise ProtocolError(ErrorCode.MISSING_FIELD, "The field 'type' is required.")
            if data["type"] not in STAFF_FRAME_TYPES:
                raise ProtocolError(ErrorCode.UNKNOWN_TYPE,
                                    f"Known types: {', '.join(STAFF_FRAME_TYPES)}.")
            if data["type"] in ASIDE_FRAME_TYPES:
                frame = parse_aside_frame(data, max_body_chars=chat_limits().max_body_chars)
                await handle_aside_frame(self, self.staff, frame)
                return
            await database_thread(_keep_session_alive)(self.scope["session"])
            reply = await database_thread(_run)(self.staff, data)
            if reply["type"] == "duty":
                self.on_duty = reply["on_duty"]
            await self.send_frame(reply)
        except MemberInDistressError as refusal:
            # The dashboard shows why and asks the moderator to confirm, with a reason.
            await self.refuse(refusal, **_safe_ids(text_data),
                              distress=refusal.state.as_frame_field())
        except HearthError as refusal:
            await self.refuse(refusal, **_safe_ids(text_data))
        except Exception as exc:
            logger.exception("staff frame failed: %s", type(exc).__name__)
            await self.refuse(HearthError(ErrorCode.INTERNAL_ERROR))

    # --- channel layer events -------------------------------------------------------------
    async def staff_escalation(self, event: dict[str, Any]) -> None:
        hosting = self.staff is not None and self.staff.pk in event.get("hosts", ())
        if event.get("on_duty_only") and not self.on_duty and not hosting:
            return  # off duty: it is on the list when they look, without an alert
        await self.send(text_data=event["text"])

    async def staff_duty(self, event: dict[str, Any]) -> None:
        if self.staff is None:
            return
        frame = await database_thread(duty.duty_frame)(member_id=self.staff.pk)
        self.on_duty = frame["on_duty"]
        await self.send_frame(frame)

    async def aside_frame(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["text"])


def _safe_ids(text: str | None) -> dict[str, Any]:
    """The ids a refused frame named, so the dashboard can tell which card it was."""
    try:
        data = decode_frame(text or "")
    except ProtocolError:
        return {}
    return {name: value for name in ("item_id", "escalation_id", "aside_id", "client_id")
            if isinstance(value := data.get(name), int | str) and not isinstance(value, bool)}
