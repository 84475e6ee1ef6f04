"""A whole hosted session on one real daphne worker, over real websockets (issue 5, acceptance
1): a host, a co-host and four members go through opening, sharing, discussion and closing;
a queue of three sharers (one finishes, one passes, one runs out of time on the server's own
timer); slow mode, pause, the lock (a fifth member is turned away with 4423), a removal (4403,
no way back) and anonymous feedback from each member. Every refused action is checked for its
exact error code.

Runs on SQLite by default and on PostgreSQL when DATABASE_URL points at one; no Redis needed.
`schedule_hosted_session` is shared with test_sessions_redis.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from tests.system.client import Chatter, frames_until_close, join, unique
from tests.system.servers import (
    Servers,
    new_session_cookies,
    open_socket,
    run_servers,
    send_frame,
)
from tests.system.test_moderation_flow import (
    MODERATION_ENV,
    add_moderator,
    closing,
    staff_login,
)

pytestmark = pytest.mark.system

# The watcher ends an expired share; it looks often here so the test need not wait long.
SESSIONS_ENV = {**MODERATION_ENV, "HEARTH_WATCH_SECONDS": "0.3"}
SHORT_SHARE_SECONDS = 2


def schedule_hosted_session(servers: Servers, *, host: str, co_hosts: tuple[str, ...] = (),
                            minutes_ago: int = 5) -> tuple[str, int]:
    """A hosted room and a one-off Europe/London session in it that began `minutes_ago`,
    scheduled with rooms.schedule.schedule_session as the admin does. Returns (slug, id)."""
    slug = unique("circle")
    servers.manage("add_room", slug, "--title", "Evening anxiety circle", "--kind", "hosted",
                   "--focus-area", "anxiety")
    output = servers.shell(
        "from datetime import timedelta\n"
        "from zoneinfo import ZoneInfo\n"
        "from django.utils import timezone\n"
        "from chat.models import Member\n"
        "from rooms.models import Recurrence, Room, SessionTemplate\n"
        "from rooms.schedule import schedule_session\n"
        f"begins = (timezone.now() - timedelta(minutes={minutes_ago}))"
        ".astimezone(ZoneInfo('Europe/London'))\n"
        f"host = Member.objects.get(user__username={host!r})\n"
        f"co_hosts = tuple(Member.objects.filter(user__username__in={list(co_hosts)!r}))\n"
        f"session = schedule_session(room=Room.objects.get(slug={slug!r}), "
        "title='Evening anxiety circle', host=host, time_zone='Europe/London', "
        "first_date=begins.date(), start_time=begins.time().replace(microsecond=0), "
        "recurrence=Recurrence.ONCE, capacity=10, co_hosts=co_hosts, "
        "template=SessionTemplate.objects.order_by('pk').first())\n"
        "print(session.pk)\n")
    return slug, int(output.strip().splitlines()[-1])


def set_share_seconds(servers: Servers, session_id: int, seconds: int) -> None:
    servers.shell("from rooms.models import HostedSession; "
                  f"HostedSession.objects.filter(pk={session_id}).update(share_seconds={seconds})")


def stored_feedback(servers: Servers, session_id: int) -> list[dict[str, Any]]:
    """The worker's SessionFeedback rows for a session, every column."""
    output = servers.shell(
        "import json; from rooms.models import SessionFeedback; "
        f"print(json.dumps(list(SessionFeedback.objects.filter(session_id={session_id})"
        ".values()), default=str))")
    rows: list[dict[str, Any]] = json.loads(output.strip().splitlines()[-1])
    return rows


async def host(chatter: Chatter, action: str, **fields: Any) -> None:
    await send_frame(chatter.ws, {"type": "host", "action": action, **fields})


async def everyone_sees(people: list[Chatter], **expected: Any) -> dict[str, Any]:
    """Every socket gets a session_state with these values; all of them the same."""
    states = [await person.session_state(**expected) for person in people]
    assert all(state == states[0] for state in states), "sockets saw different states"
    return states[0]


def queue_of(state: dict[str, Any]) -> list[str]:
    return [entry["handle"] for entry in state["queue"]]


