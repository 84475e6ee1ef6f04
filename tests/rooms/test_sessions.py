"""rooms/sessions.py: starting a hosted session, every host tool with its refusals, hands and
turns, the share timer, the posting rules chat/services.py enforces, the lock, and the one
`session_state` frame each change broadcasts (which a fresh read must equal)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from chat.errors import ErrorCode, HearthError
from chat.events import room_group
from chat.models import Member, Role
from moderation.models import AuditEntry, Sanction, SanctionKind
from moderation.services import hide_message
from rooms import selectors, sessions
from rooms.models import (
    HostedSession,
    Prompt,
    QueueEntry,
    QueueState,
    Recurrence,
    Room,
    RoomKind,
    SessionParticipant,
    SessionPhase,
    SessionState,
)
from rooms.sessions import HostAction
from tests.factories import (
    make_member,
    make_room,
    make_session,
    make_staff,
    post_in_room,
)
from tests.moderation.support import held_item, reported_item

pytestmark = pytest.mark.django_db


@dataclass
class Circle:
    """A live session: its room, host, co-host and three members."""

    room: Room
    host: Member
    co_host: Member
    a: Member
    b: Member
    c: Member

    @property
    def session(self) -> HostedSession:
        return HostedSession.objects.get(room=self.room)

    def act(self, action: str, *, by: Member | None = None, **fields: Any) -> HostedSession:
        return sessions.host_action(host=by or self.host, room_id=self.room.pk,
                                    action=HostAction(action=action, **fields))

    def refused(self, action: str, *, by: Member | None = None, **fields: Any) -> ErrorCode:
        before = self.session.version
        with pytest.raises(HearthError) as caught:
            self.act(action, by=by, **fields)
        assert self.session.version == before, "a refused action changed the session"
        return caught.value.code

    def raise_hand(self, member: Member) -> None:
        sessions.raise_hand(member=member, room_id=self.room.pk)

    def queue(self) -> list[str]:
        return [entry["handle"] for entry in sessions.session_field(self.session)["queue"]]

    def sharing(self) -> None:
        self.act("set_phase", phase=SessionPhase.SHARING)


def refusal(call: Any, **kwargs: Any) -> ErrorCode:
    with pytest.raises(HearthError) as caught:
        call(**kwargs)
    return caught.value.code


@pytest.fixture
def circle() -> Circle:
    room = make_room(kind=RoomKind.HOSTED)
    host, co_host = make_staff(Role.PEER_SUPPORTER), make_staff(Role.PEER_SUPPORTER)
    make_session(room=room, host=host, co_hosts=(co_host,), live=True)
    members = [make_member() for _ in range(3)]
    for member in members:  # they came into the room, as joining does
        sessions.note_arrival(member=member, room=room)
    return Circle(room=room, host=host, co_host=co_host, a=members[0], b=members[1],
                  c=members[2])


@pytest.fixture
def broadcasts(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every frame rooms.sessions sends to a room group, decoded."""
    sent: list[dict[str, Any]] = []

    def capture(group: str, event: dict[str, Any]) -> None:
        sent.append({"group": group, **json.loads(event["text"])})

    monkeypatch.setattr(sessions, "send_to_group_sync", capture)
    return sent


# --- start -----------------------------------------------------------------------------------

def test_the_host_starts_a_scheduled_session_in_the_opening_phase():
    room = make_room(kind=RoomKind.HOSTED)
    scheduled = make_session(room=room)
    assert scheduled.state == SessionState.SCHEDULED
    started = sessions.start(host=scheduled.host, room_id=room.pk)
    assert (started.state, started.phase) == (SessionState.LIVE, SessionPhase.OPENING)
    assert started.started_at is not None and started.version == scheduled.version + 1
    assert selectors.live_session(room_id=room.pk) == started
    assert started.template is not None
    assert started.share_seconds == started.template.share_seconds


def test_a_co_host_may_start_it_and_a_member_or_other_staff_may_not():
    co_host = make_staff(Role.PEER_SUPPORTER)
    session = make_session(co_hosts=(co_host,))
    for outsider in (make_member(), make_staff(Role.PEER_SUPPORTER), make_staff(Role.ADMIN)):
        assert refusal(sessions.start, host=outsider, room_id=session.room_id) == (
            ErrorCode.NOT_A_HOST)
    assert sessions.start(host=co_host, room_id=session.room_id).state == SessionState.LIVE


