"""docs/protocol.md must document every error code, close code and frame type in the code,
and nothing that the code does not have."""

import json
import re
from pathlib import Path

import pytest

from chat.errors import ErrorCode
from chat.frames import SERVER_FRAMES, FrameShapeError, check_server_frame
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


def _sections(name: str) -> list[str]:
    """Every `### `name`` section of the document (a type may have a client and a server
    section, as `history` has)."""
    parts = re.split(r"^(### `[a-z_]+`.*)$", DOC, flags=re.MULTILINE)
    return [parts[i] + parts[i + 1] for i in range(1, len(parts) - 1, 2)
            if parts[i].startswith(f"### `{name}`")]


def _examples(section: str, frame_type: str) -> list[dict[str, object]]:
    found = []
    for block in re.findall(r"```json\n(.*?)```", section, flags=re.DOTALL):
        try:
            example = json.loads(block)
        except ValueError:
            continue  # a fragment, such as one field of another frame
        if isinstance(example, dict) and example.get("type") == frame_type:
            found.append(example)
    return found


@pytest.mark.parametrize("frame_type", sorted(SERVER_FRAMES))
def test_each_server_frame_is_documented_field_by_field(frame_type):
    """Its example(s) pass the catalogue, every field the catalogue has is named in its
    section (in the example, or in the text as `field`), and a required field is in every
    example."""
    sections = _sections(frame_type)
    text = "\n".join(sections)
    spec = SERVER_FRAMES[frame_type]
    examples = [_without_ellipses(example)
                for section in sections for example in _examples(section, frame_type)]
    if frame_type in set(CLIENT_FRAME_TYPES) | set(STAFF_FRAME_TYPES):
        # The client's frame of the same name has its own example, with its own fields: the
        # server's is the one the catalogue allows.
        examples = [example for example in examples if _allowed(example)]
    assert examples, f"no example of the server frame `{frame_type}` in docs/protocol.md"
    for example in examples:
        check_server_frame(example)
    unnamed = [name for name in spec.fields if f'"{name}"' not in text and f"`{name}`" not in text]
    assert not unnamed, f"`{frame_type}` has fields its section never names: {unnamed}"


def _without_ellipses(example: dict[str, object]) -> dict[str, object]:
    # "…" stands for a list's further items in the examples, as {"…": "…"} does for an
    # object's further fields: the catalogue checks the fields shown.
    return {name: ([item for item in value if not (isinstance(item, dict) and "…" in item)]
                   if isinstance(value, list) else value)
            for name, value in example.items()}


def _allowed(example: dict[str, object]) -> bool:
    try:
        check_server_frame(example)
    except FrameShapeError:
        return False
    return True
