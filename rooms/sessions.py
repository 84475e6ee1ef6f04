"""Hosted sessions' live state: phases, the turn queue, the share timer and the host's tools.

Every change locks the session row, is stored, bumps `version` and is broadcast to the room
after the commit as one `session_state` frame, the same for everyone. Nothing lives in a
consumer's memory, so a worker restart or a host reconnecting elsewhere changes nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from chat.errors import ErrorCode, HearthError
from chat.events import room_group, send_to_group_sync
from chat.handles import handle_key
from chat.models import Member, Message, MessageStatus
from chat.protocol import encode
from chat.selectors import frame_for_message
from moderation.permissions import Action, can, require, speaks_freely
from moderation.sanctions import ensure_may_post as ensure_no_sanction
from moderation.services import sanction_for_session
from rooms.models import (
    FeedbackTag,
    HostedSession,
    Prompt,
    QueueEntry,
    QueueState,
    Recurrence,
    Room,
    RoomConnection,
    RoomKind,
    SessionParticipant,
    SessionPhase,
    SessionState,
)
from rooms.selectors import live_session

PHASES: Final = (SessionPhase.OPENING, SessionPhase.SHARING, SessionPhase.DISCUSSION,
                 SessionPhase.CLOSING)
MAX_EXTEND_SECONDS: Final = 600
MAX_SLOW_MODE_SECONDS: Final = 600
_WAITING: Final = (QueueState.WAITING,)


# --- reads ------------------------------------------------------------------------------------

def current_session(*, room_id: int) -> HostedSession | None:
    """The room's live session, else the next scheduled one."""
    sessions = HostedSession.objects.filter(room_id=room_id).select_related("host", "template",
                                                                             "sharer", "room")
    return (sessions.filter(state=SessionState.LIVE).first()
            or sessions.filter(state=SessionState.SCHEDULED).order_by("first_date",
                                                                       "start_time").first())


def _occurrence(session: HostedSession, now: datetime) -> tuple[datetime, datetime] | None:
    from rooms import schedule

    return schedule.next_occurrence(session, now=now)


def session_field(session: HostedSession, *, now: datetime | None = None) -> dict[str, Any]:
    """The whole state, the same for every viewer."""

    now = now or timezone.now()
    co_hosts = list(session.co_hosts.order_by("pk"))
    bounds = _occurrence(session, now)
    pinned = None
    if session.pinned_seq is not None:
        message = (Message.objects.select_related("author", "room")
                   .filter(room_id=session.room_id, seq=session.pinned_seq,
                           status=MessageStatus.VISIBLE).first())
        pinned = frame_for_message(message) if message else None
    template = session.template
    queue = (QueueEntry.objects.filter(session=session, state__in=_WAITING)
             .select_related("member").order_by("position", "pk"))
    return {
        "id": session.pk, "title": session.title, "state": session.state,
        "phase": session.phase, "version": session.version, "room": session.room.slug,
        "hosts": [{"handle": session.host.handle, "role": "host"},
                  *({"handle": m.handle, "role": "co_host"} for m in co_hosts)],
        "starts_at": (session.started_at.isoformat() if session.state == SessionState.LIVE
                      and session.started_at else bounds[0].isoformat() if bounds else None),
        "ends_at": bounds[1].isoformat() if bounds else None,
        "time_zone": session.time_zone, "capacity": session.capacity,
        "template": None if template is None else {
            "welcome_text": template.welcome_text,
            "introductions_prompt": template.introductions_prompt,
            "closing_prompt": template.closing_prompt,
            "grounding_text": template.grounding_text},
        "queue": [{"handle": entry.member.handle, "position": index}
                  for index, entry in enumerate(queue, start=1)],
        "sharer": {"handle": session.sharer.handle} if session.sharer else None,
        "share_ends_at": session.share_ends_at.isoformat() if session.share_ends_at else None,
        "share_seconds": session.share_seconds, "paused": session.paused,
        "locked": session.locked, "slow_mode_seconds": session.slow_mode_seconds,
        "pinned": pinned, "prompt": session.prompt,
        "prompts": [{"id": p.pk, "text": p.text} for p in _prompts_for(session.room)]
        if session.state == SessionState.LIVE else [],
    }


def _prompts_for(room: Room) -> list[Prompt]:
    return list(Prompt.objects.filter(Q(focus_area="") | Q(focus_area=room.focus_area),
                                      is_active=True))