def test_only_a_scheduled_session_starts_and_never_twice():
    plain = make_room()
    host = make_staff(Role.PEER_SUPPORTER)
    assert refusal(sessions.start, host=host, room_id=plain.pk) == ErrorCode.INVALID_PHASE
    session = make_session(host=host, live=True)
    assert refusal(sessions.start, host=host, room_id=session.room_id) == ErrorCode.INVALID_PHASE
    assert refusal(sessions.host_action, host=host, room_id=session.room_id,
                   action=HostAction("start")) == ErrorCode.INVALID_PHASE
    # A second scheduled session in the same room can't go live beside the first.
    make_session(room=session.room, host=host)
    assert refusal(sessions.start, host=host, room_id=session.room_id) == ErrorCode.INVALID_PHASE
    assert HostedSession.objects.filter(room=session.room, state=SessionState.LIVE).count() == 1


def test_an_ended_session_does_not_start_again():
    session = make_session(live=True)
    sessions.host_action(host=session.host, room_id=session.room_id, action=HostAction("end"))
    assert refusal(sessions.start, host=session.host, room_id=session.room_id) == (
        ErrorCode.INVALID_PHASE)


def test_host_tools_need_a_live_session():
    session = make_session()
    assert refusal(sessions.host_action, host=session.host, room_id=session.room_id,
                   action=HostAction("next_phase")) == ErrorCode.INVALID_PHASE
    assert refusal(sessions.raise_hand, member=make_member(),
                   room_id=session.room_id) == ErrorCode.INVALID_PHASE


# --- phases ------------------------------------------------------------------------------------

def test_next_phase_walks_all_four_and_stops_at_closing(circle: Circle):
    seen = [circle.session.phase, *(circle.act("next_phase").phase for _ in range(3))]
    assert seen == ["opening", "sharing", "discussion", "closing"]
    assert circle.refused("next_phase") == ErrorCode.INVALID_PHASE


@pytest.mark.parametrize("phase", [None, "", "intermission", "SHARING", "live"])
def test_set_phase_refuses_an_unknown_phase(circle: Circle, phase):
    assert circle.refused("set_phase", phase=phase) == ErrorCode.INVALID_FIELD


def test_set_phase_goes_anywhere_and_leaving_sharing_ends_the_turn(circle: Circle):
    circle.sharing()
    circle.act("call", handle=circle.a.handle)
    assert circle.session.sharer == circle.a
    circle.act("set_phase", phase="discussion")
    session = circle.session
    assert (session.phase, session.sharer, session.share_ends_at) == ("discussion", None, None)
    assert QueueEntry.objects.get(member=circle.a).state == QueueState.DONE
    assert circle.act("set_phase", phase="opening").phase == "opening"


def test_a_prompt_shows_in_discussion_and_clears_when_it_ends(circle: Circle):
    prompt = Prompt.objects.filter(is_active=True).first()
    assert prompt is not None
    circle.act("set_phase", phase="discussion")
    assert circle.act("post_prompt", prompt_id=prompt.pk).prompt == prompt.text
    assert {"id": prompt.pk, "text": prompt.text} in sessions.session_field(
        circle.session)["prompts"]
    assert circle.act("next_phase").prompt == ""


@pytest.mark.parametrize("prompt_id", [None, 0, 999_999, "inactive"])
def test_post_prompt_refuses_a_prompt_not_in_the_library(circle: Circle, prompt_id):
    if prompt_id == "inactive":
        prompt_id = Prompt.objects.create(text="Retired prompt", is_active=False).pk
    assert circle.refused("post_prompt", prompt_id=prompt_id) == ErrorCode.INVALID_FIELD


# --- members are not hosts ------------------------------------------------------------------

@pytest.mark.parametrize("action", [
    HostAction("next_phase"), HostAction("set_phase", phase="sharing"), HostAction("call_next"),
    HostAction("pause"), HostAction("lock"), HostAction("slow_mode", seconds=5),
    HostAction("end"), HostAction("mute", handle="x", reason="r"), HostAction("unpin")])
def test_members_and_other_staff_get_not_a_host(circle: Circle, action: HostAction):
    for outsider in (circle.a, make_staff(Role.MODERATOR)):
        assert circle.refused(action.action, by=outsider, **{
            k: v for k, v in vars(action).items() if k != "action"}) == ErrorCode.NOT_A_HOST


def test_a_member_cannot_call_themselves_or_add_themselves(circle: Circle):
    circle.sharing()
    assert circle.refused("call", by=circle.a, handle=circle.a.handle) == ErrorCode.NOT_A_HOST
    assert circle.refused("add_to_queue", by=circle.a, handle=circle.a.handle) == (
        ErrorCode.NOT_A_HOST)
    assert circle.session.sharer is None and circle.queue() == []


