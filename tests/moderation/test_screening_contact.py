"""The contact-details detector: phone numbers, e-mail, social profiles, off-platform requests
and street addresses, each reported with the span to mask in what the member wrote."""

from __future__ import annotations

import phonenumbers
import pytest

from moderation.screening import ScreeningContext, Severity, screen_message
from moderation.screening import contact as contact_module


def contact_signals(text: str, context: ScreeningContext | None = None):
    return screen_message(text=text, context=context or ScreeningContext(),
                          detectors=["contact"])


def found(text: str, context: ScreeningContext | None = None) -> list[tuple[str, str]]:
    """(kind, the original text the signal covers) for each signal."""
    return [(signal.kind, text[slice(*signal.span)]) for signal in contact_signals(text, context)
            if signal.span is not None]


def masked(text: str) -> str:
    """The text with every signal's span replaced, as the policy would mask it."""
    for signal in sorted(contact_signals(text), key=lambda s: s.span or (0, 0), reverse=True):
        assert signal.span is not None
        start, end = signal.span
        text = text[:start] + "[hidden]" + text[end:]
    return text


@pytest.mark.parametrize("number", [
    "+44 7700 900123",
    "+1 (415) 555-2671",
    "0044 7700 900123",
    "+91 98765 43210",
    "+49 30 12345678",
])
def test_international_numbers_are_masked_at_the_right_span(number):
    text = f"ring me on {number} after eight"
    assert ("phone", number) in found(text)
    assert masked(text) == "ring me on [hidden] after eight"


@pytest.mark.parametrize("number", [
    "07400 123456",  # UK mobile
    "020 7946 0018",  # UK London
    "(415) 555-2671",  # US
    "415-555-2671",  # US
    "0412 345 678",  # AU mobile
    "(02) 9374 4000",  # AU Sydney
    "98765 43210",  # IN mobile
    "030 12345678",  # DE Berlin
    "01512 3456789",  # DE mobile
    "06 12 34 56 78",  # FR mobile
    "01.42.68.53.00",  # FR, dotted
])
def test_national_numbers(number):
    assert ("phone", number) in found(f"my number: {number} thanks")


@pytest.mark.parametrize("text", [
    "see you on 21/11/2026 at 9",
    "the meeting is 2026-11-21 10:30 in room 4",
    "group runs 10:30-11:45 and 19:00-20:15",
    "clean for 2 years 3 months and 12 days",
    "it cost $1,250,000 apparently",
    "rent is \u00a31 250 000 a year, a joke",
    "my step count was 1234567 this month",
    "the 2024-2025 waiting list was 18 weeks",
    "my IP is 192.168.100.200",
    "scored 0/100000 on that",
])
def test_phone_like_things_that_are_not_phones(text):
    assert not [kind for kind, _ in found(text) if kind == "phone"]


@pytest.mark.parametrize("text", [
    "07400 123456 07400 654321",
    "07400 123456, 07400 654321",
    "+44 7400 123456 +1 415 555 2671",
])
def test_numbers_run_together_are_each_found(text):
    assert len([kind for kind, _ in found(f"either of {text} works") if kind == "phone"]) == 2


def test_a_local_number_counts_after_a_phone_word():
    assert ("phone", "5521 8830") in found("can you call me on 5521 8830 tonight?")
    assert found("there were 5521 8830 of them") == []


