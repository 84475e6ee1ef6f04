"""The catalogue of frames the server sends: every type, the sockets it goes down, its fields
and the JSON kinds of their values.

One place for the shape of the protocol's server side. `docs/protocol.md` is checked against it
field by field (tests/chat/test_protocol_doc.py); the pages are given its frame types and the
error codes (`browser_constants`), not a copy typed into a script; and with frame
checks on (the test suite turns them on, in its own process and in every server it starts)
`chat.protocol.encode` refuses a frame that does not match, so every frame a test sees has
been checked. The client side is typed by the dataclasses `chat.protocol.parse_client_frame`
returns.

A field is written `"kind"`, or `"kind|kind"` when it may be either, with a trailing `?` when
the frame may leave it out. Kinds are JSON's: str, int, number (int or float), bool, list,
object, null.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chat.errors import ErrorCode

ROOM, STAFF = "room", "staff"

_KINDS: dict[str, tuple[type, ...]] = {
    "str": (str,), "int": (int,), "number": (int, float), "bool": (bool,), "list": (list,),
    "object": (dict,), "null": (type(None),),
}


class FrameShapeError(ValueError):
    """A server frame that the catalogue does not allow: a bug in the server, never the
    member's doing, so not a HearthError (which a socket would answer with an error frame)."""

    @property
    def detail(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class FieldSpec:
    kinds: tuple[str, ...]
    required: bool
    # "list:message": a list whose every item is itself a frame of that type.
    items: str | None = None

    def accepts(self, value: Any) -> bool:
        # JSON has no separate boolean number: True is not an int here, whatever Python says.
        if isinstance(value, bool):
            return "bool" in self.kinds
        return any(isinstance(value, _KINDS[kind]) for kind in self.kinds)


@dataclass(frozen=True)
class ServerFrame:
    type: str
    sockets: tuple[str, ...]
    fields: Mapping[str, FieldSpec]


def _field(written: str) -> FieldSpec:
    required = not written.endswith("?")
    kinds = tuple(written.rstrip("?").split("|"))
    items = None
    if kinds[0].startswith("list:"):
        items = kinds[0].removeprefix("list:")
        kinds = ("list", *kinds[1:])
    unknown = [kind for kind in kinds if kind not in _KINDS]
    if unknown:
        raise ValueError(f"unknown kinds {unknown} in {written!r}")
    return FieldSpec(kinds=kinds, required=required, items=items)


def _frame(frame_type: str, sockets: tuple[str, ...], **fields: str) -> ServerFrame:
    return ServerFrame(type=frame_type, sockets=sockets,
                       fields={name: _field(kind) for name, kind in fields.items()})


_BOTH = (ROOM, STAFF)
_MESSAGE_FIELDS = {
    "seq": "int", "room": "str", "handle": "str", "role": "str", "body": "str", "html": "str",
    "sent_at": "str", "client_id": "str", "status": "str", "collapsed": "bool?",
    "released": "bool?",
}

SERVER_FRAMES: dict[str, ServerFrame] = {frame.type: frame for frame in (
    # --- the room socket ------------------------------------------------------------------
    _frame("welcome", (ROOM,), protocol="int", room="object", you="object", head_seq="int",
           presence="object", limits="object", rules="object", staffing="object",
           asides="list", session="object|null", region="str|null"),
    _frame("message", (ROOM,), **_MESSAGE_FIELDS),
    _frame("ack", (ROOM,), client_id="str", seq="int", duplicate="bool", status="str"),
    # An error names what it refuses: the send (client_id), the card or conversation (ids
    # echoed as the client sent them, so int or str), or the request and host action.
    _frame("error", _BOTH, code="str", detail="str", client_id="str?", retry_after="number?",
           rule="str?", aside_id="int|str?", item_id="int|str?", escalation_id="int|str?",
           session_id="int?", request="str?", action="str?", distress="object?"),
    _frame("presence", (ROOM,), room="str", count="int", members="list"),
    _frame("heartbeat", (ROOM,), head_seq="int"),
    _frame("history", (ROOM,), before_seq="int", messages="list:message", has_more="bool"),
    _frame("resumed", (ROOM,), after_seq="int", through_seq="int", head_seq="int",
           has_more="bool"),
    _frame("message_removed", (ROOM,), room="str", seqs="list", reason="str"),
    _frame("notice", (ROOM,), kind="str", rule="str", rule_title="str", detail="str",
           appeal_url="str", seq="int?", client_id="str?", ends_at="str|null?",
           reason="str?", room="str|null?"),
    _frame("rules", (ROOM,), version="int", accepted="bool", rules="list"),
    _frame("rules_changed", (ROOM,), version="int", accepted="bool", rules="list"),
    _frame("report_received", (ROOM,), seq="int", report_id="int", detail="str"),
    _frame("muted", (ROOM,), handle="str", muted="bool"),
    _frame("support", (ROOM,), tier="str", seq="int|null", title="str", body="str",
           helpline="object", region="str", regions="list", more_url="str",
           emergency="str", staff_on_duty="int", can_ask_for_support="bool"),
    _frame("helpline", (ROOM,), region="str", helpline="object", more_url="str"),
    _frame("support_requested", (ROOM,), staff_on_duty="int", detail="str"),
    _frame("still_reaching", (ROOM,), room="str", room_title="str", title="str", body="str",
           helpline="object", more_url="str", emergency="str"),
    _frame("staffing", (ROOM,), staffed_only="bool", on_duty="int", open="bool",
           detail="str", helpline="object|null"),
    _frame("session_state", (ROOM,), session="object"),
    _frame("reaction", (ROOM,), handle="str", reaction="str", seq="int|null"),
    _frame("session_ended", (ROOM,), session_id="int", occurrence_on="str",
           feedback_tags="list"),
    _frame("feedback_received", (ROOM,), session_id="int"),
    # --- take-aside conversations: the member's room socket and the staff socket ------------
    _frame("take_aside_invite", (ROOM,), aside="object"),
    _frame("take_aside_state", _BOTH, aside="object"),
    _frame("take_aside_ack", _BOTH, aside_id="int", client_id="str", seq="int",
           duplicate="bool"),
    _frame("take_aside_message", _BOTH, aside_id="int", seq="int", handle="str", **{
        "from": "str"}, body="str", html="str", sent_at="str", client_id="str"),
    # --- the staff socket -----------------------------------------------------------------
    _frame("queue", (STAFF,), items="list", you="object"),
    _frame("queue_item", (STAFF,), item="object"),
    _frame("queue_item_removed", (STAFF,), item_id="int"),
    _frame("member_history", (STAFF,), item_id="int", member="object", messages="list"),
    _frame("original", (STAFF,), item_id="int", html="str"),
    _frame("action_done", (STAFF,), action="str", item_id="int?", escalation_id="int?"),
    _frame("duty", (STAFF,), on_duty="bool", on_duty_count="int", roster="list"),
    _frame("escalations", (STAFF,), items="list", sla="object"),
    _frame("escalation", (STAFF,), event="str", escalation="object"),
)}


def check_server_frame(frame: Any) -> None:
    """Raise FrameShapeError when `frame` is not one the catalogue allows."""
    if not isinstance(frame, dict):
        raise FrameShapeError(f"a server frame is a JSON object, not {type(frame).__name__}")
    frame_type = frame.get("type")
    spec = SERVER_FRAMES.get(frame_type) if isinstance(frame_type, str) else None
    if spec is None:
        raise FrameShapeError(f"unknown server frame type {frame_type!r}")
    unknown = sorted(set(frame) - set(spec.fields) - {"type"})
    if unknown:
        raise FrameShapeError(f"{frame_type}: fields not in the catalogue: {unknown}")
    for name, field in spec.fields.items():
        if name not in frame:
            if field.required:
                raise FrameShapeError(f"{frame_type}: the field {name!r} is missing")
        elif not field.accepts(frame[name]):
            raise FrameShapeError(f"{frame_type}.{name}: {type(frame[name]).__name__} is not "
                                  f"{'|'.join(field.kinds)}")
        elif field.items is not None and isinstance(frame[name], list):
            for position, item in enumerate(frame[name]):
                try:
                    check_server_frame(item)
                    if item["type"] != field.items:
                        raise FrameShapeError(f"{item['type']} is not {field.items}")
                except FrameShapeError as error:
                    raise FrameShapeError(f"{frame_type}.{name}[{position}]: "
                                          f"{error.detail}") from None


def frame_types(socket: str) -> tuple[str, ...]:
    """The server frame types one socket may receive, in catalogue order."""
    return tuple(name for name, spec in SERVER_FRAMES.items() if socket in spec.sockets)


def browser_constants() -> dict[str, Any]:
    """The names the pages' scripts need, served with each page (`protocol` json_script) so
    that no script keeps a copy: the frame types of each socket and every error code."""
    return {"frames": {ROOM: list(frame_types(ROOM)), STAFF: list(frame_types(STAFF))},
            "errors": [code.value for code in ErrorCode]}