def test_the_co_host_has_every_tool(circle: Circle):
    circle.sharing()
    circle.raise_hand(circle.a)
    assert circle.act("call_next", by=circle.co_host).sharer == circle.a
    assert circle.act("pause", by=circle.co_host).paused is True


# --- hands and the queue -------------------------------------------------------------------------

def test_raising_a_hand_twice_or_lowering_none(circle: Circle):
    circle.sharing()
    circle.raise_hand(circle.a)
    assert refusal(sessions.raise_hand, member=circle.a, room_id=circle.room.pk) == (
        ErrorCode.HAND_ALREADY_RAISED)
    assert refusal(sessions.lower_hand, member=circle.b, room_id=circle.room.pk) == (
        ErrorCode.HAND_NOT_RAISED)
    sessions.lower_hand(member=circle.a, room_id=circle.room.pk)
    assert circle.queue() == []
    assert refusal(sessions.lower_hand, member=circle.a, room_id=circle.room.pk) == (
        ErrorCode.HAND_NOT_RAISED)
    circle.raise_hand(circle.a)  # and up again
    assert circle.queue() == [circle.a.handle]


@pytest.mark.parametrize("phase", ["opening", "discussion", "closing"])
def test_hands_go_up_only_in_the_sharing_phase(circle: Circle, phase):
    circle.act("set_phase", phase=phase)
    assert refusal(sessions.raise_hand, member=circle.a, room_id=circle.room.pk) == (
        ErrorCode.INVALID_PHASE)
    assert circle.refused("add_to_queue", handle=circle.a.handle) == ErrorCode.INVALID_PHASE
    assert circle.refused("call_next") == ErrorCode.INVALID_PHASE
    assert circle.refused("call", handle=circle.a.handle) == ErrorCode.INVALID_PHASE


def test_a_sharer_cannot_raise_a_hand_again_until_their_turn_ends(circle: Circle):
    circle.sharing()
    circle.raise_hand(circle.a)
    circle.act("call_next")
    assert refusal(sessions.raise_hand, member=circle.a, room_id=circle.room.pk) == (
        ErrorCode.HAND_ALREADY_RAISED)
    sessions.end_turn(member=circle.a, room_id=circle.room.pk)
    circle.raise_hand(circle.a)
    assert circle.queue() == [circle.a.handle]


def test_call_next_takes_the_queue_in_order(circle: Circle):
    circle.sharing()
    for member in (circle.a, circle.b, circle.c):
        circle.raise_hand(member)
    assert circle.queue() == [circle.a.handle, circle.b.handle, circle.c.handle]
    now = timezone.now()
    session = sessions.host_action(host=circle.host, room_id=circle.room.pk,
                                   action=HostAction("call_next"), now=now)
    assert session.sharer == circle.a
    assert session.share_ends_at == now + timedelta(seconds=session.share_seconds)
    assert circle.queue() == [circle.b.handle, circle.c.handle]
    # Calling the next ends the current turn as done.
    assert circle.act("call_next").sharer == circle.b
    assert QueueEntry.objects.get(member=circle.a).state == QueueState.DONE
    assert circle.act("call_next").sharer == circle.c
    assert circle.refused("call_next") == ErrorCode.INVALID_PHASE  # nobody is waiting


def test_the_host_adds_moves_skips_and_calls_by_handle(circle: Circle):
    circle.sharing()
    for member in (circle.a, circle.b):
        circle.act("add_to_queue", handle=member.handle)
    assert circle.refused("add_to_queue", handle=circle.a.handle) == (
        ErrorCode.HAND_ALREADY_RAISED)
    circle.raise_hand(circle.c)
    circle.act("move", handle=circle.c.handle, position=1)
    assert circle.queue() == [circle.c.handle, circle.a.handle, circle.b.handle]
    circle.act("move", handle=circle.c.handle, position=3)
    assert circle.queue() == [circle.a.handle, circle.b.handle, circle.c.handle]
    circle.act("skip", handle=circle.b.handle)
    assert circle.queue() == [circle.a.handle, circle.c.handle]
    assert circle.refused("skip", handle=circle.b.handle) == ErrorCode.HAND_NOT_RAISED
    # `call` needs no raised hand.
    other = make_member()
    sessions.note_arrival(member=other, room=circle.room)  # a member who just came in
    assert circle.act("call", handle=other.handle).sharer == other
    assert circle.queue() == [circle.a.handle, circle.c.handle]


