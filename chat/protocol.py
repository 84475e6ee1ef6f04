"""Websocket protocol v1: the frames a client may send, parsed and validated, and the frames
the server sends, built in one place. See docs/protocol.md.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from chat.errors import ErrorCode, HearthError
from chat.frames import ROOM, FrameShapeError, check_server_frame, frame_types
from chat.limits import CLIENT_ID_MAX_CHARS, HISTORY_PAGE_MAX

PROTOCOL_VERSION = 1


class CloseCode:
    """Websocket close codes the server uses (4000-4999 are ours; 1009 comes from daphne)."""

    NORMAL = 1000
    FRAME_TOO_LARGE = 1009
    UNAUTHENTICATED = 4401
    FORBIDDEN = 4403
    MEMBER_ERASED = 4410
    ROOM_NOT_FOUND = 4404
    ROOM_FULL = 4409
    SESSION_LOCKED = 4423
    TOO_MANY_CONNECTIONS = 4429


# Close codes after which reconnecting would not help, each with its plain explanation: the
# pages take them from here (served with the page), never from a copy in a script.
ROOM_FINAL_CLOSES: dict[int, str] = {
    CloseCode.UNAUTHENTICATED: "Your visit has expired. Reload the page to continue.",
    CloseCode.FORBIDDEN: "You can't take part in this room right now.",
    CloseCode.ROOM_NOT_FOUND: "This room doesn't exist or is closed.",
    CloseCode.ROOM_FULL: "This room is full right now, so the group can stay small. Please try "
                         "another room or come back soon.",
    CloseCode.MEMBER_ERASED: "Your handle and messages have been erased.",
    CloseCode.SESSION_LOCKED: "This session has started and is closed to newcomers. Please try "
                              "another room, or join the next session.",
    CloseCode.TOO_MANY_CONNECTIONS: "You have this chat open in too many tabs. Close one, then "
                                    "reload this page.",
}
STAFF_FINAL_CLOSES: dict[int, str] = {
    CloseCode.UNAUTHENTICATED: "Your staff session has ended. Sign in again to keep moderating.",
    CloseCode.FORBIDDEN: "This page is for the team. Your account doesn't have a staff role.",
}


_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]+$")
# Control characters (Unicode category Cc: U+0000-U+001F and U+007F-U+009F) but for newline
# and tab; bodies also refuse the bidirectional overrides and isolates, which can make text
# display as something it is not. A regex scans a body in one call: a loop over its
# characters cost a busy worker's event loop 3 % (tests/chat/test_protocol.py checks the
# classes against unicodedata).
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"
_CONTROL_CHARACTER = re.compile(f"[{_CONTROLS}]")
_CONTROL_OR_BIDI = re.compile(f"[{_CONTROLS}\u202a-\u202e\u2066-\u2069]")
# A lone (unpaired) surrogate is not a character: JSON lets a client write one as "\ud800",
# and it cannot be stored, broadcast or written to a log, so no frame may carry one.
_SURROGATE = re.compile("[\ud800-\udfff]")
# Every number a frame carries (seqs, ids, versions, moods) fits in 18 digits. Python also
# refuses to convert integers over 4,300 digits with a ValueError; longer numbers are refused
# before either happens.
MAX_NUMBER_DIGITS = 18


class ProtocolError(HearthError):
    """A frame the server refuses; carries the client_id when it answers a send."""

    def __init__(self, code: ErrorCode, detail: str | None = None,
                 client_id: str | None = None) -> None:
        super().__init__(code, detail)
        self.client_id = client_id


@dataclass(frozen=True)
class SendFrame:
    client_id: str
    body: str


@dataclass(frozen=True)
class ResumeFrame:
    after_seq: int


@dataclass(frozen=True)
class HistoryFrame:
    before_seq: int
    limit: int


@dataclass(frozen=True)
class AcceptRulesFrame:
    version: int


@dataclass(frozen=True)
class ReportFrame:
    seq: int
    reason: str
    note: str


@dataclass(frozen=True)
class MuteFrame:
    handle: str
    mute: bool  # False: unmute


@dataclass(frozen=True)
class SetRegionFrame:
    region: str  # "GB", or "*" for somewhere else


@dataclass(frozen=True)
class AskForSupportFrame:
    seq: int | None


@dataclass(frozen=True)
class AsideReplyFrame:
    aside_id: int
    accept: bool


@dataclass(frozen=True)
class AsideSendFrame:
    aside_id: int
    client_id: str
    body: str


@dataclass(frozen=True)
class AsideLeaveFrame:
    aside_id: int


@dataclass(frozen=True)
class HandFrame:
    raise_hand: bool  # False: lower it


@dataclass(frozen=True)
class EndTurnFrame:
    passing: bool  # "pass": also steps out of the queue


@dataclass(frozen=True)
class ReactFrame:
    reaction: str
    seq: int | None


@dataclass(frozen=True)
class HostFrame:
    action: str
    handle: str | None = None
    phase: str | None = None
    position: int | None = None
    seconds: int | None = None
    seq: int | None = None
    prompt_id: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class FeedbackFrame:
    session_id: int
    occurrence_on: str
    mood_before: int | None
    mood_after: int | None
    helpful: bool | None
    tags: tuple[str, ...]
    comment: str


ClientFrame = (SendFrame | ResumeFrame | HistoryFrame | AcceptRulesFrame | ReportFrame
               | MuteFrame | SetRegionFrame | AskForSupportFrame | AsideReplyFrame
               | AsideSendFrame | AsideLeaveFrame | HandFrame | EndTurnFrame | ReactFrame
               | HostFrame | FeedbackFrame)
REACTIONS = ("heart", "hug", "me_too", "thank_you")
HOST_ACTIONS = ("start", "next_phase", "set_phase", "call_next", "call", "add_to_queue",
                "move", "skip", "extend", "end_turn", "slow_mode", "pause", "resume", "lock",
                "unlock", "pin", "unpin", "post_prompt", "mute", "remove", "handover", "end")
SESSION_REASON_MAX_CHARS = 500
FEEDBACK_COMMENT_MAX_CHARS = 500
AsideFrame = AsideReplyFrame | AsideSendFrame | AsideLeaveFrame

REPORT_NOTE_MAX_CHARS = 500


def _required(data: dict[str, Any], name: str) -> Any:
    if name not in data:
        raise ProtocolError(ErrorCode.MISSING_FIELD, f"The field '{name}' is required.")
    return data[name]


def _non_negative_int(data: dict[str, Any], name: str) -> int:
    value = _required(data, name)
    # bool is an int in Python; true/false is not a sequence number.
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProtocolError(ErrorCode.INVALID_FIELD,
                            f"The field '{name}' must be a whole number, 0 or more.")
    return value


def clean_body(body: str, *, max_chars: int) -> str:
    """Normalise line endings and refuse empty, over-long or control-character bodies."""
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL_OR_BIDI.search(body):
        raise ProtocolError(ErrorCode.CONTROL_CHARACTERS)
    if not body.strip():
        raise ProtocolError(ErrorCode.EMPTY_BODY)
    if len(body) > max_chars:
        raise ProtocolError(
            ErrorCode.BODY_TOO_LONG,
            f"{ErrorCode.BODY_TOO_LONG.message} (at most {max_chars} characters)",
        )
    return body


def _is_client_id(value: Any) -> bool:
    return (isinstance(value, str) and 1 <= len(value) <= CLIENT_ID_MAX_CHARS
            and bool(_CLIENT_ID.match(value)))


def _client_id(data: dict[str, Any]) -> str:
    client_id = _required(data, "client_id")
    if not _is_client_id(client_id):
        raise ProtocolError(
            ErrorCode.INVALID_FIELD,
            f"client_id must be 1-{CLIENT_ID_MAX_CHARS} letters, digits, '-' or '_'.",
        )
    return str(client_id)


def _parse_send(data: dict[str, Any], max_body_chars: int) -> SendFrame:
    client_id = _client_id(data)
    try:
        body = _required(data, "body")
        if not isinstance(body, str):
            raise ProtocolError(ErrorCode.INVALID_FIELD, "The field 'body' must be text.")
        return SendFrame(client_id=client_id, body=clean_body(body, max_chars=max_body_chars))
    except ProtocolError as error:
        raise ProtocolError(error.code, error.detail, client_id=client_id) from None


def _text(data: dict[str, Any], name: str, *, max_chars: int, required: bool = True) -> str:
    value = _required(data, name) if required else data.get(name, "")
    if not isinstance(value, str):
        raise ProtocolError(ErrorCode.INVALID_FIELD, f"The field '{name}' must be text.")
    if len(value) > max_chars:
        code = ErrorCode.NOTE_TOO_LONG if name == "note" else ErrorCode.INVALID_FIELD
        raise ProtocolError(code, f"The field '{name}' can have at most {max_chars} characters.")
    if _CONTROL_CHARACTER.search(value):
        raise ProtocolError(ErrorCode.CONTROL_CHARACTERS)
    return value


def _parse_report(data: dict[str, Any]) -> ReportFrame:
    return ReportFrame(seq=_non_negative_int(data, "seq"),
                       reason=_text(data, "reason", max_chars=32),
                       note=_text(data, "note", max_chars=REPORT_NOTE_MAX_CHARS,
                                  required=False))


def _parse_history(data: dict[str, Any]) -> HistoryFrame:
    before_seq = _non_negative_int(data, "before_seq")
    limit = data.get("limit", 50)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= HISTORY_PAGE_MAX:
        raise ProtocolError(ErrorCode.INVALID_FIELD,
                            f"limit must be a whole number from 1 to {HISTORY_PAGE_MAX}.")
    return HistoryFrame(before_seq=before_seq, limit=limit)


_REGION = re.compile(r"[A-Za-z]{2}|\*")


def _parse_region(data: dict[str, Any]) -> SetRegionFrame:
    region = _required(data, "region")
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        raise ProtocolError(ErrorCode.INVALID_FIELD,
                            "region must be a two-letter country code, or \"*\".")
    return SetRegionFrame(region=region.upper())


def _parse_ask(data: dict[str, Any]) -> AskForSupportFrame:
    if data.get("seq") is None:
        return AskForSupportFrame(seq=None)
    return AskForSupportFrame(seq=_non_negative_int(data, "seq"))


def parse_aside_frame(data: dict[str, Any], *, max_body_chars: int) -> AsideFrame:
    """The take-aside frames, shared by the room socket and the staff socket."""
    frame_type = data.get("type")
    if frame_type == "take_aside_send":
        # The client_id first, so every refusal of a send names the send it refuses.
        client_id = _client_id(data)
        try:
            aside_id = _non_negative_int(data, "aside_id")
            send = _parse_send(data, max_body_chars)
        except ProtocolError as error:
            raise ProtocolError(error.code, error.detail, client_id=client_id) from None
        return AsideSendFrame(aside_id=aside_id, client_id=client_id, body=send.body)
    aside_id = _non_negative_int(data, "aside_id")
    if frame_type == "take_aside_reply":
        accept = _required(data, "accept")
        if not isinstance(accept, bool):
            raise ProtocolError(ErrorCode.INVALID_FIELD, "accept must be true or false.")
        return AsideReplyFrame(aside_id=aside_id, accept=accept)
    if frame_type == "take_aside_leave":
        return AsideLeaveFrame(aside_id=aside_id)
    raise ProtocolError(ErrorCode.UNKNOWN_TYPE, "Not a take-aside frame.")


def _optional_int(data: dict[str, Any], name: str) -> int | None:
    return None if data.get(name) is None else _non_negative_int(data, name)


def _parse_react(data: dict[str, Any]) -> ReactFrame:
    reaction = _required(data, "reaction")
    if reaction not in REACTIONS:
        raise ProtocolError(ErrorCode.INVALID_FIELD,
                            f"reaction must be one of: {', '.join(REACTIONS)}.")
    return ReactFrame(reaction=str(reaction), seq=_optional_int(data, "seq"))


def _parse_host(data: dict[str, Any]) -> HostFrame:
    action = _required(data, "action")
    if action not in HOST_ACTIONS:
        raise ProtocolError(ErrorCode.INVALID_FIELD,
                            f"action must be one of: {', '.join(HOST_ACTIONS)}.")
    handle = _text(data, "handle", max_chars=64) if "handle" in data else None
    phase = _text(data, "phase", max_chars=16) if "phase" in data else None
    return HostFrame(action=str(action), handle=handle, phase=phase,
                     position=_optional_int(data, "position"),
                     seconds=_optional_int(data, "seconds"), seq=_optional_int(data, "seq"),
                     prompt_id=_optional_int(data, "prompt_id"),
                     reason=_text(data, "reason", max_chars=SESSION_REASON_MAX_CHARS,
                                  required=False).strip())


def _mood(data: dict[str, Any], name: str) -> int | None:
    value = _optional_int(data, name)
    if value is not None and not 1 <= value <= 5:
        raise ProtocolError(ErrorCode.INVALID_FIELD, f"{name} must be from 1 to 5.")
    return value


def _iso_date(data: dict[str, Any], name: str) -> str:
    """A date as YYYY-MM-DD, whichever ISO form it came in ("20261124" is the same day), so
    the once-per-occurrence check can't be sidestepped by writing the date another way."""
    value = _text(data, name, max_chars=10)
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ProtocolError(ErrorCode.INVALID_FIELD,
                            f"{name} must be a date (YYYY-MM-DD).") from None