def occurrence_date(session: HostedSession, moment: datetime) -> date:
    """Which occurrence a moment belongs to: its date in the session's own time zone."""
    return moment.astimezone(ZoneInfo(session.time_zone)).date()


def feedback_tags() -> list[dict[str, str]]:
    return [{"code": tag.value, "label": str(tag.label)} for tag in FeedbackTag]


# --- broadcasting -------------------------------------------------------------------------------

def _changed(session: HostedSession) -> None:
    """Inside the transaction: store the change and announce it after the commit."""
    session.version += 1
    session.save()
    session_id, room_id = session.pk, session.room_id

    def announce() -> None:
        fresh = (HostedSession.objects.select_related("host", "template", "sharer", "room")
                 .filter(pk=session_id).first())
        if fresh is not None:
            send_to_group_sync(room_group(room_id), {"type": "room.frame", "text": encode(
                {"type": "session_state", "session": session_field(fresh)})})

    transaction.on_commit(announce)


def _locked_live(room_id: int) -> HostedSession:
    session = (HostedSession.objects.select_for_update(of=("self",))
               .select_related("host", "template", "sharer", "room")
               .filter(room_id=room_id, state=SessionState.LIVE).first())
    if session is None:
        raise HearthError(ErrorCode.INVALID_PHASE, "There is no live session in this room.")
    return session


# --- joining and posting ----------------------------------------------------------------------

def note_arrival(*, member: Member, room: Room) -> None:
    """On join: a locked live session admits only the people already taking part."""
    if room.kind != RoomKind.HOSTED:
        return
    session = live_session(room_id=room.pk)
    if session is None:
        return
    taking_part = SessionParticipant.objects.filter(session=session, member=member).exists()
    if taking_part:
        return
    if can(member, Action.JOIN_PAST_CAPACITY, session=session):
        SessionParticipant.objects.get_or_create(session=session, member=member)
        return
    with transaction.atomic():
        # The row lock gives the last seat to exactly one of two members arriving at once.
        locked = (HostedSession.objects.select_for_update(of=("self",))
                  .filter(pk=session.pk).first())
        if locked is None or locked.locked:
            raise HearthError(ErrorCode.SESSION_LOCKED)
        # The session's own size (a small circle), counting members who have taken part.
        taking_part_now = SessionParticipant.objects.filter(
            session=session, member__role="member").count()
        if taking_part_now >= locked.capacity:
            raise HearthError(ErrorCode.ROOM_FULL)
        SessionParticipant.objects.get_or_create(session=session, member=member)


def ensure_may_react(*, member_id: int, room_id: int) -> None:
    """Reactions are for a live session, from someone who may speak (a mute or removal
    silences hugs too)."""
    if not HostedSession.objects.filter(room_id=room_id, state=SessionState.LIVE).exists():
        raise HearthError(ErrorCode.INVALID_PHASE, "Reactions are for live sessions.")
    ensure_no_sanction(member_id=member_id, room_id=room_id)


def took_part(*, member_id: int, session_id: int) -> bool:
    return SessionParticipant.objects.filter(session_id=session_id,
                                             member_id=member_id).exists()


def ensure_may_post(*, member_id: int, room: Room, now: datetime | None = None) -> None:
    """The session's rules for messages: pause, turns in the sharing phase, slow mode."""
    if room.kind != RoomKind.HOSTED:
        return
    session = live_session(room_id=room.pk)
    if session is None or speaks_freely(session, member_id):
        return
    if session.paused:
        raise HearthError(ErrorCode.SESSION_PAUSED)
    if (session.phase == SessionPhase.SHARING and session.sharer_id is not None
            and session.sharer_id != member_id):
        raise HearthError(ErrorCode.NOT_YOUR_TURN)
    if session.slow_mode_seconds:
        last = (Message.objects.filter(room_id=room.pk, author_id=member_id)
                .aggregate(last=Max("created_at"))["last"])
        if last is not None:
            wait = (last + timedelta(seconds=session.slow_mode_seconds)
                    - (now or timezone.now())).total_seconds()
            if wait > 0:
                raise SlowModeError(retry_after=math.ceil(wait))


class SlowModeError(HearthError):
    def __init__(self, *, retry_after: float) -> None:
        super().__init__(ErrorCode.SLOW_MODE)
        self.retry_after = retry_after


# --- members: hands and turns -----------------------------------------------------------------