@pytest.mark.parametrize("position", [None, 0, 3, 99])
def test_move_refuses_a_position_out_of_range(circle: Circle, position):
    circle.sharing()
    circle.raise_hand(circle.a)
    circle.raise_hand(circle.b)
    assert circle.refused("move", handle=circle.a.handle, position=position) == (
        ErrorCode.INVALID_FIELD)
    assert circle.queue() == [circle.a.handle, circle.b.handle]


def test_move_or_skip_someone_not_waiting(circle: Circle):
    circle.sharing()
    circle.raise_hand(circle.a)
    assert circle.refused("move", handle=circle.b.handle, position=1) == ErrorCode.HAND_NOT_RAISED
    assert circle.refused("skip", handle=circle.b.handle) == ErrorCode.HAND_NOT_RAISED


@pytest.mark.parametrize("action", ["call", "add_to_queue", "move", "skip", "mute", "remove",
                                    "handover"])
@pytest.mark.parametrize("handle", [None, "", "NoSuchHandle999"])
def test_an_unknown_handle_is_member_not_found(circle: Circle, action, handle):
    circle.sharing()
    assert circle.refused(action, handle=handle, position=1, reason="a reason") == (
        ErrorCode.MEMBER_NOT_FOUND)


def test_an_unknown_action_is_invalid_field(circle: Circle):
    assert circle.refused("dance") == ErrorCode.INVALID_FIELD


# --- turns --------------------------------------------------------------------------------------

def test_only_the_sharer_ends_their_turn(circle: Circle):
    circle.sharing()
    circle.raise_hand(circle.b)
    circle.act("call", handle=circle.a.handle)
    for other in (circle.b, circle.c, circle.host):
        assert refusal(sessions.end_turn, member=other, room_id=circle.room.pk) == (
            ErrorCode.NOT_YOUR_TURN)
    sessions.end_turn(member=circle.a, room_id=circle.room.pk)
    session = circle.session
    assert (session.sharer, session.share_ends_at) == (None, None)
    assert QueueEntry.objects.get(member=circle.a).state == QueueState.DONE


def test_pass_is_always_fine_for_the_sharer_and_the_queue(circle: Circle):
    circle.sharing()
    circle.raise_hand(circle.a)
    circle.raise_hand(circle.b)
    circle.act("call_next")
    sessions.end_turn(member=circle.a, room_id=circle.room.pk, passing=True)
    assert circle.session.sharer is None
    assert QueueEntry.objects.get(member=circle.a).state == QueueState.PASSED
    # Passing from the queue steps out of it.
    sessions.end_turn(member=circle.b, room_id=circle.room.pk, passing=True)
    assert circle.queue() == []
    assert QueueEntry.objects.get(member=circle.b).state == QueueState.PASSED
    # With neither a turn nor a raised hand there is nothing to pass.
    assert refusal(sessions.end_turn, member=circle.c, room_id=circle.room.pk,
                   passing=True) == ErrorCode.NOT_YOUR_TURN


def test_the_host_ends_a_turn_and_extends_the_timer(circle: Circle):
    circle.sharing()
    assert circle.refused("extend", seconds=60) == ErrorCode.INVALID_PHASE
    assert circle.refused("end_turn") == ErrorCode.INVALID_PHASE
    ends = circle.act("call", handle=circle.a.handle).share_ends_at
    assert ends is not None
    assert circle.act("extend").share_ends_at == ends + timedelta(seconds=60)
    assert circle.act("extend", seconds=600).share_ends_at == ends + timedelta(seconds=660)
    assert circle.act("extend", seconds=1).share_ends_at == ends + timedelta(seconds=661)
    assert circle.act("end_turn").sharer is None


@pytest.mark.parametrize("seconds", [0, 601, 10_000])
def test_extend_refuses_out_of_range(circle: Circle, seconds):
    circle.sharing()
    circle.act("call", handle=circle.a.handle)
    assert circle.refused("extend", seconds=seconds) == ErrorCode.INVALID_FIELD