# --- fixtures -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with run_servers(tmp_path_factory.mktemp("sessions"), extra_env=SESSIONS_ENV) as running:
        yield running


# --- the whole session --------------------------------------------------------------------------

async def test_a_whole_hosted_session(servers: Servers) -> None:
    host_name = add_moderator(servers, "peer_supporter")
    co_host_name = add_moderator(servers, "peer_supporter")
    slug, session_id = schedule_hosted_session(servers, host=host_name,
                                               co_hosts=(co_host_name,))
    host_cookie = await staff_login(servers, host_name)
    co_host_cookie = await staff_login(servers, co_host_name)
    member_cookies = await new_session_cookies(servers.http(), 5)

    h = await join(servers, slug, host_cookie)
    co = await join(servers, slug, co_host_cookie)
    members = [await join(servers, slug, cookie) for cookie in member_cookies[:4]]
    m1, m2, m3, m4 = members
    room = [h, co, *members]
    async with closing(*room):
        # The room shows the session before it starts.
        scheduled = m1.welcome["session"]
        assert (scheduled["id"], scheduled["state"], scheduled["phase"]) == (
            session_id, "scheduled", "opening")
        assert scheduled["hosts"] == [{"handle": h.handle, "role": "host"},
                                      {"handle": co.handle, "role": "co_host"}]
        assert scheduled["time_zone"] == "Europe/London" and scheduled["starts_at"]

        assert (await m1.refused({"type": "host", "action": "start"}))["code"] == "not_a_host"
        assert (await m1.refused({"type": "raise_hand"}))["code"] == "invalid_phase"

        # 1. Opening: the host starts it; introductions are open to everyone.
        await host(h, "start")
        opening = await everyone_sees(room, state="live", phase="opening")
        assert opening["template"]["welcome_text"] and opening["prompts"]
        for n, member in enumerate(members):
            await member.send(f"hi, I'm here for the first time ({n})")
        assert (await m1.refused({"type": "raise_hand"}))["code"] == "invalid_phase"
        assert (await m2.refused({"type": "host", "action": "next_phase"}))["code"] == (
            "not_a_host")
        assert (await m2.refused({"type": "host", "action": "set_phase",
                                  "phase": "sharing"}))["code"] == "not_a_host"

        # 2. Sharing: three hands in a queue.
        await host(h, "next_phase")
        await everyone_sees(room, phase="sharing")
        for n, member in enumerate((m1, m2, m3), start=1):
            await send_frame(member.ws, {"type": "raise_hand"})
            state = await h.session_state(queue=[{"handle": p.handle, "position": i}
                                                 for i, p in enumerate(members[:n], start=1)])
        assert queue_of(state) == [m1.handle, m2.handle, m3.handle]
        assert (await m1.refused({"type": "raise_hand"}))["code"] == "hand_already_raised"
        assert (await m4.refused({"type": "lower_hand"}))["code"] == "hand_not_raised"
        assert (await m4.refused({"type": "host", "action": "call",
                                  "handle": m4.handle}))["code"] == "not_a_host"
        assert (await m4.refused({"type": "end_turn"}))["code"] == "not_your_turn"

        # First sharer: finishes their turn.
        await host(h, "call_next")
        turn = await everyone_sees(room, sharer={"handle": m1.handle})
        assert queue_of(turn) == [m2.handle, m3.handle]
        ends = datetime.fromisoformat(turn["share_ends_at"])
        assert turn["share_seconds"] == 180
        out_of_turn = await m2.refused({"type": "send", "client_id": unique("c"),
                                        "body": "me too"})
        assert out_of_turn["code"] == "not_your_turn"
        assert (await m2.refused({"type": "end_turn"}))["code"] == "not_your_turn"
        await send_frame(m4.ws, {"type": "react", "reaction": "hug"})
        for person in room:
            reaction = await person.frame("reaction")
            assert (reaction["handle"], reaction["reaction"]) == (m4.handle, "hug")
        await m1.send("this week was hard, and being here helps")
        await h.send("thank you for sharing that")
        await host(co, "extend", seconds=60)
        extended = await everyone_sees(room, version=turn["version"] + 1)
        assert (datetime.fromisoformat(extended["share_ends_at"]) - ends).total_seconds() == 60
        await send_frame(m1.ws, {"type": "end_turn"})
        await everyone_sees(room, sharer=None, queue=[{"handle": m2.handle, "position": 1},
                                                      {"handle": m3.handle, "position": 2}])

        # Second sharer: passes (always fine).
        await host(co, "call_next")
        await everyone_sees(room, sharer={"handle": m2.handle})
        await send_frame(m2.ws, {"type": "pass"})
        await everyone_sees(room, sharer=None, queue=[{"handle": m3.handle, "position": 1}])

        # Third sharer: the server's timer ends the turn by itself.
        set_share_seconds(servers, session_id, SHORT_SHARE_SECONDS)
        await host(h, "call_next")
        third = await everyone_sees(room, sharer={"handle": m3.handle})
        assert third["share_seconds"] == SHORT_SHARE_SECONDS
        timer_ends = datetime.fromisoformat(third["share_ends_at"])
        expired = await everyone_sees(room, sharer=None, share_ends_at=None, queue=[])
        late = time.time() - timer_ends.timestamp()
        assert expired["version"] == third["version"] + 1
        assert late >= -0.5, "the turn ended before its timer ran out"
        print(f"\nshare timer ({SHORT_SHARE_SECONDS} s) expired and reached the room "
              f"{late:.2f} s after share_ends_at (watcher every "
              f"{SESSIONS_ENV['HEARTH_WATCH_SECONDS']} s)")
        assert (await h.refused({"type": "host", "action": "call_next"}))["code"] == (
            "invalid_phase")

        # 3. Discussion: a prompt, slow mode and a pause.
        await host(h, "next_phase")
        discussion = await everyone_sees(room, phase="discussion")
        prompt = discussion["prompts"][0]
        assert (await h.refused({"type": "host", "action": "post_prompt",
                                 "prompt_id": 999_999}))["code"] == "invalid_field"
        await host(h, "post_prompt", prompt_id=prompt["id"])
        await everyone_sees(room, prompt=prompt["text"])
        for member in members:
            await send_frame(member.ws, {"type": "raise_hand"})
            assert (await member.frame("error"))["code"] == "invalid_phase"

        reply = await m2.send("something that helped me was walking")
        assert (await h.refused({"type": "host", "action": "slow_mode",
                                 "seconds": 601}))["code"] == "invalid_field"
        await host(h, "slow_mode", seconds=30)
        await everyone_sees(room, slow_mode_seconds=30)
        slowed = await m2.refused({"type": "send", "client_id": unique("c"),
                                   "body": "and also music"})
        assert slowed["code"] == "slow_mode" and 0 < slowed["retry_after"] <= 30
        await h.send("slow mode helps us all keep up")
        await h.send("hosts are not slowed")
        await host(h, "slow_mode", seconds=0)
        unslowed = await everyone_sees(room, slow_mode_seconds=0)
        await m2.send("and also music")

        await host(co, "pin", seq=reply["seq"])
        pinned = await everyone_sees(room, version=unslowed["version"] + 1)
        assert (pinned["pinned"]["seq"], pinned["pinned"]["handle"]) == (reply["seq"], m2.handle)

        await host(h, "pause")
        paused = await everyone_sees(room, paused=True)
        assert paused["template"]["grounding_text"]
        assert (await m3.refused({"type": "send", "client_id": unique("c"),
                                  "body": "can I say something"}))["code"] == "session_paused"
        await h.send("let's take a slow breath together")
        await co.send("we're right here")
        await host(h, "resume")
        await everyone_sees(room, paused=False)
        await m3.send("thank you, that helped")

        # The lock: a newcomer is turned away, someone taking part comes back.
        await host(h, "lock")
        await everyone_sees(room, locked=True)
        fifth_ws = await open_socket(servers, slug, member_cookies[4])
        frames, code = await frames_until_close(fifth_ws)
        assert code == 4423
        assert [frame["code"] for frame in frames if frame["type"] == "error"] == [
            "session_locked"]
        await m4.close()
        m4 = members[3] = await join(servers, slug, member_cookies[3])
        room[5] = m4
        assert m4.welcome["session"]["locked"] is True
        assert m4.welcome["session"]["pinned"]["seq"] == reply["seq"]
        await host(h, "unlock")
        await everyone_sees(room, locked=False)

        # A removal: the fifth member comes in now, then is removed for the session.
        fifth = await join(servers, slug, member_cookies[4])
        fifth_handle = fifth.handle
        assert (await h.refused({"type": "host", "action": "remove",
                                 "handle": fifth_handle}))["code"] == "missing_field"
        assert (await h.refused({"type": "host", "action": "remove", "handle": co.handle,
                                 "reason": "testing"}))["code"] == "forbidden"
        assert (await m1.refused({"type": "host", "action": "remove", "handle": fifth_handle,
                                  "reason": "rude"}))["code"] == "not_a_host"
        await host(h, "remove", handle=fifth_handle, reason="unkind to another member")
        frames, code = await frames_until_close(fifth.ws)
        assert code == 4403
        notices = [frame for frame in frames if frame["type"] == "notice"]
        assert [(n["kind"], n["reason"]) for n in notices] == [
            ("ban", "unkind to another member")]
        again_ws = await open_socket(servers, slug, member_cookies[4])
        frames, code = await frames_until_close(again_ws)
        assert code == 4403 and [f["code"] for f in frames if f["type"] == "error"] == ["banned"]

        # 4. Closing: one word each; the host hands over and the co-host closes.
        await host(h, "next_phase")
        await everyone_sees(room, phase="closing", prompt="")
        for word, member in zip(("hopeful", "lighter", "heard", "calm"), members, strict=True):
            await member.send(word)
        assert (await h.refused({"type": "host", "action": "next_phase"}))["code"] == (
            "invalid_phase")
        assert (await h.refused({"type": "host", "action": "handover",
                                 "handle": m1.handle}))["code"] == "invalid_field"
        await host(h, "handover", handle=co.handle)
        handed = await everyone_sees(room, hosts=[{"handle": co.handle, "role": "host"},
                                                  {"handle": h.handle, "role": "co_host"}])
        assert handed["phase"] == "closing"
        await host(co, "end")
        ended = [await person.frame("session_ended") for person in room]
        assert all(frame == ended[0] for frame in ended)
        assert ended[0]["session_id"] == session_id
        await everyone_sees(room, state="ended")

        # Feedback from each member: once, with their exact refusals.
        card = {"type": "feedback", "session_id": session_id,
                "occurrence_on": ended[0]["occurrence_on"]}
        assert (await m1.refused({**card, "mood_before": 9}))["code"] == "invalid_field"
        assert (await m1.refused({**card, "tags": ["not_a_tag"]}))["code"] == "invalid_field"
        answers = [
            {"mood_before": 2, "mood_after": 4, "helpful": True, "tags": ["felt_heard"]},
            {"mood_before": 3, "mood_after": 3, "helpful": True, "tags": ["too_fast"]},
            {"helpful": False, "tags": ["wanted_more_time"], "comment": "more time please"},
            {},
        ]
        for member, answer in zip(members, answers, strict=True):
            await send_frame(member.ws, {**card, **answer})
            received = await member.frame("feedback_received")
            assert received == {"type": "feedback_received", "session_id": session_id}
        assert (await m1.refused({**card, "mood_after": 5}))["code"] == (
            "feedback_already_given")

    rows = stored_feedback(servers, session_id)
    assert len(rows) == 4
    assert sorted(((row["mood_before"], row["mood_after"], row["helpful"], tuple(row["tags"]),
                    row["comment"]) for row in rows), key=str) == sorted([
        (2, 4, True, ("felt_heard",), ""), (3, 3, True, ("too_fast",), ""),
        (None, None, False, ("wanted_more_time",), "more time please"),
        (None, None, None, (), "")], key=str)
    handles = {person.handle for person in members} | {fifth_handle}
    for row in rows:
        assert set(row) == {"id", "session_id", "occurrence_on", "mood_before", "mood_after",
                            "helpful", "tags", "comment"}
        assert not handles & {str(value) for value in row.values()}


