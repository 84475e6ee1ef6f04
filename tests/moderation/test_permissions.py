"""Who may moderate: every moderator action, the staff socket and its frames, and the staff
pages, tried by every kind of person. Table-driven: each refusal is counted, so a check that
goes missing fails the count, and anything other than a clean refusal is an unexpected result.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from chat.errors import ErrorCode, HearthError
from chat.models import Member, Role
from chat.protocol import CloseCode
from moderation import services
from moderation.models import AuditEntry, ReviewItem, ReviewState, Sanction, SanctionKind
from moderation.permissions import can_moderate
from tests.factories import make_member, make_room, make_staff
from tests.moderation.support import Item, closed_with, frame_of, held_item, send_json, staff_socket
from tests.staff_auth import sign_in_staff

ACTORS: dict[str, Callable[[], Member]] = {
    "anonymous member": make_member,
    "peer supporter": lambda: make_staff(Role.PEER_SUPPORTER),
    "moderator": lambda: make_staff(Role.MODERATOR),
    "admin": lambda: make_staff(Role.ADMIN),
}
REFUSED = ("anonymous member", "peer supporter")
ALLOWED = ("moderator", "admin")
# The staff socket itself is open to peer supporters (escalations, duty, take-asides).
SOCKET_REFUSED = ("anonymous member",)


def test_the_role_check_itself():
    assert [can_moderate(Member(role=role)) for role in Role] == [False, False, True, True]
    assert not can_moderate(None)


# --- services -----------------------------------------------------------------------------------

def _sanction(kind: SanctionKind) -> Callable[[Member, Item], object]:
    return lambda actor, item: services.sanction_member(
        moderator=actor, member_id=item.author.pk, kind=kind, rule="respect", reason="",
        room_id=item.message.room_id, duration=timedelta(hours=1), item_id=item.id)


SERVICE_ACTIONS: dict[str, Callable[[Member, Item], object]] = {
    "restore_message": lambda actor, item: services.restore_message(
        moderator=actor, item_id=item.id, rule="no-contact-details", reason=""),
    "hide_message": lambda actor, item: services.hide_message(
        moderator=actor, item_id=item.id, rule="no-contact-details", reason=""),
    "dismiss_item": lambda actor, item: services.dismiss_item(
        moderator=actor, item_id=item.id, reason=""),
    "sanction_member warn": _sanction(SanctionKind.WARNING),
    "sanction_member timeout": _sanction(SanctionKind.TIMEOUT),
    "sanction_member ban": _sanction(SanctionKind.BAN),
    "read_member_history": lambda actor, item: services.read_member_history(
        moderator=actor, member_id=item.author.pk),
}


def _outcome(call: Callable[[], object]) -> str:
    try:
        call()
    except HearthError as refused:
        return "refused" if refused.code == ErrorCode.FORBIDDEN else f"unexpected {refused.code}"
    except Exception as error:  # the matrix counts these instead of stopping at the first
        return f"unexpected {type(error).__name__}"
    return "allowed"


@pytest.mark.django_db
def test_every_moderator_action_service_refuses_members_and_peer_supporters():
    room = make_room()
    results: dict[tuple[str, str], str] = {}
    for actor_label, make_actor in ACTORS.items():
        actor = make_actor()
        for action_label, act in SERVICE_ACTIONS.items():
            item = held_item(room)  # a fresh open item each time: allowed actions resolve it
            results[(actor_label, action_label)] = _outcome(partial(act, actor, item))
            if actor_label in REFUSED:
                assert item.refresh().state == ReviewState.OPEN

    expected = {(actor, action): "refused" if actor in REFUSED else "allowed"
                for actor in ACTORS for action in SERVICE_ACTIONS}
    assert results == expected
    counts = Counter(results.values())
    assert counts == {"refused": len(REFUSED) * len(SERVICE_ACTIONS),
                      "allowed": len(ALLOWED) * len(SERVICE_ACTIONS)}
    # Only the allowed actions left a trace: one audit row each, and their sanctions.
    assert AuditEntry.objects.count() == counts["allowed"]
    assert set(AuditEntry.objects.values_list("actor_handle", flat=True)) == set(
        Member.objects.filter(role__in=[Role.MODERATOR, Role.ADMIN])
        .values_list("handle", flat=True))
    assert Sanction.objects.count() == 3 * len(ALLOWED)


# --- HTTP: the dashboard page and the admin ---------------------------------------------------

ADMIN_PAGES = [
    "/admin/",
    "/admin/moderation/auditentry/",
    "/admin/moderation/sanction/",
    "/admin/moderation/groundrule/",
    "/admin/moderation/groundrule/add/",
    "/admin/moderation/screeningpolicy/",
    "/admin/moderation/helpline/",
    "/admin/moderation/escalation/",
    "/admin/moderation/dutyshift/",
    "/admin/moderation/takeaside/",
    "/admin/chat/member/",
    "/admin/rooms/room/",
    "/admin/auth/user/",
]
# The dashboard is for every staff role (peer supporters see escalations and take-asides,
# not the review queue); the admin site only for admins (operators set roles there), so a
# moderator is sent to the admin's own login like everyone else.
PAGE_ACCESS = {"/moderation/": {"peer supporter", "moderator", "admin"},
               **{page: {"admin"} for page in ADMIN_PAGES}}


def _client_for(actor_label: str) -> Client:
    client = Client()
    if actor_label == "anonymous member":
        client.post("/me/join/")  # joining (as a room page does) makes a member
        return client
    member = ACTORS[actor_label]()
    assert member.user is not None
    sign_in_staff(client, member)  # with the second factor moderators and admins need
    return client


def _page_outcome(client: Client, page: str) -> str:
    response = client.get(page)
    if response.status_code == 200:
        return "allowed"
    if response.status_code == 403:
        return "refused"
    if response.status_code == 302 and response["Location"].startswith("/admin/login/"):
        return "refused"
    return f"unexpected {response.status_code}"


@pytest.mark.django_db
def test_staff_pages_refuse_everyone_without_the_role():
    results = {}
    for actor_label in ACTORS:
        client = _client_for(actor_label)
        for page in PAGE_ACCESS:
            results[(actor_label, page)] = _page_outcome(client, page)
    expected = {(actor, page): "allowed" if actor in allowed else "refused"
                for actor in ACTORS for page, allowed in PAGE_ACCESS.items()}
    assert results == expected
    refusals = sum(1 for outcome in results.values() if outcome == "refused")
    assert refusals == sum(len(ACTORS) - len(allowed) for allowed in PAGE_ACCESS.values())
    # A visitor with no session at all fares no better.
    assert _page_outcome(Client(), "/moderation/") == "refused"


@pytest.mark.django_db
def test_the_dashboard_refusal_is_a_403_page_not_a_redirect():
    client = _client_for("anonymous member")
    response = client.get("/moderation/")
    assert response.status_code == 403


# --- the staff socket ----------------------------------------------------------------------------

STAFF_FRAMES: dict[str, dict[str, Any]] = {
    "moderate restore": {"type": "moderate", "action": "restore", "rule": "no-contact-details"},
    "moderate hide": {"type": "moderate", "action": "hide", "rule": "no-contact-details"},
    "moderate dismiss": {"type": "moderate", "action": "dismiss"},
    "sanction warn": {"type": "sanction", "action": "warn", "rule": "respect"},
    "sanction timeout": {"type": "sanction", "action": "timeout", "rule": "respect",
                         "duration_minutes": 60},
    "sanction ban": {"type": "sanction", "action": "ban", "rule": "respect"},
    "member_history": {"type": "member_history"},
}


async def _refused_socket_outcome(actor: Member | None, frame: dict[str, Any] | None) -> str:
    """Open /ws/staff/ and send `frame` straight away: a refusal is one `forbidden` error (or
    `unauthenticated` without a member) and a close, and nothing sent is acted on."""
    socket = await staff_socket(actor)
    if frame is not None:
        await send_json(socket, frame)
    frames, code = await closed_with(socket)
    codes = [f.get("code") for f in frames]
    if actor is not None and codes == ["forbidden"] and code == CloseCode.FORBIDDEN:
        return "refused"
    if actor is None and codes == ["unauthenticated"] and code == CloseCode.UNAUTHENTICATED:
        return "refused"
    return f"unexpected {codes} {code}"


@pytest.mark.django_db(transaction=True)
async def test_the_staff_socket_and_each_staff_frame_refuse_members_and_peer_supporters(caplog):
    room = await database_sync_to_async(make_room)()
    results: dict[tuple[str, str], str] = {}
    with caplog.at_level(logging.ERROR):
        for actor_label, make_actor in ACTORS.items():
            actor = await database_sync_to_async(make_actor)()
            if actor_label in SOCKET_REFUSED:
                results[(actor_label, "connect")] = await _refused_socket_outcome(actor, None)
            for frame_label, frame in STAFF_FRAMES.items():
                item = await database_sync_to_async(held_item)(room)
                full = {**frame, "item_id": item.id}
                if actor_label in SOCKET_REFUSED:
                    outcome = await _refused_socket_outcome(actor, full)
                    state = await database_sync_to_async(lambda item=item: item.refresh().state)()
                    if state != ReviewState.OPEN:
                        outcome = f"unexpected: acted on ({state})"
                elif actor_label in REFUSED:
                    # A peer supporter's dashboard stays open; each moderator frame is refused.
                    socket = await staff_socket(actor)
                    queue = await frame_of(socket, "queue")
                    await send_json(socket, full)
                    error = await frame_of(socket, "error")
                    outcome = ("refused" if (error["code"], error["item_id"]) == (
                        "forbidden", item.id) and queue["items"] == [] else f"unexpected {error}")
                    state = await database_sync_to_async(lambda item=item: item.refresh().state)()
                    if state != ReviewState.OPEN:
                        outcome = f"unexpected: acted on ({state})"
                    await socket.disconnect()
                else:
                    socket = await staff_socket(actor)
                    await frame_of(socket, "queue")
                    await send_json(socket, full)
                    reply = await frame_of(socket, "member_history" if frame_label ==
                                           "member_history" else "action_done")
                    outcome = "allowed" if reply["item_id"] == item.id else f"unexpected {reply}"
                    await socket.disconnect()
                results[(actor_label, frame_label)] = outcome
        no_session = await _refused_socket_outcome(None, {**STAFF_FRAMES["moderate dismiss"],
                                                          "item_id": 1})

    expected = {
        **{(actor, "connect"): "refused" for actor in SOCKET_REFUSED},
        **{(actor, frame): "refused" if actor in REFUSED else "allowed"
           for actor in ACTORS for frame in STAFF_FRAMES},
    }
    assert results == expected
    assert Counter(results.values()) == {
        "refused": len(SOCKET_REFUSED) + len(REFUSED) * len(STAFF_FRAMES),
        "allowed": len(ALLOWED) * len(STAFF_FRAMES)}
    assert no_session == "refused"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    refused_actions = await database_sync_to_async(
        lambda: AuditEntry.objects.exclude(actor_handle__in=Member.objects.filter(
            role__in=[Role.MODERATOR, Role.ADMIN]).values("handle")).count())()
    assert refused_actions == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("new_role", [Role.MEMBER, Role.PEER_SUPPORTER])
async def test_a_moderator_whose_role_is_taken_away_cannot_act_on_an_open_socket(new_role):
    room = await database_sync_to_async(make_room)()
    item = await database_sync_to_async(held_item)(room)
    moderator = await database_sync_to_async(make_staff)(Role.MODERATOR)
    socket = await staff_socket(moderator)
    await frame_of(socket, "queue")

    # An admin changes the role in the admin while the dashboard is open.
    await database_sync_to_async(
        lambda: Member.objects.filter(pk=moderator.pk).update(role=new_role))()

    for frame in STAFF_FRAMES.values():
        await send_json(socket, {**frame, "item_id": item.id})
        error = await frame_of(socket, "error")
        assert (error["code"], error["item_id"]) == ("forbidden", item.id), frame
    assert await database_sync_to_async(lambda: ReviewItem.objects.get(pk=item.id).state)() == (
        ReviewState.OPEN)
    assert await database_sync_to_async(AuditEntry.objects.count)() == 0
    await socket.disconnect()