def test_an_expired_share_ends_exactly_once(circle: Circle, broadcasts,
                                            django_capture_on_commit_callbacks):
    circle.sharing()
    circle.raise_hand(circle.b)
    session = circle.act("call", handle=circle.a.handle)
    ends = session.share_ends_at
    assert ends is not None
    assert sessions.expire_turns(now=ends - timedelta(seconds=1)) == []
    assert circle.session.sharer == circle.a
    version = circle.session.version
    with django_capture_on_commit_callbacks(execute=True):
        assert sessions.expire_turns(now=ends) == [session.pk]
        assert sessions.expire_turns(now=ends + timedelta(seconds=5)) == []
    after = circle.session
    assert (after.sharer, after.share_ends_at, after.version) == (None, None, version + 1)
    assert QueueEntry.objects.get(member=circle.a).state == QueueState.DONE
    assert circle.queue() == [circle.b.handle]  # the queue itself is untouched
    frames = [frame for frame in broadcasts if frame["type"] == "session_state"]
    assert len(frames) == 1 and frames[0]["session"]["sharer"] is None


def test_expire_turns_leaves_other_sessions_alone(circle: Circle):
    circle.sharing()
    circle.act("call", handle=circle.a.handle)
    other = make_session(live=True)
    sessions.host_action(host=other.host, room_id=other.room_id,
                         action=HostAction("set_phase", phase="sharing"))
    sharer = make_member()
    sessions.note_arrival(member=sharer, room=other.room)
    sessions.host_action(host=other.host, room_id=other.room_id,
                         action=HostAction("call", handle=sharer.handle))
    other.refresh_from_db()
    assert other.share_ends_at is not None and circle.session.share_ends_at is not None
    assert other.share_ends_at > circle.session.share_ends_at
    assert sessions.expire_turns(now=circle.session.share_ends_at) == [circle.session.pk]
    other.refresh_from_db()
    assert other.sharer is not None


# --- slow mode, pause, lock, pin ------------------------------------------------------------------

@pytest.mark.parametrize("seconds", [None, 601, 3600])
def test_slow_mode_refuses_out_of_range(circle: Circle, seconds):
    assert circle.refused("slow_mode", seconds=seconds) == ErrorCode.INVALID_FIELD


def test_slow_mode_pause_lock_toggle(circle: Circle):
    assert circle.act("slow_mode", seconds=600).slow_mode_seconds == 600
    assert circle.act("slow_mode", seconds=0).slow_mode_seconds == 0
    assert circle.act("pause").paused is True
    assert circle.act("resume").paused is False
    assert circle.act("lock").locked is True
    assert circle.act("unlock").locked is False


def test_pin_needs_a_visible_message_of_this_room(circle: Circle):
    shown = post_in_room(member=circle.a, room=circle.room, client_id="p1", body="I'm glad I came")
    held = held_item(circle.room)
    moderator = make_staff(Role.MODERATOR)
    hidden = reported_item(circle.room)
    hide_message(moderator=moderator, item_id=hidden.id, rule="respect", reason="unkind")
    elsewhere = post_in_room(member=circle.b, room=make_room(), client_id="p2", body="hello")
    for seq in (None, held.message.seq, hidden.message.seq, 999, elsewhere.message.seq + 500):
        assert circle.refused("pin", seq=seq) == ErrorCode.MESSAGE_NOT_FOUND
    session = circle.act("pin", seq=shown.message.seq)
    pinned = sessions.session_field(session)["pinned"]
    assert (pinned["type"], pinned["seq"], pinned["body"]) == (
        "message", shown.message.seq, "I'm glad I came")
    assert sessions.session_field(circle.act("unpin"))["pinned"] is None


# --- mute, remove, handover -----------------------------------------------------------------------

@pytest.mark.parametrize("action", ["mute", "remove"])
@pytest.mark.parametrize("reason", ["", "   "])
def test_mute_and_remove_need_a_reason(circle: Circle, action, reason):
    assert circle.refused(action, handle=circle.a.handle, reason=reason) == (
        ErrorCode.MISSING_FIELD)
    assert not Sanction.objects.filter(member=circle.a).exists()


@pytest.mark.parametrize("action", ["mute", "remove"])
def test_hosts_and_staff_cannot_be_muted_or_removed(circle: Circle, action):
    for target in (circle.host, circle.co_host, make_staff(Role.MODERATOR)):
        assert circle.refused(action, by=circle.co_host if target == circle.host else None,
                              handle=target.handle, reason="because") == ErrorCode.FORBIDDEN
    assert not Sanction.objects.exists()


def test_mute_is_an_audited_timeout_until_the_session_ends(circle: Circle):
    circle.act("mute", handle=circle.a.handle, reason="  talking over others  ")
    sanction = Sanction.objects.get(member=circle.a)
    assert (sanction.kind, sanction.room, sanction.issued_by, sanction.reason) == (
        SanctionKind.TIMEOUT, circle.room, circle.host, "talking over others")
    bounds = sessions.session_field(circle.session)["ends_at"]
    assert sanction.ends_at is not None and sanction.ends_at.isoformat() == bounds
    assert AuditEntry.objects.filter(actor_handle=circle.host.handle,
                                     target_handle=circle.a.handle, room_slug=circle.room.slug,
                                     reason="talking over others").exists()
    assert refusal(post_in_room, member=circle.a, room=circle.room, client_id="m",
                   body="hello") == ErrorCode.TIMED_OUT


