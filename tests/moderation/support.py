"""Moderation test set-up shared by tests/moderation/test_*.py: review items made through the
real services (a held message, a reported message), a controllable clock, and the staff
socket through the full ASGI stack."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from chat.models import Member, Message
from hearth.asgi import application
from moderation.models import ReviewItem, ScreeningAction, ScreeningPolicy
from moderation.services import report_message
from rooms.models import Room
from tests.chat.test_consumers import ORIGIN, session_for
from tests.factories import make_member, post_in_room
from tests.staff_auth import signed_in_session_key

# Bodies whose screening outcome the tests rely on (checked in test_policy.py).
PHONE_BODY = "text me on +44 7700 900123 tonight"
INSULT_BODY = "you're a pathetic idiot"
CRISIS_BODY = "I want to end my life tonight"
PLAIN_BODY = "thank you all for listening tonight"


def set_room_policy(room: Room, **actions: str) -> ScreeningPolicy:
    """A room's own screening policy (operators set these in the admin)."""
    policy, _ = ScreeningPolicy.objects.update_or_create(room=room, defaults=actions)
    return policy


@dataclass(frozen=True)
class Item:
    """A review item and the message it is about."""

    id: int
    message: Message

    @property
    def author(self) -> Member:
        return self.message.author

    def refresh(self) -> ReviewItem:
        return ReviewItem.objects.get(pk=self.id)


_client_ids = iter(range(1, 10**9))


def held_item(room: Room, author: Member | None = None, body: str = PHONE_BODY) -> Item:
    """A message screening held for review (the room holds contact details)."""
    set_room_policy(room, contact=ScreeningAction.HOLD)
    result = post_in_room(member=author or make_member(), room=room,
                          client_id=f"held-{next(_client_ids)}", body=body)
    assert result.review_item_id is not None, "screening did not hold the message"
    return Item(id=result.review_item_id, message=result.message)


def reported_item(room: Room, author: Member | None = None, body: str = PLAIN_BODY,
                  reason: str = "harassment", reporter: Member | None = None) -> Item:
    """A visible message another member reported."""
    result = post_in_room(member=author or make_member(), room=room,
                          client_id=f"rep-{next(_client_ids)}", body=body)
    report_message(reporter=reporter or make_member(), room_id=room.pk,
                   seq=result.message.seq, reason=reason, note="")
    item = ReviewItem.objects.get(message=result.message)
    return Item(id=item.pk, message=result.message)


class Clock:
    """Moves `django.utils.timezone.now` (which every module here reads through the module
    attribute) so sanctions can start and end without waiting."""

    def __init__(self) -> None:
        self.now: datetime = timezone.now()

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    def __call__(self) -> datetime:
        return self.now


# --- the staff socket ---------------------------------------------------------------------------

async def staff_socket(member: Member | None) -> WebsocketCommunicator:
    """The moderators' socket for this member's session (None: no member on the session); a
    staff member's as their sign-in with a second factor leaves it."""
    key = await database_sync_to_async(
        signed_in_session_key if member is not None and member.user is not None
        else session_for)(member)
    communicator = WebsocketCommunicator(
        application, "/ws/staff/",
        headers=[(b"host", b"testserver"), (b"cookie", f"hearth_session={key}".encode()),
                 (b"origin", ORIGIN)])
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def frame_of(communicator: WebsocketCommunicator, frame_type: str,
                   timeout: float = 3) -> dict[str, Any]:
    """The next frame of this type, skipping others."""
    for _ in range(100):
        frame: dict[str, Any] = json.loads(await communicator.receive_from(timeout=timeout))
        if frame["type"] == frame_type:
            return frame
    raise AssertionError(f"no {frame_type} frame")


async def send_json(communicator: WebsocketCommunicator, frame: dict[str, Any] | str) -> None:
    await communicator.send_to(text_data=frame if isinstance(frame, str) else json.dumps(frame))


async def closed_with(communicator: WebsocketCommunicator) -> tuple[list[dict[str, Any]], int]:
    """Every frame sent before the server closed the socket, and the close code."""
    frames: list[dict[str, Any]] = []
    while True:
        output = await communicator.receive_output(timeout=3)
        if output["type"] == "websocket.close":
            return frames, int(output.get("code", 1000))
        frames.append(json.loads(output["text"]))