def test_text_with_few_digits_never_reaches_phonenumbers(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("phonenumbers was called")

    monkeypatch.setattr(phonenumbers, "parse", forbidden)
    monkeypatch.setattr(contact_module, "PhoneNumberMatcher", forbidden)
    assert found("I'm 34, it's 10:30 and I have had 2 coffees and 1 bad day") == []


def test_allowed_helpline_numbers_are_not_contact_details():
    context = ScreeningContext(allowed_phone_numbers=frozenset({"+18002738255", "+448001111"}))
    assert found("you can call 1-800-273-8255 any time", context) == []
    assert ("phone", "1-800-273-8255") in found("you can call 1-800-273-8255 any time")
    assert found("call Childline on 0800 1111", context) == []
    assert ("phone", "0800 1111") in found("call Childline on 0800 1111")


@pytest.mark.parametrize(("text", "email"), [
    ("mail me at sam.jones@example.com please", "sam.jones@example.com"),
    ("SAM@EXAMPLE.ORG", "SAM@EXAMPLE.ORG"),
    ("it's sam at gmail dot com", "sam at gmail dot com"),
    ("write to sam [at] example [dot] org", "sam [at] example [dot] org"),
    ("sam(at)example(dot)co(dot)uk", "sam(at)example(dot)co(dot)uk"),
    ("sam @ gmail . com", "sam @ gmail . com"),
])
def test_email_addresses(text, email):
    assert ("email", email) in found(text)


@pytest.mark.parametrize("text", [
    "all my mates at school. No one listens",
    "thanks @sam . It was kind",
    "@sam @jo hello both",
    "I'm at home dot dot dot",
])
def test_not_email_addresses(text):
    assert not [kind for kind, _ in found(text) if kind == "email"]


@pytest.mark.parametrize(("text", "link"), [
    ("follow instagram.com/sam.jones", "instagram.com/sam.jones"),
    ("https://www.tiktok.com/@sam", "https://www.tiktok.com/@sam"),
    ("join discord.gg/abc123 now", "discord.gg/abc123"),
    ("t.me/samjones", "t.me/samjones"),
    ("wa.me/447700900123", "wa.me/447700900123"),
    ("snapchat.com/add/sam", "snapchat.com/add/sam"),
    ("see reddit.com/u/sam", "reddit.com/u/sam"),
])
def test_social_profiles(text, link):
    assert ("social_profile", link) in found(text)


@pytest.mark.parametrize("text", [
    "this video helped https://www.youtube.com/watch?v=abc",
    "there's a thread at reddit.com/r/depression/comments/1",
    "I deleted instagram.com.",
    "the NHS page https://www.nhs.uk/mental-health/ is good",
])
def test_links_that_are_not_profiles(text):
    assert found(text) == []


@pytest.mark.parametrize(("text", "request_"), [
    ("add me on snap", "add me on snap"),
    ("dm me on discord", "dm me on discord"),
    ("hmu on insta", "hmu on insta"),
    ("talk to me on whatsapp instead", "talk to me on whatsapp"),
    ("my snap is samj_99", "my snap is"),
    ("I'm @samj on insta", "@samj on insta"),
    ("ig: @samj", "ig: @samj"),
    ("just text me", "text me"),
    ("whatsapp me later", "whatsapp me"),
    ("add me on sn4p", "add me on sn4p"),
    ("join my discord server", "join my discord server"),
])
def test_requests_to_move_off_the_platform(text, request_):
    assert ("off_platform", request_) in found(text)


def test_a_bare_dm_request_is_low_severity():
    [signal] = contact_signals("dm me")
    assert signal.kind == "off_platform" and signal.severity == Severity.LOW


@pytest.mark.parametrize("text", [
    "please don't text me",
    "they text me every day and it's a lot",
    "this song will snap me out of it",
    "call me Sam, everyone does",
    "my phone died last night",
    "I saw it on instagram",
])
def test_not_requests_to_move(text):
    assert found(text) == []


@pytest.mark.parametrize(("text", "address"), [
    ("I live at 221B Baker Street, London", "221B Baker Street"),
    ("come to 10 Downing St. at noon", "10 Downing St."),
    ("1600 Pennsylvania Ave is busy", "1600 Pennsylvania Ave"),
    ("j'habite 12 rue de la Paix", "12 rue de la Paix"),
    ("ich wohne Hauptstra\u00dfe 5 im Erdgeschoss", "Hauptstra\u00dfe 5"),
    ("send it to PO Box 123", "PO Box 123"),
    ("vivo en Calle Mayor 5", "Calle Mayor 5"),
    ("my place is at Dlouha 12 if you visit", "Dlouha 12"),
    ("address: 48 Vinohradska 7", "48 Vinohradska 7"),
    ("abito in Via Roma 7", "Via Roma 7"),
    ("mieszkam na ul. D\u0142uga 5", "ul. D\u0142uga 5"),
    ("Stationslaan 4 is my flat", "Stationslaan 4"),
    ("asun Aleksanterinkatu 15 B", "Aleksanterinkatu 15"),
    ("Pet\u0151fi u. 7 is where I live", "Pet\u0151fi u. 7"),
    ("write to PSC 1234, Box 5678", "PSC 1234, Box 5678"),
    ("flat at Apt. 12 now", "Apt. 12"),
])
def test_street_addresses(text, address):
    assert ("street_address", address) in found(text)


@pytest.mark.parametrize("text", [
    "3 hours on the road again",
    "I sent it via text 5 times",
    "we walked 5 miles down the lane",
    "there is only 1 other way",
    "last summer 2019, we were close",
])
def test_not_street_addresses(text):
    assert found(text) == []


def test_every_signal_cites_the_rule():
    signals = contact_signals("text me on +44 7700 900123 or sam@example.com")
    assert {signal.kind for signal in signals} == {"phone", "email", "off_platform"}
    assert {(signal.detector, signal.rule) for signal in signals} == {
        ("contact", "no-contact-details")}


def test_plain_chat_has_no_contact_details():
    assert found("Thanks for listening, everyone. Today was hard but I made it through, "
                 "and I'll be back tomorrow night at 10.") == []
