import json

import pytest

from chat.errors import ErrorCode
from chat.protocol import (
    CLIENT_FRAME_TYPES,
    HOST_ACTIONS,
    REACTIONS,
    AsideLeaveFrame,
    AsideReplyFrame,
    AsideSendFrame,
    AskForSupportFrame,
    EndTurnFrame,
    FeedbackFrame,
    HandFrame,
    HistoryFrame,
    HostFrame,
    ProtocolError,
    ReactFrame,
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


# --- hosted sessions' client frames ------------------------------------------------------------

def test_parses_hands_turns_and_reactions():
    assert parse({"type": "raise_hand"}) == HandFrame(raise_hand=True)
    assert parse({"type": "lower_hand", "extra": 1}) == HandFrame(raise_hand=False)
    assert parse({"type": "end_turn"}) == EndTurnFrame(passing=False)
    assert parse({"type": "pass"}) == EndTurnFrame(passing=True)
    assert REACTIONS == ("heart", "hug", "me_too", "thank_you")
    for reaction in REACTIONS:
        assert parse({"type": "react", "reaction": reaction}) == ReactFrame(reaction, None)
    assert parse({"type": "react", "reaction": "hug", "seq": 41}) == ReactFrame("hug", 41)
    assert parse({"type": "react", "reaction": "hug", "seq": None}) == ReactFrame("hug", None)
    assert parse({"type": "react", "reaction": "hug", "seq": 0}) == ReactFrame("hug", 0)
    for frame_type in ("raise_hand", "lower_hand", "end_turn", "pass", "react", "host",
                       "feedback"):
        assert frame_type in CLIENT_FRAME_TYPES


def test_parses_every_host_action():
    for action in HOST_ACTIONS:
        assert parse({"type": "host", "action": action}) == HostFrame(action=action)
    assert parse({"type": "host", "action": "move", "handle": "QuietHeron42", "position": 1,
                  "seconds": 60, "seq": 4, "prompt_id": 2, "phase": "sharing",
                  "reason": "  too loud \n"}) == HostFrame(
        action="move", handle="QuietHeron42", phase="sharing", position=1, seconds=60,
        seq=4, prompt_id=2, reason="too loud")
    nulls = dict.fromkeys(("position", "seconds", "seq", "prompt_id"))
    assert parse({"type": "host", "action": "extend", **nulls}) == HostFrame(action="extend")
    # Ranges are the service's to judge (it knows the queue); the parser takes any count.
    extend = parse({"type": "host", "action": "extend", "seconds": 0})
    assert isinstance(extend, HostFrame) and extend.seconds == 0


def test_parses_feedback():
    assert parse({"type": "feedback", "session_id": 7, "occurrence_on": "2026-11-24"}) == (
        FeedbackFrame(7, "2026-11-24", None, None, None, (), ""))
    nulls = {"mood_before": None, "mood_after": None, "helpful": None, "tags": None,
             "comment": None}
    assert parse({"type": "feedback", "session_id": 7, "occurrence_on": "2026-11-24",
                  **nulls}) == FeedbackFrame(7, "2026-11-24", None, None, None, (), "")
    assert parse({"type": "feedback", "session_id": 7, "occurrence_on": "2026-11-24",
                  "mood_before": 1, "mood_after": 5, "helpful": False,
                  "tags": ["felt_heard", "too_fast"], "comment": "  thank you  "}) == (
        FeedbackFrame(7, "2026-11-24", 1, 5, False, ("felt_heard", "too_fast"), "thank you"))
    # One spelling per day, so "once per occurrence" can't be sidestepped.
    compact = parse({"type": "feedback", "session_id": 7, "occurrence_on": "20261124"})
    assert isinstance(compact, FeedbackFrame) and compact.occurrence_on == "2026-11-24"


def _host(**fields: object) -> dict[str, object]:
    return {"type": "host", "action": "call", **fields}


def _feedback(**fields: object) -> dict[str, object]:
    return {"type": "feedback", "session_id": 7, "occurrence_on": "2026-11-24", **fields}


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        # react
        ({"type": "react"}, ErrorCode.MISSING_FIELD),
        ({"type": "react", "reaction": None}, ErrorCode.INVALID_FIELD),
        ({"type": "react", "reaction": ""}, ErrorCode.INVALID_FIELD),
        ({"type": "react", "reaction": "thumbs_down"}, ErrorCode.INVALID_FIELD),
        ({"type": "react", "reaction": "HEART"}, ErrorCode.INVALID_FIELD),
        ({"type": "react", "reaction": " heart"}, ErrorCode.INVALID_FIELD),
        ({"type": "react", "reaction": 1}, ErrorCode.INVALID_FIELD),
        ({"type": "react", "reaction": ["heart"]}, ErrorCode.INVALID_FIELD),
        ({"type": "react", "reaction": {"heart": 1}}, ErrorCode.INVALID_FIELD),
        ({"type": "react", "reaction": "heart", "seq": "41"}, ErrorCode.INVALID_FIELD),
        ({"type": "react", "reaction": "heart", "seq": -1}, ErrorCode.INVALID_FIELD),
        ({"type": "react", "reaction": "heart", "seq": 1.5}, ErrorCode.INVALID_FIELD),
        ({"type": "react", "reaction": "heart", "seq": True}, ErrorCode.INVALID_FIELD),
        # host
        ({"type": "host"}, ErrorCode.MISSING_FIELD),
        ({"type": "host", "action": None}, ErrorCode.INVALID_FIELD),
        ({"type": "host", "action": ""}, ErrorCode.INVALID_FIELD),
        ({"type": "host", "action": "dance"}, ErrorCode.INVALID_FIELD),
        ({"type": "host", "action": "Next_Phase"}, ErrorCode.INVALID_FIELD),
        ({"type": "host", "action": 3}, ErrorCode.INVALID_FIELD),
        ({"type": "host", "action": ["call"]}, ErrorCode.INVALID_FIELD),
        (_host(handle=None), ErrorCode.INVALID_FIELD),
        (_host(handle=42), ErrorCode.INVALID_FIELD),
        (_host(handle="x" * 65), ErrorCode.INVALID_FIELD),
        (_host(handle="bell\x07"), ErrorCode.CONTROL_CHARACTERS),
        (_host(phase=2), ErrorCode.INVALID_FIELD),
        (_host(phase="s" * 17), ErrorCode.INVALID_FIELD),
        (_host(position=-1), ErrorCode.INVALID_FIELD),
        (_host(position="1"), ErrorCode.INVALID_FIELD),
        (_host(position=True), ErrorCode.INVALID_FIELD),
        (_host(position=1.5), ErrorCode.INVALID_FIELD),
        (_host(seconds=-60), ErrorCode.INVALID_FIELD),
        (_host(seconds="60"), ErrorCode.INVALID_FIELD),
        (_host(seconds=False), ErrorCode.INVALID_FIELD),
        (_host(seconds=30.5), ErrorCode.INVALID_FIELD),
        (_host(seq=-4), ErrorCode.INVALID_FIELD),
        (_host(seq="4"), ErrorCode.INVALID_FIELD),
        (_host(prompt_id=-2), ErrorCode.INVALID_FIELD),
        (_host(prompt_id=[2]), ErrorCode.INVALID_FIELD),
        (_host(reason=None), ErrorCode.INVALID_FIELD),
        (_host(reason=5), ErrorCode.INVALID_FIELD),
        (_host(reason="r" * 501), ErrorCode.INVALID_FIELD),
        (_host(reason="nul\x00"), ErrorCode.CONTROL_CHARACTERS),
        # feedback
        ({"type": "feedback", "occurrence_on": "2026-11-24"}, ErrorCode.MISSING_FIELD),
        ({"type": "feedback", "session_id": 7}, ErrorCode.MISSING_FIELD),
        (_feedback(session_id="7"), ErrorCode.INVALID_FIELD),
        (_feedback(session_id=-7), ErrorCode.INVALID_FIELD),
        (_feedback(session_id=True), ErrorCode.INVALID_FIELD),
        (_feedback(session_id=None), ErrorCode.INVALID_FIELD),
        (_feedback(occurrence_on=None), ErrorCode.INVALID_FIELD),
        (_feedback(occurrence_on=20261124), ErrorCode.INVALID_FIELD),
        (_feedback(occurrence_on=""), ErrorCode.INVALID_FIELD),
        (_feedback(occurrence_on="tomorrow"), ErrorCode.INVALID_FIELD),
        (_feedback(occurrence_on="2026-13-01"), ErrorCode.INVALID_FIELD),
        (_feedback(occurrence_on="2026-02-30"), ErrorCode.INVALID_FIELD),
        (_feedback(occurrence_on="2026-11-24T19:00"), ErrorCode.INVALID_FIELD),
        (_feedback(mood_before=0), ErrorCode.INVALID_FIELD),
        (_feedback(mood_before=6), ErrorCode.INVALID_FIELD),
        (_feedback(mood_before=-1), ErrorCode.INVALID_FIELD),
        (_feedback(mood_after="4"), ErrorCode.INVALID_FIELD),
        (_feedback(mood_after=True), ErrorCode.INVALID_FIELD),
        (_feedback(mood_after=3.5), ErrorCode.INVALID_FIELD),
        (_feedback(helpful="true"), ErrorCode.INVALID_FIELD),
        (_feedback(helpful=1), ErrorCode.INVALID_FIELD),
        (_feedback(helpful=0), ErrorCode.INVALID_FIELD),
        (_feedback(tags="felt_heard"), ErrorCode.INVALID_FIELD),
        (_feedback(tags={"felt_heard": True}), ErrorCode.INVALID_FIELD),
        (_feedback(tags=""), ErrorCode.INVALID_FIELD),
        (_feedback(tags=[1]), ErrorCode.INVALID_FIELD),
        (_feedback(tags=[None]), ErrorCode.INVALID_FIELD),
        (_feedback(tags=["t" * 33]), ErrorCode.INVALID_FIELD),
        (_feedback(tags=["felt_heard"] * 21), ErrorCode.INVALID_FIELD),
        (_feedback(comment=5), ErrorCode.INVALID_FIELD),
        (_feedback(comment=["hi"]), ErrorCode.INVALID_FIELD),
        (_feedback(comment="c" * 501), ErrorCode.INVALID_FIELD),
        (_feedback(comment="bell\x07"), ErrorCode.CONTROL_CHARACTERS),
    ],
)
def test_bad_session_frames_get_their_exact_code(frame, code):
    assert refusal(frame).code == code


def test_the_refused_characters_are_exactly_controls_but_newline_and_tab_and_bidi_in_bodies():
    import unicodedata

    from chat import protocol

    bidi = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    for code_point in [*range(0x3000), *range(0xFE00, 0x10000), 0x1F49B, 0xE0001]:
        ch = chr(code_point)
        control = unicodedata.category(ch) == "Cc" and ch not in "\n\t"
        assert bool(protocol._CONTROL_CHARACTER.search(ch)) == control, hex(code_point)
        refused_in_bodies = control or ch in bidi
        assert bool(protocol._CONTROL_OR_BIDI.search(ch)) == refused_in_bodies, hex(code_point)


def test_message_removed_has_one_shape_whoever_removes() -> None:
    from chat.protocol import SERVER_FRAME_TYPES, RemovalReason, message_removed_frame

    frame = message_removed_frame(room_slug="lounge", seqs=[9, 2, 5],
                                  reason=RemovalReason.EXPIRED)
    assert frame == {"type": "message_removed", "room": "lounge", "seqs": [2, 5, 9],
                     "reason": "expired"}
    assert frame["type"] in SERVER_FRAME_TYPES
    assert {reason.value for reason in RemovalReason} == {"erased", "expired", "hidden"}
