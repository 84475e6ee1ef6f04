"""The pages' scripts take frame types and error codes from the server's catalogue
(chat/frames.py, served as the `protocol` json_script), never from copies of their own."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from chat.errors import ErrorCode
from chat.frames import ROOM, STAFF, browser_constants, frame_types
from chat.models import Role
from chat.protocol import HOST_ACTIONS
from tests.factories import make_room, make_staff
from tests.staff_auth import sign_in_staff

SCRIPTS = Path(__file__).resolve().parents[2] / "frontend" / "static" / "frontend"
ERROR_CODES = {code.value for code in ErrorCode}


def _served(html: str) -> dict[str, object]:
    found = re.search(r'<script id="protocol" type="application/json">(.*?)</script>', html)
    assert found is not None
    served: dict[str, object] = json.loads(found.group(1))
    return served


@pytest.mark.django_db
def test_the_room_page_and_the_dashboard_carry_the_catalogue(client):
    make_room(slug="lounge")
    assert _served(client.get("/rooms/lounge/").content.decode()) == browser_constants()
    sign_in_staff(client, make_staff(Role.MODERATOR))
    assert _served(client.get("/moderation/").content.decode()) == browser_constants()


def test_the_served_names_are_the_catalogue():
    served = browser_constants()
    assert served["frames"] == {ROOM: list(frame_types(ROOM)), STAFF: list(frame_types(STAFF))}
    assert set(served["errors"]) == ERROR_CODES


def _script(name: str) -> str:
    return (SCRIPTS / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(("script", "names"), [
    ("room.js", {"FRAME": ROOM}), ("session.js", {"FRAME": ROOM, "STAFF_FRAME": STAFF}),
    ("moderation.js", {"FRAME": STAFF}),
])
def test_every_name_a_script_reads_is_in_the_catalogue(script, names):
    text = _script(script)
    for constant, socket in names.items():
        used = set(re.findall(rf"\b{constant}\.([a-z_]+)", text))
        assert used, f"{script} reads no {constant} names"
        assert used <= set(frame_types(socket)), used - set(frame_types(socket))
    errors = set(re.findall(r"\bERROR\.([a-z_]+)", text))
    assert errors <= ERROR_CODES, errors - ERROR_CODES


@pytest.mark.parametrize("script", ["room.js", "session.js", "moderation.js", "common.js"])
def test_no_script_types_a_frame_type_or_error_code_of_its_own(script):
    text = _script(script)
    assert not re.findall(r'case "[a-z_]+":', text)
    assert not re.findall(r'\.type [!=]== "[a-z_]+"', text.replace("staffPending.type", ""))
    # A host action may share a word with an error code ("slow_mode"): it is a client frame's
    # value, which the script sends, not a name it reads.
    quoted = {word for word in re.findall(r'"([a-z]+_[a-z_]+)"', text)
              if word in ERROR_CODES and word not in HOST_ACTIONS}
    assert not quoted, f"{script} types these error codes itself: {sorted(quoted)}"