def _parse_feedback(data: dict[str, Any]) -> FeedbackFrame:
    helpful = data.get("helpful")
    if helpful is not None and not isinstance(helpful, bool):
        raise ProtocolError(ErrorCode.INVALID_FIELD, "helpful must be true, false or null.")
    # Like the moods, null means "left out".
    tags = [] if data.get("tags") is None else data["tags"]
    if not isinstance(tags, list) or len(tags) > 20 or not all(
            isinstance(tag, str) and len(tag) <= 32 for tag in tags):
        raise ProtocolError(ErrorCode.INVALID_FIELD, "tags must be a list of tag codes.")
    return FeedbackFrame(
        session_id=_non_negative_int(data, "session_id"),
        occurrence_on=_iso_date(data, "occurrence_on"),
        mood_before=_mood(data, "mood_before"), mood_after=_mood(data, "mood_after"),
        helpful=helpful, tags=tuple(tags),
        comment="" if data.get("comment") is None else _text(
            data, "comment", max_chars=FEEDBACK_COMMENT_MAX_CHARS).strip())


class _NumberTooLongError(Exception):
    """Raised from inside json.loads for a number with too many digits."""


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise _NumberTooLongError
    return int(digits)


def _bounded_float(digits: str) -> float:
    if len(digits) > MAX_NUMBER_DIGITS * 4:  # no frame field is fractional; keep it cheap
        raise _NumberTooLongError
    return float(digits)


