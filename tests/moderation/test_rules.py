"""Ground rules: what a room's rules are, accepting the current version, and every change
moving the version so members accept again (moderation/rules.py, moderation/admin.py)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from chat.errors import ErrorCode, HearthError
from chat.services import post_message
from moderation.models import GroundRule
from moderation.rules import (
    accept_rules,
    has_accepted,
    room_rules,
    rule_title,
    rules_changed,
    rules_version,
)
from tests.chat.test_consumers import joined, next_of
from tests.factories import accept_room_rules, make_member, make_room

pytestmark = pytest.mark.django_db

SITE_CODES = ["mutual-support", "respect", "no-slurs", "non-judgement", "confidentiality",
              "no-contact-details", "no-medication-dosing", "no-method-details", "no-spam",
              "crisis-support"]


def add_room_rule(room, code: str, position: int = 0) -> GroundRule:
    rule = GroundRule.objects.create(room=room, code=code, title=f"Rule {code}",
                                     text="A rule of this room.", position=position)
    rules_changed(room=room)
    return rule


def test_room_rules_are_the_site_rules_then_the_rooms_own_additions():
    room, other = make_room(), make_room()
    add_room_rule(room, "no-spoilers", position=1)
    add_room_rule(room, "stay-on-topic", position=0)
    add_room_rule(other, "only-in-the-other-room")

    rules = room_rules(room_id=room.pk).rules

    assert [r["code"] for r in rules] == [*SITE_CODES, "stay-on-topic", "no-spoilers"]
    assert [r["scope"] for r in rules] == ["site"] * len(SITE_CODES) + ["room", "room"]
    assert set(rules[0]) == {"code", "title", "text", "scope"}


def test_inactive_rules_are_not_shown():
    room = make_room()
    add_room_rule(room, "old-rule")
    GroundRule.objects.filter(code="old-rule").update(is_active=False)
    assert "old-rule" not in {r["code"] for r in room_rules(room_id=room.pk).rules}


def test_accepting_the_current_version_lets_a_member_post():
    room, member = make_room(), make_member()
    assert not has_accepted(member_id=member.pk, room_id=room.pk)
    with pytest.raises(HearthError) as refused:
        post_message(member=member, room=room, client_id="c1", body="hello")
    assert refused.value.code == ErrorCode.RULES_NOT_ACCEPTED

    accept_rules(member_id=member.pk, room_id=room.pk, version=rules_version(room_id=room.pk))

    assert has_accepted(member_id=member.pk, room_id=room.pk)
    assert post_message(member=member, room=room, client_id="c1", body="hello").created


@pytest.mark.parametrize("offset", [-1, 1, 100])
def test_accepting_any_other_version_is_rules_outdated(offset):
    room, member = make_room(), make_member()
    rules_changed(room=room)
    current = rules_version(room_id=room.pk)
    with pytest.raises(HearthError) as refused:
        accept_rules(member_id=member.pk, room_id=room.pk, version=current + offset)
    assert refused.value.code == ErrorCode.RULES_OUTDATED
    assert not has_accepted(member_id=member.pk, room_id=room.pk)


def test_acceptance_is_per_room():
    room, other, member = make_room(), make_room(), make_member()
    accept_room_rules(member, room)
    assert has_accepted(member_id=member.pk, room_id=room.pk)
    assert not has_accepted(member_id=member.pk, room_id=other.pk)


def test_a_room_rule_change_moves_only_that_rooms_version_and_needs_acceptance_again():
    room, other, member = make_room(), make_room(), make_member()
    accept_room_rules(member, room)
    accept_room_rules(member, other)
    before, other_before = rules_version(room_id=room.pk), rules_version(room_id=other.pk)

    assert rules_changed(room=room) == [room.pk]

    assert rules_version(room_id=room.pk) == before + 1
    assert rules_version(room_id=other.pk) == other_before
    assert not has_accepted(member_id=member.pk, room_id=room.pk)
    assert has_accepted(member_id=member.pk, room_id=other.pk)
    with pytest.raises(HearthError) as refused:
        post_message(member=member, room=room, client_id="after", body="hello")
    assert refused.value.code == ErrorCode.RULES_NOT_ACCEPTED
    accept_room_rules(member, room)
    assert post_message(member=member, room=room, client_id="after", body="hello").created


def test_a_site_rule_change_moves_every_rooms_version():
    rooms, member = [make_room() for _ in range(3)], make_member()
    for room in rooms:
        accept_room_rules(member, room)
    before = {room.pk: rules_version(room_id=room.pk) for room in rooms}

    changed = rules_changed(room=None)

    assert {room.pk for room in rooms} <= set(changed)
    for room in rooms:
        assert rules_version(room_id=room.pk) == before[room.pk] + 1
        assert not has_accepted(member_id=member.pk, room_id=room.pk)


def test_a_room_that_never_had_a_version_row_still_moves():
    room = make_room()  # no RoomRulesVersion row yet: nobody has looked at its rules
    rules_changed(room=room)
    assert rules_version(room_id=room.pk) == 2


def test_rule_titles_come_from_the_site_rule_when_a_room_reuses_its_code():
    room = make_room()
    GroundRule.objects.create(room=room, code="respect", title="Room's own respect",
                              text="x")
    assert rule_title("respect") == "Be kind and respectful"
    assert rule_title("no-such-rule") == "no-such-rule"


# --- the admin ---------------------------------------------------------------------------------

def test_admin_adding_a_room_rule_moves_that_rooms_version(admin_client):
    room, other = make_room(), make_room()
    before, other_before = rules_version(room_id=room.pk), rules_version(room_id=other.pk)
    response = admin_client.post("/admin/moderation/groundrule/add/", {
        "room": room.pk, "code": "no-spoilers", "title": "No spoilers",
        "text": "Keep endings to yourself.", "position": 3, "is_active": "on"})
    assert response.status_code == 302, response.content[:500]
    assert rules_version(room_id=room.pk) == before + 1
    assert rules_version(room_id=other.pk) == other_before


def test_admin_editing_a_site_rule_moves_every_rooms_version(admin_client):
    rooms, member = [make_room(), make_room()], make_member()
    for room in rooms:
        accept_room_rules(member, room)
    before = {room.pk: rules_version(room_id=room.pk) for room in rooms}
    rule = GroundRule.objects.get(room=None, code="respect")
    response = admin_client.post(f"/admin/moderation/groundrule/{rule.pk}/change/", {
        "room": "", "code": "respect", "title": rule.title,
        "text": "No insults, name-calling, threats, bullying or mockery.",
        "position": rule.position, "is_active": "on"})
    assert response.status_code == 302, response.content[:500]
    for room in rooms:
        assert rules_version(room_id=room.pk) == before[room.pk] + 1
        assert not has_accepted(member_id=member.pk, room_id=room.pk)


def test_admin_deleting_a_room_rule_moves_that_rooms_version(admin_client):
    room = make_room()
    rule = add_room_rule(room, "temporary")
    before = rules_version(room_id=room.pk)
    response = admin_client.post(f"/admin/moderation/groundrule/{rule.pk}/delete/",
                                 {"post": "yes"})
    assert response.status_code == 302
    assert rules_version(room_id=room.pk) == before + 1


def test_admin_bulk_delete_moves_the_versions_of_the_rooms_concerned(admin_client):
    room, other = make_room(), make_room()
    first, second = add_room_rule(room, "first"), add_room_rule(other, "second")
    before = {r.pk: rules_version(room_id=r.pk) for r in (room, other)}
    response = admin_client.post("/admin/moderation/groundrule/", {
        "action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"})
    assert response.status_code == 302
    assert not GroundRule.objects.filter(pk__in=[first.pk, second.pk]).exists()
    for r in (room, other):
        assert rules_version(room_id=r.pk) == before[r.pk] + 1


# --- live: open sockets hear about the change --------------------------------------------------

@pytest.mark.django_db(transaction=True)
async def test_open_sockets_get_rules_changed_and_must_accept_again():
    room = await database_sync_to_async(make_room)()
    member = await database_sync_to_async(make_member)()
    socket = await joined(room.slug, member)
    await socket.send_json_to({"type": "send", "client_id": "before", "body": "hello"})
    assert (await next_of(socket, "ack"))["seq"] == 1

    await database_sync_to_async(add_room_rule)(room, "no-spoilers")

    changed = await next_of(socket, "rules_changed")
    # The new rules come with the frame: nobody has to reconnect to read them.
    assert changed["accepted"] is False
    assert "no-spoilers" in {r["code"] for r in changed["rules"]}
    await socket.send_json_to({"type": "send", "client_id": "after", "body": "hello again"})
    refused = await next_of(socket, "error")
    assert (refused["code"], refused["client_id"]) == ("rules_not_accepted", "after")
    await socket.send_json_to({"type": "accept_rules", "version": changed["version"] - 1})
    assert (await next_of(socket, "error"))["code"] == "rules_outdated"
    await socket.send_json_to({"type": "accept_rules", "version": changed["version"]})
    rules = await next_of(socket, "rules")
    assert rules["accepted"] is True and rules["version"] == changed["version"]
    assert "no-spoilers" in {r["code"] for r in rules["rules"]}
    await socket.send_json_to({"type": "send", "client_id": "after", "body": "hello again"})
    assert (await next_of(socket, "ack"))["seq"] == 2
    await socket.disconnect()
