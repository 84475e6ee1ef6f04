"""docs/protocol.md must document every error code, close code and frame type in the code,
and nothing that the code does not have."""

import re
from pathlib import Path

from chat.errors import ErrorCode
from chat.protocol import CLIENT_FRAME_TYPES, SERVER_FRAME_TYPES, CloseCode
from moderation.consumers import STAFF_FRAME_TYPES, STAFF_SERVER_FRAME_TYPES

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()


def test_every_error_code_is_documented_and_nothing_else():
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", DOC, flags=re.MULTILINE))
    assert documented == {code.value for code in ErrorCode}


def test_every_close_code_is_documented():
    documented = {int(code) for code in re.findall(r"^\| (\d{4}) \|", DOC, flags=re.MULTILINE)}
    in_code = {value for name, value in vars(CloseCode).items() if name.isupper()}
    assert documented == in_code


def test_every_frame_type_has_a_section():
    sections = set(re.findall(r"^### `([a-z_]+)`", DOC, flags=re.MULTILINE))
    in_code = (set(CLIENT_FRAME_TYPES) | set(SERVER_FRAME_TYPES) | set(STAFF_FRAME_TYPES)
               | set(STAFF_SERVER_FRAME_TYPES))
    assert in_code == sections