def _has_lone_surrogate(data: Any) -> bool:
    """Whether any string in the decoded frame (keys too, at any depth) has a lone
    surrogate. Iterative: a deeply nested frame must not exhaust the stack here."""
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def decode_frame(text: str) -> dict[str, Any]:
    """The frame as a JSON object, or the ProtocolError naming what is wrong with it: never
    another exception, whatever a client sent."""
    try:
        data = json.loads(text, parse_int=_bounded_int, parse_float=_bounded_float)
    except _NumberTooLongError:
        raise ProtocolError(ErrorCode.INVALID_FIELD,
                            f"Numbers can have at most {MAX_NUMBER_DIGITS} digits.") from None
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        raise ProtocolError(ErrorCode.MALFORMED_JSON) from None
    if not isinstance(data, dict):
        raise ProtocolError(ErrorCode.NOT_AN_OBJECT, "Every frame must be a JSON object.")
    # Only an escape ("\ud800") can bring a surrogate into a text frame the server checked
    # as UTF-8; the scan of the decoded values is skipped for the frames without one.
    if ("\\u" in text or _SURROGATE.search(text)) and _has_lone_surrogate(data):
        client_id = data.get("client_id")
        # The member may see this answer to their message: the plain words, no jargon.
        raise ProtocolError(ErrorCode.INVALID_TEXT,
                            client_id=client_id if _is_client_id(client_id) else None)
    return data


