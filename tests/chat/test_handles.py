import re

import pytest

from chat.errors import ErrorCode, HearthError
from chat.handles import generate_handle, validate_handle


def test_generated_handles_are_friendly_and_valid():
    for _ in range(200):
        handle = generate_handle()
        assert re.fullmatch(r"[A-Z][a-z]+[A-Z][a-z]+\d{2}", handle)
        assert validate_handle(handle) == handle


@pytest.mark.parametrize("handle", ["Sam", "quiet_heron", "Night-Owl-2024", "A" * 24, "  Padded  "])
def test_accepts_reasonable_handles(handle):
    assert validate_handle(handle) == handle.strip()


@pytest.mark.parametrize(
    ("handle", "code"),
    [
        ("ab", ErrorCode.HANDLE_TOO_SHORT),
        ("   ", ErrorCode.HANDLE_TOO_SHORT),
        ("A" * 25, ErrorCode.HANDLE_TOO_LONG),
        ("me@example", ErrorCode.HANDLE_CONTACT_DETAILS),
        ("sam.smith", ErrorCode.HANDLE_CONTACT_DETAILS),
        ("Sam07700900123", ErrorCode.HANDLE_CONTACT_DETAILS),
        ("call-07700-900", ErrorCode.HANDLE_CONTACT_DETAILS),
        ("snap_samsmith", ErrorCode.HANDLE_CONTACT_DETAILS),
        ("wwwsamcom", ErrorCode.HANDLE_CONTACT_DETAILS),
        ("on_discord_sam", ErrorCode.HANDLE_CONTACT_DETAILS),
        ("1stHeron", ErrorCode.HANDLE_INVALID_CHARACTERS),
        ("quiet heron", ErrorCode.HANDLE_INVALID_CHARACTERS),
        ("Héron", ErrorCode.HANDLE_INVALID_CHARACTERS),
        ("<script>", ErrorCode.HANDLE_INVALID_CHARACTERS),
        ("Moderator", ErrorCode.HANDLE_RESERVED),
        ("Real_Admin_2", ErrorCode.HANDLE_RESERVED),
        ("hearth", ErrorCode.HANDLE_RESERVED),
    ],
)
def test_refuses_bad_handles_with_the_rule(handle, code):
    with pytest.raises(HearthError) as caught:
        validate_handle(handle)
    assert caught.value.code == code


@pytest.mark.parametrize(
    "handle",
    [
        "staff", "Team", "MOD", "admin", "hearth", "Official", "support", "helpline",
        "St4ff", "adm1n", "m0d", "m0d42", "he1pline", "0fficial", "Staff_1", "stAAAff",
        "s.t.a.f.f", "s-t-a-f-f", "s_t_a_f_f", "ModTeam", "Hearth_Team", "Staff-Support",
        "\u0455taff",  # Cyrillic small dze for "s"
        "\u0405\u0422\u0410FF",  # Cyrillic capitals
        "\u039c\u039fD",  # Greek capitals Mu, Omicron
        "h\u0435arth",  # Cyrillic small ie for "e"
        "RealModerator7",
    ],
)
def test_refuses_reserved_names_and_their_look_alikes(handle):
    with pytest.raises(HearthError) as caught:
        validate_handle(handle)
    assert caught.value.code == ErrorCode.HANDLE_RESERVED


@pytest.mark.parametrize(
    "handle",
    ["Modest", "Teamwork", "Admiral", "Hearthstone", "Supportive", "Staffy", "KindWillow3",
     "QuietHeron42", "moth_lamp"],
)
def test_ordinary_names_near_reserved_ones_are_accepted(handle):
    assert validate_handle(handle) == handle
