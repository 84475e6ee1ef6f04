import json

import pytest

from chat.errors import ErrorCode
from chat.protocol import (
    HistoryFrame,
    ProtocolError,
    ResumeFrame,
    SendFrame,
    clean_body,
    error_frame,
    parse_client_frame,
)


def parse(frame: object) -> object:
    text = frame if isinstance(frame, str) else json.dumps(frame)
    return parse_client_frame(text, max_body_chars=2000)


def refusal(frame: object) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        parse(frame)
    return caught.value


def test_parses_the_three_client_frames():
    assert parse({"type": "send", "client_id": "a-1_B", "body": "hi"}) == SendFrame("a-1_B", "hi")
    assert parse({"type": "resume", "after_seq": 7}) == ResumeFrame(7)
    assert parse({"type": "history", "before_seq": 9, "limit": 100}) == HistoryFrame(9, 100)
    assert parse({"type": "history", "before_seq": 9}) == HistoryFrame(9, 50)


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", ErrorCode.MALFORMED_JSON),
        ("", ErrorCode.MALFORMED_JSON),
        ("[1, 2]", ErrorCode.NOT_AN_OBJECT),
        ('"send"', ErrorCode.NOT_AN_OBJECT),
        ({"client_id": "x", "body": "hi"}, ErrorCode.MISSING_FIELD),
        ({"type": "shout"}, ErrorCode.UNKNOWN_TYPE),
        ({"type": 5}, ErrorCode.UNKNOWN_TYPE),
        ({"type": "send", "body": "hi"}, ErrorCode.MISSING_FIELD),
        ({"type": "send", "client_id": "x"}, ErrorCode.MISSING_FIELD),
        ({"type": "send", "client_id": 12, "body": "hi"}, ErrorCode.INVALID_FIELD),
        ({"type": "send", "client_id": "", "body": "hi"}, ErrorCode.INVALID_FIELD),
        ({"type": "send", "client_id": "x" * 65, "body": "hi"}, ErrorCode.INVALID_FIELD),
        ({"type": "send", "client_id": "a b", "body": "hi"}, ErrorCode.INVALID_FIELD),
        ({"type": "send", "client_id": "x", "body": ["hi"]}, ErrorCode.INVALID_FIELD),
        ({"type": "send", "client_id": "x", "body": ""}, ErrorCode.EMPTY_BODY),
        ({"type": "send", "client_id": "x", "body": " \n\t "}, ErrorCode.EMPTY_BODY),
        ({"type": "send", "client_id": "x", "body": "a" * 2001}, ErrorCode.BODY_TOO_LONG),
        ({"type": "send", "client_id": "x", "body": "bell\x07"}, ErrorCode.CONTROL_CHARACTERS),
        ({"type": "send", "client_id": "x", "body": "nul\x00"}, ErrorCode.CONTROL_CHARACTERS),
        ({"type": "send", "client_id": "x", "body": "c1\x85"}, ErrorCode.CONTROL_CHARACTERS),
        ({"type": "send", "client_id": "x", "body": "evil\u202etxt"},
         ErrorCode.CONTROL_CHARACTERS),
        ({"type": "resume"}, ErrorCode.MISSING_FIELD),
        ({"type": "resume", "after_seq": -1}, ErrorCode.INVALID_FIELD),
        ({"type": "resume", "after_seq": "3"}, ErrorCode.INVALID_FIELD),
        ({"type": "resume", "after_seq": True}, ErrorCode.INVALID_FIELD),
        ({"type": "resume", "after_seq": 1.5}, ErrorCode.INVALID_FIELD),
        ({"type": "history", "before_seq": 5, "limit": 0}, ErrorCode.INVALID_FIELD),
        ({"type": "history", "before_seq": 5, "limit": 101}, ErrorCode.INVALID_FIELD),
        ({"type": "history", "before_seq": 5, "limit": "10"}, ErrorCode.INVALID_FIELD),
        ({"type": "history", "limit": 10}, ErrorCode.MISSING_FIELD),
    ],
)
def test_bad_frames_get_their_exact_code(frame, code):
    assert refusal(frame).code == code


def test_deeply_nested_json_is_malformed_not_a_crash():
    assert refusal("[" * 100_000 + "]" * 100_000).code in {
        ErrorCode.MALFORMED_JSON, ErrorCode.NOT_AN_OBJECT}


def test_send_refusals_carry_the_client_id():
    error = refusal({"type": "send", "client_id": "abc", "body": ""})
    assert error.client_id == "abc"


def test_body_keeps_newlines_tabs_and_unicode_and_normalises_line_endings():
    assert clean_body("one\r\ntwo\rthree\tfour 💛 é", max_chars=100) == "one\ntwo\nthree\tfour 💛 é"


def test_body_length_counts_characters_not_bytes():
    assert clean_body("💛" * 2000, max_chars=2000) == "💛" * 2000


def test_error_frame_shape():
    frame = error_frame(ErrorCode.RATE_LIMITED, client_id="c1", retry_after=0.5)
    assert frame == {"type": "error", "code": "rate_limited",
                     "detail": ErrorCode.RATE_LIMITED.message, "client_id": "c1",
                     "retry_after": 0.5}
    assert "client_id" not in error_frame(ErrorCode.MALFORMED_JSON)