def test_removing_the_sharer_ends_their_turn_and_takes_their_hand_down(circle: Circle):
    circle.sharing()
    circle.raise_hand(circle.b)
    circle.act("call", handle=circle.a.handle)
    circle.act("remove", handle=circle.a.handle, reason="unkind to others")
    circle.act("remove", handle=circle.b.handle, reason="unkind to others")
    session = circle.session
    assert session.sharer is None and circle.queue() == []
    assert set(QueueEntry.objects.values_list("state", flat=True)) == {QueueState.SKIPPED}
    assert Sanction.objects.filter(kind=SanctionKind.BAN, room=circle.room).count() == 2
    assert refusal(post_in_room, member=circle.a, room=circle.room, client_id="m",
                   body="hello") == ErrorCode.BANNED


def test_handover_only_to_a_co_host(circle: Circle):
    for target in (circle.a, make_staff(Role.PEER_SUPPORTER), circle.host):
        assert circle.refused("handover", handle=target.handle) == ErrorCode.INVALID_FIELD
    session = circle.act("handover", handle=circle.co_host.handle)
    assert session.host == circle.co_host
    assert list(session.co_hosts.all()) == [circle.host]
    assert sessions.session_field(session)["hosts"] == [
        {"handle": circle.co_host.handle, "role": "host"},
        {"handle": circle.host.handle, "role": "co_host"}]
    # Both still host; the new host may hand it back.
    assert circle.act("pause", by=circle.host).paused is True
    assert circle.act("handover", by=circle.co_host, handle=circle.host.handle).host == (
        circle.host)


# --- end ----------------------------------------------------------------------------------------

def test_ending_a_one_off_session(circle: Circle, broadcasts, django_capture_on_commit_callbacks):
    circle.sharing()
    circle.act("call", handle=circle.a.handle)
    circle.act("slow_mode", seconds=30)
    circle.act("lock")
    with django_capture_on_commit_callbacks(execute=True):
        session = circle.act("end")
    assert (session.state, session.sharer, session.locked, session.slow_mode_seconds) == (
        SessionState.ENDED, None, False, 0)
    assert session.ended_at is not None
    ended = [frame for frame in broadcasts if frame["type"] == "session_ended"]
    assert ended == [{
        "group": ended[0]["group"], "type": "session_ended", "session_id": session.pk,
        "occurrence_on": session.first_date.isoformat(), "feedback_tags": sessions.feedback_tags()}]
    assert {"code": "felt_heard", "label": "I felt heard"} in ended[0]["feedback_tags"]
    assert selectors.live_session(room_id=circle.room.pk) is None
    assert refusal(sessions.raise_hand, member=circle.b, room_id=circle.room.pk) == (
        ErrorCode.INVALID_PHASE)


def test_a_weekly_session_goes_back_on_the_schedule(circle: Circle):
    HostedSession.objects.filter(room=circle.room).update(recurrence=Recurrence.WEEKLY)
    session = circle.act("end")
    assert session.state == SessionState.SCHEDULED
    field = sessions.session_field(session)
    assert field["state"] == "scheduled" and field["prompts"] == []
    # The next occurrence is a week on, and the host can start it again then.
    assert field["starts_at"] is not None and field["starts_at"] > timezone.now().isoformat()


# --- posting rules (chat.services.post_message) ---------------------------------------------------

def post(circle: Circle, member: Member, body: str = "thank you for sharing") -> int:
    return post_in_room(member=member, room=circle.room, client_id=f"c{body[:4]}{member.pk}"
                        f"{timezone.now().timestamp()}", body=body).message.seq


def test_while_paused_only_hosts_post(circle: Circle):
    circle.act("pause")
    assert refusal(post_in_room, member=circle.a, room=circle.room, client_id="p",
                   body="hello") == ErrorCode.SESSION_PAUSED
    post(circle, circle.host)
    post(circle, circle.co_host)
    circle.act("resume")
    post(circle, circle.a)


