"""The server frame catalogue (chat/frames.py): what it allows, what it refuses, and that the
frames the server's own builders make pass it."""

import os
import re
from datetime import UTC, datetime

import pytest

from chat import protocol
from chat.errors import ErrorCode
from chat.frames import (
    ROOM,
    SERVER_FRAMES,
    STAFF,
    FrameShapeError,
    check_server_frame,
    frame_types,
)
from chat.protocol import (
    RemovalReason,
    encode,
    error_frame,
    message_frame,
    message_removed_frame,
)


def _message(**changes: object) -> dict[str, object]:
    frame = message_frame(seq=3, room_slug="the-lounge", handle="QuietHeron42", role="member",
                          body="hello", html="hello", sent_at=datetime(2026, 12, 8, tzinfo=UTC),
                          client_id="abc", status="visible")
    frame.update(changes)
    return frame


def test_the_builders_frames_pass():
    check_server_frame(_message())
    check_server_frame(_message(collapsed=True, body="", html=""))
    check_server_frame(error_frame(ErrorCode.RATE_LIMITED, client_id="abc", retry_after=0.5))
    check_server_frame(message_removed_frame(room_slug="the-lounge", seqs=[2, 1],
                                             reason=RemovalReason.HIDDEN))


@pytest.mark.parametrize(("frame", "complaint"), [
    ([], "a server frame is a JSON object"),
    ({"seq": 1}, "unknown server frame type None"),
    ({"type": "mesage"}, "unknown server frame type 'mesage'"),
    ({"type": "heartbeat"}, "heartbeat: the field 'head_seq' is missing"),
    ({"type": "heartbeat", "head_seq": 1, "tail_seq": 2}, "fields not in the catalogue"),
    ({"type": "heartbeat", "head_seq": "1"}, "heartbeat.head_seq: str is not int"),
    ({"type": "heartbeat", "head_seq": True}, "heartbeat.head_seq: bool is not int"),
    ({"type": "heartbeat", "head_seq": 1.5}, "heartbeat.head_seq: float is not int"),
    ({"type": "muted", "handle": "QuietHeron42", "muted": 1}, "muted.muted: int is not bool"),
    ({"type": "staffing", "staffed_only": True, "on_duty": 0, "open": False, "detail": ""},
     "staffing: the field 'helpline' is missing"),
])
def test_frames_the_catalogue_refuses(frame, complaint):
    with pytest.raises(FrameShapeError, match=re.escape(complaint)):
        check_server_frame(frame)


def test_optional_and_nullable_fields():
    check_server_frame({"type": "staffing", "staffed_only": False, "on_duty": 0, "open": True,
                        "detail": "", "helpline": None})
    check_server_frame({"type": "error", "code": "internal_error", "detail": "x"})
    with pytest.raises(FrameShapeError, match=r"error\.retry_after"):
        check_server_frame({"type": "error", "code": "rate_limited", "detail": "x",
                            "retry_after": "soon"})


def test_history_checks_each_message_it_carries():
    check_server_frame({"type": "history", "before_seq": 9, "messages": [_message()],
                        "has_more": False})
    with pytest.raises(FrameShapeError, match=r"history\.messages\[1\]: message: the field"):
        check_server_frame({"type": "history", "before_seq": 9,
                            "messages": [_message(), {"type": "message", "seq": 2}],
                            "has_more": False})
    with pytest.raises(FrameShapeError, match=r"history\.messages\[0\]: a server frame"):
        check_server_frame({"type": "history", "before_seq": 9, "messages": [7],
                            "has_more": False})


def test_every_frame_goes_down_a_socket_and_both_sockets_hear_errors():
    assert all(spec.sockets and set(spec.sockets) <= {ROOM, STAFF}
               for spec in SERVER_FRAMES.values())
    assert "error" in frame_types(ROOM) and "error" in frame_types(STAFF)


def test_encode_refuses_a_bad_frame_while_checks_are_on(tmp_path):
    assert protocol.frame_checks_enabled()  # the suite turns them on (tests/conftest.py)
    refused = tmp_path / "refused.txt"
    protocol.record_frame_violations(str(refused))
    try:
        with pytest.raises(FrameShapeError):
            encode({"type": "heartbeat"})
        assert refused.read_text() == "heartbeat: the field 'head_seq' is missing\n"
        protocol.enable_frame_checks(False)
        assert encode({"type": "heartbeat"}) == '{"type":"heartbeat"}'
    finally:
        protocol.enable_frame_checks(True)
        protocol.record_frame_violations(os.environ["HEARTH_FRAME_VIOLATIONS"])