def raise_hand(*, member: Member, room_id: int) -> None:
    with transaction.atomic():
        session = _locked_live(room_id)
        if session.phase != SessionPhase.SHARING:
            raise HearthError(ErrorCode.INVALID_PHASE, "Hands go up in the sharing part.")
        _enqueue(session, member)
        _changed(session)


def _enqueue(session: HostedSession, member: Member) -> None:
    if QueueEntry.objects.filter(session=session, member=member,
                                 state__in=(QueueState.WAITING, QueueState.SHARING)).exists():
        raise HearthError(ErrorCode.HAND_ALREADY_RAISED)
    last = (QueueEntry.objects.filter(session=session).aggregate(last=Max("position"))["last"]
            or 0)
    QueueEntry.objects.create(session=session, member=member, position=last + 1)


def lower_hand(*, member: Member, room_id: int) -> None:
    with transaction.atomic():
        session = _locked_live(room_id)
        lowered = QueueEntry.objects.filter(session=session, member=member,
                                            state=QueueState.WAITING).update(
            state=QueueState.PASSED)
        if not lowered:
            raise HearthError(ErrorCode.HAND_NOT_RAISED)
        _changed(session)


def end_turn(*, member: Member, room_id: int, passing: bool = False) -> None:
    """The sharer ends their turn; `passing` also lets a waiting member step out."""
    with transaction.atomic():
        session = _locked_live(room_id)
        if session.sharer_id == member.pk:
            _finish_turn(session, QueueState.PASSED if passing else QueueState.DONE)
        elif passing and QueueEntry.objects.filter(
                session=session, member=member, state=QueueState.WAITING).update(
                state=QueueState.PASSED):
            pass
        else:
            raise HearthError(ErrorCode.NOT_YOUR_TURN)
        _changed(session)


def _finish_turn(session: HostedSession, how: str) -> None:
    if session.sharer_id is not None:
        QueueEntry.objects.filter(session=session, member_id=session.sharer_id,
                                  state=QueueState.SHARING).update(state=how)
    session.sharer, session.share_ends_at = None, None


def _give_turn(session: HostedSession, member: Member, now: datetime) -> None:
    _finish_turn(session, QueueState.DONE)
    entry = QueueEntry.objects.filter(session=session, member=member,
                                      state=QueueState.WAITING).first()
    if entry is None:
        entry = QueueEntry.objects.create(session=session, member=member, position=0)
    entry.state = QueueState.SHARING
    entry.save(update_fields=["state"])
    session.sharer = member
    session.share_ends_at = now + timedelta(seconds=session.share_seconds)


def expire_turns(*, now: datetime | None = None) -> list[int]:
    """The watcher's part: a share whose timer ran out ends by itself."""
    now = now or timezone.now()
    ended: list[int] = []
    for session_id in HostedSession.objects.filter(
            state=SessionState.LIVE, share_ends_at__lte=now).values_list("pk", flat=True):
        with transaction.atomic():
            session = (HostedSession.objects.select_for_update(of=("self",))
                       .filter(pk=session_id, state=SessionState.LIVE,
                               share_ends_at__lte=now).first())
            if session is None:
                continue  # another worker, or the sharer, got there first
            _finish_turn(session, QueueState.DONE)
            _changed(session)
            ended.append(session_id)
    return ended


# --- hosts ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HostAction:
    action: str
    handle: str | None = None
    phase: str | None = None
    position: int | None = None
    seconds: int | None = None
    seq: int | None = None
    prompt_id: int | None = None
    reason: str = ""


def _member_by_handle(handle: str | None) -> Member:
    member = Member.objects.filter(handle_key=handle_key(handle or "")).first()
    if member is None:
        raise HearthError(ErrorCode.MEMBER_NOT_FOUND)
    return member


def _participant_by_handle(session: HostedSession, handle: str | None) -> Member:
    """Someone taking part in this session: a host cannot give the turn to, or queue,
    someone who is not here."""
    member = _member_by_handle(handle)
    if not SessionParticipant.objects.filter(session=session, member=member).exists():
        raise HearthError(ErrorCode.MEMBER_NOT_FOUND, "That member isn't in this session.")
    return member