def test_while_someone_shares_only_they_and_the_hosts_post(circle: Circle):
    circle.sharing()
    post(circle, circle.b)  # sharing, nobody has the turn: open
    circle.act("call", handle=circle.a.handle)
    assert refusal(post_in_room, member=circle.b, room=circle.room, client_id="t",
                   body="me too") == ErrorCode.NOT_YOUR_TURN
    post(circle, circle.a)
    post(circle, circle.host)
    post(circle, circle.co_host)
    sessions.end_turn(member=circle.a, room_id=circle.room.pk)
    post(circle, circle.b)


def test_slow_mode_makes_members_wait_but_not_hosts(circle: Circle):
    circle.act("slow_mode", seconds=30)
    post(circle, circle.a, "first thought")
    with pytest.raises(sessions.SlowModeError) as caught:
        post(circle, circle.a, "second thought")
    assert caught.value.code == ErrorCode.SLOW_MODE
    assert 0 < caught.value.retry_after <= 30
    post(circle, circle.b, "someone else")  # per member
    post(circle, circle.host, "host one")
    post(circle, circle.host, "host two")
    later = timezone.now() + timedelta(seconds=31)
    sessions.ensure_may_post(member_id=circle.a.pk, room=circle.room, now=later)
    circle.act("slow_mode", seconds=0)
    post(circle, circle.a, "third thought")


def test_an_ended_session_or_a_plain_room_sets_no_rules(circle: Circle):
    circle.act("pause")
    circle.act("end")
    post(circle, circle.a)
    plain = make_room()
    sessions.ensure_may_post(member_id=circle.a.pk, room=plain)


# --- the lock -------------------------------------------------------------------------------------

def test_lock_keeps_newcomers_out_but_lets_participants_back(circle: Circle):
    newcomer = make_member()
    circle.act("lock")
    sessions.note_arrival(member=circle.a, room=circle.room)  # a reconnect
    assert refusal(sessions.note_arrival, member=newcomer, room=circle.room) == (
        ErrorCode.SESSION_LOCKED)
    # Hosts and staff are never newcomers to keep out.
    sessions.note_arrival(member=circle.co_host, room=circle.room)
    sessions.note_arrival(member=make_staff(Role.MODERATOR), room=circle.room)
    assert not SessionParticipant.objects.filter(member=newcomer).exists()
    circle.act("unlock")
    sessions.note_arrival(member=newcomer, room=circle.room)
    assert SessionParticipant.objects.filter(member=newcomer).exists()


def test_people_in_the_room_when_it_starts_take_part_and_may_reconnect_when_locked():
    from tests.factories import join_room

    session = make_session()
    early = make_member()
    join_room(room_slug=session.room.slug, member_id=early.pk, channel_name="early-1",
              worker_id="w1")
    sessions.note_arrival(member=early, room=session.room)  # nothing live yet: not recorded
    sessions.start(host=session.host, room_id=session.room_id)
    sessions.host_action(host=session.host, room_id=session.room_id, action=HostAction("lock"))
    sessions.note_arrival(member=early, room=session.room)
    assert refusal(sessions.note_arrival, member=make_member(), room=session.room) == (
        ErrorCode.SESSION_LOCKED)


def test_a_scheduled_session_is_never_locked_to_arrivals():
    session = make_session()
    HostedSession.objects.filter(pk=session.pk).update(locked=True)
    sessions.note_arrival(member=make_member(), room=session.room)
    assert not SessionParticipant.objects.exists()


def test_starting_again_forgets_last_time_s_participants_and_queue(circle: Circle):
    HostedSession.objects.filter(room=circle.room).update(recurrence=Recurrence.WEEKLY)
    sessions.note_arrival(member=circle.a, room=circle.room)
    circle.sharing()
    circle.raise_hand(circle.b)
    circle.act("end")
    HostedSession.objects.filter(room=circle.room).update(ended_at=None)
    session = sessions.start(host=circle.host, room_id=circle.room.pk)
    assert (session.phase, session.locked, session.paused) == ("opening", False, False)
    assert not SessionParticipant.objects.exists() and not QueueEntry.objects.exists()


# --- versions and broadcasts ----------------------------------------------------------------------

