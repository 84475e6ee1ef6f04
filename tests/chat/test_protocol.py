import json

import pytest

from chat.errors import ErrorCode
from chat.protocol import (
    CLIENT_FRAME_TYPES,
    AsideLeaveFrame,
    AsideReplyFrame,
    AsideSendFrame,
    AskForSupportFrame,
    HistoryFrame,
    ProtocolError,
    ResumeFrame,
    SendFrame,
    SetRegionFrame,
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


# --- the crisis path's client frames -------------------------------------------------------------

def test_parses_the_crisis_path_frames():
    assert parse({"type": "set_region", "region": "GB"}) == SetRegionFrame("GB")
    assert parse({"type": "set_region", "region": "gb"}) == SetRegionFrame("GB")
    assert parse({"type": "set_region", "region": "*"}) == SetRegionFrame("*")
    assert parse({"type": "ask_for_support"}) == AskForSupportFrame(None)
    assert parse({"type": "ask_for_support", "seq": None}) == AskForSupportFrame(None)
    assert parse({"type": "ask_for_support", "seq": 0}) == AskForSupportFrame(0)
    assert parse({"type": "ask_for_support", "seq": 121}) == AskForSupportFrame(121)
    assert parse({"type": "take_aside_reply", "aside_id": 3, "accept": True}) == (
        AsideReplyFrame(3, True))
    assert parse({"type": "take_aside_reply", "aside_id": 3, "accept": False}) == (
        AsideReplyFrame(3, False))
    assert parse({"type": "take_aside_send", "aside_id": 3, "client_id": "a1",
                  "body": "thank you\r\nreally"}) == AsideSendFrame(3, "a1", "thank you\nreally")
    assert parse({"type": "take_aside_leave", "aside_id": 3}) == AsideLeaveFrame(3)
    for frame_type in ("set_region", "ask_for_support", "take_aside_reply", "take_aside_send",
                       "take_aside_leave"):
        assert frame_type in CLIENT_FRAME_TYPES


def _aside_send(**fields: object) -> dict[str, object]:
    return {"type": "take_aside_send", "aside_id": 3, "client_id": "a1", "body": "hi", **fields}


def _without(frame: dict[str, object], name: str) -> dict[str, object]:
    return {key: value for key, value in frame.items() if key != name}


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        # set_region
        ({"type": "set_region"}, ErrorCode.MISSING_FIELD),
        ({"type": "set_region", "region": None}, ErrorCode.INVALID_FIELD),
        ({"type": "set_region", "region": ""}, ErrorCode.INVALID_FIELD),
        ({"type": "set_region", "region": "G"}, ErrorCode.INVALID_FIELD),
        ({"type": "set_region", "region": "GBR"}, ErrorCode.INVALID_FIELD),
        ({"type": "set_region", "region": "1A"}, ErrorCode.INVALID_FIELD),
        ({"type": "set_region", "region": "G1"}, ErrorCode.INVALID_FIELD),
        ({"type": "set_region", "region": "**"}, ErrorCode.INVALID_FIELD),
        ({"type": "set_region", "region": " GB"}, ErrorCode.INVALID_FIELD),
        ({"type": "set_region", "region": "G\u00e9"}, ErrorCode.INVALID_FIELD),
        ({"type": "set_region", "region": "\uff27\uff22"}, ErrorCode.INVALID_FIELD),  # fullwidth
        ({"type": "set_region", "region": "en-GB"}, ErrorCode.INVALID_FIELD),
        ({"type": "set_region", "region": 44}, ErrorCode.INVALID_FIELD),
        ({"type": "set_region", "region": True}, ErrorCode.INVALID_FIELD),
        ({"type": "set_region", "region": ["GB"]}, ErrorCode.INVALID_FIELD),
        ({"type": "set_region", "region": {"code": "GB"}}, ErrorCode.INVALID_FIELD),
        # ask_for_support
        ({"type": "ask_for_support", "seq": "121"}, ErrorCode.INVALID_FIELD),
        ({"type": "ask_for_support", "seq": -1}, ErrorCode.INVALID_FIELD),
        ({"type": "ask_for_support", "seq": 1.5}, ErrorCode.INVALID_FIELD),
        ({"type": "ask_for_support", "seq": True}, ErrorCode.INVALID_FIELD),
        ({"type": "ask_for_support", "seq": False}, ErrorCode.INVALID_FIELD),
        ({"type": "ask_for_support", "seq": [1]}, ErrorCode.INVALID_FIELD),
        # take_aside_reply
        ({"type": "take_aside_reply", "accept": True}, ErrorCode.MISSING_FIELD),
        ({"type": "take_aside_reply", "aside_id": 3}, ErrorCode.MISSING_FIELD),
        ({"type": "take_aside_reply", "aside_id": 3, "accept": 1}, ErrorCode.INVALID_FIELD),
        ({"type": "take_aside_reply", "aside_id": 3, "accept": 0}, ErrorCode.INVALID_FIELD),
        ({"type": "take_aside_reply", "aside_id": 3, "accept": "true"}, ErrorCode.INVALID_FIELD),
        ({"type": "take_aside_reply", "aside_id": 3, "accept": None}, ErrorCode.INVALID_FIELD),
        ({"type": "take_aside_reply", "aside_id": True, "accept": True},
         ErrorCode.INVALID_FIELD),
        ({"type": "take_aside_reply", "aside_id": "3", "accept": True}, ErrorCode.INVALID_FIELD),
        ({"type": "take_aside_reply", "aside_id": -3, "accept": True}, ErrorCode.INVALID_FIELD),
        ({"type": "take_aside_reply", "aside_id": 3.0, "accept": True},
         ErrorCode.INVALID_FIELD),
        # take_aside_send
        (_without(_aside_send(), "aside_id"), ErrorCode.MISSING_FIELD),
        (_without(_aside_send(), "client_id"), ErrorCode.MISSING_FIELD),
        (_without(_aside_send(), "body"), ErrorCode.MISSING_FIELD),
        (_aside_send(aside_id="3"), ErrorCode.INVALID_FIELD),
        (_aside_send(aside_id=False), ErrorCode.INVALID_FIELD),
        (_aside_send(aside_id=None), ErrorCode.INVALID_FIELD),
        (_aside_send(client_id=7), ErrorCode.INVALID_FIELD),
        (_aside_send(client_id=""), ErrorCode.INVALID_FIELD),
        (_aside_send(client_id="a b"), ErrorCode.INVALID_FIELD),
        (_aside_send(client_id="x" * 65), ErrorCode.INVALID_FIELD),
        (_aside_send(body=7), ErrorCode.INVALID_FIELD),
        (_aside_send(body=None), ErrorCode.INVALID_FIELD),
        (_aside_send(body=""), ErrorCode.EMPTY_BODY),
        (_aside_send(body=" \n "), ErrorCode.EMPTY_BODY),
        (_aside_send(body="a" * 2001), ErrorCode.BODY_TOO_LONG),
        (_aside_send(body="bell\x07"), ErrorCode.CONTROL_CHARACTERS),
        (_aside_send(body="nul\x00"), ErrorCode.CONTROL_CHARACTERS),
        (_aside_send(body="esc\x1b[2J"), ErrorCode.CONTROL_CHARACTERS),
        (_aside_send(body="evil\u202etxt"), ErrorCode.CONTROL_CHARACTERS),
        # take_aside_leave
        ({"type": "take_aside_leave"}, ErrorCode.MISSING_FIELD),
        ({"type": "take_aside_leave", "aside_id": "3"}, ErrorCode.INVALID_FIELD),
        ({"type": "take_aside_leave", "aside_id": True}, ErrorCode.INVALID_FIELD),
        ({"type": "take_aside_leave", "aside_id": -1}, ErrorCode.INVALID_FIELD),
        ({"type": "take_aside_leave", "aside_id": 2.5}, ErrorCode.INVALID_FIELD),
        # not client frames on a room socket
        ({"type": "take_aside_open", "aside_id": 3}, ErrorCode.UNKNOWN_TYPE),
        ({"type": "check_in"}, ErrorCode.UNKNOWN_TYPE),
        ({"type": "acknowledge", "escalation_id": 5}, ErrorCode.UNKNOWN_TYPE),
    ],
)
def test_bad_crisis_path_frames_get_their_exact_code(frame, code):
    assert refusal(frame).code == code


def test_a_region_with_a_trailing_newline_is_invalid():
    assert refusal({"type": "set_region", "region": "GB\n"}).code == ErrorCode.INVALID_FIELD


@pytest.mark.parametrize("body", ["", "a" * 2001, "bell\x07"])
def test_aside_send_refusals_about_the_body_carry_the_client_id(body):
    assert refusal(_aside_send(body=body)).client_id == "a1"


@pytest.mark.parametrize("aside_id", [None, "3", -1, True])
def test_aside_send_refusals_about_the_aside_id_carry_the_client_id(aside_id):
    frame = {"type": "take_aside_send", "client_id": "a1", "body": "hello"}
    if aside_id is not None:
        frame["aside_id"] = aside_id
    refused = refusal(frame)
    assert refused.client_id == "a1"
    assert refused.code in (ErrorCode.MISSING_FIELD, ErrorCode.INVALID_FIELD)


def test_an_aside_body_counts_characters_not_bytes():
    assert parse(_aside_send(body="💛" * 2000)) == AsideSendFrame(3, "a1", "💛" * 2000)
