"""The safety net never fails silently (issue 14), over real websockets to a real worker: a
post the server cannot store costs nobody else theirs, every malformed frame gets an error
code, and every socket's seat goes when it closes, whatever it sent.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from tests.system.client import TIMEOUT, Chatter, join, unique
from tests.system.servers import Servers, new_session_cookies, send_frame

pytestmark = pytest.mark.system

SURROGATE_BODY = '"I feel \\ud800 alone"'  # JSON text: the escape of a lone surrogate


def _seats_and_presence(servers: Servers, room: str) -> dict[str, Any]:
    out = servers.shell(
        "import json\n"
        "from rooms.models import Room, RoomConnection\n"
        "from rooms.selectors import room_presence\n"
        f"room = Room.objects.get(slug={room!r})\n"
        "print(json.dumps({'seats': RoomConnection.objects.filter(room=room).count(),\n"
        "                  'presence': room_presence(room_id=room.pk).count}))\n")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def _stored_client_ids(servers: Servers, room: str) -> list[str]:
    out = servers.shell(
        "import json\n"
        "from chat.models import Message\n"
        "print(json.dumps(list(Message.objects.filter(room__slug="
        f"{room!r}).order_by('seq').values_list('client_id', flat=True))))\n")
    stored: list[str] = json.loads(out.strip().splitlines()[-1])
    return stored


def _wait_for_no_seats(servers: Servers, room: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        state = _seats_and_presence(servers, room)
        if state == {"seats": 0, "presence": 0} or time.monotonic() > deadline:
            return state
        time.sleep(0.5)


async def _close_all(chatters: list[Chatter]) -> None:
    await asyncio.gather(*(chatter.close() for chatter in chatters))


async def test_a_lone_surrogate_costs_the_other_posts_of_its_moment_nothing(
        servers: Servers, room: str) -> None:
    cookies = await new_session_cookies(servers.http(), 20)
    members = list(await asyncio.gather(*(join(servers, room, cookie) for cookie in cookies)))
    try:
        culprit, others = members[0], members[1:]
        client_ids = [unique("c") for _ in others]
        bad_id = unique("bad")
        raw = f'{{"type":"send","client_id":"{bad_id}","body":{SURROGATE_BODY}}}'
        # Everyone posts at the same moment: the frames are all on the wire before any answer.
        await asyncio.gather(
            culprit.ws.send(raw),
            *(send_frame(member.ws, {"type": "send", "client_id": client_id,
                                     "body": f"hello from {member.handle}"})
              for member, client_id in zip(others, client_ids, strict=True)))
        replies = await asyncio.gather(
            culprit.reply_to(bad_id),
            *(member.reply_to(client_id)
              for member, client_id in zip(others, client_ids, strict=True)))
        refusal, acks = replies[0], replies[1:]
        assert refusal["type"] == "error", refusal
        assert refusal["code"] == "invalid_text"
        assert all(ack["type"] == "ack" for ack in acks), acks
        assert sorted(ack["seq"] for ack in acks) == list(range(1, 20))
        stored = await asyncio.to_thread(_stored_client_ids, servers, room)
        assert sorted(stored) == sorted(client_ids)
        # The culprit's socket still works: its next, readable, post is stored.
        ack = await culprit.send("sorry, trying again")
        assert ack["seq"] == 20
    finally:
        await _close_all(members)
    assert await asyncio.to_thread(_wait_for_no_seats, servers, room) == {
        "seats": 0, "presence": 0}
    assert "Traceback" not in servers.log_text()


MALFORMED_FRAMES = [
    # A number of 5,000 digits: beyond Python's int conversion limit (4,300).
    ('{"type":"resume","after_seq":' + "9" * 5000 + "}", "invalid_field"),
    ('{"type":"history","before_seq":1,"limit":-' + "1" * 5000 + "}", "invalid_field"),
    ('{"type":"send","client_id":"n1","body":' + "7" * 5000 + "}", "invalid_field"),
    ('{"type":"react","reaction":"hug","seq":1' + "0" * 5000 + ".5}", "invalid_field"),
    ('{"type":"mute","handle":"Calm\\udc00Otter"}', "invalid_text"),
    ('{"type":"unmute","handle":"\\ud800"}', "invalid_text"),
    ('{"type":"report","seq":1,"reason":"spam","note":"\\udfff"}', "invalid_text"),
    ('{"type":"send","client_id":"s1","body":"ok","\\ud800":1}', "invalid_text"),
    ('{"type":"feedback","session_id":1,"occurrence_on":"2026-11-24","tags":["\\ud834"]}',
     "invalid_text"),
    ('{"type":"\\ud800"}', "invalid_text"),
    ('{"type":"resume","after_seq":1e99999}', "invalid_field"),
    ('{"type":"resume","after_seq":NaN}', "invalid_field"),
    ('{"type":"history","before_seq":1,"limit":[[[[]]]]}', "invalid_field"),
    ('{"type":"set_region","region":{"GB":1}}', "invalid_field"),
    ('{"type":"host","action":"call","handle":7}', "invalid_field"),
    ('{"type":"send","client_id":"x","body":"a' + "\\u0000" + '"}', "control_characters"),
    ("[" * 5000, "malformed_json"),  # nested deeper than the decoder goes
    ('{"type":"resume","after_seq":1', "malformed_json"),
    ("[1, 2]", "not_an_object"),
]


async def test_malformed_frames_get_codes_and_leave_no_seats(servers: Servers,
                                                             room: str) -> None:
    cookies = await new_session_cookies(servers.http(), 3)
    members = [await join(servers, room, cookie) for cookie in cookies]
    try:
        for raw, code in MALFORMED_FRAMES:
            await members[0].ws.send(raw)
            reply = await members[0].frame("error")
            assert reply["code"] == code, (raw[:80], reply)
        # The socket lived through all of them.
        assert (await members[0].send("still here"))["type"] == "ack"
        # Frames refused, then closed at once: the refusals meet a closed socket.
        for member in members[1:]:
            for raw, _code in MALFORMED_FRAMES[:6]:
                await member.ws.send(raw)
            await send_frame(member.ws, {"type": "send", "client_id": unique("c"),
                                         "body": "and goodbye"})
            await member.close()
    finally:
        await _close_all(members)
    assert await asyncio.to_thread(_wait_for_no_seats, servers, room) == {
        "seats": 0, "presence": 0}
    log = servers.log_text()
    assert "Traceback" not in log
    assert "Unexpected ASGI message" not in log


async def test_many_sockets_closing_mid_answer_leave_no_seats(servers: Servers,
                                                              room: str) -> None:
    cookies = await new_session_cookies(servers.http(), 12)
    members = list(await asyncio.gather(*(join(servers, room, cookie) for cookie in cookies)))

    async def post_and_leave(member: Chatter) -> None:
        for n in range(3):
            await send_frame(member.ws, {"type": "send", "client_id": unique(f"c{n}"),
                                         "body": f"message {n}"})
        await member.ws.send('{"type":"mute","handle":"\\ud800"}')
        await member.close()

    # The server reads a socket's close after the frames before it (uvicorn pauses reading
    # until the application has taken each frame): on a busy machine that is a while.
    await asyncio.wait_for(asyncio.gather(*(post_and_leave(m) for m in members)), 6 * TIMEOUT)
    assert await asyncio.to_thread(_wait_for_no_seats, servers, room) == {
        "seats": 0, "presence": 0}
    log = servers.log_text()
    assert "Traceback" not in log
    assert "Unexpected ASGI message" not in log
