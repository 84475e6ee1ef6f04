"""Contact details: phone numbers, e-mail addresses, social profiles and handles, requests to
move the conversation elsewhere, and street addresses (rule "no-contact-details").

Anonymity is what makes members safe here (PRODUCT.md, principle 1): a phone number or an
"add me on snap" takes a conversation where nobody watches over it. Every signal carries the
span to mask, on the original text.

This runs on every message, so every kind has a cheap test first (digits, an "@", a "/", a
platform's name among the words) and most messages never reach a regular expression, let
alone phonenumbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import phonenumbers
from phonenumbers import (
    Leniency,
    NumberParseException,
    PhoneNumber,
    PhoneNumberFormat,
    PhoneNumberMatcher,
)

from moderation.screening.lexicon import read_sections, word_set
from moderation.screening.normalize import NormalizedText, TextView, Tokens
from moderation.screening.types import (
    DetectorName,
    Rule,
    ScreeningContext,
    Severity,
    Signal,
    SignalKind,
)

_LISTS: Final = read_sections("contact.txt")


def _alternation(words: Iterable[str]) -> str:
    """A regular-expression group matching any of ``words``, longest first."""
    return "(?:" + "|".join(re.escape(word) for word in sorted(
        set(words), key=lambda word: (-len(word), word))) + ")"


def detect_contact_details(*, text: NormalizedText, context: ScreeningContext) -> list[Signal]:
    folded = text.folded
    keys = text.tokens.key_set
    found: list[tuple[SignalKind, Severity, tuple[int, int]]] = []
    digits = len(_DIGIT.findall(folded.text))
    if digits >= _FEWEST_DIGITS_IN_A_NUMBER:
        found.extend((SignalKind.PHONE, Severity.HIGH, span)
                     for span in _phone_spans(folded, keys, context.allowed_phone_numbers))
    if digits >= _FEWEST_DIGITS_IN_A_SPLIT_NUMBER and not found:
        found.extend((SignalKind.PHONE, Severity.HIGH, span)
                     for span in _split_phone_spans(folded, keys, context.allowed_phone_numbers))
    if len(_DIGIT_WORD_SET & keys) >= _FEWEST_DIGIT_WORDS and _has_spoken_run(text.tokens):
        found.extend((SignalKind.PHONE, Severity.HIGH, span)
                     for span in _spelled_phone_spans(folded, keys,
                                                      context.allowed_phone_numbers))
    found.extend((SignalKind.EMAIL, Severity.HIGH, span)
                 for span in _email_spans(text, keys))
    if "/" in folded.text and not _SOCIAL_HOST_WORDS.isdisjoint(keys):
        found.extend((SignalKind.SOCIAL_PROFILE, Severity.HIGH, match.span())
                     for match in _SOCIAL_URL.finditer(folded.text))
    found.extend((SignalKind.SOCIAL_PROFILE, Severity.HIGH, span)
                 for span in _handle_spans(text, keys))
    if digits:
        found.extend((SignalKind.STREET_ADDRESS, Severity.HIGH, span)
                     for span in _street_address_spans(folded, text.original, text.tokens))
    signals = [Signal(detector=DetectorName.CONTACT, kind=kind, rule=Rule.NO_CONTACT_DETAILS,
                      severity=severity, span=folded.original_span(*span))
               for kind, severity, span in _drop_overlaps(found)]
    signals.extend(_off_platform_requests(text))
    return signals


# --- phone numbers ---------------------------------------------------------------------------

# Seven or more digits with at most three separator characters between neighbours, not inside
# a URL or a longer token ("example.org/quiz/0123456789", "INV-2023-004581"). Only text with
# such a run reaches phonenumbers, which costs 0.02 to 0.04 ms a parse.
_PHONE_CANDIDATE: Final = re.compile(
    r"(?<![\w+/=#.])(?<!\w-)(?:\(\+|\+?\(?)\d(?:[ \t.\-/()]{0,3}\d){6,30}")
_DIGIT: Final = re.compile(r"\d")
# Text with fewer digits than this has no phone number, and skips the search for one.
_FEWEST_DIGITS_IN_A_NUMBER: Final = 7
_DIGIT_GROUP: Final = re.compile(r"\+?\(?\d+\)?")
# A number with a country code ("+44…", "0044…") is read as written. National formats are
# read as numbers of the countries Hearth's operators and members are in (an operator
# elsewhere would add theirs), tried most likely first for whether the number starts with a
# trunk "0" and for its number of digits.
_NATIONAL_REGIONS: Final = {
    (True, 9): ("DE", "IT"),
    (True, 10): ("FR", "AU", "GB", "DE", "NL", "IT"),
    (True, 11): ("GB", "IN", "DE", "IT", "BR"),
    (True, 12): ("BR", "DE", "IT"),
    (False, 9): ("ES", "PL"),
    (False, 10): ("US", "IN", "MX", "IT", "BR"),
    (False, 11): ("BR", "US"),
}
_OTHER_REGIONS_WITH_TRUNK_ZERO: Final = ("DE", "GB", "IT")
# In these plans almost every number of the right length is valid, so an unbroken run of
# digits read there ("4839201774") is as likely an order number: it needs a phone word in the
# message. Grouped digits ("55 1234 5678", "512 345 678") are written as phone numbers are.
_PERMISSIVE_REGIONS: Final = frozenset({"ES", "PL", "MX", "BR", "IT"})
_ALL_REGIONS: Final = ("GB", "AU", "FR", "DE", "IN", "US", "ES", "BR", "PL", "IT", "NL", "MX")
_REGIONS_SHARING_A_CODE: Final = frozenset(
    region for region in _ALL_REGIONS
    if len(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[
        phonenumbers.country_code_for_region(region)]) > 1)
# "34612345678", "5511987654321": a country code without its "+", as messaging apps show it.
# (+1 is left out: "1" before ten digits is the US trunk prefix, read above.)
_REGION_BY_CODE_WITHOUT_PLUS: Final = {
    str(phonenumbers.country_code_for_region(region)): region for region in _ALL_REGIONS
    if region != "US"}
_DIGITS_WITH_A_CODE_WITHOUT_PLUS: Final = range(11, 14)
# Mexico dropped the "1" of mobile numbers in 2019; people still write "+52 1 55 …".
_MEXICO: Final = 52
_MEXICAN_MOBILE_PREFIX_DIGITS: Final = 11
# E.164 allows 15 digits; "00" and a trunk "0" can add three more. Longer runs go to
# PhoneNumberMatcher, whose checks for dates and times look a little past the candidate.
_CONTEXT_AFTER: Final = 3
_MOST_DIGITS_IN_ONE_NUMBER: Final = 18
_USUAL_DIGITS: Final = 11
# A run of single digits ("1 2 3 4 …") can be cut into numbers in many ways; each reading costs
# a parse, so a run gets this many.
_MOST_READINGS_PER_RUN: Final = 12
# Digit runs that are something else, whatever phonenumbers thinks: IP addresses, dates
# ("13-10-2020", "2020/10/13"), scores and fractions ("0/100000"), a US social security
# number's grouping, year ranges ("2024-2025"), a date and the hour after it ("2026-11-21
# 10:30" leaves "2026-11-21 10"). An IP address's parts are at most 255: "622.45.67.89" is a
# Spanish number.
_OCTET: Final = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_NOT_A_PHONE: Final = re.compile(
    rf"{_OCTET}(?:\.{_OCTET}){{3}}"
    r"|(?:\d{1,2}([-/.])\d{1,2}\1\d{2,4}|\d{4}([-/.])\d{1,2}\2\d{1,2})(?:\s\d{1,2})?"
    r"|\d{1,2}/\d+|\d{3}-\d{2}-\d{4}|(?:19|20)\d\d\s?[-/]\s?(?:19|20)?\d\d")
# A decimal: the whole run ("3.14159265", "1699999999.123"), or a part with a long fraction
# ("40.7127753 -74.0059728", "05.123456" of a timestamp). Dotted phone numbers have several
# dots ("01.42.68.53.00", "415.555.2671").
_DECIMAL: Final = re.compile(r"\d+\.\d+|.*?(?<![\d.])\d+\.\d{5,}(?![\d.]).*")
# A version has a one-digit part after its first ("10.0.19045.3570", "546.17.0.1234"); an
# ISBN-10 ends in a one-digit check group ("0-14-312854-9"), an ISBN-13 starts 978 or 979.
_VERSION: Final = re.compile(r"\d+(?:\.\d+)*\.\d\.\d+(?:\.\d+)*")
_ISBN_10: Final = re.compile(r"\d{1,5}-\d{1,7}-\d{1,7}-\d")
_ISBN_13_PREFIXES: Final = ("978", "979")
_ISBN_13_DIGITS: Final = 13
# What stands just before or after a number and says it is an identifier ("order no.",
# "tracking", "my nhs number is"), an amount ("€", "R$", ",00") or a count ("steps").
_IDENTIFIER_WORDS: Final = word_set(_LISTS["identifier_words"])
# Words that may stand between the identifier word and the number ("order no. is").
_IDENTIFIER_LINKS: Final = frozenset({
    "no", "nr", "num", "number", "numbers", "code", "is", "was", "my", "the", "your"})
_WORD_BEFORE: Final = re.compile(r"[a-z]+")
_CURRENCY_SIGNS: Final = ("$", "€", "£", "¥", "₹", "₩", "¢")
_CURRENCY_WORDS: Final = frozenset({
    "rs", "rs.", "inr", "usd", "eur", "gbp", "brl", "mxn", "pln", "cop", "zl", "zl."})
_LETTER: Final = re.compile(r"[a-z]")
_COUNT_OR_AMOUNT_AFTER: Final = re.compile(
    rf"[.,]\d\d(?!\d)|\s*[$€£¥₹₩%]|\s*{_alternation(_LISTS['count_words'])}\b")
_CONTEXT_BEFORE: Final = 40
_CONTEXT_AFTER_NUMBER: Final = 16
# Words that say a run of digits is a phone number: see _PERMISSIVE_REGIONS.
_PHONE_WORDS: Final = word_set(_LISTS["phone_words"])
# Words just before a run of digits that say it is a phone number, whatever its format.
_PHONE_CUE: Final = re.compile(
    r"\b(?:phone|tel|telephone|mobile|cell|call|ring|text|txt|sms|whats\s?app|answering|"
    r"my\s+number|number\s+is|reach\s+me|messages\s+to)\b[^\d\n]{0,12}$")
_CUE_REACH: Final = 24
# Longer runs after "number is" are card or account numbers.
_CUED_PHONE_DIGITS: Final = (7, 12)


def _phone_spans(folded: TextView, keys: frozenset[str],
                 allowed: frozenset[str]) -> Iterator[tuple[int, int]]:
    text = folded.text
    for candidate in _PHONE_CANDIDATE.finditer(text):
        start = candidate.start()
        # The pattern stops at 31 digits, which can be inside a group ("07400 111222" at the
        # end of three numbers run together): the run goes on to the group's end.
        end = _end_of_digits(text, candidate.end())
        written = text[start:end]
        if _NOT_A_PHONE.fullmatch(written):
            continue
        digits = "".join(_DIGIT.findall(written))
        if _is_something_else(text, start, end, digits=digits, keys=keys):
            continue
        numbers = _phone_numbers(text, start, end, digits=digits, keys=keys)
        if not numbers:
            if _is_cued_local_number(text, start, digits, allowed):
                yield start, end
            continue
        for number, span in numbers:
            if not (allowed and _is_allowed(number, text[span[0]:span[1]], allowed)):
                yield span


# A number cut up to slip past a filter: its groups joined by other characters or a short
# word ("07700_900_461", "07700 x 900 x 461", "07700 and then 900461", "it starts 07700 and
# ends 900461"), or a letter O for a zero inside a group ("077OO 9OO 461"). Looked for only
# when the plain search found no number, and read as one only when the groups make ten to
# thirteen digits that start as a phone number is written ("0", "+") or the message speaks
# of phones, and phonenumbers finds a valid number in them.
_FEWEST_SPLIT_DIGITS: Final = 10
# Digits written as such; the rest may be letters O.
_FEWEST_DIGITS_IN_A_SPLIT_NUMBER: Final = 6
_MOST_SPLIT_DIGITS: Final = 13
_SPLIT_GROUP: Final = r"\+?\d+"
_SPLIT_JOIN: Final = (r"(?:\s*(?:[_*x|~,;:\\/.\-]|\.{2,}|…|\(\s*space\s*\))+\s*"
                      r"|\s+(?:[a-z]{1,6}\s+){0,3})")
_SPLIT_NUMBER: Final = re.compile(
    rf"(?<![\w.+]){_SPLIT_GROUP}(?:{_SPLIT_JOIN}{_SPLIT_GROUP}){{1,4}}(?![\w])")
# "06:15 and 06:20", "08:07, 08:37, 09:07": times, not a number cut up.
_CLOCK_TIME: Final = re.compile(r"(?<!\d)\d{1,2}[:h]\d\d(?!\d)")
_LETTER_O_IN_DIGITS: Final = re.compile(r"(?<=\d)o+|(?<![a-z])o+(?=\d)")


def _split_phone_spans(folded: TextView, keys: frozenset[str],
                       allowed: frozenset[str]) -> Iterator[tuple[int, int]]:
    # Same length as the text, so spans hold.
    text = _LETTER_O_IN_DIGITS.sub(lambda match: "0" * len(match.group()), folded.text)
    for run in _SPLIT_NUMBER.finditer(text):
        start, end = run.span()
        written = run.group()
        digits = "".join(_DIGIT.findall(written))
        if not _FEWEST_SPLIT_DIGITS <= len(digits) <= _MOST_SPLIT_DIGITS:
            continue
        plus = written.startswith("+")
        cued = (not _PHONE_WORDS.isdisjoint(keys)
                or _PHONE_CUE.search(text, max(0, start - _CUE_REACH), start) is not None)
        if not (plus or digits.startswith("0") or cued):
            continue
        if (_CLOCK_TIME.search(written) or _NOT_A_PHONE.search(written)
                or _is_something_else(text, start, end,
                                      digits=digits, keys=keys)):
            continue
        number = _read_phone_number(digits, plus=plus, unbroken=False, keys=keys)
        if number is not None and not (allowed and _is_allowed(number, digits, allowed)):
            yield start, end


def _is_cued_local_number(text: str, start: int, digits: str,
                          allowed: frozenset[str]) -> bool:
    # "call me on 5521 8830": a local number from a country not listed above.
    return (_CUED_PHONE_DIGITS[0] <= len(digits) <= _CUED_PHONE_DIGITS[1]
            and _PHONE_CUE.search(text, max(0, start - _CUE_REACH), start) is not None
            and not (allowed and digits in _allowed_digits(allowed)))


def _follows_an_identifier_word(before: str) -> bool:
    # "order no. 4839201", "my nhs number is 485…", "booking ref: 9876…": the nearest word
    # that is not a link word. Digits in between ("order 12, call 07…") break the chain.
    tail = before.rstrip(" \t:#=.-")
    for word in reversed(_WORD_BEFORE.findall(tail[-_CONTEXT_BEFORE:])):
        if word in _IDENTIFIER_WORDS:
            return not any(char.isdigit() for char in tail[tail.rfind(word):])
        if word not in _IDENTIFIER_LINKS:
            return False
    return False


def _is_allowed(number: PhoneNumber, written: str, allowed: frozenset[str]) -> bool:
    # A national number may have been read in another country than the helpline's ("800 86
    # 00 22" is valid in Spain too), so its digits are compared as well.
    return (phonenumbers.format_number(number, PhoneNumberFormat.E164) in allowed
            or "".join(_DIGIT.findall(written)) in _allowed_digits(allowed))


@lru_cache(maxsize=8)
def _allowed_digits(allowed: frozenset[str]) -> frozenset[str]:
    """The ways the digits of each allowed number can be written: national, with a trunk
    "0", with the country code, with "00" ("0800 1111", "1-800-273-8255", "0044 800 1111")."""
    forms: set[str] = set()
    for e164 in allowed:
        number = _parse_phone(e164, "GB")
        if number is None:
            continue
        national = phonenumbers.national_significant_number(number)
        code = str(number.country_code)
        forms.update((national, "0" + national, code + national, "00" + code + national))
    return frozenset(forms)


def _is_something_else(text: str, start: int, end: int, *, digits: str,
                       keys: frozenset[str]) -> bool:
    """A decimal, a version, an ISBN, an identifier, an amount or a count that has a phone
    number's digits. Looked at only for runs of seven digits, each test only when the run or
    the message has what it looks for."""
    written = text[start:end]
    if written.startswith("+"):
        return False  # a country code: nothing else is written so
    if text[end:end + 1].isalpha():
        return True  # glued to letters: "21B101", "JD123456789GB"
    if "." in written and (_DECIMAL.fullmatch(written) or _VERSION.fullmatch(written)):
        return True
    if "-" in written and _ISBN_10.fullmatch(written):
        return True
    if len(digits) == _ISBN_13_DIGITS and digits.startswith(_ISBN_13_PREFIXES):
        return True
    before = text[max(0, start - _CONTEXT_BEFORE):start].rstrip()
    last_word = before[_start_of_word(before, len(before)):]
    return bool(before.endswith(_CURRENCY_SIGNS) or last_word in _CURRENCY_WORDS
                # the rest of a code of letters and digits ("UPS 1Z 999 AA1 01 2345 6784")
                or (_LETTER.search(last_word) and _DIGIT.search(last_word))
                or (not _IDENTIFIER_WORDS.isdisjoint(keys)
                    and _follows_an_identifier_word(before))
                or _COUNT_OR_AMOUNT_AFTER.match(text, end, end + _CONTEXT_AFTER_NUMBER))


def _phone_numbers(text: str, start: int, end: int, *, digits: str,
                   keys: frozenset[str]) -> list[tuple[PhoneNumber, tuple[int, int]]]:
    written = text[start:end]
    international = written.lstrip("(").startswith(("+", "00"))
    if len(digits) > _MOST_DIGITS_IN_ONE_NUMBER:
        return _several_phone_numbers(text, start, end, international=international,
                                      keys=keys)
    number = _read_phone_number(digits, plus=written.lstrip("(").startswith("+"),
                                unbroken=digits == written, keys=keys)
    return [(number, (start, end))] if number is not None else []


def _read_phone_number(digits: str, *, plus: bool, unbroken: bool,
                       keys: frozenset[str]) -> PhoneNumber | None:
    # phonenumbers reads character by character in Python: it is given only the digits.
    if plus or digits.startswith("00"):
        # An explicit country code is strong evidence on its own, so a number that is merely
        # possible counts (the UK's 07700 900xxx drama range is not "valid"). "00" is read as
        # the international prefix of the GB region, as in most of Europe.
        number = _parse_phone("+" + digits if plus else digits, "GB")
        if number is not None and not phonenumbers.is_possible_number(number):
            number = _without_old_mexican_mobile_prefix(number)
        return number if number is not None and phonenumbers.is_possible_number(
            number) else None
    trunk = digits.startswith("0")
    regions = _NATIONAL_REGIONS.get((trunk, len(digits)),
                                    _OTHER_REGIONS_WITH_TRUNK_ZERO if trunk else ())
    for region in regions:
        if unbroken and region in _PERMISSIVE_REGIONS and _PHONE_WORDS.isdisjoint(keys):
            continue
        number = _parse_phone(digits, region)
        if number is not None and _is_valid_national(number, region):
            return number
    coded_region = _REGION_BY_CODE_WITHOUT_PLUS.get(digits[:2])
    if (coded_region is not None and not trunk
            and len(digits) in _DIGITS_WITH_A_CODE_WITHOUT_PLUS
            and not _PHONE_WORDS.isdisjoint(keys)):
        number = _parse_phone("+" + digits, coded_region)
        if number is not None and _is_valid_national(number, coded_region):
            return number
    return None


def _without_old_mexican_mobile_prefix(number: PhoneNumber) -> PhoneNumber | None:
    national = str(number.national_number)
    if (number.country_code != _MEXICO or len(national) != _MEXICAN_MOBILE_PREFIX_DIGITS
            or not national.startswith("1")):
        return None
    return PhoneNumber(country_code=_MEXICO, national_number=int(national[1:]))


def _several_phone_numbers(text: str, start: int, end: int, *, international: bool,
                           keys: frozenset[str]) -> list[tuple[PhoneNumber, tuple[int, int]]]:
    """Numbers run together ("07400 123456, 07400 654321"): phonenumbers' own matcher splits
    most; when it cannot ("07400 123456 07400 654321"), runs of digit groups are read as
    numbers, the usual lengths first, and the rest is read again."""
    window = text[start:end + _CONTEXT_AFTER]
    found = [(match.number, (start + match.start, start + match.end))
             for match in PhoneNumberMatcher(window, "GB", leniency=Leniency.POSSIBLE
                                             if international else Leniency.VALID)]
    if found:
        return found
    groups = list(_DIGIT_GROUP.finditer(text, start, end))
    first = 0
    readings_left = _MOST_READINGS_PER_RUN
    while first < len(groups) and readings_left > 0:
        readable: list[tuple[int, int, int, int, str]] = []
        for last in range(first, len(groups)):
            span_start, span_end = groups[first].start(), groups[last].end()
            group_digits = "".join(_DIGIT.findall(text, span_start, span_end))
            if 7 <= len(group_digits) <= _MOST_DIGITS_IN_ONE_NUMBER:
                readable.append((abs(len(group_digits) - _USUAL_DIGITS), span_start, span_end,
                                 last, group_digits))
        # Most numbers have 10 or 11 digits: try those lengths first, so a permissive plan
        # (German numbers run to 15 digits) does not swallow the next number.
        readable.sort()
        for _, span_start, span_end, last, group_digits in readable[:readings_left]:
            readings_left -= 1
            numbers = _phone_numbers(text, span_start, span_end, digits=group_digits,
                                     keys=keys)
            if numbers:
                found.extend(numbers)
                first = last + 1
                break
        else:
            first += 1
    return found


def _end_of_digits(text: str, end: int) -> int:
    while end < len(text) and text[end].isdigit():
        end += 1
    return end


def _is_valid_national(number: PhoneNumber, region: str) -> bool:
    # Checking against the region it was read for is much cheaper than is_valid_number, which
    # first works out the region, trying all 25 that share +1. The regions that share a
    # country code (Canada and the Caribbean with the US; Jersey, Guernsey and Man with the
    # UK) get that full check only when the first one fails.
    if phonenumbers.is_valid_number_for_region(number, region):
        return True
    return region in _REGIONS_SHARING_A_CODE and phonenumbers.is_valid_number(number)


def _parse_phone(candidate: str, region: str) -> PhoneNumber | None:
    try:
        return phonenumbers.parse(candidate, region)
    except NumberParseException:
        return None


# Numbers written (partly) in words: "oh seven seven double oh nine…", "07700 nine double oh
# one two three", "seis uno dos tres…". A message needs two different number words to be
# searched, and a run of them (with digits) is read only when it makes seven digits or more.
_DIGIT_WORDS: Final = {word: str(digit) for digit in range(10)
                       for word in word_set(_LISTS[f"digit_{digit}"])}
_DIGIT_WORD_SET: Final = frozenset(_DIGIT_WORDS)
_REPEAT_WORDS: Final = {**dict.fromkeys(word_set(_LISTS["double"]), 2),
                        **dict.fromkeys(word_set(_LISTS["triple"]), 3)}
_FEWEST_DIGIT_WORDS: Final = 2
_SPELLED_NUMBER_PART: Final = rf"(?:{_alternation([*_DIGIT_WORDS, *_REPEAT_WORDS])}|\d+)"
_SPELLED_NUMBER: Final = re.compile(
    rf"(?<![\w+])(?:plus\s+)?{_SPELLED_NUMBER_PART}(?:[\s,.\-/()]{{1,3}}{_SPELLED_NUMBER_PART}"
    rf"(?!\w)){{4,}}")
_SPELLED_NUMBER_PIECE: Final = re.compile(r"[a-z]+|\d+")
# Counting ("one, two, three, four, five, six, seven…", as in a breathing exercise) is not a
# number anyone can be reached on.
_COUNTING: Final = ("0123456789", "9876543210")


def _has_spoken_run(tokens: Tokens) -> bool:
    """Whether a number word stands next to another or to digits: most messages with "one"
    and "two" in them have them apart, and skip the search."""
    previous = False
    for key in tokens.keys:
        number = key in _DIGIT_WORDS or key in _REPEAT_WORDS or key.isdigit()
        if number and previous:
            return True
        previous = number
    return False


def _spelled_phone_spans(folded: TextView, keys: frozenset[str],
                         allowed: frozenset[str]) -> Iterator[tuple[int, int]]:
    text = folded.text
    for run in _SPELLED_NUMBER.finditer(text):
        start, end = run.span()
        written = run.group()
        plus = written.startswith("plus")
        digits = _spoken_digits(written[4:] if plus else written)
        if (digits is None or any(digits in counting for counting in _COUNTING)
                or _is_something_else(text, start, end, digits=digits, keys=keys)):
            continue
        number = (_read_phone_number(digits, plus=plus, unbroken=False, keys=keys)
                  if len(digits) <= _MOST_DIGITS_IN_ONE_NUMBER else None)
        if number is not None:
            if not (allowed and _is_allowed(number, digits, allowed)):
                yield start, end
        elif _is_cued_local_number(text, start, digits, allowed):
            yield start, end


def _spoken_digits(written: str) -> str | None:
    """The digits of a run like "07700 nine double oh one", or None when it has fewer than
    two number words or seven digits (then it is digits only, read as such, or too short)."""
    digits: list[str] = []
    repeat = 1
    words = 0
    for piece in _SPELLED_NUMBER_PIECE.findall(written):
        if piece in _REPEAT_WORDS:
            repeat = _REPEAT_WORDS[piece]
            continue
        if piece.isdigit():
            digits.append(piece[0] * repeat + piece[1:])
        else:
            words += 1
            digits.append(_DIGIT_WORDS[piece] * repeat)
        repeat = 1
    number = "".join(digits)
    if words < _FEWEST_DIGIT_WORDS or len(number) < _FEWEST_DIGITS_IN_A_NUMBER:
        return None
    return number


# --- e-mail addresses ------------------------------------------------------------------------

_TLDS: Final = (r"(?:com|net|org|edu|gov|io|co|uk|de|fr|au|in|ca|me|info|biz|us|nl|es|it|"
                r"ru|jp|ch|se|no|dk|fi|pl|ie|nz|za|br|mx|be|at|pt)")
_MAIL_PROVIDER_WORDS: Final = word_set(_LISTS["mail_providers"])
_MAIL_PROVIDERS: Final = _alternation(_MAIL_PROVIDER_WORDS)
_LONGEST_LOCAL_PART: Final = 64
_LONGEST_DOMAIN: Final = 255
_EMAIL: Final = re.compile(
    r"(?<![\w.+-])[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b"
    # "name @ example.com", "name @ gmail . com"; not "thanks @sam . It was"
    rf"|(?<![\w.+-])[a-z0-9][a-z0-9._%+-]*\s?@\s?(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*\.{_TLDS}"
    rf"|{_MAIL_PROVIDERS}(?:\s?\.\s?{_TLDS})?)\b")
# "name at gmail dot com", "name [at] example (dot) org", "name (at) gmail.com", "name at
# gmail". After a plain " at " the dot must be spelled out or the domain a mail provider, or
# "my mates at school. No" would count.
_BRACKETED_AT: Final = r"\s*[\[({<]\s*at\s*[\])}>]\s*"
_SPELLED_DOT: Final = r"(?:\s*[\[({<]\s*dot\s*[\])}>]\s*|\s+dot\s+)"
_ANY_DOT: Final = rf"(?:{_SPELLED_DOT}|\s?\.\s?)"
_OBFUSCATED_EMAIL: Final = re.compile(
    rf"(?<![\w.'])(?P<mailbox>[a-z0-9][a-z0-9._%+-]*)"
    rf"(?:{_BRACKETED_AT}(?:(?:[a-z0-9-]+{_ANY_DOT})+{_TLDS}|{_MAIL_PROVIDERS})"
    rf"|\s+at\s+(?:[a-z0-9-]+{_SPELLED_DOT})+{_TLDS}"
    rf"|\s+at\s+{_MAIL_PROVIDERS}(?:(?:{_ANY_DOT}[a-z0-9-]+)*?{_ANY_DOT}{_TLDS})?)\b")
# Without an "@", an address needs "at" and a spelled "dot" or a provider's name.
_EMAIL_HINTS: Final = _MAIL_PROVIDER_WORDS | {"dot"}
# A mailbox without its domain after a mail word: "my gmail is firstname.lastname", "email:
# jakeparker22", "email me at ben.h.123", "hotmail -> tiny_dancer_x"; or before a provider,
# with a digit, a dot or an underscore in it: "rosie.w on gmail", "lily.b99 gmail". Whether
# the word after the mail word is a name is _name_span's decision.
_MAIL_WORDS: Final = _MAIL_PROVIDER_WORDS | {"email", "mail", "correo", "courriel"}
# Matched only where a mail word starts (see _matches_at).
_MAILBOX_AFTER_MAIL_WORD: Final = re.compile(
    r"(?:e-?mail|[a-z]+)(?:\s+(?:address|addy|id|account|acc))?"
    r"(?P<separator>(?:\s+me)?\s*(?:is\b|[:=>→\-\u2013\u2014]+|at\b|on\b)\s*|\s+)"
    r"(?:it'?s\s+)?(?P<name>[a-z0-9][\w.%+-]*)")
# "rosie.w on gmail", "ana.lima90 en gmail"
_ON_A_PROVIDER: Final = frozenset({"on", "en", "em", "no", "na"})


def _email_spans(text: NormalizedText, keys: frozenset[str]) -> Iterator[tuple[int, int]]:
    folded = text.folded.text
    # Searched only around each "@" (an address is at most 64 + 255 characters), as mentions
    # put "@"s in many messages.
    searched_to = 0
    at = folded.find("@")
    while at != -1:
        start = max(searched_to, at - _LONGEST_LOCAL_PART)
        for match in _EMAIL.finditer(folded, start, at + _LONGEST_DOMAIN):
            searched_to = max(searched_to, match.end())
            yield match.span()
        at = folded.find("@", max(at + 1, searched_to))
    if "at" in keys and not _EMAIL_HINTS.isdisjoint(keys):
        for match in _OBFUSCATED_EMAIL.finditer(folded):
            # "log in at gmail dot com", "an intern at yahoo"
            if match.group("mailbox") not in _NOT_A_NAME:
                yield match.span()
    for match in _matches_at(text, _MAILBOX_AFTER_MAIL_WORD, _MAIL_WORDS & keys):
        if _is_own_details_request(folded, match.start()):
            continue
        span = _name_span(text, *match.span("name"), introduced=_is_introduced(folded, match))
        if span is not None:
            yield span
    for start in _word_starts(text, _MAIL_PROVIDER_WORDS & keys):
        before = (_name_before(folded, start, links=_ON_A_PROVIDER)
                  or _name_before(folded, start, links=frozenset()))
        if before is not None:
            span = _name_span(text, *before, introduced=False)
            if span is not None:
                yield span


# --- social profiles and messaging links -----------------------------------------------------

_SOCIAL_HOSTS: Final = (
    r"instagram\.com|instagr\.am|snapchat\.com|snap\.com|tiktok\.com|facebook\.com|fb\.com|"
    r"fb\.me|m\.me|messenger\.com|twitter\.com|x\.com|discord\.gg|discord\.com|"
    r"discordapp\.com|t\.me|telegram\.me|telegram\.dog|wa\.me|chat\.whatsapp\.com|"
    r"api\.whatsapp\.com|whatsapp\.com|kik\.me|signal\.me|signal\.group|linkedin\.com|"
    r"threads\.net|bsky\.app|[a-z0-9-]+\.bsky\.social|[a-z0-9-]+\.tumblr\.com|tumblr\.com|"
    r"onlyfans\.com|linktr\.ee|line\.me|skype\.com|twitch\.tv|steamcommunity\.com|vk\.com|"
    r"weixin\.qq\.com|wechat\.com|viber\.com|invite\.viber\.com")
_SOCIAL_PROFILE_PATHS: Final = r"reddit\.com/u(?:ser)?/|youtube\.com/(?:@|channel/|c/|user/)"
# A word of each host name, as the words view splits it ("t.me" -> "t", "me"); a message with
# none of them has no profile link.
_SOCIAL_HOST_WORDS: Final = frozenset({
    "instagram", "instagr", "snapchat", "snap", "tiktok", "facebook", "fb", "m", "messenger",
    "twitter", "x", "discord", "discordapp", "t", "telegram", "wa", "whatsapp", "kik",
    "signal", "linkedin", "reddit", "threads", "bsky", "tumblr", "onlyfans", "linktr", "line",
    "skype", "twitch", "youtube", "steamcommunity", "vk", "weixin", "wechat", "viber"})
# A profile needs a path ("instagram.com/someone"); the bare site name is just a site. On
# Reddit and YouTube only user and channel paths are profiles; posts and videos are not.
_SOCIAL_URL: Final = re.compile(
    rf"(?<![\w.-])(?:https?://)?(?:www\.|m\.|mobile\.|vm\.)?"
    rf"(?:(?:{_SOCIAL_HOSTS})/|{_SOCIAL_PROFILE_PATHS})[^\s<>\"'()\[\]]+")


# --- handles ---------------------------------------------------------------------------------
# A name given with the platform it is on: "snap: lily_b99", "insta is moonchild.art",
# "tiktok sadboi_2003", "discord kai#4821", "psn is kitkat_92"; a gamer tag after "add me"
# ("add me xXreaperXx"); a console friend code. Matched on the folded view, where digits stay
# digits ("lily_b99", not the words view's "iiiy_bgg").

_HANDLE_PLATFORM_WORDS: Final = word_set(_LISTS["handle_platforms"])
# "insta's moonchild.art": the words' keys have no apostrophe.
_HANDLE_PLATFORM_KEYS: Final = _HANDLE_PLATFORM_WORDS | {
    word + "s" for word in _HANDLE_PLATFORM_WORDS}
_AMBIGUOUS_PLATFORMS: Final = word_set(_LISTS["ambiguous_platforms"])
# Words between a platform and the name that say a name follows ("steam name is", "line id").
_NAME_WORDS: Final = r"(?:user\s?name|name|handle|id|tag|user|acc(?:ount)?|gamer\s?tag|gt|ign|@)"
# "is" in the languages whose numbers are read: "mi insta es …", "meu insta é …", "mon snap
# c'est …", "mein insta ist …", "mój snap jest …".
_COPULAS: Final = frozenset({"is", "es", "e", "est", "c'est", "ist", "jest"})
# Matched only where a platform's name starts (see _matches_at).
_HANDLE_AFTER_PLATFORM: Final = re.compile(
    rf"(?P<platform>[a-z]+)(?:'s)?(?:\s*/\s*[a-z]+)?"
    rf"(?P<named>,?\s+{_NAME_WORDS})?"
    rf"(?P<separator>\s*(?:{_alternation(_COPULAS)}\b|as\b|[:=>→~\-\u2013\u2014]+)\s*|\s+)"
    rf"(?:it'?s\s+)?(?P<name>(?:@|u/)?[a-z0-9][\w.#-]*)")
_FOLDED_WORD: Final = re.compile(r"[\w']+")
# A word that can be a name: "lily_b99", "rosie.w", "kai#4821"; not "@sam", whose "on insta"
# is an off-platform request already.
_NAME_BEFORE: Final = re.compile(r"[a-z0-9][\w.#%+-]*")
_ON: Final = frozenset({"on"})
_GAMER_TAG_AFTER_ADD_ME: Final = re.compile(
    rf"\badd\s+me\b(?:\s+(?:on|in)\s+[\w.]+)?[\s:,!.\-\u2013\u2014]*"
    rf"(?:(?:it'?s|im|i'm|as)\s+)?"
    rf"(?P<named>{_NAME_WORDS}\s*[:=]?\s*)?(?P<name>@?[a-z0-9][\w.#-]*)")
# "friend code SW-1234-5678-9012" (Nintendo), "trainer code 1234 5678 9012" (Pokémon GO).
_FRIEND_CODE: Final = re.compile(
    r"\b(?:friend|trainer|switch|fc)\s*code\s*(?:is\b|:)?\s*(?:sw-?)?\d{4}[\s-]?\d{4}[\s-]?\d{4}\b")
_FRIEND_CODE_WORDS: Final = frozenset({"code", "fc"})
_ADD: Final = frozenset({"add"})
_NOT_A_NAME: Final = word_set(_LISTS["not_a_name"])
# Characters a sentence can end a name with ("add me: kai#4821.").
_NOT_THE_NAME_AT_THE_END: Final = ".-#"
_HANDLE_LIKE: Final = re.compile(r"[_#]|[^.]\.[^.]")
# "2nd", "5g", "4ever", "ps5", "s23": a number with a unit or a model, not a name.
_NUMBER_OR_MODEL: Final = re.compile(r"\d+[a-z]*|[a-z]{1,3}\d{1,2}")
_CASE_CHANGE: Final = re.compile(r"[a-z][A-Z]")
# A name without those marks counts only where it ends its clause: "my tiktok is dancequeen",
# not "my tiktok is dancequeen's favourite thing".
_NAME_ENDS_CLAUSE: Final = re.compile(
    r"\s*(?:[.,;!?)\]]|$|\s(?:if|and|pls|plz|please|lol|add|follow|dm|hmu|thx|thanks|x+)\b)")
_SHORTEST_NAME: Final = 3
_EXPLICIT_SEPARATOR: Final = re.compile(r"[:=>→\-\u2013\u2014]")
# "my snap is …", "my main insta is …"
_MY_BEFORE: Final = re.compile(
    r"\b(?:my|mi|meu|minha|mon|ma|mein|meine|moj|moje)\s+(?:\w+\s+)?$")
_MY_REACH: Final = 16
_MY_JUST_BEFORE: Final = re.compile(r"\bmy\s+$")


def _handle_spans(text: NormalizedText, keys: frozenset[str]) -> Iterator[tuple[int, int]]:
    folded = text.folded.text
    on = "on" in keys
    for start in _word_starts(text, _HANDLE_PLATFORM_KEYS & keys):
        match = _HANDLE_AFTER_PLATFORM.match(folded, start)
        if (match is not None and match.group("platform") in _HANDLE_PLATFORM_WORDS
                and not _is_own_details_request(folded, start)):
            named = match.group("named") is not None
            if (named or match.group("separator").strip()
                    or match.group("platform") not in _AMBIGUOUS_PLATFORMS):  # not "line 42"
                span = _name_span(text, *match.span("name"),
                                  introduced=named or _is_introduced(folded, match))
                if span is not None:
                    yield span
        if on:  # "lily_b99 on snap", "i'm sadboi_2003 on tiktok"
            before = _name_before(folded, start, links=_ON)
            if before is not None:
                span = _name_span(text, *before, introduced=False)
                if span is not None:
                    yield span
    if "add" in keys and "me" in keys:
        for match in _matches_at(text, _GAMER_TAG_AFTER_ADD_ME, _ADD):
            # Only a name that looks like one: "add me too", "add me to the list" are not.
            span = _name_span(text, *match.span("name"),
                              introduced=match.group("named") is not None)
            if span is not None:
                yield span
    if not _FRIEND_CODE_WORDS.isdisjoint(keys):
        for match in _FRIEND_CODE.finditer(folded):
            yield match.span()


def _matches_at(text: NormalizedText, pattern: re.Pattern[str],
                words: frozenset[str]) -> Iterator[re.Match[str]]:
    """``pattern``'s matches in the folded view that start at one of ``words``: one attempt
    at each, which is much cheaper than a search (so the patterns can start with any word)."""
    for start in _word_starts(text, words):
        match = pattern.match(text.folded.text, start)
        if match is not None:
            yield match


def _word_starts(text: NormalizedText, words: frozenset[str]) -> list[int]:
    """Where ``words`` start in the folded view. The words view has the folded view's
    positions unless letters were collapsed ("stuuupid"); then they are looked for again."""
    if not words:
        return []
    folded = text.folded.text
    tokens = text.tokens
    if len(text.words.text) == len(folded):
        spans = [tokens.spans[index] for index in _positions(tokens.keys, words)]
    else:
        spans = [word.span() for word in _FOLDED_WORD.finditer(folded)
                 if word.group().replace("'", "") in words]
    return [start for start, end in spans if not _is_a_host(folded, end)]


def _is_a_host(text: str, end: int) -> bool:
    """Whether the word ending at ``end`` is part of a host name ("instagram.com")."""
    return text[end:end + 1] == "." and text[end + 1:end + 2].isalpha()


def _name_before(folded: str, start: int, *,
                 links: frozenset[str]) -> tuple[int, int] | None:
    """The span of the word before ``start``, past one of ``links`` if there is one ("rosie.w
    on gmail", "lily_b99 on snap"); None when ``links`` is not empty and none is there, or
    when the word cannot be a name."""
    offset = max(0, start - _LONGEST_LOCAL_PART)
    before = folded[offset:start]
    if not before[-1:].isspace():
        return None
    end = len(before.rstrip())
    word_start = _start_of_word(before, end)
    if links:
        if before[word_start:end] not in links:
            return None
        end = len(before[:word_start].rstrip())
        word_start = _start_of_word(before, end)
    if (word_start == 0 and offset > 0) or not _NAME_BEFORE.fullmatch(before, word_start, end):
        return None
    return offset + word_start, offset + end


def _start_of_word(text: str, end: int) -> int:
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return start


def _is_own_details_request(folded: str, start: int) -> bool:
    """Whether the platform or mail word at ``start`` is part of an off-platform request "my
    snap is …", "my email: …": that stretch is reported once, as the request."""
    before = folded[max(0, start - _MY_REACH):start]
    my = _MY_JUST_BEFORE.search(before)
    return my is not None and _OFF_PLATFORM_MY.match(
        folded, start - len(before) + my.start()) is not None


def _is_introduced(folded: str, match: re.Match[str]) -> bool:
    """Whether the name matched after a platform or mail word is introduced as a name: after
    a separator (":", "->", "="), or after "is" when the platform is "my" one ("my tiktok is
    dancequeen")."""
    separator = match.group("separator")
    if _EXPLICIT_SEPARATOR.search(separator) is not None:
        return True
    return separator.strip() in _COPULAS and _MY_BEFORE.search(
        folded[max(0, match.start() - _MY_REACH):match.start()]) is not None


def _name_span(text: NormalizedText, start: int, end: int, *,
               introduced: bool) -> tuple[int, int] | None:
    """The span of the handle or mailbox at ``start:end``, or None when it is not a name.

    A name with a digit, an underscore, a dot inside, a "#" or a case change ("lily_b99",
    "moonchild.art", "kai#4821", "xXreaperXx") is one wherever it stands. Any other word
    counts only when ``introduced`` (see _is_introduced, or a word like "username" before
    it), at the end of its clause, and not when it says how the account or the app is ("my
    snap is dead", "insta: private").
    """
    folded = text.folded.text
    name = folded[start:end].rstrip(_NOT_THE_NAME_AT_THE_END)
    end = start + len(name)
    bare = name.removeprefix("@").removeprefix("u/")
    if (len(bare) < 2 or _NUMBER_OR_MODEL.fullmatch(bare)
            or not any(char.isalpha() for char in bare)):
        return None
    original_start, original_end = text.folded.original_span(start, end)
    if (_HANDLE_LIKE.search(bare) or bare != name
            or (any(char.isdigit() for char in bare)
                and sum(char.isalpha() for char in bare) >= 2)
            or _CASE_CHANGE.search(text.original, original_start, original_end)):
        return start, end
    if (introduced and len(bare) >= _SHORTEST_NAME and bare not in _NOT_A_NAME
            and _NAME_ENDS_CLAUSE.match(folded, end)):
        return start, end
    return None


# --- requests to move off the platform -------------------------------------------------------
# Matched on the words view, where "sn4p" reads "snap".

_PLATFORM: Final = (
    r"(?:snap(?:chat)?|sc|insta(?:gram)?|ig|discord|telegram|tele|tg|whats\s?app|wa|kik|"
    r"tik\s?tok|tt|facebook|fb|messenger|twitter|signal|skype|wechat|viber|line|reddit|"
    r"tumblr|threads|bluesky|bsky|e-?mail|gmail|hotmail|outlook|phone|cell|mobile|"
    r"psn|xbox|steam|twitch|roblox|fortnite|minecraft|valorant|epic|riot|battle\.?net|"
    r"playstation|ps[45]|nintendo|switch|dms?|pms?)")
_NAMED_PLATFORM: Final = (
    r"(?:snap(?:chat)?|insta(?:gram)?|ig|discord|telegram|tele|whats\s?app|kik|tik\s?tok|"
    r"facebook|fb|twitter|signal|skype|wechat|viber|reddit|tumblr|threads|bluesky|bsky|"
    r"e-?mail|psn|xbox|steam|twitch|roblox)")
_YOU_OR_ME: Final = r"(?:me|us|you|u|ya)"
_OFF_PLATFORM_REQUEST: Final = re.compile(
    # "add me on snap", "hmu on insta", "dm me on discord", "talk to me on whatsapp", "I'll
    # add you on snap"
    rf"\b(?:(?:add|follow|message|msg|dm|pm|text|call|ring|find|contact|reach|talk to|"
    rf"chat with|write to|ping|friend|sub to)\s+{_YOU_OR_ME}|hmu|hit me up|hit us up)"
    rf"(?:\s+(?:back|too|also|now|pls|please|instead|privately))?"
    rf"\s+(?:on|at|via|through|over|in)\s+(?:my\s+)?{_PLATFORM}\b")
# "my snap is dead", "my email is a mess", "insta: private": what the account is like.
_NOT_A_NAME_AFTER: Final = rf"(?!\s*{_alternation(word_set(_LISTS['not_a_name']))}\b)"
_OFF_PLATFORM_NAMED: Final = re.compile(
    # "@handle on insta", "insta: @handle", "snap @handle", "discord: name#1234"
    rf"@[\w.]{{2,}}\s+(?:on|at)\s+{_NAMED_PLATFORM}\b"
    rf"|\b{_NAMED_PLATFORM}\s*(?::|-|=)?\s*@[\w.]{{2,}}"
    rf"|\b{_NAMED_PLATFORM}\s*[:=]\s*{_NOT_A_NAME_AFTER}[\w.#]{{3,}}"
    # "join my discord"
    rf"|\bjoin\s+(?:my|our)\s+{_NAMED_PLATFORM}(?:\s+server)?\b"
    # "do you have snap?", "u got insta?", "are you on telegram?": asked, at the end of the
    # question ("do you have whatsapp notifications off?" is not asking)
    rf"|\b(?:do\s+(?:you|u|ya)\s+(?:have|use)|(?:you|u|ya)\s+(?:got|have|use)|(?:are|r)\s+"
    rf"(?:you|u|ya)\s+on|(?:you|u|ya)\s+on)\s+(?:an?\s+)?{_NAMED_PLATFORM}"
    rf"(?:\s+(?:too|as\s+well))?\s*(?:\?|$)"
    # "let's take this to snap", "move this to whatsapp", "switch over to telegram", "hop on
    # discord", "let's talk on discord instead", "we can video call on skype", "continue
    # this in dms", "I'd rather do this over whatsapp"; not "he moved to telegram" or "a message
    # on whatsapp from my ex"
    rf"|\b(?:(?:come|move|switch|go|hop|jump|head|get)\s+(?:over\s+)?(?:to|on|onto)"
    rf"|(?:move|take|bring|continue|carry|shift)\s+(?:this|it|that|things|the|our)"
    rf"(?:\s+(?:chat|conversation|convo|talk))?\s+(?:over\s+)?(?:to|on|onto|in|into)"
    rf"|continue\s+on|meet\s+(?:me\s+)?on|do\s+this\s+(?:on|over|via)"
    rf"|(?:prefer|rather|easier)\s+(?:to\s+)?(?:talk|chat|text|messag)(?:ing|ting|e)?\s+"
    rf"(?:on|over|via)"
    rf"|(?:talk|chat|speak|vc|video\s+call|voice\s+chat|facetime)\s+(?:more\s+|privately\s+|"
    rf"properly\s+|instead\s+)?(?:on|over|via|through))\s+(?:my\s+|our\s+|the\s+)?"
    rf"(?:{_NAMED_PLATFORM}(?:\s+server)?|dms?|pms?)\b")
_OFF_PLATFORM_MY: Final = re.compile(
    # "my snap is …", "my insta: …"
    rf"\bmy\s+(?:{_NAMED_PLATFORM}|addy|discord\s+tag|user\s?name\s+on\s+{_NAMED_PLATFORM})"
    rf"\s*(?:is\b|=|:|->|-){_NOT_A_NAME_AFTER}"
    # "my website is …", "my blog: …": a site of one's own says who one is
    rf"|\bmy\s+(?:web\s?site|site|blog|channel|portfolio|linktree)\s*(?:is\b|:)"
    # "my number is 07…" (the digits are found as a phone too), "my cell: seven seven…"
    rf"|\bmy\s+(?:phone\s+)?(?:number|cell|mobile|digits)\s*(?:is|:|=)\s*"
    rf"(?:[+(\d]|zero|oh|one|two|three|four|five|six|seven|eight|nine)")
_OFF_PLATFORM_ME: Final = re.compile(
    # "text me", "whatsapp me", "snap me" (not "snap me out of it"), "call me on/at …",
    # "I'll whatsapp you"
    r"\b(?:text|whats\s?app|snap|kik|telegram|facetime|email|e-mail|skype)\s+me\b"
    r"(?!\s+out\b)"
    r"|\b(?:whats\s?app|kik|telegram|facetime|skype)\s+(?:you|u|ya)\b"
    r"|\bcall\s+me\s+(?:at|on|anytime|any\s+time|sometime|tonight|later|tomorrow)\b")
# "what's your snap?", "drop your insta", "send me your number", "can I get your number",
# "pasa tu whatsapp"; not "what's your snap score" or "never give anyone your snap".
_OFF_PLATFORM_ASK: Final = re.compile(
    rf"\b(?:what'?s|whats|wats|what\s+is|drop|send|give|share|post|gimme|need|get|"
    rf"pasa(?:me)?|dame|manda(?:me)?|passa|me\s+passa)\s+(?:me\s+)?"
    rf"(?:your|ur|yo|tu|teu|seu)\s+(?:{_NAMED_PLATFORM}|number|digits|(?:phone|cell|mobile)"
    rf"(?:\s+number)?|cell|mobile|addy|@|handle|contact|numero|cel|zap|whats)"
    rf"(?!\s*(?:score|streak|story|stories|filter|map|settings|notifications|status|server|"
    rf"nitro|one|two|of|1)\b)")
# "drop ur @", "what's your @?"
_OFF_PLATFORM_ASK_AT: Final = re.compile(
    r"\b(?:what'?s|whats|wats|drop|send|give|gimme)\s+(?:me\s+)?(?:your|ur)\s+@")
# "I'll send u my snap", "I'll give you my number", "I'll send you a friend request on fb":
# offered rather than asked for.
_OFF_PLATFORM_OFFER: Final = re.compile(
    rf"\b(?:send|give|dm|pm|text|message|msg|drop)\s+(?:u|you|ya)\s+(?:(?:my|the)\s+"
    rf"(?:{_NAMED_PLATFORM}|number|digits|addy|@|handle|contact|details|socials|info)"
    rf"|an?\s+(?:friend\s+|follow\s+)?request\s+(?:on|at|via)\s+{_PLATFORM}\b)")
# "let's exchange numbers", "can we swap snaps"
_SHARED_DETAILS: Final = frozenset({
    "numbers", "nums", "digits", "snaps", "instas", "igs", "discords", "socials", "contacts",
    "emails", "handles", "whatsapp", "whatsapps"})
_OFF_PLATFORM_EXCHANGE: Final = re.compile(
    rf"\b(?:exchange|swap|swop|trade)\s+(?:our\s+)?{_alternation(_SHARED_DETAILS)}\b")
# "let's facetime", "wanna vc?", "we could video call"
_OFF_PLATFORM_CALL: Final = re.compile(
    r"\b(?:let'?s|lets|wanna|can\s+we|could\s+we|we\s+(?:should|could|can))\s+"
    r"(?:facetime|skype|vc|video\s+call|voice\s+call)\b")
# "let's talk somewhere private", "can we chat somewhere else?": elsewhere, without naming it.
# Not "is there somewhere I can talk about this?", which asks for help.
_OFF_PLATFORM_ELSEWHERE: Final = re.compile(
    r"\b(?:let'?s|lets|can\s+we|could\s+we|we\s+(?:should|could|can)|wanna|want\s+to)\s+"
    r"(?:talk|chat|continue(?:\s+this)?|move\s+this|take\s+this)\s+"
    r"(?:somewhere|someplace|elsewhere|in\s+private|privately)"
    r"(?:\s+(?:else|private|more\s+private|safer|quieter))?\b")
# "dm me" on its own: Hearth has no member-to-member messages, so it can only mean elsewhere,
# but it says less than a named app.
_PRIVATE_MESSAGE_REQUEST: Final = re.compile(r"\b(?:dm|pm|message|msg|inbox)\s+me\b")
# The words around which each pattern is searched: a first word, and the word that must follow
# it (None: any). A message without such a pair skips the pattern; one with it has the
# pattern run only near the pair, as a big pattern costs in proportion to the text it scans.
_NAMED_PLATFORM_WORDS: Final = frozenset({
    "snap", "snapchat", "insta", "instagram", "ig", "discord", "telegram", "tele", "whatsapp",
    "whats", "kik", "tiktok", "tik", "facebook", "fb", "twitter", "signal", "skype", "wechat",
    "viber", "reddit", "tumblr", "threads", "bluesky", "bsky", "email", "mail", "psn", "xbox",
    "steam", "twitch", "roblox"})
_REQUEST_VERBS: Final = frozenset({
    "add", "follow", "message", "msg", "dm", "pm", "text", "call", "ring", "find", "contact",
    "reach", "talk", "chat", "write", "ping", "friend", "sub", "hmu", "hit"})
_OWN_DETAILS: Final = _NAMED_PLATFORM_WORDS | {
    "phone", "number", "cell", "mobile", "digits", "addy", "website", "web", "site", "blog",
    "channel", "portfolio", "linktree", "username", "user"}
_ME_VERBS: Final = frozenset({
    "text", "whatsapp", "app", "snap", "kik", "telegram", "facetime", "email", "mail", "skype",
    "call"})
_PRIVATE_MESSAGE_VERBS: Final = frozenset({"dm", "pm", "message", "msg", "inbox"})
_YOUR: Final = frozenset({"your", "ur", "yo", "tu", "teu", "seu"})
_ASKED_FOR: Final = _NAMED_PLATFORM_WORDS | {
    "number", "digits", "phone", "cell", "mobile", "addy", "handle", "contact", "numero", "cel",
    "zap", "whats"}
_OFFER_VERBS: Final = frozenset({"send", "give", "dm", "pm", "text", "message", "msg", "drop"})


@dataclass(frozen=True)
class _RequestPattern:
    pattern: re.Pattern[str]
    severity: Severity
    first_words: frozenset[str]
    next_words: frozenset[str] | None
    # A character the message must contain ("@" is not a word, so it cannot be a next word).
    needs: str = ""


_REQUEST_PATTERNS: Final = (
    _RequestPattern(_OFF_PLATFORM_NAMED, Severity.MEDIUM,
                    _NAMED_PLATFORM_WORDS | {"dms", "pms"}, None),
    _RequestPattern(_OFF_PLATFORM_REQUEST, Severity.MEDIUM, _REQUEST_VERBS,
                    frozenset({"me", "us", "you", "u", "ya", "to", "with", "on", "at", "via"})),
    _RequestPattern(_OFF_PLATFORM_MY, Severity.MEDIUM, frozenset({"my"}), _OWN_DETAILS),
    _RequestPattern(_OFF_PLATFORM_ME, Severity.MEDIUM, _ME_VERBS,
                    frozenset({"me", "you", "u", "ya"})),
    _RequestPattern(_OFF_PLATFORM_ASK, Severity.MEDIUM, _YOUR, _ASKED_FOR),
    _RequestPattern(_OFF_PLATFORM_ASK_AT, Severity.MEDIUM, _YOUR, None, needs="@"),
    _RequestPattern(_OFF_PLATFORM_OFFER, Severity.MEDIUM, _OFFER_VERBS,
                    frozenset({"u", "you", "ya"})),
    _RequestPattern(_OFF_PLATFORM_EXCHANGE, Severity.MEDIUM,
                    frozenset({"exchange", "swap", "swop", "trade"}),
                    _SHARED_DETAILS | {"our"}),
    _RequestPattern(_OFF_PLATFORM_CALL, Severity.MEDIUM,
                    frozenset({"facetime", "skype", "vc"}), None),
    _RequestPattern(_OFF_PLATFORM_CALL, Severity.MEDIUM, frozenset({"video", "voice"}),
                    frozenset({"call", "calls", "chat"})),
    _RequestPattern(_OFF_PLATFORM_ELSEWHERE, Severity.MEDIUM,
                    frozenset({"somewhere", "someplace", "elsewhere", "private", "privately"}),
                    None),
    _RequestPattern(_PRIVATE_MESSAGE_REQUEST, Severity.LOW, _PRIVATE_MESSAGE_VERBS,
                    frozenset({"me"})),
)
# How far from its anchor words a match can reach: "@handle on insta" starts with the handle.
_PATTERN_REACH: Final = 48
# "please don't text me" and "they text me every day" are not requests.
_NEGATIONS: Final = word_set(read_sections("negations.txt")["negations"])
_THIRD_PERSON: Final = word_set(read_sections("subjects.txt")["third_person"])


def _off_platform_requests(text: NormalizedText) -> list[Signal]:
    tokens = text.tokens
    words_text = text.words.text
    signals: list[Signal] = []
    for request in _REQUEST_PATTERNS:
        if request.first_words.isdisjoint(tokens.key_set) or (
                request.next_words is not None
                and request.next_words.isdisjoint(tokens.key_set)):
            continue  # the common case
        if request.needs not in words_text:
            continue
        for window_start, window_end in _windows_around(
                tokens, request.first_words, request.next_words, len(words_text)):
            for match in request.pattern.finditer(words_text, window_start, window_end):
                if _negated_or_reported(words_text, match.start()):
                    continue
                span = text.words.original_span(*match.span())
                if any(_overlaps(span, signal.span) for signal in signals if signal.span):
                    continue
                signals.append(Signal(detector=DetectorName.CONTACT,
                                      kind=SignalKind.OFF_PLATFORM,
                                      rule=Rule.NO_CONTACT_DETAILS, severity=request.severity,
                                      span=span))
    return signals


def _windows_around(tokens: Tokens, first_words: frozenset[str], next_words: frozenset[str] | None,
                    text_length: int) -> list[tuple[int, int]]:
    """Stretches of the words view within _PATTERN_REACH of each of ``first_words`` (followed
    by one of ``next_words`` unless that is None), overlapping ones joined."""
    keys = tokens.keys
    anchors = [index for index in _positions(keys, first_words & tokens.key_set)
               if next_words is None or (index + 1 < len(keys) and keys[index + 1] in next_words)]
    windows: list[tuple[int, int]] = []
    for index in anchors:
        start, end = tokens.spans[index]
        if _is_a_host(tokens.text, end):
            continue  # "instagram.com/…" is a link, found as one
        window = (max(0, start - _PATTERN_REACH), min(text_length, end + _PATTERN_REACH))
        if windows and window[0] <= windows[-1][1]:
            windows[-1] = (windows[-1][0], window[1])  # overlapping: one window
        else:
            windows.append(window)
    return windows


def _positions(keys: tuple[str, ...], words: frozenset[str]) -> list[int]:
    """Where ``words`` occur in ``keys``, in order (tuple.index runs in C)."""
    positions: list[int] = []
    for word in words:
        index = -1
        while True:
            try:
                index = keys.index(word, index + 1)
            except ValueError:
                break
            positions.append(index)
    return sorted(positions)


def _negated_or_reported(text: str, start: int) -> bool:
    before = text[max(0, start - 24):start].replace("'", "").split()[-3:]
    return (any(word in _NEGATIONS for word in before)
            or (bool(before) and before[-1] in _THIRD_PERSON)
            # "I told him to take it to whatsapp"
            or (len(before) > 1 and before[-1] == "to" and before[-2] in _THIRD_PERSON))


# --- street addresses ------------------------------------------------------------------------
# Matched on the folded view, where accents are gone ("vägen" reads "vagen", "straße"
# "strasse"), so the word lists below are written that way.

_HOUSE_NUMBER: Final = r"\d{1,5}[a-z]?(?:[-/]\d{1,4}[a-z]?)?"
_NAME_WORD: Final = r"[^\W\d_][\w'.-]*"
# Words that cannot be part of a street name: they mean "5 hours on the road" or "one other
# way", not an address.
_NOT_A_STREET_WORD: Final = (
    r"(?!(?:on|in|at|to|the|a|an|of|for|my|your|our|his|her|their|and|or|with|from|down|up|"
    r"i|we|you|he|she|they|it|was|were|is|are|be|been|had|have|has|got|get|did|do|so|if|but|"
    r"along|across|into|onto|off|by|per|more|less|than|other|another|only|better|best|easy|"
    r"easier|hard|good|bad|right|wrong|different|same|whole|long|short|very|really|"
    r"hours?|hrs?|minutes?|mins?|seconds?|secs?|days?|weeks?|months?|years?|yrs?|times?|"
    r"miles?|kms?|people|kids|dogs?|cats?|cars?|steps?|blocks?|floors?|things?|ways?|mg|ml|"
    r"kg|lbs?|am|pm|percent|pounds?|dollars?|euros?|bucks|quid)\b)")
_STREET_SUFFIXES: Final = (
    "street", "st", "avenue", "ave", "av", "road", "rd", "boulevard", "blvd", "lane", "ln",
    "drive", "dr", "court", "ct", "place", "pl", "terrace", "terr", "close", "crescent",
    "cres", "square", "sq", "highway", "hwy", "parkway", "pkwy", "circle", "cir", "trail",
    "trl", "mews", "gardens", "gdns", "grove", "walk", "parade", "pde", "esplanade", "quay",
    "wharf", "alley", "plaza", "heights", "hts", "way", "row", "strasse", "str", "weg",
    "allee", "platz", "gasse", "laan", "straat", "vej", "gatan", "vagen", "katu")
_STREET_SUFFIX: Final = "(?:" + "|".join(_STREET_SUFFIXES) + ")"
# Street types written before the name: French, Spanish, Portuguese, Italian, Polish,
# Romanian.
_TYPE_FIRST: Final = (
    r"(?:rue|avenue|av\.|boulevard|bd|chemin|allee|impasse|quai|calle|c/|avenida|avda\.?|"
    r"paseo|carrera|rua|travessa|via|viale|piazza|corso|ul\.|ulica|aleja|strada|calea)")
_TYPE_FIRST_WORDS: Final = frozenset({
    "rue", "avenue", "av", "boulevard", "bd", "chemin", "allee", "impasse", "quai", "calle",
    "c", "avenida", "avda", "paseo", "carrera", "rua", "travessa", "via", "viale", "piazza",
    "corso", "ul", "ulica", "aleja", "strada", "calea"})
# Types that are also English words ("via text 5 times"): the name after them must be
# capitalised in what the member wrote.
_ENGLISH_LOOKING_TYPES: Final = frozenset({"via", "corso", "paseo", "strada", "carrera"})
# Each pattern, the words of which it needs one near a number (within _NEAR words), and on
# which side of the number.
_NEAR: Final = 8
_STREET_ADDRESS_PATTERNS: Final = (
    # "221b Baker Street", "1600 Pennsylvania Ave", "24 Elm Avenue"; not "summer 2019, we
    # were close"
    (re.compile(rf"(?<![\w.,/-])(?!(?:19|20)\d\d,){_HOUSE_NUMBER},?\s+"
                rf"(?:{_NOT_A_STREET_WORD}{_NAME_WORD}\s+){{1,3}}{_STREET_SUFFIX}\b\.?"),
     frozenset(_STREET_SUFFIXES), "after"),
    # "12 rue de la Paix", "8 rue des lilas"
    (re.compile(rf"(?<![\w.,/-]){_HOUSE_NUMBER},?\s+{_TYPE_FIRST}\s+[^\W\d_][\w'-]*"
                r"(?:\s+[^\W\d_][\w'-]*){0,3}"),
     _TYPE_FIRST_WORDS, "after"),
    # "PO Box 123", "PSC 1234, Box 5678", "Unit 2001 Box 3002", "FPO AE 09012", "Apt. 12",
    # "Suite 200", "Flat 3"
    (re.compile(r"\b(?:p\.?\s?o\.?\s?box|postfach|(?:psc|cmr|unit)\s+\d{3,5},?\s+box)\s+"
                r"\d{1,6}\b|\b[adf]po\s+a[aep]\s+\d{5}\b"
                r"|\b(?:apt|apartment|suite|ste|flat)\.?\s*#?\d{1,5}[a-z]?\b"),
     frozenset({"box", "pobox", "postfach", "apo", "fpo", "dpo", "apt", "apartment", "suite",
                "ste", "flat"}), "either"),
    # "Petőfi u. 7", "Andrássy út 60" (Hungarian: the type follows the name)
    (re.compile(r"\b[^\W\d_]{3,}\s+(?:u\.|utca|ut|utja|ter|korut)\s+\d{1,4}\b"),
     frozenset({"u", "utca", "ut", "utja", "ter", "korut"}), "before"),
)
# Words that introduce an address: "I live at …", "my address is …", "send it to …".
_ADDRESS_CUE: Final = (
    r"(?:li(?:ve|ves|ving)\s+(?:at|on)|(?:stay|staying|located|based)\s+at|address(?:\s+is)?"
    r"|(?:send|sent|deliver(?:ed)?|post(?:ed)?|ship(?:ped)?)\s+(?:it\s+|them\s+)?to"
    r"|drops?\s+(?:you|me|us)\s+off\s+at|meet\s+(?:me|us|you)\s+at|corner\s+of|moved\s+to"
    r"|(?:my|our)\s+(?:house|flat|apartment|place|home)\s+is\s+(?:at|on))")
_ADDRESS_CUE_WORDS: Final = frozenset({
    "live", "lives", "living", "stay", "staying", "located", "based", "address", "send", "sent",
    "deliver", "delivered", "post", "posted", "ship", "shipped", "drop", "drops", "meet",
    "corner", "moved"})
# "my place is at …": these common words are a cue only with "is" after them.
_HOME_WORDS: Final = frozenset({"house", "flat", "apartment", "place", "home"})
# "I live at Dlouha 12", "address: 48 Vinohradska 7": a capitalised name and a number
# after words that introduce an address.
_CUED_ADDRESS: Final = re.compile(
    rf"\b{_ADDRESS_CUE}\s*:?\s+(?:the\s+)?(?P<address>"
    rf"(?:{_HOUSE_NUMBER}\s+)?(?:{_NOT_A_STREET_WORD}{_NAME_WORD}\s+){{1,3}}\d{{1,5}}[a-z]?\b"
    rf"|(?!(?:19|20)\d\d\b){_HOUSE_NUMBER},?\s+(?:{_NOT_A_STREET_WORD}{_NAME_WORD}\s+){{0,2}}"
    rf"{_NOT_A_STREET_WORD}{_NAME_WORD})")
_TYPE_FIRST_THEN_NUMBER: Final = re.compile(
    # "Calle Mayor 5", "Via Roma 7", "ul. Długa 5", "Rua Augusta 100", "Via dei Mille 3"
    rf"\b(?P<type>{_TYPE_FIRST})\s+(?P<name>(?:[^\W\d_][\w'-]*\s+){{1,4}})\d{{1,5}}[a-z]?\b")
# "Hauptstraße 5", "Stationslaan 4", "Aleksanterinkatu 15", "Storgatan 5": the street type is the
# end of one word. Found as "word number" pairs, then the word's ending is checked, which is
# much cheaper than a regular expression that tries every ending at every word.
_WORD_THEN_NUMBER: Final = re.compile(r"\b([^\W\d_]{4,})\.?\s+\d{1,4}[a-z]?\b")
_COMPOUND_STREET_ENDINGS: Final = (
    "strasse", "str", "gasse", "weg", "allee", "platz", "damm", "ufer", "straat", "laan",
    "gracht", "plein", "steeg", "kade", "singel", "gatan", "vagen", "gata", "gade", "vej",
    "veien", "vegen", "vænget", "stræti", "braut", "katu", "tie", "kuja", "utca")
_COMPOUND_ENDING_TAILS: Final = frozenset(ending[-3:] for ending in _COMPOUND_STREET_ENDINGS)


def _street_address_spans(folded: TextView, original: str,
                          tokens: Tokens) -> Iterator[tuple[int, int]]:
    # Each pattern is run only when one of its words stands on the right side of a number
    # ("221b Baker Street", "Calle Mayor 5"), which most messages with digits (times,
    # amounts, ages, phone numbers) do not have.
    keys = tokens.keys
    present = tokens.key_set
    text = folded.text
    for pattern, needed, side in _STREET_ADDRESS_PATTERNS:
        if _near_a_number(keys, needed & present, word_before=side != "after",
                          word_after=side != "before"):
            for match in pattern.finditer(text):
                yield match.start(), match.end() - _trailing_space(match.group())
    homes = frozenset(keys[position] for position in _positions(keys, _HOME_WORDS & present)
                      if position + 1 < len(keys) and keys[position + 1] == "is")
    if _near_a_number(keys, (_ADDRESS_CUE_WORDS & present) | homes, word_before=True,
                      word_after=False):
        for match in _CUED_ADDRESS.finditer(text):
            if _has_capitalised_word(folded, original, *match.span("address")):
                # The address, not the words that announced it.
                yield match.start("address"), match.end() - _trailing_space(match.group())
    if _near_a_number(keys, _TYPE_FIRST_WORDS & present, word_before=True, word_after=False):
        for match in _TYPE_FIRST_THEN_NUMBER.finditer(text):
            if match.group("type") in _ENGLISH_LOOKING_TYPES and not _has_capitalised_word(
                    folded, original, match.start("name"), match.end("name")):
                continue
            yield match.span()
    if not _COMPOUND_ENDING_TAILS.isdisjoint({key[-3:] for key in present}):
        for match in _WORD_THEN_NUMBER.finditer(text):
            if match.group(1).endswith(_COMPOUND_STREET_ENDINGS):
                yield match.span()


def _near_a_number(keys: tuple[str, ...], words: frozenset[str], *, word_before: bool,
                   word_after: bool) -> bool:
    """Whether one of ``words`` stands at most _NEAR words before a number (``word_before``)
    or after one (``word_after``)."""
    for position in _positions(keys, words):
        start = max(0, position - _NEAR) if word_after else position + 1
        end = min(len(keys), position + _NEAR + 1) if word_before else position
        if any(keys[index][0].isdigit() for index in range(start, end) if index != position):
            return True
    return False


def _has_capitalised_word(folded: TextView, original: str, start: int, end: int) -> bool:
    original_start, original_end = folded.original_span(start, end)
    return any(word[:1].isupper() for word in original[original_start:original_end].split())


# --- shared ----------------------------------------------------------------------------------

def _trailing_space(matched: str) -> int:
    return len(matched) - len(matched.rstrip())


def _overlaps(first: tuple[int, int], second: tuple[int, int]) -> bool:
    return first[0] < second[1] and second[0] < first[1]


def _drop_overlaps(found: list[tuple[SignalKind, Severity, tuple[int, int]]],
                   ) -> list[tuple[SignalKind, Severity, tuple[int, int]]]:
    """One signal per stretch of text: an e-mail found by both patterns, or a phone number
    that also looks like a house number, is reported once (the first kind found wins)."""
    kept: list[tuple[SignalKind, Severity, tuple[int, int]]] = []
    for item in found:
        if not any(_overlaps(item[2], other[2]) for other in kept):
            kept.append(item)
    return kept
