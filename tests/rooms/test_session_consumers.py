"""Hosted sessions on the room socket, through the full ASGI stack (origin check, sessions,
routing) with WebsocketCommunicator: `welcome.session`, `session_state` to every socket,
reactions and their own rate limit, feedback kept once per browser session, the lock and a
removal. Real daphne processes run the whole session in tests/system/test_sessions_flow.py."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from chat.errors import ErrorCode
from chat.models import Member, Role
from chat.protocol import CloseCode
from rooms.models import HostedSession, RoomKind, SessionFeedback
from tests.chat.test_consumers import connect, joined, next_of, send, session_for
from tests.factories import make_member, make_room, make_session, make_staff

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@dataclass
class Live:
    session: HostedSession
    host: Member
    co_host: Member
    members: list[Member]

    @property
    def slug(self) -> str:
        return self.session.room.slug


def _live(members: int) -> Live:
    host, co_host = make_staff(Role.PEER_SUPPORTER), make_staff(Role.PEER_SUPPORTER)
    session = make_session(room=make_room(kind=RoomKind.HOSTED), host=host,
                           co_hosts=(co_host,), live=True)
    session = HostedSession.objects.select_related("room").get(pk=session.pk)
    return Live(session=session, host=host, co_host=co_host,
                members=[make_member() for _ in range(members)])


async def live(members: int = 2) -> Live:
    return await database_sync_to_async(_live)(members)


@asynccontextmanager
async def sockets(slug: str, *people: Member) -> AsyncIterator[list[WebsocketCommunicator]]:
    opened = [await joined(slug, person) for person in people]
    try:
        yield opened
    finally:
        for communicator in opened:
            await communicator.disconnect()


async def host(communicator: WebsocketCommunicator, action: str, **fields: Any) -> None:
    await send(communicator, {"type": "host", "action": action, **fields})


async def state_of(communicator: WebsocketCommunicator) -> dict[str, Any]:
    return (await next_of(communicator, "session_state"))["session"]


async def until(communicator: WebsocketCommunicator, **expected: Any) -> dict[str, Any]:
    """The first session state with these values (skipping older ones)."""
    for _ in range(20):
        state = await state_of(communicator)
        if all(state[key] == value for key, value in expected.items()):
            return state
    raise AssertionError(f"no session_state with {expected}")


async def error_of(communicator: WebsocketCommunicator) -> dict[str, Any]:
    return await next_of(communicator, "error")


# --- welcome -------------------------------------------------------------------------------------

async def test_welcome_carries_the_next_scheduled_session():
    session = await database_sync_to_async(make_session)()
    slug = await database_sync_to_async(lambda: session.room.slug)()
    communicator = await connect(slug, await database_sync_to_async(make_member)())
    welcome = await next_of(communicator, "welcome")
    field = welcome["session"]
    assert (field["id"], field["state"], field["phase"], field["title"]) == (
        session.pk, "scheduled", "opening", session.title)
    assert field["starts_at"] and field["ends_at"] and field["prompts"] == []
    await communicator.disconnect()


async def test_welcome_in_a_plain_room_has_no_session():
    room = await database_sync_to_async(make_room)()
    communicator = await connect(room.slug, await database_sync_to_async(make_member)())
    assert (await next_of(communicator, "welcome"))["session"] is None
    await communicator.disconnect()


async def test_a_reconnect_mid_session_gets_phase_queue_timer_and_pin():
    circle = await live(members=2)
    a, b = circle.members
    async with sockets(circle.slug, circle.host, a, b) as (h, sa, sb):
        await send(sa, {"type": "send", "client_id": "pin-me", "body": "what helped me"})
        seq = (await next_of(sa, "ack"))["seq"]
        await host(h, "pin", seq=seq)
        await host(h, "next_phase")
        await until(sa, phase="sharing")
        await send(sa, {"type": "raise_hand"})
        await until(sb, queue=[{"handle": a.handle, "position": 1}])
        await send(sb, {"type": "raise_hand"})
        await until(h, queue=[{"handle": a.handle, "position": 1},
                              {"handle": b.handle, "position": 2}])
        await host(h, "call_next")
        last = await until(h, sharer={"handle": a.handle})
    again = await connect(circle.slug, b)
    field = (await next_of(again, "welcome"))["session"]
    assert (field["phase"], field["sharer"], field["share_ends_at"], field["version"]) == (
        "sharing", {"handle": a.handle}, last["share_ends_at"], last["version"])
    assert field["queue"] == [{"handle": b.handle, "position": 1}]
    assert field["pinned"]["seq"] == seq
    await again.disconnect()


# --- session_state --------------------------------------------------------------------------------

async def test_a_host_action_reaches_every_socket_as_one_state():
    circle = await live(members=2)
    async with sockets(circle.slug, circle.host, circle.co_host, *circle.members) as opened:
        await host(opened[0], "next_phase")
        seen = [await state_of(communicator) for communicator in opened]
        assert all(state == seen[0] for state in seen)
        assert seen[0]["phase"] == "sharing"
        await host(opened[1], "slow_mode", seconds=15)  # the co-host
        seen = [await state_of(communicator) for communicator in opened]
        assert {state["slow_mode_seconds"] for state in seen} == {15}
        assert {state["version"] for state in seen} == {circle.session.version + 2}


async def test_hands_turns_and_refusals_over_the_socket():
    circle = await live(members=2)
    a, b = circle.members
    async with sockets(circle.slug, circle.host, a, b) as (h, sa, sb):
        await send(sa, {"type": "raise_hand"})
        assert (await error_of(sa))["code"] == ErrorCode.INVALID_PHASE
        await host(h, "next_phase")
        await until(sa, phase="sharing")
        await send(sa, {"type": "raise_hand"})
        await until(sa, queue=[{"handle": a.handle, "position": 1}])
        await send(sa, {"type": "raise_hand"})
        assert (await error_of(sa))["code"] == ErrorCode.HAND_ALREADY_RAISED
        await send(sb, {"type": "lower_hand"})
        assert (await error_of(sb))["code"] == ErrorCode.HAND_NOT_RAISED
        for frame in ({"type": "host", "action": "call", "handle": b.handle},
                      {"type": "host", "action": "next_phase"},
                      {"type": "host", "action": "call_next"}):
            await send(sb, frame)
            assert (await error_of(sb))["code"] == ErrorCode.NOT_A_HOST
        await send(sb, {"type": "end_turn"})
        assert (await error_of(sb))["code"] == ErrorCode.NOT_YOUR_TURN
        await host(h, "call_next")
        state = await until(sb, sharer={"handle": a.handle})
        assert state["queue"] == []
        await send(sb, {"type": "send", "client_id": "out-of-turn", "body": "me too"})
        refused = await error_of(sb)
        assert (refused["code"], refused["client_id"]) == (ErrorCode.NOT_YOUR_TURN,
                                                           "out-of-turn")
        await send(sa, {"type": "pass"})
        await until(sb, sharer=None)


async def test_posting_while_paused_and_under_slow_mode():
    circle = await live(members=1)
    (a,) = circle.members
    async with sockets(circle.slug, circle.host, a) as (h, sa):
        await host(h, "pause")
        assert (await state_of(sa))["paused"] is True
        await send(sa, {"type": "send", "client_id": "p1", "body": "hello"})
        refused = await error_of(sa)
        assert (refused["code"], refused["client_id"]) == (ErrorCode.SESSION_PAUSED, "p1")
        await send(h, {"type": "send", "client_id": "h1", "body": "let's breathe together"})
        assert (await next_of(h, "ack"))["client_id"] == "h1"
        await host(h, "resume")
        await host(h, "slow_mode", seconds=60)
        await until(sa, slow_mode_seconds=60, paused=False)
        await send(sa, {"type": "send", "client_id": "s1", "body": "thank you"})
        assert (await next_of(sa, "ack"))["client_id"] == "s1"
        await send(sa, {"type": "send", "client_id": "s2", "body": "and again"})
        refused = await error_of(sa)
        assert (refused["code"], refused["client_id"]) == (ErrorCode.SLOW_MODE, "s2")
        assert 0 < refused["retry_after"] <= 60


async def test_host_frames_with_bad_fields_get_their_codes():
    circle = await live(members=0)
    async with sockets(circle.slug, circle.host) as (h,):
        for frame, code in (
                ({"type": "host"}, ErrorCode.MISSING_FIELD),
                ({"type": "host", "action": "dance"}, ErrorCode.INVALID_FIELD),
                ({"type": "host", "action": "extend", "seconds": -1}, ErrorCode.INVALID_FIELD),
                ({"type": "host", "action": "slow_mode", "seconds": 601},
                 ErrorCode.INVALID_FIELD),
                ({"type": "host", "action": "set_phase", "phase": "nap"},
                 ErrorCode.INVALID_FIELD),
                ({"type": "host", "action": "skip", "handle": "Nobody123"},
                 ErrorCode.MEMBER_NOT_FOUND),
                ({"type": "host", "action": "pin", "seq": 404}, ErrorCode.MESSAGE_NOT_FOUND),
                ({"type": "host", "action": "start"}, ErrorCode.INVALID_PHASE)):
            await send(h, frame)
            assert (await error_of(h))["code"] == code, frame


# --- reactions ------------------------------------------------------------------------------------

async def test_reactions_reach_everyone_even_out_of_turn(settings):
    circle = await live(members=2)
    a, b = circle.members
    async with sockets(circle.slug, circle.host, a, b) as (h, sa, sb):
        await host(h, "next_phase")
        await host(h, "call", handle=a.handle)
        await until(sb, sharer={"handle": a.handle})
        await send(sb, {"type": "react", "reaction": "hug", "seq": 3})
        for communicator in (h, sa, sb):
            assert await next_of(communicator, "reaction") == {
                "type": "reaction", "handle": b.handle, "reaction": "hug", "seq": 3}


async def test_reactions_have_their_own_limit_and_leave_the_send_bucket_alone(settings):
    settings.HEARTH_REACTION_BURST = 5
    settings.HEARTH_REACTION_PER_SECOND = 0.01
    settings.HEARTH_SEND_BURST = 3
    settings.HEARTH_SEND_PER_SECOND = 0.01
    circle = await live(members=1)
    (a,) = circle.members
    async with sockets(circle.slug, a) as (sa,):
        for n in range(5):
            await send(sa, {"type": "react", "reaction": "heart"})
            assert (await next_of(sa, "reaction"))["reaction"] == "heart", n
        await send(sa, {"type": "react", "reaction": "heart"})
        refused = await error_of(sa)
        assert refused["code"] == ErrorCode.RATE_LIMITED and refused["retry_after"] > 0
        for n in range(3):  # every message of the send burst is still there
            await send(sa, {"type": "send", "client_id": f"m{n}", "body": f"still here {n}"})
            assert (await next_of(sa, "ack"))["client_id"] == f"m{n}"
        await send(sa, {"type": "send", "client_id": "m3", "body": "one too many"})
        assert (await error_of(sa))["code"] == ErrorCode.RATE_LIMITED


async def test_reactions_need_a_live_session_and_a_known_reaction():
    session = await database_sync_to_async(make_session)()
    slug = await database_sync_to_async(lambda: session.room.slug)()
    async with sockets(slug, await database_sync_to_async(make_member)()) as (sa,):
        await send(sa, {"type": "react", "reaction": "heart"})
        assert (await error_of(sa))["code"] == ErrorCode.INVALID_PHASE
        await send(sa, {"type": "react", "reaction": "thumbs_down"})
        assert (await error_of(sa))["code"] == ErrorCode.INVALID_FIELD


# --- feedback -------------------------------------------------------------------------------------

def feedback(session: HostedSession, **fields: Any) -> dict[str, Any]:
    return {"type": "feedback", "session_id": session.pk,
            "occurrence_on": session.first_date.isoformat(), "mood_before": 2,
            "mood_after": 4, "helpful": True, "tags": ["felt_heard", "felt_safe"],
            "comment": "  thank you all  ", **fields}


async def test_feedback_is_stored_without_the_member_and_once_per_browser():
    circle = await live(members=2)
    a, b = circle.members
    key = await database_sync_to_async(session_for)(a)
    first = await connect(circle.slug, a, session_key=key)
    await next_of(first, "welcome")
    await send(first, feedback(circle.session))
    assert await next_of(first, "feedback_received") == {
        "type": "feedback_received", "session_id": circle.session.pk}
    rows = await database_sync_to_async(list)(SessionFeedback.objects.values())
    assert len(rows) == 1
    row = rows[0]
    assert (row["session_id"], row["occurrence_on"], row["mood_before"], row["mood_after"],
            row["helpful"], row["tags"], row["comment"]) == (
        circle.session.pk, circle.session.first_date, 2, 4, True, ["felt_heard", "felt_safe"],
        "thank you all")
    for value in row.values():  # nothing names the member
        assert value not in (a.pk, a.handle, str(a.pk))
    await send(first, feedback(circle.session, mood_after=5))
    assert (await error_of(first))["code"] == ErrorCode.FEEDBACK_ALREADY_GIVEN
    # The same date written another way is the same occurrence.
    await send(first, feedback(circle.session, occurrence_on=circle.session.first_date
                               .strftime("%Y%m%d")))
    assert (await error_of(first))["code"] == ErrorCode.FEEDBACK_ALREADY_GIVEN
    await first.disconnect()
    # Kept in the browser session: a new socket of the same browser is refused too…
    again = await connect(circle.slug, a, session_key=key)
    await next_of(again, "welcome")
    await send(again, feedback(circle.session))
    assert (await error_of(again))["code"] == ErrorCode.FEEDBACK_ALREADY_GIVEN
    await again.disconnect()
    # …while another member answers for themselves.
    async with sockets(circle.slug, b) as (sb,):
        await send(sb, feedback(circle.session, tags=[], comment=""))
        await next_of(sb, "feedback_received")
    assert await database_sync_to_async(SessionFeedback.objects.count)() == 2


async def test_feedback_twice_from_two_tabs_open_at_once_is_refused():
    circle = await live(members=1)
    (a,) = circle.members
    key = await database_sync_to_async(session_for)(a)
    tabs = [await connect(circle.slug, a, session_key=key) for _ in range(2)]
    for tab in tabs:
        await next_of(tab, "welcome")
    await send(tabs[0], feedback(circle.session))
    await next_of(tabs[0], "feedback_received")
    await send(tabs[1], feedback(circle.session))
    assert (await error_of(tabs[1]))["code"] == ErrorCode.FEEDBACK_ALREADY_GIVEN
    assert await database_sync_to_async(SessionFeedback.objects.count)() == 1
    for tab in tabs:
        await tab.disconnect()


@pytest.mark.parametrize(("fields", "code"), [
    ({"mood_before": 0}, ErrorCode.INVALID_FIELD),
    ({"mood_after": 6}, ErrorCode.INVALID_FIELD),
    ({"mood_after": "4"}, ErrorCode.INVALID_FIELD),
    ({"helpful": "yes"}, ErrorCode.INVALID_FIELD),
    ({"tags": ["felt_heard", "loved_it"]}, ErrorCode.INVALID_FIELD),
    ({"tags": "felt_heard"}, ErrorCode.INVALID_FIELD),
    ({"comment": 5}, ErrorCode.INVALID_FIELD),
    ({"occurrence_on": "1999-01-01"}, ErrorCode.INVALID_FIELD),
    ({"occurrence_on": "yesterday"}, ErrorCode.INVALID_FIELD),
    ({"session_id": 999_999}, ErrorCode.INVALID_FIELD),
    ({"session_id": "1"}, ErrorCode.INVALID_FIELD),
])
async def test_bad_feedback_is_refused_and_can_be_corrected(fields, code):
    circle = await live(members=1)
    async with sockets(circle.slug, circle.members[0]) as (sa,):
        await send(sa, feedback(circle.session, **fields))
        assert (await error_of(sa))["code"] == code
        assert await database_sync_to_async(SessionFeedback.objects.count)() == 0
        # A refusal does not count as the answer.
        await send(sa, feedback(circle.session))
        await next_of(sa, "feedback_received")


# --- end, lock, removal ---------------------------------------------------------------------------

async def test_ending_tells_everyone_and_offers_the_card():
    circle = await live(members=1)
    async with sockets(circle.slug, circle.host, circle.members[0]) as (h, sa):
        await host(h, "end")
        ended = await next_of(sa, "session_ended")
        assert (ended["session_id"], ended["occurrence_on"]) == (
            circle.session.pk, circle.session.first_date.isoformat())
        assert {"code": "too_fast", "label": "It felt too fast"} in ended["feedback_tags"]
        assert (await state_of(sa))["state"] == "ended"


async def test_a_locked_session_refuses_newcomers_with_4423_but_not_participants():
    circle = await live(members=2)
    a, b = circle.members
    async with sockets(circle.slug, circle.host, a) as (h, sa):
        await host(h, "lock")
        assert (await state_of(sa))["locked"] is True
        late = await connect(circle.slug, b)
        assert (await next_of(late, "error"))["code"] == ErrorCode.SESSION_LOCKED
        assert (await late.receive_output(timeout=2))["code"] == CloseCode.SESSION_LOCKED
        back = await connect(circle.slug, a)  # a second tab of someone taking part
        assert (await next_of(back, "welcome"))["session"]["locked"] is True
        await back.disconnect()
        await host(h, "unlock")
        await until(sa, locked=False)
        now_in = await connect(circle.slug, b)
        await next_of(now_in, "welcome")
        await now_in.disconnect()


async def test_a_removed_member_is_closed_with_4403_and_cannot_rejoin():
    circle = await live(members=1)
    (a,) = circle.members
    async with sockets(circle.slug, circle.host) as (h,):
        sa = await joined(circle.slug, a)
        await host(h, "remove", handle=a.handle)
        assert (await error_of(h))["code"] == ErrorCode.MISSING_FIELD
        await host(h, "remove", handle=a.handle, reason="unkind to another member")
        notice = await next_of(sa, "notice")
        assert (notice["kind"], notice["room"]) == ("ban", circle.slug)
        for _ in range(20):
            output = await sa.receive_output(timeout=2)
            if output["type"] == "websocket.close":
                break
        assert output == {"type": "websocket.close", "code": CloseCode.FORBIDDEN}
        again = await connect(circle.slug, a)
        assert (await next_of(again, "error"))["code"] == ErrorCode.BANNED
        assert (await again.receive_output(timeout=2))["code"] == CloseCode.FORBIDDEN


async def test_a_muted_member_reads_but_gets_timed_out():
    circle = await live(members=2)
    a, b = circle.members
    async with sockets(circle.slug, circle.host, a, b) as (h, sa, sb):
        await host(h, "mute", handle=a.handle, reason="needs a pause")
        assert (await next_of(sa, "notice"))["kind"] == "timeout"
        await send(sa, {"type": "send", "client_id": "m1", "body": "hello"})
        assert (await error_of(sa))["code"] == ErrorCode.TIMED_OUT
        await send(sb, {"type": "send", "client_id": "m2", "body": "hello a"})
        assert json.dumps((await next_of(sa, "message"))["body"]) == '"hello a"'


async def test_a_muted_member_cannot_react_either():
    circle = await live(members=2)
    a, _b = circle.members
    async with sockets(circle.slug, circle.host, a) as (h, sa):
        await host(h, "mute", handle=a.handle, reason="needs a pause")
        assert (await next_of(sa, "notice"))["kind"] == "timeout"
        await send(sa, {"type": "react", "reaction": "hug"})
        error = await error_of(sa)
        assert (error["code"], error["request"]) == (ErrorCode.TIMED_OUT, "react")


async def test_feedback_is_for_people_who_took_part():
    circle = await live(members=1)
    outsider = await database_sync_to_async(make_member)()
    # A socket in another room: the outsider never joined this session.
    elsewhere = await database_sync_to_async(make_room)()
    async with sockets(elsewhere.slug, outsider) as (socket,):
        await send(socket, feedback(circle.session))
        error = await error_of(socket)
        assert (error["code"], error["request"]) == (ErrorCode.INVALID_FIELD, "feedback")
    assert await database_sync_to_async(SessionFeedback.objects.count)() == 0


async def test_session_frames_share_the_read_limit(settings):
    # 3: joining spends one on accept_rules (every frame type has a limit).
    settings.HEARTH_READ_BURST, settings.HEARTH_READ_PER_SECOND = 3, 0.01
    circle = await live(members=1)
    (a,) = circle.members
    async with sockets(circle.slug, a) as (sa,):
        for _ in range(2):
            await send(sa, {"type": "lower_hand"})
            assert (await error_of(sa))["code"] == ErrorCode.HAND_NOT_RAISED
        await send(sa, {"type": "lower_hand"})
        error = await error_of(sa)
        assert (error["code"], error["request"]) == (ErrorCode.RATE_LIMITED, "lower_hand")
        assert error["retry_after"] > 0
