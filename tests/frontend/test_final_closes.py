"""The explanation a page shows when its socket closes for good comes from the server: every
close code the sockets use (but the normal one and the frame-size one, after which the page
reconnects) has its words, and the pages carry them."""

from __future__ import annotations

import json
import re

import pytest

from chat.consumers import CLOSE_CODE_FOR_REFUSAL
from chat.models import Role
from chat.protocol import ROOM_FINAL_CLOSES, STAFF_FINAL_CLOSES, CloseCode
from tests.factories import make_room, make_staff
from tests.staff_auth import sign_in_staff

pytestmark = pytest.mark.django_db


def _served(html: str) -> dict[str, str]:
    found = re.search(r'<script id="final-closes" type="application/json">(.*?)</script>', html)
    assert found is not None
    served: dict[str, str] = json.loads(found.group(1))
    return served


def test_every_close_the_room_socket_makes_is_explained():
    closes = {*CLOSE_CODE_FOR_REFUSAL.values(), CloseCode.FORBIDDEN, CloseCode.MEMBER_ERASED}
    assert closes <= ROOM_FINAL_CLOSES.keys()
    assert CloseCode.NORMAL not in ROOM_FINAL_CLOSES  # the page reconnects after these
    assert CloseCode.FRAME_TOO_LARGE not in ROOM_FINAL_CLOSES


def test_the_room_page_carries_the_explanations(client):
    make_room(slug="lounge")
    served = _served(client.get("/rooms/lounge/").content.decode())
    assert served == {str(code): words for code, words in ROOM_FINAL_CLOSES.items()}


def test_the_dashboard_carries_the_staff_explanations(client):
    sign_in_staff(client, make_staff(Role.PEER_SUPPORTER))
    served = _served(client.get("/moderation/").content.decode())
    assert served == {str(code): words for code, words in STAFF_FINAL_CLOSES.items()}
    assert {str(CloseCode.UNAUTHENTICATED), str(CloseCode.FORBIDDEN)} == served.keys()