def start(*, host: Member, room_id: int, now: datetime | None = None) -> HostedSession:
    now = now or timezone.now()
    with transaction.atomic():
        session = (HostedSession.objects.select_for_update(of=("self",))
                   .select_related("host", "room", "template")
                   .filter(room_id=room_id, state=SessionState.SCHEDULED)
                   .order_by("first_date", "start_time").first())
        if session is None:
            raise HearthError(ErrorCode.INVALID_PHASE, "There is no session to start here.")
        require(host, Action.RUN_SESSION, session=session, code=ErrorCode.NOT_A_HOST)
        if HostedSession.objects.filter(room_id=room_id, state=SessionState.LIVE).exists():
            raise HearthError(ErrorCode.INVALID_PHASE, "A session is already live here.")
        session.state, session.phase, session.started_at = (SessionState.LIVE,
                                                             SessionPhase.OPENING, now)
        session.ended_at = None
        session.paused = session.locked = False
        session.slow_mode_seconds, session.pinned_seq, session.prompt = 0, None, ""
        session.sharer, session.share_ends_at = None, None
        if session.template is not None:
            session.share_seconds = session.template.share_seconds
        QueueEntry.objects.filter(session=session).delete()
        SessionParticipant.objects.filter(session=session).delete()
        # Whoever is in the room as it starts takes part: a lock must not shut them out
        # when they reconnect.
        SessionParticipant.objects.bulk_create(
            [SessionParticipant(session=session, member_id=member_id) for member_id in
             RoomConnection.objects.filter(room_id=room_id)
             .values_list("member_id", flat=True).distinct()], ignore_conflicts=True)
        _changed(session)
    return session


def host_action(*, host: Member, room_id: int, action: HostAction,
                now: datetime | None = None) -> HostedSession:
    """Every host tool but `start`, on the room's live session."""
    now = now or timezone.now()
    if action.action == "start":
        return start(host=host, room_id=room_id, now=now)
    with transaction.atomic():
        session = _locked_live(room_id)
        require(host, Action.RUN_SESSION, session=session, code=ErrorCode.NOT_A_HOST)
        _apply(session, host, action, now)
        _changed(session)
    return session


def _apply(session: HostedSession, host: Member, action: HostAction, now: datetime) -> None:
    name = action.action
    if name == "next_phase":
        index = PHASES.index(SessionPhase(session.phase))
        if index == len(PHASES) - 1:
            raise HearthError(ErrorCode.INVALID_PHASE, "This is the last part; end the session.")
        _set_phase(session, PHASES[index + 1])
    elif name == "set_phase":
        if action.phase not in SessionPhase.values:
            raise HearthError(ErrorCode.INVALID_FIELD,
                              f"phase must be one of: {', '.join(SessionPhase.values)}.")
        _set_phase(session, SessionPhase(action.phase))
    elif name in ("call_next", "call"):
        _require_phase(session, SessionPhase.SHARING)
        if name == "call":
            member = _participant_by_handle(session, action.handle)
        else:
            entry = (QueueEntry.objects.filter(session=session, state=QueueState.WAITING)
                     .select_related("member").order_by("position", "pk").first())
            if entry is None:
                raise HearthError(ErrorCode.INVALID_PHASE, "Nobody is waiting to share.")
            member = entry.member
        _give_turn(session, member, now)
    elif name == "add_to_queue":
        _require_phase(session, SessionPhase.SHARING)
        _enqueue(session, _participant_by_handle(session, action.handle))
    elif name == "move":
        _move(session, _member_by_handle(action.handle), action.position)
    elif name == "skip":
        skipped = QueueEntry.objects.filter(session=session,
                                            member=_member_by_handle(action.handle),
                                            state=QueueState.WAITING).update(
            state=QueueState.SKIPPED)
        if not skipped:
            raise HearthError(ErrorCode.HAND_NOT_RAISED)
    elif name == "extend":
        if session.share_ends_at is None:
            raise HearthError(ErrorCode.INVALID_PHASE, "Nobody is sharing.")
        seconds = 60 if action.seconds is None else action.seconds
        if not 1 <= seconds <= MAX_EXTEND_SECONDS:
            raise HearthError(ErrorCode.INVALID_FIELD,
                              f"seconds must be from 1 to {MAX_EXTEND_SECONDS}.")
        session.share_ends_at += timedelta(seconds=seconds)
    elif name == "end_turn":
        if session.sharer_id is None:
            raise HearthError(ErrorCode.INVALID_PHASE, "Nobody is sharing.")
        _finish_turn(session, QueueState.DONE)
    elif name == "slow_mode":
        seconds = action.seconds if action.seconds is not None else -1
        if not 0 <= seconds <= MAX_SLOW_MODE_SECONDS:
            raise HearthError(ErrorCode.INVALID_FIELD,
                              f"seconds must be from 0 to {MAX_SLOW_MODE_SECONDS}.")
        session.slow_mode_seconds = seconds
    elif name in ("pause", "resume"):
        session.paused = name == "pause"
    elif name in ("lock", "unlock"):
        session.locked = name == "lock"
    elif name == "pin":
        if action.seq is None or not Message.objects.filter(
                room_id=session.room_id, seq=action.seq,
                status=MessageStatus.VISIBLE).exists():
            raise HearthError(ErrorCode.MESSAGE_NOT_FOUND)
        session.pinned_seq = action.seq
    elif name == "unpin":
        session.pinned_seq = None
    elif name == "post_prompt":
        prompt = Prompt.objects.filter(pk=action.prompt_id or 0, is_active=True).first()
        if prompt is None:
            raise HearthError(ErrorCode.INVALID_FIELD, "That prompt isn't in the library.")
        session.prompt = prompt.text
    elif name in ("mute", "remove"):
        _sanction(session, host, _member_by_handle(action.handle), name, action.reason, now)
    elif name == "handover":
        _handover(session, host, _member_by_handle(action.handle))
    elif name == "end":
        _end(session, now)
    else:
        raise HearthError(ErrorCode.INVALID_FIELD, "Unknown host action.")


