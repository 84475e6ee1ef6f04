"""The room websocket: parse, authorise, call a service, shape the reply. Nothing more."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from enum import StrEnum
from importlib import import_module
from typing import Any

from django.conf import settings

from chat import model_follow_up, selectors
from chat.errors import ErrorCode, HearthError
from chat.events import (
    aside_group,
    best_effort,
    member_group,
    publisher,
    room_group,
    send_to_group,
)
from chat.hub import SEQ_PASSED, WORKER_ID, hub
from chat.joins import REGION_SESSION_KEY, JoinRequest
from chat.limits import chat_limits
from chat.models import Member, MessageStatus
from chat.protocol import (
    AcceptRulesFrame,
    AsideLeaveFrame,
    AsideReplyFrame,
    AsideSendFrame,
    AskForSupportFrame,
    CloseCode,
    EndTurnFrame,
    FeedbackFrame,
    HandFrame,
    HistoryFrame,
    HostFrame,
    MuteFrame,
    ProtocolError,
    ReactFrame,
    ReportFrame,
    ResumeFrame,
    SendFrame,
    SetRegionFrame,
    encode,
    error_frame,
    parse_client_frame,
)
from chat.services import MessageBlockedError, PostRequest, PostResult
from chat.socket_base import HearthSocket
from chat.writer import join_writer, post_writer
from hearth.database_thread import database_thread
from hearth.direct_frames import write_prepared
from moderation import asides, duty, escalations, notices, support
from moderation import services as moderation
from moderation.models import ScreeningAction
from moderation.rules import accept_rules, forget_rules, room_rules
from moderation.sanctions import SanctionRefusedError, forget_sanctions
from moderation.watch import watcher
from rooms import sessions
from rooms.feedback import submit_feedback
from rooms.models import Room
from rooms.services import leave_room

logger = logging.getLogger(__name__)

CLOSE_CODE_FOR_REFUSAL = {
    ErrorCode.UNAUTHENTICATED: CloseCode.UNAUTHENTICATED,
    ErrorCode.ROOM_NOT_FOUND: CloseCode.ROOM_NOT_FOUND,
    ErrorCode.ROOM_FULL: CloseCode.ROOM_FULL,
    ErrorCode.TOO_MANY_CONNECTIONS: CloseCode.TOO_MANY_CONNECTIONS,
    ErrorCode.BANNED: CloseCode.FORBIDDEN,
    ErrorCode.SESSION_LOCKED: CloseCode.SESSION_LOCKED,
}
# How many of the member's own recent bodies the spam detector compares against.
RECENT_BODIES = 5
# The gentlest support card is not repeated more often than this on one socket: support,
# not nagging. Higher tiers get it every time.
CONCERN_CARD_EVERY_SECONDS = 15 * 60
FEEDBACK_SESSION_KEY = "hearth_feedback_given"


def _resume_page(room_id: int, after_seq: int, page: int, viewer_id: int,
                 muted: set[int]) -> tuple[list[dict[str, Any]], int, bool]:
    # Read the head first: every seq up to it is committed, so "caught up to head" is true.
    head = selectors.room_head_seq(room_id=room_id)
    messages = selectors.messages_after(
        room_id=room_id, after_seq=after_seq, up_to_seq=head, limit=page + 1,
        visible=selectors.visible_to(viewer_id=viewer_id, muted_ids=muted))
    has_more = len(messages) > page
    return ([selectors.frame_for_message(m, viewer_id=viewer_id) for m in messages[:page]],
            head, has_more)


def _history_page(room_id: int, before_seq: int, limit: int, viewer_id: int,
                  muted: set[int]) -> tuple[list[dict[str, Any]], bool]:
    messages = selectors.messages_before(
        room_id=room_id, before_seq=before_seq, limit=limit + 1,
        visible=selectors.visible_to(viewer_id=viewer_id, muted_ids=muted))
    has_more = len(messages) > limit
    page = messages[1:] if has_more else messages
    return [selectors.frame_for_message(m, viewer_id=viewer_id) for m in page], has_more


def _session_frame(member: Member, room_id: int,
                   frame: HandFrame | EndTurnFrame | HostFrame) -> None:
    """Raised hands, turns and host tools; the room hears of each as `session_state`."""
    if isinstance(frame, HandFrame):
        if frame.raise_hand:
            sessions.raise_hand(member=member, room_id=room_id)
        else:
            sessions.lower_hand(member=member, room_id=room_id)
    elif isinstance(frame, EndTurnFrame):
        sessions.end_turn(member=member, room_id=room_id, passing=frame.passing)
    else:
        sessions.host_action(host=member, room_id=room_id, action=sessions.HostAction(
            action=frame.action, handle=frame.handle, phase=frame.phase,
            position=frame.position, seconds=frame.seconds, seq=frame.seq,
            prompt_id=frame.prompt_id, reason=frame.reason))


def _stored_session(session: Any) -> Any:
    """A fresh copy of this browser session, loaded from the session store."""
    fresh = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session.session_key)
    fresh.get(FEEDBACK_SESSION_KEY)  # loads it here, off the event loop
    return fresh


def _submit_feedback(frame: FeedbackFrame, member_id: int) -> None:
    # Only people who took part answer; the answer itself is stored with no link to them.
    if not sessions.took_part(member_id=member_id, session_id=frame.session_id):
        raise HearthError(ErrorCode.INVALID_FIELD, "Feedback is for people who took part.")

    submit_feedback(session_id=frame.session_id, occurrence_on=frame.occurrence_on,
                    mood_before=frame.mood_before, mood_after=frame.mood_after,
                    helpful=frame.helpful, tags=list(frame.tags), comment=frame.comment)


async def handle_aside_frame(socket: HearthSocket, person: Member,
                             frame: AsideReplyFrame | AsideSendFrame | AsideLeaveFrame) -> None:
    """Take-aside frames, the same on a room socket and on the staff socket."""
    if isinstance(frame, AsideReplyFrame):
        await database_thread(asides.reply)(member=person, aside_id=frame.aside_id,
                                                   accept=frame.accept)
    elif isinstance(frame, AsideLeaveFrame):
        await database_thread(asides.leave)(person=person, aside_id=frame.aside_id)
    else:
        wait = hub.send_bucket(person.pk).take()
        if wait:
            await socket.refuse(ProtocolError(ErrorCode.RATE_LIMITED),
                                client_id=frame.client_id, retry_after=wait)
            return
        message, created = await database_thread(asides.send)(
            author=person, aside_id=frame.aside_id, client_id=frame.client_id, body=frame.body)
        await socket.send_frame({"type": "take_aside_ack", "aside_id": frame.aside_id,
                                 "client_id": frame.client_id, "seq": message.seq,
                                 "duplicate": not created})


def _accept(member_id: int, room_id: int, version: int) -> dict[str, Any]:
    accept_rules(member_id=member_id, room_id=room_id, version=version)
    return room_rules(room_id=room_id).as_frame_field(accepted=True)


def _about(frame: Any) -> dict[str, Any]:
    """What an error frame answering `frame` names, so the client can tell which request
    it refuses."""
    if isinstance(frame, AsideReplyFrame | AsideSendFrame | AsideLeaveFrame):
        return {"aside_id": frame.aside_id}
    if isinstance(frame, HostFrame):
        return {"request": "host", "action": frame.action}
    if isinstance(frame, HandFrame):
        return {"request": "raise_hand" if frame.raise_hand else "lower_hand"}
    if isinstance(frame, EndTurnFrame):
        return {"request": "pass" if frame.passing else "end_turn"}
    if isinstance(frame, ReactFrame):
        return {"request": "react"}
    if isinstance(frame, FeedbackFrame):
        return {"request": "feedback", "session_id": frame.session_id}
    return {}


class RoomConsumer(HearthSocket):
    room: Room | None = None
    # What the frame being handled is, for its refusals; replaced per frame, never mutated.
    _refusal_about: dict[str, Any] = {}
    member: Member | None = None
    room_id: int = 0
    member_id: int = 0

    async def connect(self) -> None:
        # Accept first so a refusal can carry an error frame and a close code the browser
        # sees (a refused handshake is only an HTTP 403), and so a burst of connects is never
        # timed out by the server while it waits for the database.
        await self.accept()
        room_slug = self.scope["url_route"]["kwargs"]["room_slug"]
        try:
            joined = await join_writer.submit(JoinRequest(
                session=self.scope["session"], room_slug=room_slug,
                channel_name=self.channel_name, headers=self.scope.get("headers", []),
                worker_id=WORKER_ID))
        except HearthError as refusal:
            await self.refuse(refusal)
            await self.close(code=CLOSE_CODE_FOR_REFUSAL.get(refusal.code, CloseCode.NORMAL))
            return
        self.room, self.member = joined["room"], joined["member"]
        self.room_id, self.member_id = self.room.pk, self.member.pk
        self.muted: set[int] = joined["muted"]
        self.region: str | None = joined["region"]
        self.recent_bodies: deque[str] = deque(maxlen=RECENT_BODIES)
        self.last_concern_card = float("-inf")
        for group in self._groups():
            await best_effort(self.channel_layer.group_add)(group, self.channel_name)
        await hub.register(self, head_seq=self.room.last_seq)
        watcher.ensure_running()
        await self.send_frame(joined["welcome"])
        hub.schedule_presence(self.room_id)

    async def disconnect(self, code: int) -> None:
        if self.room is None:
            return
        self.room = None  # from here on nothing this socket sends is acted on
        try:
            hub.unregister(self)
            for group in self._groups():
                await best_effort(self.channel_layer.group_discard)(group, self.channel_name)
        finally:
            # The seat goes whatever failed above: a seat left behind is a ghost in the
            # room's presence and capacity until it ages out.
            await database_thread(leave_room)(channel_name=self.channel_name)
            hub.schedule_presence(self.room_id)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.room is None or self.member is None:
            return  # refused sockets are closing; nothing they send is acted on
        if text_data is None:
            await self.refuse(ProtocolError(ErrorCode.BINARY_NOT_SUPPORTED))
            return
        limits = chat_limits()
        # daphne closes over-size frames with 1009 before they reach us; this covers servers
        # configured without that limit.
        if len(text_data) > limits.max_frame_bytes or (
                len(text_data.encode("utf-8", "surrogatepass")) > limits.max_frame_bytes):
            await self.refuse(ProtocolError(ErrorCode.FRAME_TOO_LARGE))
            return
        try:
            frame = parse_client_frame(text_data, max_body_chars=limits.max_body_chars)
        except ProtocolError as refusal:
            await self.refuse(refusal, client_id=refusal.client_id)
            return
        client_id = frame.client_id if isinstance(frame, SendFrame | AsideSendFrame) else None
        # A refusal names what it refuses: the send (client_id), the take-aside, the request.
        about = _about(frame)
        self._refusal_about = about
        try:
            await self._handle(frame)
        except (SanctionRefusedError, sessions.SlowModeError) as refusal:
            await self.refuse(refusal, client_id=client_id, retry_after=refusal.retry_after)
            await self._send_card_for_refusal(refusal)
        except HearthError as refusal:
            await self.refuse(refusal, client_id=client_id)
            await self._send_card_for_refusal(refusal)
        except Exception as exc:
            # Never crash the socket; the client keeps unacknowledged sends and retries them.
            logger.exception("frame handling failed: %s", type(exc).__name__)
            await self.send_frame(error_frame(ErrorCode.INTERNAL_ERROR, client_id=client_id))
        finally:
            self._refusal_about = {}

    async def _handle(self, frame: Any) -> None:
        bucket, handler = ROOM_FRAME_HANDLERS[type(frame)]
        # Every frame type spends from a bucket before anything is done for it. Sends and
        # take-aside messages spend from the send bucket, reactions from their own, in their
        # handlers (which answer with what they refuse); everything else from the read
        # bucket, here: each costs a query or a live update to others.
        if bucket is Bucket.READ:
            wait = hub.read_bucket(self.member_id).take()
            if wait:
                await self.refuse(ProtocolError(ErrorCode.RATE_LIMITED), retry_after=wait)
                return
        await handler(self, frame)

    async def _handle_accept_rules(self, frame: AcceptRulesFrame) -> None:
        rules = await database_thread(_accept)(self.member_id, self.room_id, frame.version)
        await self.send_frame({"type": "rules", **rules})

    async def _handle_session_frame(self, frame: HandFrame | EndTurnFrame | HostFrame) -> None:
        if self.member is not None:  # always: receive acts only for joined sockets
            await database_thread(_session_frame)(self.member, self.room_id, frame)

    def _groups(self) -> tuple[str, ...]:
        # The room's group is heard once per worker by the hub, not per socket. With the
        # layer down (Redis stopped) the socket still works: sends are stored and
        # acknowledged, support cards come straight down the socket; live events resume
        # when the page reconnects.
        return (member_group(self.member_id), aside_group(self.member_id))

    async def _handle_send(self, frame: SendFrame) -> None:
        if self.member is None or self.room is None:
            return
        wait = hub.send_bucket(self.member_id).take()
        if wait:
            await self.refuse(ProtocolError(ErrorCode.RATE_LIMITED), client_id=frame.client_id,
                              retry_after=wait)
            return
        try:
            result = await post_writer.submit(PostRequest(
                member=self.member, room=self.room, client_id=frame.client_id, body=frame.body,
                recent_bodies=tuple(self.recent_bodies)))
        except MessageBlockedError as blocked:
            rule = blocked.verdict.rule
            await self.refuse(blocked, client_id=frame.client_id, rule=rule)
            notice = await database_thread(notices.blocked)(
                rule=rule, client_id=frame.client_id)
            await self.send_frame(notice)
            return
        if result.created:
            # Queued before anything here awaits: the batch's sockets resume in seq order.
            self._publish(result)
        self.recent_bodies.append(frame.body)
        message = result.message
        await self.send_frame({"type": "ack", "client_id": frame.client_id, "seq": message.seq,
                               "duplicate": not result.created, "status": message.status})
        if result.created:
            await self._deliver(result)

    def _publish(self, result: PostResult) -> None:
        message = result.message
        seen = selectors.copies(message)
        own_text = encode(seen.author)
        if seen.same_for_all:
            hub.publish_to_room(self.room_id, {
                "type": "room.frame", "text": own_text, "author_id": self.member_id,
                "seq": message.seq})
            return
        # The author's own copy reaches every tab of theirs, in any room's socket...
        publisher.enqueue(member_group(self.member_id), {
            "type": "room.frame", "text": own_text, "author_id": self.member_id,
            "room_id": self.room_id})
        if seen.others is None:
            # ...held for review: other workers must not wait for a frame that is not coming.
            hub.publish_to_room(self.room_id, {"type": SEQ_PASSED, "seq": message.seq})
        else:
            # ...and the room gets its own (masked words, or the collapsed placeholder).
            hub.publish_to_room(self.room_id, {
                "type": "room.frame", "author_id": self.member_id, "except_author": True,
                "seq": message.seq, "text": encode(seen.others)})

    async def _deliver(self, result: PostResult) -> None:
        message, verdict = result.message, result.verdict
        # The support card goes straight down this socket; it needs no channel layer, so it
        # reaches the person even when the layer is down.
        await self._send_support_card(result)
        if message.status == MessageStatus.COLLAPSED:
            # notices read the rule's title from the database: off the event loop.
            await self.send_frame(await database_thread(notices.collapsed)(
                seq=message.seq))
        elif verdict is not None and verdict.action == ScreeningAction.HOLD:
            await self.send_frame(await database_thread(notices.held)(
                rule=verdict.rule, seq=message.seq))
        elif verdict is not None and verdict.masked:
            await self.send_frame(await database_thread(notices.masked)(
                rule=verdict.rule, signals=verdict.signals))
        if result.review_item_id is not None:
            await database_thread(moderation.push_queue_item)(
                result.review_item_id)
        if verdict is not None:
            model_follow_up.follow_up(model_follow_up.StoredMessage(
                message_id=message.pk, seq=message.seq, author_id=self.member_id,
                room_id=self.room_id, text=verdict.model_text,
                rules_signals=verdict.signals), region=self.region,
                send_card=self._send_model_card)

    async def _send_model_card(self, card: dict[str, Any]) -> bool:
        """A card the learned detector brought, down this socket while it is open."""
        if self.room is None:
            return False
        now = time.monotonic()
        if card["tier"] == "concern":
            if now - self.last_concern_card < CONCERN_CARD_EVERY_SECONDS:
                return True  # a gentle card came moments ago: one is enough
            self.last_concern_card = now
        try:
            await self.send_frame(card)
        except Exception:  # closed between the check and the send: the other tabs get it
            return False
        return True

    async def _send_card_for_refusal(self, refusal: HearthError) -> None:
        if refusal.support_tier is not None:
            await self.send_frame(await database_thread(support.support_frame_for)(
                tier=refusal.support_tier, seq=None, region=self.region))

    async def _send_support_card(self, result: PostResult) -> None:
        tier = support.card_tier(result.verdict.signals) if result.verdict else None
        if tier is None:
            return
        now = time.monotonic()
        if tier == "concern" and now - self.last_concern_card < CONCERN_CARD_EVERY_SECONDS:
            return
        if tier == "concern":
            self.last_concern_card = now
        card = await database_thread(support.support_frame_for)(
            tier=tier, seq=result.message.seq, region=self.region)
        await self.send_frame(card)

    async def refuse(self, refusal: HearthError, *, client_id: str | None = None,
                     retry_after: float | None = None, **extra: Any) -> None:
        await super().refuse(refusal, client_id=client_id, retry_after=retry_after,
                             **{**self._refusal_about, **extra})

    async def _handle_react(self, frame: ReactFrame) -> None:
        wait = hub.reaction_bucket(self.member_id).take()
        if wait:
            await self.refuse(ProtocolError(ErrorCode.RATE_LIMITED), retry_after=wait)
            return
        if self.member is None:
            return
        await database_thread(sessions.ensure_may_react)(member_id=self.member_id,
                                                                room_id=self.room_id)
        # A fixed set, never screened, never stored: a hug, not a message.
        await send_to_group(room_group(self.room_id), {
            "type": "room.frame", "author_id": self.member_id, "text": encode({
                "type": "reaction", "handle": self.member.handle,
                "reaction": frame.reaction, "seq": frame.seq})})

    async def _handle_feedback(self, frame: FeedbackFrame) -> None:
        # Read as stored now, not as this socket loaded it: another tab may have answered.
        session = await database_thread(_stored_session)(self.scope["session"])
        self.scope["session"] = session
        key = f"{frame.session_id}:{frame.occurrence_on}"
        given = list(session.get(FEEDBACK_SESSION_KEY, []))
        if key in given:
            await self.refuse(HearthError(ErrorCode.FEEDBACK_ALREADY_GIVEN))
            return
        await database_thread(_submit_feedback)(frame, self.member_id)
        # Remembered in this browser's session only: nothing pairs a member with an answer.
        session[FEEDBACK_SESSION_KEY] = [*given, key][-50:]
        await database_thread(session.save)()
        await self.send_frame({"type": "feedback_received", "session_id": frame.session_id})

    async def _handle_set_region(self, frame: SetRegionFrame) -> None:
        # Saved on a fresh copy: another tab may have written to this session since.
        session = await database_thread(_stored_session)(self.scope["session"])
        self.scope["session"] = session
        session[REGION_SESSION_KEY] = frame.region
        await database_thread(session.save)()
        self.region = frame.region
        await self.send_frame(await database_thread(support.helpline_frame)(
            region=frame.region))

    async def _handle_ask_for_support(self, frame: AskForSupportFrame) -> None:
        if self.member is None or self.room is None:
            return
        await database_thread(escalations.ask_for_support)(
            member=self.member, room=self.room, seq=frame.seq)
        on_duty = await database_thread(duty.on_duty_count)()
        await self.send_frame(support.support_requested_frame(staff_on_duty=on_duty))

    async def _handle_aside(self, frame: AsideReplyFrame | AsideSendFrame | AsideLeaveFrame
                            ) -> None:
        if self.member is None:
            return
        await handle_aside_frame(self, self.member, frame)

    async def _handle_resume(self, frame: ResumeFrame) -> None:
        frames, head, has_more = await database_thread(_resume_page)(
            self.room_id, frame.after_seq, chat_limits().resume_page, self.member_id,
            self.muted)
        for message in frames:
            await self.send_frame(message)
        # through_seq: every seq up to it has now been sent (or is not for this member).
        through = frames[-1]["seq"] if has_more else head
        await self.send_frame({"type": "resumed", "after_seq": frame.after_seq,
                               "through_seq": max(through, frame.after_seq), "head_seq": head,
                               "has_more": has_more})

    async def _handle_history(self, frame: HistoryFrame) -> None:
        frames, has_more = await database_thread(_history_page)(
            self.room_id, frame.before_seq, frame.limit, self.member_id, self.muted)
        await self.send_frame({"type": "history", "before_seq": frame.before_seq,
                               "messages": frames, "has_more": has_more})

    async def _handle_report(self, frame: ReportFrame) -> None:
        if self.member is None:
            return
        receipt = await database_thread(moderation.report_message)(
            reporter=self.member, room_id=self.room_id, seq=frame.seq, reason=frame.reason,
            note=frame.note)
        await self.send_frame({
            "type": "report_received", "seq": receipt.seq, "report_id": receipt.report_id,
            "detail": "Thank you for telling us. A moderator will look at it soon."})

    async def _handle_mute(self, frame: MuteFrame) -> None:
        if self.member is None:
            return
        if frame.mute:
            await database_thread(moderation.mute_member)(
                member=self.member, handle=frame.handle)
        else:
            await database_thread(moderation.unmute_member)(
                member=self.member, handle=frame.handle)
        self.muted = await database_thread(moderation.muted_member_ids)(
            member_id=self.member_id)
        # Every other socket of this member (tabs, workers) re-reads its mute list too.
        await self.channel_layer.group_send(member_group(self.member_id), {
            "type": "member.mutes_changed"})
        await self.send_frame({"type": "muted", "handle": frame.handle, "muted": frame.mute})

    # --- channel layer events -------------------------------------------------------------
    async def room_frame(self, event: dict[str, Any]) -> None:
        if event.get("author_id") in self.muted:
            return  # this member chose not to see that handle
        if event.get("except_author") and event.get("author_id") == self.member_id:
            return  # the author has their own copy (a collapsed message, in full)
        room_id = event.get("room_id")
        if room_id is not None and room_id != self.room_id:
            return  # a private frame for the author's socket in another room
        prepared = event.get("prepared")
        if prepared is not None and write_prepared(self.direct_socket, prepared):
            return
        await self.send(text_data=event["text"])

    async def member_notice(self, event: dict[str, Any]) -> None:
        notice = event["notice"]
        # A sanction decided on another worker: stop trusting this worker's cached "none".
        forget_sanctions(member_id=self.member_id)
        await self.send_frame(notice)
        if notice["kind"] == "ban" and self.room is not None and notice.get("room") in (
                None, self.room.slug):
            await self.close(code=CloseCode.FORBIDDEN)

    async def member_mutes_changed(self, event: dict[str, Any]) -> None:
        self.muted = await database_thread(moderation.muted_member_ids)(
            member_id=self.member_id)

    async def member_erased(self, event: dict[str, Any]) -> None:
        await self.send_frame(error_frame(ErrorCode.MEMBER_ERASED))
        await self.close(code=CloseCode.MEMBER_ERASED)

    async def aside_frame(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["text"])

    async def staffing_changed(self, event: dict[str, Any]) -> None:
        if self.room is None:
            return
        field = await database_thread(support.staffing_field)(
            staffed_only=True, on_duty=event["on_duty"], region=self.region)
        await self.send_frame({"type": "staffing", **field})

    async def rules_changed(self, event: dict[str, Any]) -> None:
        forget_rules(self.room_id)  # changed on another worker, perhaps
        await self.send_frame({"type": "rules_changed", "version": event["version"],
                               "accepted": False, "rules": event["rules"]})


class Bucket(StrEnum):
    """The rate bucket a client frame spends from (chat/hub.py keeps them per member)."""

    SEND = "send"  # posts and take-aside messages: spent in the handler, which names the send
    REACT = "react"  # reactions: spent in the handler
    READ = "read"  # everything else: spent before the handler runs


Handler = Callable[[RoomConsumer, Any], Awaitable[None]]

# The room socket's client frames: each parsed frame's class, the bucket it spends from and
# the one method that acts on it. Parse (chat/protocol.py) -> limit -> call -> reply.
ROOM_FRAME_HANDLERS: dict[type, tuple[Bucket, Handler]] = {
    SendFrame: (Bucket.SEND, RoomConsumer._handle_send),
    AsideSendFrame: (Bucket.SEND, RoomConsumer._handle_aside),
    ReactFrame: (Bucket.REACT, RoomConsumer._handle_react),
    ResumeFrame: (Bucket.READ, RoomConsumer._handle_resume),
    HistoryFrame: (Bucket.READ, RoomConsumer._handle_history),
    ReportFrame: (Bucket.READ, RoomConsumer._handle_report),
    AcceptRulesFrame: (Bucket.READ, RoomConsumer._handle_accept_rules),
    MuteFrame: (Bucket.READ, RoomConsumer._handle_mute),
    SetRegionFrame: (Bucket.READ, RoomConsumer._handle_set_region),
    AskForSupportFrame: (Bucket.READ, RoomConsumer._handle_ask_for_support),
    AsideReplyFrame: (Bucket.READ, RoomConsumer._handle_aside),
    AsideLeaveFrame: (Bucket.READ, RoomConsumer._handle_aside),
    FeedbackFrame: (Bucket.READ, RoomConsumer._handle_feedback),
    HandFrame: (Bucket.READ, RoomConsumer._handle_session_frame),
    EndTurnFrame: (Bucket.READ, RoomConsumer._handle_session_frame),
    HostFrame: (Bucket.READ, RoomConsumer._handle_session_frame),
}
