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


@pytest.mark.parametrize(("text", "number"), [
    ("text me 07700_900_461", "07700_900_461"),
    ("07700 x 900 x 461 if u want", "07700 x 900 x 461"),
    ("its 07700 ... 900 ... 461", "07700 ... 900 ... 461"),
    ("my number starts 07700 and ends 900461", "07700 and ends 900461"),
    ("first bit 07700 then 900461", "07700 then 900461"),
    ("ring 077OO 9OO 461", "077OO 9OO 461"),
    ("07700*900*461 whatsapp", "07700*900*461"),
    ("+44 7700 and then 900461", "+44 7700 and then 900461"),
])
def test_a_number_cut_up_to_slip_past_the_filter_is_found(text, number):
    assert ("phone", number) in found(text)


@pytest.mark.parametrize("text", [
    "my alarm goes at 06:15 and 06:20 and 06:25",
    "buses at 08:07, 08:37, 09:07 every half hour",
    "between 2019 and 2021 I moved 3 times",
    "I have 3 cats and 2 dogs and 14 fish",
    "shifts are 0800 and 0900 this week",
    "scores were 10, 12, 15 and 22 out of 30",
    "pages 120 to 135 and 200 to 215 for homework",
    "sleep 05 then 06 then 07 hours, getting better",
    "order 0123 4567 89 arrived",
])
def test_numbers_near_each_other_are_not_a_phone_number_cut_up(text):
    assert not [kind for kind, _ in found(text) if kind == "phone"]


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


# --- national formats of more countries ------------------------------------------------------

@pytest.mark.parametrize("number", [
    # Spain: nine digits, grouped 3-2-2-2, 2-3-2-2 or 3-3-3
    "612 34 56 78", "91 123 45 67", "655-443-221", "622.45.67.89", "+34 699 12 34 56",
    "0034 622 334 455", "(+34) 612-345-678",
    # Brazil: two-digit area code and eight or nine digits
    "(11) 98765-4321", "21 99876-5432", "(61) 3344-5566", "(011) 97654-3210",
    "+55 21 99876 5432", "+55 (31) 98888-7777",
    # Poland
    "512 345 678", "22 123 45 67", "(22) 628 12 34", "698-765-432", "+48 601 234 567",
    "0048 798 123 456",
    # Italy
    "333 123 4567", "347 1234567", "02 8765 4321", "+39 06 1234 5678", "0039 340 987 6543",
    # Netherlands
    "06 12345678", "06-87654321", "020 123 4567", "010-1234567", "+31 6 2345 6789",
    "+31 (0)6 12345678",
    # Germany
    "0176 12345678", "0151 2345 6789", "030 / 123 456 78", "0172-3456789", "+49 170 1234567",
    "+49 (0)89 12345678",
    # France
    "06 12 34 56 78", "07.61.23.45.67", "+33 7 61 23 45 67", "0033 6 98 76 54 32",
    "+33 (0)6 12 34 56 78",
    # India
    "98765 43210", "09876543210", "080 2345 6789", "+91-9876543210", "(+91) 98765 43210",
    # Mexico, also with the "1" mobiles had before 2019
    "55 1234 5678", "(55) 8765-4321", "33-1234-5678", "+52 55 1234 5678",
    "+52 1 33 1234 5678",
])
def test_national_formats_of_more_countries(number):
    text = f"hey it's {number} if you want"
    assert ("phone", number) in found(text)
    assert masked(text) == "hey it's [hidden] if you want"


@pytest.mark.parametrize(("text", "number"), [
    ("pisz na 791234567 smsa", "791234567"),  # Poland, one unbroken run
    ("chama no whats 11987654321", "11987654321"),  # Brazil
    ("my italian number is 3491234567", "3491234567"),
    ("34612345678 is my whatsapp", "34612345678"),  # a country code without its "+"
    ("5511987654321 no whatsapp", "5511987654321"),
    ("whatsapp 91 98765 43210", "91 98765 43210"),
])
def test_unbroken_numbers_of_permissive_plans_count_with_a_phone_word(text, number):
    assert ("phone", number) in found(text)


@pytest.mark.parametrize("text", [
    "4839201774 was the confirmation",  # valid in Mexico, but nothing says it is a phone
    "it was 612345678 in the end",
    "34612345678 lol",
])
def test_unbroken_numbers_of_permissive_plans_need_a_phone_word(text):
    assert not [kind for kind, _ in found(text) if kind == "phone"]


