"""The moderators' socket /ws/staff/ through the full ASGI stack: the queue snapshot, the live
queue, each action, and every kind of bad frame answered with its exact code, never a crash."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from channels.db import database_sync_to_async

from chat.models import Message, MessageStatus, Role
from moderation.models import (
    AuditEntry,
    GroundRule,
    ReviewItem,
    ReviewState,
    Sanction,
    ScreeningAction,
)
from tests.chat.test_consumers import joined, next_of
from tests.factories import make_member, make_room, make_staff, post_in_room
from tests.moderation.support import (
    CRISIS_BODY,
    PHONE_BODY,
    PLAIN_BODY,
    frame_of,
    held_item,
    reported_item,
    send_json,
    set_room_policy,
    staff_socket,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

ITEM = "<item>"  # replaced by the real item id in the tables below


async def moderator_socket(role: Role = Role.MODERATOR):
    moderator = await database_sync_to_async(make_staff)(role)
    socket = await staff_socket(moderator)
    queue = await frame_of(socket, "queue")
    return moderator, socket, queue


async def test_the_queue_snapshot_is_ordered_by_urgency():
    def set_up() -> list[int]:
        room = make_room()
        reported = reported_item(room, reason="harassment")
        held = held_item(room)
        worried = reported_item(room, reason="worried")
        crisis = post_in_room(member=make_member(), room=room, client_id="crisis",
                              body=CRISIS_BODY)
        assert crisis.review_item_id is not None
        return [crisis.review_item_id, worried.id, held.id, reported.id]

    expected = await database_sync_to_async(set_up)()
    moderator, socket, queue = await moderator_socket()

    assert queue["you"] == {"handle": moderator.handle, "role": "moderator"}
    assert [item["id"] for item in queue["items"]] == expected
    urgencies = [item["urgency"] for item in queue["items"]]
    assert urgencies == sorted(urgencies, reverse=True)
    held = queue["items"][2]
    assert held["message"]["status"] == "held" and held["message"]["held"] is True
    assert held["rules"] == ["no-contact-details"]
    assert held["suggested"] == {"kind": "warning", "label": "Warning", "duration_minutes": None}
    assert queue["items"][1]["report_reasons"] == ["worried"]
    assert [c["is_subject"] for c in held["context"]].count(True) == 1
    await socket.disconnect()


async def test_a_held_message_and_a_report_reach_the_dashboard_live():
    room = await database_sync_to_async(make_room)()
    await database_sync_to_async(set_room_policy)(room, contact=ScreeningAction.HOLD)
    _moderator, dashboard, queue = await moderator_socket()
    assert queue["items"] == []
    author = await joined(room.slug, await database_sync_to_async(make_member)())
    reader = await joined(room.slug, await database_sync_to_async(make_member)())

    await send_json(author, {"type": "send", "client_id": "held", "body": PHONE_BODY})
    assert (await next_of(author, "ack"))["status"] == "held"
    live = (await frame_of(dashboard, "queue_item"))["item"]
    assert live["message"]["status"] == "held"
    assert live["signals"][0]["detector"] == "contact"

    await send_json(author, {"type": "send", "client_id": "plain", "body": PLAIN_BODY})
    seq = (await next_of(author, "ack"))["seq"]
    assert (await next_of(reader, "message"))["seq"] == seq  # the held one never reached them
    await send_json(reader, {"type": "report", "seq": seq, "reason": "worried"})
    assert (await next_of(reader, "report_received"))["seq"] == seq
    live = (await frame_of(dashboard, "queue_item"))["item"]
    assert (live["message"]["seq"], live["report_count"], live["report_reasons"]) == (
        seq, 1, ["worried"])
    for socket in (dashboard, author, reader):
        await socket.disconnect()


async def test_hiding_tells_the_room_the_author_and_every_dashboard():
    # The seeded site rule (an earlier transactional test's flush may have removed it).
    respect, _ = await database_sync_to_async(GroundRule.objects.get_or_create)(
        room=None, code="respect", defaults={"title": "Be kind and respectful", "text": "…"})
    room = await database_sync_to_async(make_room)()
    author_member = await database_sync_to_async(make_member)()
    author = await joined(room.slug, author_member)
    reader = await joined(room.slug, await database_sync_to_async(make_member)())
    item = await database_sync_to_async(reported_item)(room, author=author_member)
    _moderator, dashboard, _queue = await moderator_socket()
    _other, other_dashboard, _ = await moderator_socket(Role.ADMIN)

    await send_json(dashboard, {"type": "moderate", "item_id": item.id, "action": "hide",
                                "rule": "respect", "reason": "name-calling"})

    assert await frame_of(dashboard, "action_done") == {
        "type": "action_done", "item_id": item.id, "action": "hide"}
    for socket in (dashboard, other_dashboard):
        assert (await frame_of(socket, "queue_item_removed"))["item_id"] == item.id
    removed = await next_of(reader, "message_removed")
    assert (removed["seqs"], removed["reason"]) == ([item.message.seq], "hidden")
    notice = await next_of(author, "notice")
    assert (notice["kind"], notice["rule"], notice["seq"]) == ("hidden", "respect",
                                                               item.message.seq)
    assert notice["rule_title"] == respect.title
    for socket in (dashboard, other_dashboard, author, reader):
        await socket.disconnect()


async def test_each_action_frame_is_answered_with_action_done():
    def set_up() -> dict[str, Any]:
        room = make_room()
        return {"room": room, "restore": held_item(room), "dismiss": held_item(room),
                "hide": reported_item(room), "warn": reported_item(room),
                "timeout": reported_item(room), "ban": reported_item(room),
                "history": reported_item(room)}

    made = await database_sync_to_async(set_up)()
    _moderator, socket, _queue = await moderator_socket()
    frames = [
        {"type": "moderate", "item_id": made["restore"].id, "action": "restore",
         "rule": "no-contact-details"},
        {"type": "moderate", "item_id": made["dismiss"].id, "action": "dismiss"},
        {"type": "moderate", "item_id": made["hide"].id, "action": "hide", "rule": "respect"},
        {"type": "sanction", "item_id": made["warn"].id, "action": "warn", "rule": "respect"},
        {"type": "sanction", "item_id": made["timeout"].id, "action": "timeout",
         "rule": "respect", "duration_minutes": 60, "scope": "site"},
        {"type": "sanction", "item_id": made["ban"].id, "action": "ban", "rule": "respect",
         "scope": "room", "reason": "after a 24 hour timeout"},
    ]
    for frame in frames:
        await send_json(socket, frame)
        done = await frame_of(socket, "action_done")
        assert (done["item_id"], done["action"]) == (frame["item_id"], frame["action"])
    await send_json(socket, {"type": "member_history", "item_id": made["history"].id})
    history = await frame_of(socket, "member_history")
    assert history["member"]["handle"] == made["history"].author.handle
    assert [m["seq"] for m in history["messages"]] == [made["history"].message.seq]

    def outcome() -> tuple[list[str], list[tuple[str, str | None]], int]:
        statuses = [Message.objects.get(pk=made[k].message.pk).status
                    for k in ("restore", "dismiss", "hide")]
        sanctions = [(s.kind, s.room.slug if s.room else None)
                     for s in Sanction.objects.order_by("pk").select_related("room")]
        return statuses, sanctions, AuditEntry.objects.count()

    statuses, sanctions, audited = await database_sync_to_async(outcome)()
    assert statuses == [MessageStatus.VISIBLE, MessageStatus.VISIBLE, MessageStatus.HIDDEN]
    assert sanctions == [("warning", made["room"].slug), ("timeout", None),
                         ("ban", made["room"].slug)]
    assert audited == len(frames) + 1
    await socket.disconnect()


# --- bad frames ---------------------------------------------------------------------------------

BAD_FRAMES: list[tuple[str, dict[str, Any] | str, str]] = [
    ("not JSON", "{oops", "malformed_json"),
    ("not an object", "[1, 2]", "not_an_object"),
    ("no type", {"item_id": ITEM, "action": "dismiss"}, "missing_field"),
    ("unknown type", {"type": "dance", "item_id": ITEM}, "unknown_type"),
    ("a room frame type", {"type": "send", "client_id": "x", "body": "hi"}, "unknown_type"),
    ("type not text", {"type": 7, "item_id": ITEM}, "unknown_type"),
    ("no item_id", {"type": "moderate", "action": "dismiss"}, "missing_field"),
    ("item_id as text", {"type": "moderate", "item_id": "1", "action": "dismiss"},
     "invalid_field"),
    ("item_id true", {"type": "moderate", "item_id": True, "action": "dismiss"},
     "invalid_field"),
    ("item_id fraction", {"type": "moderate", "item_id": 1.5, "action": "dismiss"},
     "invalid_field"),
    ("item_id null", {"type": "moderate", "item_id": None, "action": "dismiss"},
     "invalid_field"),
    ("unknown item", {"type": "moderate", "item_id": 424242, "action": "dismiss"},
     "message_not_found"),
    ("negative item", {"type": "moderate", "item_id": -1, "action": "dismiss"},
     "message_not_found"),
    ("an item id of 18 digits", {"type": "moderate", "item_id": 10**17, "action": "dismiss"},
     "message_not_found"),
    ("a number of 22 digits",
     '{"type": "moderate", "item_id": ' + str(2**70) + ', "action": "dismiss"}',
     "invalid_field"),
    ("a number of 5,000 digits", '{"type": "moderate", "item_id": ' + "7" * 5000 + "}",
     "invalid_field"),
    ("a lone surrogate", '{"type": "moderate", "item_id": 1, "action": "dismiss", '
     '"note": "\\ud800"}', "invalid_text"),
    ("moderate without action", {"type": "moderate", "item_id": ITEM}, "missing_field"),
    ("moderate unknown action", {"type": "moderate", "item_id": ITEM, "action": "ban"},
     "invalid_field"),
    ("moderate action number", {"type": "moderate", "item_id": ITEM, "action": 3},
     "invalid_field"),
    ("hide without rule", {"type": "moderate", "item_id": ITEM, "action": "hide"},
     "missing_field"),
    ("restore without rule", {"type": "moderate", "item_id": ITEM, "action": "restore"},
     "missing_field"),
    ("rule not text", {"type": "moderate", "item_id": ITEM, "action": "hide", "rule": 5},
     "invalid_field"),
    ("hide with an empty rule", {"type": "moderate", "item_id": ITEM, "action": "hide",
                                 "rule": " "}, "missing_field"),
    ("reason not text", {"type": "moderate", "item_id": ITEM, "action": "dismiss",
                         "reason": ["x"]}, "invalid_field"),
    ("reason too long", {"type": "moderate", "item_id": ITEM, "action": "dismiss",
                         "reason": "x" * 501}, "note_too_long"),
    ("sanction without action", {"type": "sanction", "item_id": ITEM, "rule": "respect"},
     "missing_field"),
    ("sanction unknown action", {"type": "sanction", "item_id": ITEM, "action": "hide",
                                 "rule": "respect"}, "invalid_field"),
    ("bad scope", {"type": "sanction", "item_id": ITEM, "action": "warn", "rule": "respect",
                   "scope": "world"}, "invalid_field"),
    ("scope not text", {"type": "sanction", "item_id": ITEM, "action": "warn",
                        "rule": "respect", "scope": None}, "invalid_field"),
    ("sanction without rule", {"type": "sanction", "item_id": ITEM, "action": "warn"},
     "missing_field"),
    ("sanction with an empty rule", {"type": "sanction", "item_id": ITEM, "action": "warn",
                                     "rule": ""}, "missing_field"),
    ("sanction reason too long", {"type": "sanction", "item_id": ITEM, "action": "warn",
                                  "rule": "respect", "reason": "x" * 501}, "note_too_long"),
    ("timeout without duration", {"type": "sanction", "item_id": ITEM, "action": "timeout",
                                  "rule": "respect"}, "missing_field"),
    ("duration as text", {"type": "sanction", "item_id": ITEM, "action": "timeout",
                          "rule": "respect", "duration_minutes": "60"}, "invalid_field"),
    ("duration fraction", {"type": "sanction", "item_id": ITEM, "action": "timeout",
                           "rule": "respect", "duration_minutes": 0.5}, "invalid_field"),
    ("duration zero", {"type": "sanction", "item_id": ITEM, "action": "timeout",
                       "rule": "respect", "duration_minutes": 0}, "invalid_field"),
    ("duration negative", {"type": "sanction", "item_id": ITEM, "action": "timeout",
                           "rule": "respect", "duration_minutes": -60}, "invalid_field"),
    ("duration over 30 days", {"type": "sanction", "item_id": ITEM, "action": "timeout",
                               "rule": "respect", "duration_minutes": 30 * 24 * 60 + 1},
     "invalid_field"),
    ("duration beyond any clock", {"type": "sanction", "item_id": ITEM, "action": "timeout",
                                   "rule": "respect", "duration_minutes": 10**15},
     "invalid_field"),
    ("sanction on an unknown item", {"type": "sanction", "item_id": 424242, "action": "warn",
                                     "rule": "respect"}, "message_not_found"),
    ("history without item", {"type": "member_history"}, "missing_field"),
    ("history of an unknown item", {"type": "member_history", "item_id": 424242},
     "message_not_found"),
]


def _with_item(frame: dict[str, Any] | str, item_id: int) -> dict[str, Any] | str:
    if isinstance(frame, str):
        return frame
    return {key: item_id if value == ITEM else value for key, value in frame.items()}


@pytest.mark.parametrize(("frame", "code"), [case[1:] for case in BAD_FRAMES],
                         ids=[case[0] for case in BAD_FRAMES])
async def test_a_bad_staff_frame_gets_its_exact_code_and_changes_nothing(frame, code, caplog):
    room = await database_sync_to_async(make_room)()
    item = await database_sync_to_async(held_item)(room)
    _moderator, socket, _queue = await moderator_socket()
    frame = _with_item(frame, item.id)

    with caplog.at_level(logging.ERROR):
        await send_json(socket, frame)
        error = await frame_of(socket, "error")
    assert error["code"] == code, error
    if isinstance(frame, dict) and isinstance(frame.get("item_id"), int) and not isinstance(
            frame.get("item_id"), bool):
        assert error["item_id"] == frame["item_id"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    def untouched() -> tuple[str, int, int]:
        stored = ReviewItem.objects.get(pk=item.id)
        return stored.state, Sanction.objects.count(), AuditEntry.objects.count()

    assert await database_sync_to_async(untouched)() == (ReviewState.OPEN, 0, 0)
    # The socket goes on working.
    await send_json(socket, {"type": "member_history", "item_id": item.id})
    assert (await frame_of(socket, "member_history"))["item_id"] == item.id
    await socket.disconnect()


async def test_a_binary_staff_frame_is_refused():
    _moderator, socket, _queue = await moderator_socket()
    await socket.send_to(bytes_data=b"\x00")
    assert (await frame_of(socket, "error"))["code"] == "binary_not_supported"
    await socket.disconnect()


async def test_acting_on_a_resolved_item_is_already_resolved():
    room = await database_sync_to_async(make_room)()
    item = await database_sync_to_async(reported_item)(room)
    _moderator, first, _ = await moderator_socket()
    _other, second, _ = await moderator_socket()
    await send_json(first, {"type": "moderate", "item_id": item.id, "action": "dismiss"})
    await frame_of(first, "action_done")
    for frame in ({"type": "moderate", "item_id": item.id, "action": "hide", "rule": "respect"},
                  {"type": "moderate", "item_id": item.id, "action": "dismiss"},
                  {"type": "sanction", "item_id": item.id, "action": "ban", "rule": "respect"}):
        await send_json(second, frame)
        error = await frame_of(second, "error")
        assert (error["code"], error["item_id"]) == ("already_resolved", item.id)
    assert await database_sync_to_async(Sanction.objects.count)() == 0
    await first.disconnect()
    await second.disconnect()


async def test_sanctioning_a_staff_author_is_forbidden():
    def set_up() -> int:
        room = make_room()
        return reported_item(room, author=make_staff(Role.PEER_SUPPORTER)).id

    item_id = await database_sync_to_async(set_up)()
    _moderator, socket, _ = await moderator_socket()
    for action in ("warn", "timeout", "ban"):
        await send_json(socket, {"type": "sanction", "item_id": item_id, "action": action,
                                 "rule": "respect", "duration_minutes": 60})
        error = await frame_of(socket, "error")
        assert (error["code"], error["item_id"]) == ("forbidden", item_id)
    assert await database_sync_to_async(Sanction.objects.count)() == 0
    await socket.disconnect()