def parse_client_frame(text: str, *, max_body_chars: int) -> ClientFrame:
    """The typed frame, or a ProtocolError with the code to answer: never another exception,
    whatever the client sent."""
    data = decode_frame(text)
    frame_type = _required(data, "type")
    if frame_type == "send":
        return _parse_send(data, max_body_chars)
    if frame_type == "resume":
        return ResumeFrame(after_seq=_non_negative_int(data, "after_seq"))
    if frame_type == "history":
        return _parse_history(data)
    if frame_type == "accept_rules":
        return AcceptRulesFrame(version=_non_negative_int(data, "version"))
    if frame_type == "report":
        return _parse_report(data)
    if frame_type in ("mute", "unmute"):
        return MuteFrame(handle=_text(data, "handle", max_chars=64), mute=frame_type == "mute")
    if frame_type == "set_region":
        return _parse_region(data)
    if frame_type == "ask_for_support":
        return _parse_ask(data)
    if frame_type in ("take_aside_reply", "take_aside_send", "take_aside_leave"):
        return parse_aside_frame(data, max_body_chars=max_body_chars)
    if frame_type in ("raise_hand", "lower_hand"):
        return HandFrame(raise_hand=frame_type == "raise_hand")
    if frame_type in ("end_turn", "pass"):
        return EndTurnFrame(passing=frame_type == "pass")
    if frame_type == "react":
        return _parse_react(data)
    if frame_type == "host":
        return _parse_host(data)
    if frame_type == "feedback":
        return _parse_feedback(data)
    raise ProtocolError(ErrorCode.UNKNOWN_TYPE,
                        f"Unknown frame type. Known types: {', '.join(CLIENT_FRAME_TYPES)}.")