@pytest.mark.parametrize(("text", "number"), [
    ("my number is oh seven seven double oh, nine double oh one two three",
     "oh seven seven double oh, nine double oh one two three"),
    ("call me zero seven four double oh one two three four five six",
     "zero seven four double oh one two three four five six"),
    ("07700 nine double oh one two three", "07700 nine double oh one two three"),
    ("its 07 seven 00 nine 00 one two three", "07 seven 00 nine 00 one two three"),
    ("mi numero es seis uno dos tres cuatro cinco seis siete ocho",
     "seis uno dos tres cuatro cinco seis siete ocho"),
])
def test_numbers_written_partly_in_words(text, number):
    assert ("phone", number) in found(text)


@pytest.mark.parametrize("text", [
    "breathe in for one, two, three, four, five, six, seven, eight, nine",
    "one two three four five six seven, breathe out",
    "I had one or two drinks, then three, and it was nine when I got home",
    "top five: one direction, two door cinema club, three days grace",
])
def test_number_words_that_are_not_a_phone_number(text):
    assert found(text) == []


def test_number_words_in_ordinary_chat_never_reach_phonenumbers(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("phonenumbers was called")

    monkeypatch.setattr(phonenumbers, "parse", forbidden)
    assert found("one of those days: two coffees, four hours of sleep and one bad call") == []


# --- digits that are something else ----------------------------------------------------------

@pytest.mark.parametrize("text", [
    # decimals and timestamps
    "the log says 14:32:05.123 then it crashed",
    "the log line was 14:32:05.123456 ERROR",
    "error at 2023-11-21T14:32:05.123Z again",
    "pi is 3.14159265 and I still can't remember it",
    "the ratio came out as 0.6180339887",
    "timestamp 1699999999.123 in the logs",
    "coords 51.5073509, -0.1277583 is the cafe",
    "gps said 40.7127753 -74.0059728",
    # prices
    "it was $1,249.99 which is insane",
    "R$ 1.250.000,00 pela casa",
    "\u20ac 1 299 000 for a flat in madrid",
    "the loan is 25 000 000 rupees",
    "it costs 1.299.000 pesos",
    "that car was 45 000 000 \u20b9",
    # invoices, orders and other identifiers
    "order #4839201 still hasn't arrived",
    "INV-2023-004581 was paid last week",
    "invoice 2023/004581 attached",
    "my order number is 4839201774",
    "order no. 612345678 was cancelled",
    "booking ref: 98765432",
    "claim number 0612345678 with the insurer",
    "my nhs number is 485 777 3456",
    "ref 123456789 on the letter from the council",
    "my student id is 202312345",
    "case #06-12345678",
    "pedido 512345678 no chegou",
    # tracking numbers
    "tracking 1Z999AA10123456784",
    "tracking number 9400 1000 0000 0000 0000 00",
    "royal mail tracking JD123456789GB",
    "DHL 1234567890 says out for delivery",
    "UPS 1Z 999 AA1 01 2345 6784",
    "my package 3315 4412 09 is lost",
    # dates
    "see you 21.11.2023",
    "12.03.2024 14:30 appointment",
    "20231121 is the deadline",
    # versions
    "update to version 10.0.19045.3570 broke my wifi",
    "driver 546.17.0.1234 fixed it",
    "firmware v2.13.1045 is out",
    # ISBNs
    "ISBN 978-0-14-312854-0 is the one",
    "the book 0-14-312854-9 helped me a lot",
    "978-3-16-148410-0 if you want to order it",
    # counts
    "1234567 steps this year",
    "walked 12345678 steps since january",
    "the video got 612345678 views",
    "about 300 000 000 people use it",
])
def test_digits_that_are_not_phone_numbers(text):
    assert not [kind for kind, _ in found(text) if kind == "phone"]


def test_an_ip_address_part_is_at_most_255():
    assert found("my IP is 192.168.100.200") == []
    assert ("phone", "622.45.67.89") in found("text 622.45.67.89 anytime")


def test_numbers_run_together_are_read_to_the_end_of_their_digits():
    text = "either of 07400 123456 07400 654321 07400 111222 works"
    assert [span for kind, span in found(text) if kind == "phone"] == [
        "07400 123456", "07400 654321", "07400 111222"]


def test_a_long_run_of_single_digits_costs_a_bounded_number_of_parses(monkeypatch):
    calls = []
    parse = phonenumbers.parse

    def counting(*args, **kwargs):
        calls.append(args)
        return parse(*args, **kwargs)

    monkeypatch.setattr(phonenumbers, "parse", counting)
    found("1 " * 1000)
    assert len(calls) < 1000  # 288 now; it was about 15 000 (a second of work)


@pytest.mark.parametrize(("allowed", "text"), [
    ("+34914590050", "llama al 914 590 050"),  # read as Spanish or Polish, it is the same line
    ("+34914590050", "call 0034 914 590 050"),
    ("+34914590050", "whatsapp 34914590050"),
    ("+390223272327", "chiama Telefono Amico 02 2327 2327"),  # valid in France too
    ("+5511999999999", "liga 11 99999-9999"),
])
def test_allowed_helplines_in_any_format(allowed, text):
    assert found(text, ScreeningContext(allowed_phone_numbers=frozenset({allowed}))) == []
    assert [kind for kind, _ in found(text)] == ["phone"]


# --- e-mail without a domain, spelled out ----------------------------------------------------

@pytest.mark.parametrize(("text", "email"), [
    ("lily.b99 at gmail", "lily.b99 at gmail"),
    ("hmu moonchild at hotmail", "moonchild at hotmail"),
    ("reach me at alex_t AT icloud", "alex_t AT icloud"),
    ("sam_r [at] outlook dot com", "sam_r [at] outlook dot com"),
    ("email me: jessie [at] outlook", "jessie [at] outlook"),
    ("write to me: kenji@gmail", "kenji@gmail"),
    ("ana.lima @ gmail", "ana.lima @ gmail"),
    ("my gmail is firstname.lastname", "firstname.lastname"),
    ("my gmail is kenjisato", "kenjisato"),
    ("my icloud is emma_w_04", "emma_w_04"),
    ("email: jakeparker22", "jakeparker22"),
    ("hotmail: tiny_dancer_x", "tiny_dancer_x"),
    ("gmail \u2192 lucyinthesky2002", "lucyinthesky2002"),
    ("email me at ben.h.123", "ben.h.123"),
    ("mail me on maria_p_88", "maria_p_88"),
    ("its rosie.w on gmail", "rosie.w"),
    ("lily.b99 gmail", "lily.b99"),
    ("mi correo es ana.lima90 en gmail", "ana.lima90"),
])
def test_email_addresses_without_a_domain(text, email):
    assert ("email", email) in found(text)


@pytest.mark.parametrize("text", [
    "she's an intern at yahoo",
    "my friend at yahoo said it gets better",
    "i looked at outlook and it was empty",
    "log in at gmail dot com and check",
    "i'm at gmail's login page and it's stuck",
    "gmail is full, can't get emails",
    "my gmail is full of spam",
    "my email is a mess",
    "my email is broken",
    "my outlook is better today",
    "positive outlook at work helps",
    "ugh my gmail password again",
])
def test_mail_words_that_are_not_addresses(text):
    assert found(text) == []


# --- handles after a platform's name, gamer tags ---------------------------------------------

@pytest.mark.parametrize(("text", "handle"), [
    ("snap: lily_b99", "lily_b99"),
    ("insta is moonchild.art", "moonchild.art"),
    ("tiktok sadboi_2003", "sadboi_2003"),
    ("discord kai#4821", "kai#4821"),
    ("steam: xXreaperXx", "xXreaperXx"),
    ("psn is kitkat_92", "kitkat_92"),
    ("sc - rainy.days22", "rainy.days22"),
    ("insta's moonchild.art if u want", "moonchild.art"),
    ("snap username: lily_b99", "lily_b99"),
    ("wechat id: lin_mei88", "lin_mei88"),
    ("line id momo_chan", "momo_chan"),
    ("xbox: SilentStorm 77", "SilentStorm"),
    ("reddit: u/quiet_fox_7", "u/quiet_fox_7"),
    ("mi insta es moonchild.art", "moonchild.art"),
    ("mon snap c'est lily_b99", "lily_b99"),
    ("im lily_b99 on snap", "lily_b99"),
    ("im on roblox as BuilderBob2010 lol", "BuilderBob2010"),
    ("my gamertag is ShadowFox77", "ShadowFox77"),
    ("my fortnite name is Raven_xo", "Raven_xo"),
    ("my epic is Vortex_99", "Vortex_99"),
    # gamer tags after "add me"
    ("add me xXreaperXx", "xXreaperXx"),
    ("add me its kitkat_92", "kitkat_92"),
    ("add me!! reaper_2k9", "reaper_2k9"),
    ("add me ign: mooncakez", "mooncakez"),
    ("add me on valorant NightOwl#EUW", "NightOwl#EUW"),
    ("add me on fortnite: NightHawk_77", "NightHawk_77"),
    ("friend code SW-1234-5678-9012 add me", "friend code SW-1234-5678-9012"),
])
def test_handles_and_gamer_tags(text, handle):
    assert ("social_profile", handle) in found(text)


@pytest.mark.parametrize("text", [
    "insta is so toxic for my body image",
    "tiktok is so addictive",
    "psn is down again ugh",
    "snap is where my ex posts everything",
    "discord 2nd server got nuked",
    "ig 2nd account is private",
    "tiktok 24/7 is not good for me",
    "steam deck was my birthday present",
    "the steam sale is on",
    "snap maps freaks me out",
    "my gamertag got reset after the update",
    "my snap is dead, nobody uses it",
    "insta: where everyone's life looks perfect",
    "line 42 of the poem",
    "add me to the list for tomorrow",
    "add me too!",
    "add me 2 the group chat here pls",
    # mentions of members in the room
    "@lily_b99 thanks for that",
    "thank you @sam_r and @jo.k",
    "hugs @kitkat_92",
    "it's @lily_b99's birthday",
])
def test_not_handles(text):
    assert found(text) == []


def test_a_handle_after_my_platform_is_one_signal_with_the_request():
    # "my snap is …" is reported as the request; the registry's tests rely on it.
    assert found("my snap is samj_99") == [("off_platform", "my snap is")]


# --- requests to move elsewhere, without a handle --------------------------------------------

@pytest.mark.parametrize("text", [
    "move this to whatsapp",
    "can we move this to telegram?",
    "dm me on telegram",
    "let's talk on discord instead",
    "wanna take this convo to whatsapp?",
    "lets take this to snap",
    "switch over to telegram pls",
    "hop on discord later?",
    "let's continue this in dms",
    "i'd rather do this over whatsapp tbh",
    "i'd prefer talking on discord",
    "let's talk somewhere private",
    "i'll add you on snap",
    "i'll dm you on insta",
    "add me back on insta",
    "i'll whatsapp you",
    "i'll send you a friend request on fb",
    "ill send u my snap",
    "i'll give you my number",
    "what's your snap?",
    "whats ur insta",
    "drop ur @",
    "send me your number",
    "can i get your number",
    "pasa tu whatsapp",
    "do you have whatsapp? we can talk there",
    "u got snap?",
    "are you on telegram? easier to talk",
    "let's exchange numbers",
    "can we swap snaps",
    "lets facetime later",
    "we can video call on skype",
])
def test_requests_to_move_without_a_handle(text):
    assert "off_platform" in [kind for kind, _ in found(text)]


@pytest.mark.parametrize("text", [
    "i deleted instagram",
    "whatsapp is down again",
    "I got a message on whatsapp from my ex",
    "my mum texts me on whatsapp every day",
    "i'd rather talk here than on whatsapp",
    "let's keep it here, not on discord",
    "he moved to telegram after they banned him",
    "i told him to take it to whatsapp, not here",
    "never give anyone your snap, trust me",
    "what's your snap score lol",
    "what's your number one comfort film",
    "do you have whatsapp notifications off?",
    "give me your honest opinion",
    "is there somewhere I can talk about this?",
    "we move to a new flat in may",
])
def test_app_mentions_that_are_not_requests(text):
    assert found(text) == []


# --- whatever the input ----------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "",
    " \n\t ",
    "\U0001f600\U0001f64f\U0001f3fd\U0001f494" * 200,
    "\u200b\u200d\ufeff" * 500,
    "a\u0301" * 2000,
    "\u043c\u043e\u0439 \u0441\u043d\u0430\u043f: lily_b99 \u96fb\u8a71 "
    "\uff10\uff19\uff10-\uff11\uff12\uff13\uff14 \u0928\u092e\u0938\u094d\u0924\u0947 "
    "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660 \u05e9\u05dc\u05d5\u05dd",
    "snap: " * 300,
    "add me " * 300,
    "lily_b99 on snap " * 100,
    "my gmail is " * 150,
    "one two " * 1000,
    "1 " * 1000,
    "7" * 2000,
    "1." * 1000,
    "x@" * 1000,
    "-" * 2000 + "0612345678",
    "(" * 500 + "+" * 500 + "0612345678",
    "insta" + " is" * 600,
    "e-mail: " * 200,
])
def test_any_input_is_screened_without_raising(text):
    for signal in contact_signals(text):
        assert signal.span is not None
        assert 0 <= signal.span[0] <= signal.span[1] <= len(text)
