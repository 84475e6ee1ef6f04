"""parse_client_frame refuses whatever a client sends with a ProtocolError and a code, never
another exception (issue 14): oversized numbers, lone surrogates, wrong types anywhere."""

from __future__ import annotations

import itertools
import json

import pytest

from chat.errors import ErrorCode
from chat.protocol import (
    CLIENT_FRAME_TYPES,
    MAX_NUMBER_DIGITS,
    MuteFrame,
    ProtocolError,
    SendFrame,
    parse_client_frame,
)


def parse(text: str) -> object:
    return parse_client_frame(text, max_body_chars=2000)


def refusal(text: str) -> ProtocolError:
    with pytest.raises(ProtocolError) as refused:
        parse(text)
    return refused.value


@pytest.mark.parametrize("number", ["9" * 5000, "-" + "9" * 5000, "1" * (MAX_NUMBER_DIGITS + 1),
                                    "1" + "0" * 5000 + ".5", "0." + "1" * 5000])
def test_a_number_too_long_is_an_invalid_field_wherever_it_is(number):
    for frame in (f'{{"type":"resume","after_seq":{number}}}',
                  f'{{"type":"send","client_id":"c1","body":"hi","extra":[{number}]}}',
                  f'{{"type":{number}}}'):
        assert refusal(frame).code == ErrorCode.INVALID_FIELD


def test_numbers_of_up_to_the_limit_still_parse():
    frame = parse(f'{{"type":"resume","after_seq":{"9" * MAX_NUMBER_DIGITS}}}')
    assert frame.after_seq == int("9" * MAX_NUMBER_DIGITS)  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", [
    '{"type":"send","client_id":"c1","body":"alone \\ud800"}',
    '{"type":"send","client_id":"c1","body":"\\udc00 first"}',
    '{"type":"send","client_id":"c1","body":"reversed \\ude00\\ud83d"}',
])
def test_a_lone_surrogate_in_a_body_is_invalid_text_naming_the_send(text):
    refused = refusal(text)
    assert refused.code == ErrorCode.INVALID_TEXT
    assert refused.client_id == "c1"


@pytest.mark.parametrize("text", [
    '{"type":"mute","handle":"Calm\\ud800Otter"}',
    '{"type":"report","seq":1,"reason":"spam","note":"\\udfff"}',
    '{"type":"send","client_id":"c1","body":"fine","\\ud800":1}',
    '{"type":"feedback","session_id":1,"occurrence_on":"2026-11-24","tags":[["\\ud834"]]}',
    '{"type":"\\ud800"}',
    '{"type":"send","client_id":"\\ud800","body":"fine"}',
])
def test_a_lone_surrogate_anywhere_is_invalid_text(text):
    refused = refusal(text)
    assert refused.code == ErrorCode.INVALID_TEXT
    assert refused.client_id is None or refused.client_id == "c1"


def test_a_raw_lone_surrogate_is_refused_as_well():
    # A server that did not check the frame's UTF-8 could pass one on unescaped.
    assert refusal('{"type":"mute","handle":"a\ud800b"}').code == ErrorCode.INVALID_TEXT


def test_paired_surrogate_escapes_are_ordinary_text():
    frame = parse('{"type":"send","client_id":"c1","body":"hug \\ud83e\\udd17"}')
    assert isinstance(frame, SendFrame) and frame.body == "hug \U0001f917"
    assert isinstance(parse(json.dumps({"type": "mute", "handle": "Ötter 🦦"})), MuteFrame)


def test_nesting_deeper_than_the_decoder_goes_is_malformed_json():
    assert refusal("[" * 5000).code == ErrorCode.MALFORMED_JSON
    assert refusal('{"type":"send","x":' + "[" * 5000 + "]" * 5000 + "}").code in (
        ErrorCode.MALFORMED_JSON, ErrorCode.MISSING_FIELD)


FIELDS = ("client_id", "body", "after_seq", "before_seq", "limit", "version", "seq", "reason",
          "note", "handle", "region", "aside_id", "accept", "reaction", "action", "phase",
          "position", "seconds", "prompt_id", "session_id", "occurrence_on", "mood_before",
          "mood_after", "helpful", "tags", "comment")
ODD_VALUES = ("null", "true", "-1", "1.5", "1e999", "NaN", "-Infinity", '""', '"x"', "[]",
              "{}", "[[[[]]]]", '{"a":{"b":[1]}}', '"\\ud800"', "9" * 40, '"' + "y" * 3000 + '"')


@pytest.mark.parametrize("frame_type", CLIENT_FRAME_TYPES)
def test_every_frame_type_with_odd_values_is_parsed_or_refused_never_a_crash(frame_type):
    codes = set()
    for field, value in itertools.product(FIELDS, ODD_VALUES):
        # The odd value alone, then in every field at once.
        full = ",".join(f'"{name}":{value}' for name in FIELDS)
        for text in (f'{{"type":"{frame_type}","{field}":{value}}}',
                     f'{{"type":"{frame_type}",{full}}}'):
            try:
                parse(text)
            except ProtocolError as refused:  # anything else fails the test
                codes.add(refused.code)
    assert codes <= set(ErrorCode)