def test_every_change_bumps_the_version_once_and_broadcasts_what_a_fresh_read_shows(
        circle: Circle, broadcasts, django_capture_on_commit_callbacks):
    prompt = Prompt.objects.filter(is_active=True).first()
    assert prompt is not None
    seq = post(circle, circle.a, "pin me please")
    steps = [
        lambda: circle.act("next_phase"),
        lambda: circle.raise_hand(circle.a),
        lambda: circle.raise_hand(circle.b),
        lambda: circle.act("add_to_queue", handle=circle.c.handle),
        lambda: circle.act("move", handle=circle.c.handle, position=1),
        lambda: circle.act("call_next"),
        lambda: circle.act("extend", seconds=30),
        lambda: sessions.end_turn(member=circle.c, room_id=circle.room.pk, passing=True),
        lambda: circle.act("skip", handle=circle.b.handle),
        lambda: sessions.lower_hand(member=circle.a, room_id=circle.room.pk),
        lambda: circle.act("call", handle=circle.b.handle),
        lambda: sessions.end_turn(member=circle.b, room_id=circle.room.pk),
        lambda: circle.act("slow_mode", seconds=10),
        lambda: circle.act("pause"),
        lambda: circle.act("resume"),
        lambda: circle.act("lock"),
        lambda: circle.act("pin", seq=seq),
        lambda: circle.act("next_phase"),
        lambda: circle.act("post_prompt", prompt_id=prompt.pk),
        lambda: circle.act("mute", handle=circle.a.handle, reason="needs a break"),
        lambda: circle.act("handover", handle=circle.co_host.handle),
        lambda: circle.act("next_phase"),
    ]
    for step in steps:
        before = circle.session.version
        broadcasts.clear()
        with django_capture_on_commit_callbacks(execute=True):
            step()
        fresh = sessions.session_field(circle.session)
        assert fresh["version"] == before + 1
        states = [frame for frame in broadcasts if frame["type"] == "session_state"]
        assert len(states) == 1
        assert states[0]["group"] == room_group(circle.room.pk)
        assert states[0]["session"] == fresh
    final = sessions.session_field(circle.session)
    assert (final["phase"], final["locked"], final["slow_mode_seconds"], final["prompt"],
            final["pinned"]["seq"], final["hosts"][0]["handle"]) == (
        "closing", True, 10, "", seq, circle.co_host.handle)


def test_session_state_lists_what_the_room_sees(circle: Circle):
    circle.sharing()
    circle.raise_hand(circle.b)
    circle.raise_hand(circle.c)
    session = circle.act("call", handle=circle.a.handle)
    field = sessions.session_field(session)
    assert field["id"] == session.pk and field["room"] == circle.room.slug
    assert (field["state"], field["phase"]) == ("live", "sharing")
    assert field["hosts"] == [{"handle": circle.host.handle, "role": "host"},
                              {"handle": circle.co_host.handle, "role": "co_host"}]
    assert field["queue"] == [{"handle": circle.b.handle, "position": 1},
                              {"handle": circle.c.handle, "position": 2}]
    assert field["sharer"] == {"handle": circle.a.handle}
    assert session.share_ends_at is not None and session.started_at is not None
    assert field["share_ends_at"] == session.share_ends_at.isoformat()
    assert field["starts_at"] == session.started_at.isoformat()
    assert set(field["template"]) == {"welcome_text", "introductions_prompt",
                                      "closing_prompt", "grounding_text"}
    assert field["prompts"] and all(set(p) == {"id", "text"} for p in field["prompts"])
    assert json.loads(json.dumps(field)) == field  # plain JSON


def test_a_live_session_admits_members_up_to_its_own_capacity_and_staff_always():
    session = make_session(live=True)
    HostedSession.objects.filter(pk=session.pk).update(capacity=2)
    room = session.room
    first, second, third = make_member(), make_member(), make_member()
    for member in (first, second):
        sessions.note_arrival(member=member, room=room)
    with pytest.raises(HearthError) as refused:
        sessions.note_arrival(member=third, room=room)
    assert refused.value.code == ErrorCode.ROOM_FULL
    # Someone already taking part comes back; staff are never counted.
    sessions.note_arrival(member=first, room=room)
    sessions.note_arrival(member=make_staff(Role.MODERATOR), room=room)



def test_a_host_cannot_call_or_queue_someone_who_is_not_in_the_session(circle: Circle):
    room_circle = circle
    outsider = make_member()
    room_circle.act("next_phase")
    for action in ("call", "add_to_queue"):
        assert room_circle.refused(action, handle=outsider.handle) == ErrorCode.MEMBER_NOT_FOUND


def test_sessions_are_only_scheduled_in_hosted_rooms():
    import datetime as dt

    from rooms.schedule import schedule_session

    with pytest.raises(HearthError) as refused:
        schedule_session(room=make_room(), title="Circle", host=make_staff(Role.PEER_SUPPORTER),
                         time_zone="UTC", first_date=dt.date(2026, 11, 24),
                         start_time=dt.time(19))
    assert refused.value.code == ErrorCode.INVALID_FIELD