CLIENT_FRAME_TYPES = ("send", "resume", "history", "accept_rules", "report", "mute", "unmute",
                      "set_region", "ask_for_support", "take_aside_reply", "take_aside_send",
                      "take_aside_leave", "raise_hand", "lower_hand", "end_turn", "pass",
                      "react", "host", "feedback")


# --- Server frames --------------------------------------------------------------------------

# Off in production (a frame costs a dictionary walk); the test suite turns it on in its own
# process and, through HEARTH_CHECK_FRAMES, in every server it starts (tests/conftest.py).
_frame_checks = os.environ.get("HEARTH_CHECK_FRAMES", "") == "1"
# Where a refused frame is also written down: a server's socket may turn the exception into
# an internal_error frame that no test is waiting for, and the suite must still hear of it.
_frame_violations = os.environ.get("HEARTH_FRAME_VIOLATIONS") or None


def enable_frame_checks(enabled: bool) -> None:
    global _frame_checks
    _frame_checks = enabled


def frame_checks_enabled() -> bool:
    return _frame_checks


def record_frame_violations(path: str | None) -> None:
    global _frame_violations
    _frame_violations = path


def encode(frame: dict[str, Any]) -> str:
    """A server frame as sent. With frame checks on, a frame the catalogue (chat/frames.py)
    does not allow raises FrameShapeError instead."""
    if _frame_checks:
        try:
            check_server_frame(frame)
        except FrameShapeError as error:
            if _frame_violations:
                with open(_frame_violations, "a", encoding="utf-8") as out:
                    out.write(error.detail + "\n")
            raise
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def error_frame(code: ErrorCode, detail: str | None = None, *, client_id: str | None = None,
                retry_after: float | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code.value, "detail": detail or code.message}
    if client_id is not None:
        frame["client_id"] = client_id
    if retry_after is not None:
        frame["retry_after"] = retry_after
    return frame


def message_frame(*, seq: int, room_slug: str, handle: str, role: str, body: str, html: str,
                  sent_at: datetime, client_id: str, status: str) -> dict[str, Any]:
    return {
        "type": "message",
        "seq": seq,
        "room": room_slug,
        "handle": handle,
        "role": role,
        "body": body,
        "html": html,
        "sent_at": sent_at.isoformat(),
        "client_id": client_id,
        "status": status,
    }


class RemovalReason(StrEnum):
    """Why messages went from open screens (`message_removed`)."""

    ERASED = "erased"  # the author chose "erase me"
    EXPIRED = "expired"  # the room's retention ran out
    HIDDEN = "hidden"  # a moderator or a sanction took it down


def message_removed_frame(*, room_slug: str, seqs: list[int],
                          reason: RemovalReason) -> dict[str, Any]:
    """The one shape of `message_removed`: clients drop these seqs from the room's screen."""
    return {"type": "message_removed", "room": room_slug, "seqs": sorted(seqs),
            "reason": reason.value}


# The room socket's server frames: the catalogue's (chat/frames.py), never a second list.
SERVER_FRAME_TYPES = frame_types(ROOM)
