"""The crisis path over both websockets (room and staff) through the full ASGI stack with
WebsocketCommunicator: the private support card, the helpline region, asking to talk,
collapsed messages, staffed-only rooms, the on-duty roster, escalation alerts and take-aside
conversations. Real daphne and browsers are exercised in tests/system/ and tests/e2e/.

Where a frame must NOT arrive, the test waits for a later frame the socket is sure to get (a
marker) and checks everything that came before it, rather than waiting for a while.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from chat.errors import ErrorCode
from chat.models import Member, Role
from hearth.asgi import application
from moderation import duty
from moderation.models import AuditAction, AuditEntry, Escalation, ReviewItem, TakeAside
from rooms.models import Room
from tests.chat.test_consumers import ORIGIN, next_of, send, session_for
from tests.factories import make_member, make_room, make_staff
from tests.moderation.support import frame_of, send_json, staff_socket
from tests.moderation.test_collapsed_messages import (  # noqa: F401 - a fixture
    METHOD_BODY,
    method_detail_screening,
)
from tests.moderation.test_escalations import (
    CONCERN_BODY,
    HIGH_RISK_BODY,
    IMMINENT_BODY,
    crisis_escalation,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

GB = b"en-GB,en;q=0.9"
US = b"en-US,en;q=0.8"


async def room_socket(room: Room, member: Member, *, language: bytes | None = None,
                      session_key: str | None = None) -> tuple[WebsocketCommunicator,
                                                               dict[str, Any]]:
    """A member's room socket (rules accepted, as the page does) and its welcome."""
    key = session_key or await database_sync_to_async(session_for)(member)
    headers = [(b"host", b"testserver"), (b"cookie", f"hearth_session={key}".encode()),
               (b"origin", ORIGIN)]
    if language is not None:
        headers.append((b"accept-language", language))
    communicator = WebsocketCommunicator(application, f"/ws/rooms/{room.slug}/",
                                         headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    welcome = await next_of(communicator, "welcome")
    if not welcome["rules"]["accepted"]:
        await send(communicator, {"type": "accept_rules",
                                  "version": welcome["rules"]["version"]})
        assert (await next_of(communicator, "rules"))["accepted"]
    return communicator, welcome


async def frames_until(communicator: WebsocketCommunicator,
                       marker: Any) -> list[dict[str, Any]]:
    """Every frame up to and including the first for which `marker(frame)` is true."""
    frames: list[dict[str, Any]] = []
    for _ in range(200):
        frame = json.loads(await communicator.receive_from(timeout=3))
        frames.append(frame)
        if marker(frame):
            return frames
    raise AssertionError("marker never came")


def is_message(seq: int) -> Any:
    return lambda frame: frame["type"] == "message" and frame["seq"] == seq


async def say(communicator: WebsocketCommunicator, client_id: str, body: str) -> dict[str, Any]:
    await send(communicator, {"type": "send", "client_id": client_id, "body": body})
    return await next_of(communicator, "ack")


async def close_all(*sockets: WebsocketCommunicator) -> None:
    for socket in sockets:
        await socket.disconnect()


async def new(factory: Any, *args: Any) -> Any:
    return await database_sync_to_async(factory)(*args)


def staffed_room() -> Room:
    room = make_room()
    room.staffed_only = True
    room.save(update_fields=["staffed_only"])
    return room


# --- the support card ---------------------------------------------------------------------------

@pytest.mark.parametrize(("language", "name", "phone", "region"), [
    (GB, "Samaritans", "116 123", "GB"), (US, "988 Suicide & Crisis Lifeline", "988", "US"),
    (None, "Find A Helpline", "", "*")])
async def test_a_high_risk_message_gets_a_private_card_for_the_browsers_region(
        language, name, phone, region):
    room = await new(make_room)
    author, welcome = await room_socket(room, await new(make_member), language=language)
    assert welcome["region"] == (None if region == "*" else region)
    reader, _ = await room_socket(room, await new(make_member), language=GB)

    ack = await say(author, "c1", HIGH_RISK_BODY)
    support = await next_of(author, "support")
    assert (support["tier"], support["seq"], support["region"]) == ("high_risk", ack["seq"],
                                                                     region)
    assert (support["helpline"]["name"], support["helpline"]["phone"]) == (name, phone)
    assert support["staff_on_duty"] == 0 and support["can_ask_for_support"] is False

    # The reader sees the message and never the card: everything up to the author's next
    # message is checked.
    await say(author, "c2", "thanks for being here")
    seen = await frames_until(reader, is_message(ack["seq"] + 1))
    assert [f for f in seen if f["type"] == "support"] == []
    assert any(f["type"] == "message" and f["seq"] == ack["seq"] for f in seen)
    await close_all(author, reader)


async def test_a_second_socket_of_the_room_never_gets_the_card_even_the_same_members():
    room, member = await new(make_room), await new(make_member)
    key = await database_sync_to_async(session_for)(member)
    first, _ = await room_socket(room, member, session_key=key)
    second, _ = await room_socket(room, member, session_key=key)
    ack = await say(first, "c1", IMMINENT_BODY)
    assert (await next_of(first, "support"))["tier"] == "imminent"
    await say(first, "c2", "ok")
    seen = await frames_until(second, is_message(ack["seq"] + 1))
    assert "support" not in [f["type"] for f in seen]
    await close_all(first, second)


async def test_the_concern_card_is_not_repeated_on_one_socket_but_higher_tiers_are():
    room = await new(make_room)
    author, _ = await room_socket(room, await new(make_member), language=GB)
    first = await say(author, "c1", CONCERN_BODY)
    assert (await next_of(author, "support"))["tier"] == "concern"
    second = await say(author, "c2", CONCERN_BODY + " again")
    third = await say(author, "c3", HIGH_RISK_BODY)
    # The next card is the high-risk one: the second concern message got none.
    frames = await frames_until(author, lambda f: f["type"] == "support")
    assert (frames[-1]["tier"], frames[-1]["seq"]) == ("high_risk", third["seq"])
    assert first["seq"] < second["seq"] < third["seq"]
    fourth = await say(author, "c4", IMMINENT_BODY)
    assert (await next_of(author, "support"))["seq"] == fourth["seq"]
    await author.disconnect()


async def test_set_region_answers_with_the_helpline_and_is_kept_in_the_session():
    room, member = await new(make_room), await new(make_member)
    key = await database_sync_to_async(session_for)(member)
    socket, welcome = await room_socket(room, member, language=GB, session_key=key)
    assert welcome["region"] == "GB"
    for bad in ("GBR", "1A", "", 7, None):
        await send(socket, {"type": "set_region", "region": bad})
        assert (await next_of(socket, "error"))["code"] == ErrorCode.INVALID_FIELD
    await send(socket, {"type": "set_region"})
    assert (await next_of(socket, "error"))["code"] == ErrorCode.MISSING_FIELD

    await send(socket, {"type": "set_region", "region": "us"})
    helpline = await next_of(socket, "helpline")
    assert helpline["region"] == "US" and helpline["helpline"]["phone"] == "988"
    await say(socket, "c1", HIGH_RISK_BODY)
    assert (await next_of(socket, "support"))["helpline"]["region"] == "US"

    # The next page load (same session, a British browser) keeps the choice.
    again, welcome = await room_socket(room, member, language=GB, session_key=key)
    assert welcome["region"] == "US"
    await send(again, {"type": "set_region", "region": "*"})
    assert (await next_of(again, "helpline"))["helpline"]["name"] == "Find A Helpline"
    third, welcome = await room_socket(room, member, language=US, session_key=key)
    assert welcome["region"] == "*"
    await close_all(socket, again, third)


# --- asking to talk -----------------------------------------------------------------------------

async def test_ask_for_support_opens_an_escalation_and_says_honestly_who_is_there():
    room, member = await new(make_room), await new(make_member)
    socket, _ = await room_socket(room, member)
    await send(socket, {"type": "ask_for_support"})
    nobody = await next_of(socket, "support_requested")
    assert nobody["staff_on_duty"] == 0 and "Nobody" in nobody["detail"]
    escalation = await database_sync_to_async(Escalation.objects.get)()
    assert (escalation.tier, escalation.source) == ("asked", "member")

    await database_sync_to_async(duty.check_in)(member=await new(make_staff))
    ack = await say(socket, "c1", "hello")
    await send(socket, {"type": "ask_for_support", "seq": ack["seq"]})
    someone = await next_of(socket, "support_requested")
    assert someone["staff_on_duty"] == 1 and "Nobody" not in someone["detail"]
    assert await database_sync_to_async(Escalation.objects.count)() == 1  # updated, not new

    for frame, code in (({"seq": "1"}, ErrorCode.INVALID_FIELD),
                        ({"seq": True}, ErrorCode.INVALID_FIELD),
                        ({"seq": 999}, ErrorCode.MESSAGE_NOT_FOUND)):
        await send(socket, {"type": "ask_for_support", **frame})
        assert (await next_of(socket, "error"))["code"] == code
    await socket.disconnect()


# --- collapsed messages -------------------------------------------------------------------------

@pytest.mark.usefixtures("method_detail_screening")
async def test_a_collapsed_message_is_whole_for_its_author_and_a_placeholder_for_others():
    room = await new(make_room)
    author, _ = await room_socket(room, await new(make_member))
    reader, _ = await room_socket(room, await new(make_member))

    ack = await say(author, "m1", METHOD_BODY)
    assert ack["status"] == "collapsed"
    seq = ack["seq"]
    # The notice comes straight down the socket, the message through the layer: either first.
    own = await frames_until(author, is_message(seq))
    assert own[-1]["body"] == METHOD_BODY and "collapsed" not in own[-1]
    notices = [f for f in own if f["type"] == "notice"] or [await next_of(author, "notice")]
    assert (notices[0]["kind"], notices[0]["rule"], notices[0]["seq"]) == (
        "collapsed", "no-method-details", seq)
    assert [f for f in own if f["type"] == "message"] == [own[-1]]
    placeholder = await next_of(reader, "message")
    assert (placeholder["seq"], placeholder["body"], placeholder["html"],
            placeholder["collapsed"]) == (seq, "", "", True)

    # Resume and history give the reader the placeholder too, and the author the words.
    for socket, body in ((reader, ""), (author, METHOD_BODY)):
        await send(socket, {"type": "resume", "after_seq": 0})
        resumed = await frames_until(socket, lambda f: f["type"] == "resumed")
        assert [(f["seq"], f["body"]) for f in resumed if f["type"] == "message"] == [
            (seq, body)]
        await send(socket, {"type": "history", "before_seq": seq + 1})
        history = await next_of(socket, "history")
        assert [m["body"] for m in history["messages"]] == [body]

    # A moderator releases it: everyone now gets the words.
    item_id = await database_sync_to_async(
        lambda: ReviewItem.objects.get(message__seq=seq, message__room=room).pk)()
    moderator = await staff_socket(await new(make_staff))
    await send_json(moderator, {"type": "moderate", "item_id": item_id, "action": "restore",
                                "rule": "no-method-details", "reason": "about getting help"})
    assert (await frame_of(moderator, "action_done"))["action"] == "restore"
    released = await next_of(reader, "message")
    assert (released["seq"], released["body"], released["status"]) == (seq, METHOD_BODY,
                                                                        "visible")
    assert "collapsed" not in released
    await close_all(author, reader, moderator)


@pytest.mark.usefixtures("method_detail_screening")
async def test_a_collapsed_message_a_moderator_keeps_hidden_leaves_the_room_not_its_author():
    room = await new(make_room)
    author, _ = await room_socket(room, await new(make_member))
    reader, _ = await room_socket(room, await new(make_member))
    seq = (await say(author, "m1", METHOD_BODY))["seq"]
    assert (await next_of(reader, "message"))["collapsed"] is True
    item_id = await database_sync_to_async(
        lambda: ReviewItem.objects.get(message__seq=seq, message__room=room).pk)()
    moderator = await staff_socket(await new(make_staff))
    await send_json(moderator, {"type": "moderate", "item_id": item_id, "action": "hide",
                                "rule": "no-method-details", "reason": ""})
    removed = await next_of(reader, "message_removed")
    assert removed["seqs"] == [seq]
    await send(reader, {"type": "resume", "after_seq": 0})
    resumed = await frames_until(reader, lambda f: f["type"] == "resumed")
    assert [f for f in resumed if f["type"] == "message"] == []
    # The author is told kindly and keeps their words.
    notice = await frames_until(author, lambda f: f.get("kind") == "kept_for_author")
    assert "message_removed" not in [f["type"] for f in notice]
    await send(author, {"type": "resume", "after_seq": 0})
    mine = await frames_until(author, lambda f: f["type"] == "resumed")
    kept = [f for f in mine if f["type"] == "message"]
    assert [(f["seq"], f["body"], f["status"]) for f in kept] == [(seq, METHOD_BODY, "held")]
    await close_all(author, reader, moderator)


# --- staffed-only rooms -------------------------------------------------------------------------

async def test_a_staffed_only_room_is_read_only_until_someone_checks_in():
    room = await new(staffed_room)
    member, welcome = await room_socket(room, await new(make_member), language=US)
    staffing = welcome["staffing"]
    assert (staffing["staffed_only"], staffing["open"], staffing["on_duty"]) == (True, False, 0)
    assert staffing["helpline"]["phone"] == "988" and staffing["detail"]
    await send(member, {"type": "send", "client_id": "c1", "body": "hello?"})
    error = await next_of(member, "error")
    assert (error["code"], error["client_id"]) == (ErrorCode.ROOM_UNSTAFFED, "c1")

    moderator = await staff_socket(await new(make_staff))
    assert (await frame_of(moderator, "duty"))["on_duty"] is False  # the snapshot
    await send_json(moderator, {"type": "check_in"})
    assert (await frame_of(moderator, "duty"))["on_duty"] is True
    opened = await next_of(member, "staffing")
    assert (opened["open"], opened["on_duty"], opened["helpline"]) == (True, 1, None)
    assert (await say(member, "c1", "hello?"))["seq"] == 1

    await send_json(moderator, {"type": "check_out"})
    closed = await next_of(member, "staffing")
    assert (closed["open"], closed["on_duty"]) == (False, 0)
    assert closed["helpline"]["phone"] == "988"
    await send(member, {"type": "send", "client_id": "c2", "body": "anyone?"})
    assert (await next_of(member, "error"))["code"] == ErrorCode.ROOM_UNSTAFFED
    await close_all(member, moderator)


# --- the staff socket: roster and escalations -----------------------------------------------------

async def test_a_peer_supporter_gets_an_empty_queue_escalations_and_duty():
    escalation_id = (await database_sync_to_async(crisis_escalation)()).pk
    peer = await new(make_staff, Role.PEER_SUPPORTER)
    socket = await staff_socket(peer)
    queue = await frame_of(socket, "queue")
    assert queue["items"] == [] and queue["you"]["role"] == "peer_supporter"
    listed = await frame_of(socket, "escalations")
    assert [item["id"] for item in listed["items"]] == [escalation_id]
    assert listed["sla"]["count"] == 1
    roster = await frame_of(socket, "duty")
    assert roster == {"type": "duty", "on_duty": False, "on_duty_count": 0, "roster": []}
    await send_json(socket, {"type": "check_in"})
    checked_in = await frame_of(socket, "duty")
    assert (checked_in["on_duty"], checked_in["on_duty_count"]) == (True, 1)
    assert checked_in["roster"][0]["handle"] == peer.handle
    await send_json(socket, {"type": "moderate", "item_id": 1, "action": "hide",
                             "rule": "respect"})
    assert (await frame_of(socket, "error"))["code"] == ErrorCode.FORBIDDEN
    await socket.disconnect()


async def test_members_cannot_open_the_staff_socket():
    socket = await staff_socket(await new(make_member))
    assert (await frame_of(socket, "error"))["code"] == ErrorCode.FORBIDDEN
    await socket.disconnect()


async def test_an_alert_reaches_on_duty_staff_live_and_off_duty_staff_on_their_list():
    room = await new(make_room)
    on_duty_member, off_duty_member = await new(make_staff), await new(make_staff,
                                                                       Role.PEER_SUPPORTER)
    on_duty = await staff_socket(on_duty_member)
    off_duty = await staff_socket(off_duty_member)
    await frame_of(off_duty, "duty")
    await frame_of(on_duty, "duty")  # the snapshot: off duty
    await send_json(on_duty, {"type": "check_in"})
    assert (await frame_of(on_duty, "duty"))["on_duty"] is True
    author_member = await new(make_member)
    author, _ = await room_socket(room, author_member)
    seq = (await say(author, "c1", HIGH_RISK_BODY))["seq"]

    alert = await frame_of(on_duty, "escalation")
    assert alert["event"] == "new"
    escalation = alert["escalation"]
    assert (escalation["tier"], escalation["state"]) == ("high_risk", "open")
    assert escalation["member"] == {"handle": author_member.handle}
    assert escalation["message"]["seq"] == seq

    # Acknowledged alerts go to everyone: the off-duty socket's frames up to that one hold no
    # "new" alert.
    await send_json(on_duty, {"type": "acknowledge", "escalation_id": escalation["id"]})
    assert await frame_of(on_duty, "action_done") == {
        "type": "action_done", "escalation_id": escalation["id"], "action": "acknowledge"}
    seen = await frames_until(off_duty, lambda f: f["type"] == "escalation")
    assert seen[-1]["event"] == "acknowledged"
    assert seen[-1]["escalation"]["acknowledged_by"] == on_duty_member.handle
    assert [f for f in seen if f["type"] == "escalation" and f["event"] == "new"] == []

    # Reconnecting, the off-duty staff member sees it on the list.
    await off_duty.disconnect()
    again = await staff_socket(off_duty_member)
    listed = await frame_of(again, "escalations")
    assert [(i["id"], i["state"]) for i in listed["items"]] == [(escalation["id"],
                                                                 "acknowledged")]
    await send_json(again, {"type": "resolve", "escalation_id": escalation["id"],
                            "note": "Talked; they're with a friend."})
    assert (await frame_of(again, "action_done"))["action"] == "resolve"
    resolved = await frame_of(on_duty, "escalation")
    while resolved["event"] != "resolved":
        resolved = await frame_of(on_duty, "escalation")
    assert resolved["escalation"]["note"] == "Talked; they're with a friend."
    actions = await database_sync_to_async(
        lambda: list(AuditEntry.objects.order_by("pk").values_list("action", flat=True)))()
    assert actions == [AuditAction.CHECK_IN, AuditAction.ACKNOWLEDGE, AuditAction.RESOLVE]
    await close_all(on_duty, again, author)


@pytest.mark.parametrize(("frame", "code"), [
    ({"type": "acknowledge"}, ErrorCode.MISSING_FIELD),
    ({"type": "acknowledge", "escalation_id": "ID"}, ErrorCode.INVALID_FIELD),
    ({"type": "acknowledge", "escalation_id": True}, ErrorCode.INVALID_FIELD),
    ({"type": "acknowledge", "escalation_id": 1.5}, ErrorCode.INVALID_FIELD),
    ({"type": "acknowledge", "escalation_id": "<unknown>"}, ErrorCode.ESCALATION_NOT_FOUND),
    ({"type": "resolve", "escalation_id": "<id>"}, ErrorCode.MISSING_FIELD),
    ({"type": "resolve", "note": "Fine."}, ErrorCode.MISSING_FIELD),
    ({"type": "resolve", "escalation_id": "<id>", "note": 5}, ErrorCode.INVALID_FIELD),
    ({"type": "resolve", "escalation_id": "<id>", "note": "   "}, ErrorCode.MISSING_FIELD),
    ({"type": "resolve", "escalation_id": "<id>", "note": "x" * 1001},
     ErrorCode.NOTE_TOO_LONG),
    ({"type": "resolve", "escalation_id": "<unknown>", "note": "Fine."},
     ErrorCode.ESCALATION_NOT_FOUND),
    ({"type": "open_take_aside"}, ErrorCode.INVALID_FIELD),
    ({"type": "open_take_aside", "escalation_id": "<id>", "item_id": 1},
     ErrorCode.INVALID_FIELD),
    ({"type": "open_take_aside", "escalation_id": "5"}, ErrorCode.INVALID_FIELD),
    ({"type": "open_take_aside", "escalation_id": "<unknown>"},
     ErrorCode.ESCALATION_NOT_FOUND),
    ({"type": "take_aside_leave", "aside_id": 10**6}, ErrorCode.ASIDE_NOT_FOUND),
    ({"type": "take_aside_send", "aside_id": 10**6, "client_id": "a", "body": "hi"},
     ErrorCode.ASIDE_NOT_FOUND),
    ({"type": "take_aside_reply", "aside_id": 1, "accept": True}, ErrorCode.UNKNOWN_TYPE),
])
async def test_bad_crisis_frames_on_the_staff_socket_get_exact_codes(frame, code):
    escalation = await database_sync_to_async(crisis_escalation)()
    ids = {"<id>": escalation.pk, "<unknown>": escalation.pk + 1000}
    frame = {key: ids.get(value, value) if isinstance(value, str) else value
             for key, value in frame.items()}
    socket = await staff_socket(await new(make_staff))
    await frame_of(socket, "duty")
    await send_json(socket, frame)
    error = await frame_of(socket, "error")
    assert error["code"] == code
    if type(frame.get("escalation_id")) is int:  # the ids a refusal names (never a bool)
        assert error["escalation_id"] == frame["escalation_id"]
    stored = await database_sync_to_async(Escalation.objects.get)()
    assert stored.state == "open"
    assert await database_sync_to_async(AuditEntry.objects.count)() == 0
    # The socket carries on.
    await send_json(socket, {"type": "check_in"})
    assert (await frame_of(socket, "duty"))["on_duty"] is True
    await socket.disconnect()


# --- take-asides ------------------------------------------------------------------------------

async def test_a_take_aside_from_invitation_to_private_messages():
    room = await new(make_room)
    member = await new(make_member)
    member_socket, _ = await room_socket(room, member)
    bystander, _ = await room_socket(room, await new(make_member))
    await say(member_socket, "c1", HIGH_RISK_BODY)
    escalation = await database_sync_to_async(Escalation.objects.get)()
    staff_member = await new(make_staff, Role.PEER_SUPPORTER)
    staff = await staff_socket(staff_member)
    await frame_of(staff, "duty")

    await send_json(staff, {"type": "open_take_aside", "escalation_id": escalation.pk})
    state = (await frame_of(staff, "take_aside_state"))["aside"]
    assert (state["state"], state["you"], state["member"]) == ("invited", "staff",
                                                               {"handle": member.handle})
    aside_id = state["id"]
    invite = (await next_of(member_socket, "take_aside_invite"))["aside"]
    assert (invite["id"], invite["you"], invite["staff"]["handle"]) == (
        aside_id, "member", staff_member.handle)
    assert staff_member.handle in invite["detail"]

    await send(member_socket, {"type": "take_aside_reply", "aside_id": aside_id,
                               "accept": True})
    assert (await next_of(member_socket, "take_aside_state"))["aside"]["state"] == "open"
    opened = await frame_of(staff, "take_aside_state")
    while opened["aside"]["state"] != "open":
        opened = await frame_of(staff, "take_aside_state")

    await send_json(staff, {"type": "take_aside_send", "aside_id": aside_id,
                            "client_id": "s1", "body": "Hi, I'm here with you."})
    assert await frame_of(staff, "take_aside_ack") == {
        "type": "take_aside_ack", "aside_id": aside_id, "client_id": "s1", "seq": 1,
        "duplicate": False}
    for socket in (staff, member_socket):
        message = await (frame_of if socket is staff else next_of)(socket,
                                                                   "take_aside_message")
        assert (message["seq"], message["from"], message["body"]) == (
            1, "staff", "Hi, I'm here with you.")
    await send(member_socket, {"type": "take_aside_send", "aside_id": aside_id,
                               "client_id": "m1", "body": "thank you, it's been a lot"})
    assert (await next_of(member_socket, "take_aside_ack"))["seq"] == 2
    await send(member_socket, {"type": "take_aside_send", "aside_id": aside_id,
                               "client_id": "m1", "body": "thank you, it's been a lot"})
    # The retry's ack and the first send's message may come in either order.
    frames = await frames_until(member_socket, lambda f: f["type"] == "take_aside_ack")
    assert (frames[-1]["seq"], frames[-1]["duplicate"]) == (2, True)
    member_copy = next((f for f in frames if f["type"] == "take_aside_message"), None)
    for message in (await frame_of(staff, "take_aside_message"),
                    member_copy or await next_of(member_socket, "take_aside_message")):
        assert (message["seq"], message["from"], message["handle"]) == (2, "member",
                                                                         member.handle)

    # The bystander in the room saw none of it: everything up to the member's next room
    # message is checked.
    ack = await say(member_socket, "c2", "back in the room")
    seen = await frames_until(bystander, is_message(ack["seq"]))
    assert [f["type"] for f in seen if f["type"].startswith("take_aside")] == []

    # A reconnect restores the conversation.
    await member_socket.disconnect()
    again, welcome = await room_socket(room, member)
    assert [(a["id"], a["state"], [m["seq"] for m in a["messages"]])
            for a in welcome["asides"]] == [(aside_id, "open", [1, 2])]
    assert (await database_sync_to_async(TakeAside.objects.get)()).last_seq == 2

    await send(again, {"type": "take_aside_leave", "aside_id": aside_id})
    assert (await next_of(again, "take_aside_state"))["aside"]["state"] == "closed"
    await send_json(staff, {"type": "take_aside_send", "aside_id": aside_id,
                            "client_id": "s2", "body": "still there?"})
    error = await frame_of(staff, "error")
    assert (error["code"], error["aside_id"]) == (ErrorCode.ASIDE_CLOSED, aside_id)
    await close_all(again, bystander, staff)


async def test_a_stranger_can_neither_answer_nor_write_in_someone_elses_aside():
    room = await new(make_room)
    member = await new(make_member)
    member_socket, _ = await room_socket(room, member)
    stranger, _ = await room_socket(room, await new(make_member))
    await say(member_socket, "c1", HIGH_RISK_BODY)
    staff = await staff_socket(await new(make_staff))
    escalation = await database_sync_to_async(Escalation.objects.get)()
    await send_json(staff, {"type": "open_take_aside", "escalation_id": escalation.pk})
    aside_id = (await frame_of(staff, "take_aside_state"))["aside"]["id"]
    for frame in ({"type": "take_aside_reply", "aside_id": aside_id, "accept": True},
                  {"type": "take_aside_send", "aside_id": aside_id, "client_id": "x",
                   "body": "hello"},
                  {"type": "take_aside_leave", "aside_id": aside_id}):
        await send(stranger, frame)
        assert (await next_of(stranger, "error"))["code"] == ErrorCode.ASIDE_NOT_FOUND
    await send(member_socket, {"type": "take_aside_reply", "aside_id": aside_id,
                               "accept": False})
    assert (await next_of(member_socket, "take_aside_state"))["aside"]["state"] == "declined"
    await send(member_socket, {"type": "take_aside_reply", "aside_id": aside_id,
                               "accept": True})
    assert (await next_of(member_socket, "error"))["code"] == ErrorCode.ASIDE_CLOSED
    await close_all(member_socket, stranger, staff)


async def test_a_crisis_message_that_cannot_be_posted_still_brings_the_card_and_the_team():
    """In a staffed-only room with nobody on duty the message is refused, but the writer
    still gets the support card and an escalation holds their words for the team."""
    room = await new(staffed_room)
    member, _welcome = await room_socket(room, await new(make_member), language=US)
    await send(member, {"type": "send", "client_id": "c1", "body": HIGH_RISK_BODY})
    error = await next_of(member, "error")
    assert (error["code"], error["client_id"]) == (ErrorCode.ROOM_UNSTAFFED, "c1")
    card = await next_of(member, "support")
    assert (card["tier"], card["seq"]) == ("high_risk", None)
    assert card["helpline"]["phone"] == "988"

    escalation = await database_sync_to_async(
        lambda: Escalation.objects.get(room=room))()
    assert (escalation.tier, escalation.message_id) == ("high_risk", None)
    assert escalation.context[-1]["not_posted"] is True
    assert "kill myself" in escalation.context[-1]["html"]
    await close_all(member)