def _require_phase(session: HostedSession, phase: SessionPhase) -> None:
    if session.phase != phase:
        raise HearthError(ErrorCode.INVALID_PHASE, f"That is for the {phase.label} part.")


def _set_phase(session: HostedSession, phase: SessionPhase) -> None:
    if phase != SessionPhase.SHARING:
        _finish_turn(session, QueueState.DONE)
    if phase != SessionPhase.DISCUSSION:
        session.prompt = ""
    session.phase = phase


def _move(session: HostedSession, member: Member, position: int | None) -> None:
    waiting = list(QueueEntry.objects.filter(session=session, state=QueueState.WAITING)
                   .order_by("position", "pk"))
    entry = next((e for e in waiting if e.member_id == member.pk), None)
    if entry is None:
        raise HearthError(ErrorCode.HAND_NOT_RAISED)
    if position is None or not 1 <= position <= len(waiting):
        raise HearthError(ErrorCode.INVALID_FIELD,
                          f"position must be from 1 to {len(waiting)}.")
    waiting.remove(entry)
    waiting.insert(position - 1, entry)
    for index, item in enumerate(waiting, start=1):
        if item.position != index:
            item.position = index
            item.save(update_fields=["position"])


def _sanction(session: HostedSession, host: Member, target: Member, kind: str, reason: str,
              now: datetime) -> None:
    require(host, Action.SANCTION_IN_SESSION, session=session, target=target,
            detail="Hosts and staff can't be muted or removed here.")
    bounds = _occurrence(session, now)
    until = bounds[1] if bounds and bounds[1] > now else now + timedelta(hours=1)
    sanction_for_session(host=host, member=target, room=session.room, remove=kind == "remove",
                         reason=reason, until=until)
    if kind == "remove":
        QueueEntry.objects.filter(session=session, member=target,
                                  state=QueueState.WAITING).update(state=QueueState.SKIPPED)
        if session.sharer_id == target.pk:
            _finish_turn(session, QueueState.SKIPPED)


def _handover(session: HostedSession, host: Member, target: Member) -> None:
    co_hosts = set(session.co_hosts.values_list("pk", flat=True))
    if target.pk not in co_hosts:
        raise HearthError(ErrorCode.INVALID_FIELD, "Hand over to one of the co-hosts.")
    previous = session.host
    session.co_hosts.remove(target)
    session.co_hosts.add(previous)
    session.host = target


def _end(session: HostedSession, now: datetime) -> None:
    _finish_turn(session, QueueState.DONE)
    session.ended_at = now
    occurrence_on = occurrence_date(session, session.started_at or now)
    # A weekly session waits for next week; a one-off is over.
    session.state = (SessionState.SCHEDULED if session.recurrence == Recurrence.WEEKLY
                     else SessionState.ENDED)
    session.paused = session.locked = False
    session.slow_mode_seconds = 0
    frame = {"type": "session_ended", "session_id": session.pk,
             "occurrence_on": occurrence_on.isoformat(), "feedback_tags": feedback_tags()}
    room_id = session.room_id
    transaction.on_commit(lambda: send_to_group_sync(room_group(room_id), {
        "type": "room.frame", "text": encode(frame)}))
