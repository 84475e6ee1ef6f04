"""Contact details: phone numbers, e-mail addresses, social profiles, requests to move the
conversation elsewhere, and street addresses (rule "no-contact-details").

Anonymity is what makes members safe here (PRODUCT.md, principle 1): a phone number or an
"add me on snap" takes a conversation where nobody watches over it. Every signal carries the
span to mask, on the original text.

This runs on every message, so every kind has a cheap test first (digits, an "@", a "/", a
platform's name among the words) and most messages never reach a regular expression, let
alone phonenumbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
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


def detect_contact_details(*, text: NormalizedText, context: ScreeningContext) -> list[Signal]:
    folded = text.folded
    keys = text.tokens.key_set
    found: list[tuple[SignalKind, Severity, tuple[int, int]]] = []
    digits = len(_DIGIT.findall(folded.text))
    if digits >= _FEWEST_DIGITS_IN_A_NUMBER:
        found.extend((SignalKind.PHONE, Severity.HIGH, span)
                     for span in _phone_spans(folded, context.allowed_phone_numbers))
    found.extend((SignalKind.EMAIL, Severity.HIGH, span)
                 for span in _email_spans(folded.text, keys))
    if "/" in folded.text and not _SOCIAL_HOST_WORDS.isdisjoint(keys):
        found.extend((SignalKind.SOCIAL_PROFILE, Severity.HIGH, match.span())
                     for match in _SOCIAL_URL.finditer(folded.text))
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
# a URL or a longer token ("example.org/quiz/0123456789"). Only text with such a run reaches
# phonenumbers, which costs 0.02 to 0.04 ms a parse.
_PHONE_CANDIDATE: Final = re.compile(r"(?<![\w+/=#.])\+?\(?\d(?:[ \t.\-/()]{0,3}\d){6,30}")
_DIGIT: Final = re.compile(r"\d")
# Text with fewer digits than this has no phone number, and skips the search for one.
_FEWEST_DIGITS_IN_A_NUMBER: Final = 7
_DIGIT_GROUP: Final = re.compile(r"\+?\(?\d+\)?")
# A number with a country code ("+44…", "0044…") is read as written. National formats are
# read as numbers of Hearth's first operators' countries (an operator elsewhere would add
# theirs), tried most likely first for the number of digits.
_REGIONS_BY_LENGTH_WITH_TRUNK_ZERO: Final = {
    10: ("FR", "AU", "GB", "DE"), 11: ("GB", "IN", "DE")}
_OTHER_REGIONS_WITH_TRUNK_ZERO: Final = ("DE", "GB")
_REGIONS_WITHOUT_TRUNK_ZERO: Final = ("US", "IN")
_ALL_REGIONS: Final = ("GB", "AU", "FR", "DE", "IN", "US")
_REGIONS_SHARING_A_CODE: Final = frozenset(
    region for region in _ALL_REGIONS
    if len(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[
        phonenumbers.country_code_for_region(region)]) > 1)
# E.164 allows 15 digits; "00" and a trunk "0" can add three more. Longer runs go to
# PhoneNumberMatcher, whose checks for dates and times look a little past the candidate.
_CONTEXT_AFTER: Final = 3
_MOST_DIGITS_IN_ONE_NUMBER: Final = 18
_USUAL_DIGITS: Final = 11
# Digit runs that are something else, whatever phonenumbers thinks: IP addresses, dates
# ("13-10-2020", "2020/10/13"), scores and fractions ("0/100000"), a US social security
# number's grouping, year ranges ("2024-2025"), a date and the hour after it ("2026-11-21
# 10:30" leaves "2026-11-21 10").
_NOT_A_PHONE: Final = re.compile(
    r"\d{1,3}(?:\.\d{1,3}){3}|(?:\d{1,2}([-/.])\d{1,2}\1\d{2,4}|\d{4}([-/.])\d{1,2}\2\d{1,2})"
    r"(?:\s\d{1,2})?|\d{1,2}/\d+|\d{3}-\d{2}-\d{4}|(?:19|20)\d\d\s?[-/]\s?(?:19|20)?\d\d")
# Words just before a run of digits that say it is a phone number, whatever its format.
_PHONE_CUE: Final = re.compile(
    r"\b(?:phone|tel|telephone|mobile|cell|call|ring|text|txt|sms|whats\s?app|answering|"
    r"my\s+number|number\s+is|reach\s+me|messages\s+to)\b[^\d\n]{0,12}$")
_CUE_REACH: Final = 24
# Longer runs after "number is" are card or account numbers.
_CUED_PHONE_DIGITS: Final = (7, 12)


def _phone_spans(folded: TextView, allowed: frozenset[str]) -> Iterator[tuple[int, int]]:
    text = folded.text
    for candidate in _PHONE_CANDIDATE.finditer(text):
        start, end = candidate.span()
        if _NOT_A_PHONE.fullmatch(candidate.group()):
            continue
        digits = "".join(_DIGIT.findall(candidate.group()))
        numbers = _phone_numbers(text, start, end, digits=digits)
        if not numbers:
            if (_CUED_PHONE_DIGITS[0] <= len(digits) <= _CUED_PHONE_DIGITS[1]
                    and _PHONE_CUE.search(text, max(0, start - _CUE_REACH), start)
                    and not (allowed and _is_allowed_local_number(digits, allowed))):
                # "call me on 5521 8830": a local number from a country not listed above.
                yield start, end
            continue
        for number, span in numbers:
            if not (allowed and phonenumbers.format_number(
                    number, PhoneNumberFormat.E164) in allowed):
                yield span


def _is_allowed_local_number(digits: str, allowed: frozenset[str]) -> bool:
    # A helpline's short national number ("0800 1111") read in each region we know.
    return any(
        number is not None and phonenumbers.format_number(number, PhoneNumberFormat.E164)
        in allowed
        for number in (_parse_phone(digits, region) for region in _ALL_REGIONS))


def _phone_numbers(text: str, start: int, end: int, *,
                   digits: str) -> list[tuple[PhoneNumber, tuple[int, int]]]:
    written = text[start:end]
    international = written.lstrip("(").startswith(("+", "00"))
    # phonenumbers reads character by character in Python: give it only the digits.
    candidate = "+" + digits if written.startswith("+") else digits
    if len(digits) > _MOST_DIGITS_IN_ONE_NUMBER:
        return _several_phone_numbers(text, start, end, international=international)
    if international:
        # An explicit country code is strong evidence on its own, so a number that is merely
        # possible counts (the UK's 07700 900xxx drama range is not "valid"). "00" is read as
        # the international prefix of the GB region, as in most of Europe.
        number = _parse_phone(candidate, "GB")
        return [(number, (start, end))] if number and phonenumbers.is_possible_number(
            number) else []
    regions = (_REGIONS_BY_LENGTH_WITH_TRUNK_ZERO.get(len(digits), _OTHER_REGIONS_WITH_TRUNK_ZERO)
               if candidate.startswith("0") else _REGIONS_WITHOUT_TRUNK_ZERO)
    for region in regions:
        number = _parse_phone(candidate, region)
        if number is not None and _is_valid_national(number, region):
            return [(number, (start, end))]
    return []


def _several_phone_numbers(text: str, start: int, end: int, *,
                           international: bool) -> list[tuple[PhoneNumber, tuple[int, int]]]:
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
    while first < len(groups):
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
        for _, span_start, span_end, last, group_digits in readable:
            numbers = _phone_numbers(text, span_start, span_end, digits=group_digits)
            if numbers:
                found.extend(numbers)
                first = last + 1
                break
        else:
            first += 1
    return found


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


# --- e-mail addresses ------------------------------------------------------------------------

_TLDS: Final = (r"(?:com|net|org|edu|gov|io|co|uk|de|fr|au|in|ca|me|info|biz|us|nl|es|it|"
                r"ru|jp|ch|se|no|dk|fi|pl|ie|nz|za|br|mx|be|at|pt)")
_MAIL_PROVIDERS: Final = (r"(?:gmail|googlemail|yahoo|hotmail|outlook|icloud|aol|"
                          r"proton|protonmail|gmx|yandex|zoho|msn|btinternet|qq)")
_LONGEST_LOCAL_PART: Final = 64
_LONGEST_DOMAIN: Final = 255
_EMAIL: Final = re.compile(
    r"(?<![\w.+-])[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b"
    # "name @ example.com", "name @ gmail . com"; not "thanks @sam . It was"
    rf"|(?<![\w.+-])[a-z0-9][a-z0-9._%+-]*\s?@\s?(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*\.{_TLDS}"
    rf"|{_MAIL_PROVIDERS}\s?\.\s?{_TLDS})\b")
# "name at gmail dot com", "name [at] example (dot) org", "name (at) gmail.com". After a plain
# " at " the dot must be spelled out or the domain a mail provider, or "my mates at school. No"
# would count.
_BRACKETED_AT: Final = r"\s*[\[({<]\s*at\s*[\])}>]\s*"
_SPELLED_DOT: Final = r"(?:\s*[\[({<]\s*dot\s*[\])}>]\s*|\s+dot\s+)"
_ANY_DOT: Final = rf"(?:{_SPELLED_DOT}|\s?\.\s?)"
_OBFUSCATED_EMAIL: Final = re.compile(
    rf"(?<![\w.])[a-z0-9][a-z0-9._%+-]*(?:{_BRACKETED_AT}(?:[a-z0-9-]+{_ANY_DOT})+{_TLDS}"
    rf"|\s+at\s+(?:[a-z0-9-]+{_SPELLED_DOT})+{_TLDS}"
    rf"|\s+at\s+{_MAIL_PROVIDERS}(?:{_ANY_DOT}[a-z0-9-]+)*?{_ANY_DOT}{_TLDS})\b")
# Without an "@", an address needs "at" and a spelled "dot" or a provider's name.
_EMAIL_HINTS: Final = frozenset({
    "dot", "gmail", "googlemail", "yahoo", "hotmail", "outlook", "icloud", "aol", "proton",
    "protonmail", "gmx", "yandex", "zoho", "msn", "btinternet", "qq"})


def _email_spans(text: str, keys: frozenset[str]) -> Iterator[tuple[int, int]]:
    # Searched only around each "@" (an address is at most 64 + 255 characters), as mentions
    # put "@"s in many messages.
    searched_to = 0
    at = text.find("@")
    while at != -1:
        start = max(searched_to, at - _LONGEST_LOCAL_PART)
        for match in _EMAIL.finditer(text, start, at + _LONGEST_DOMAIN):
            searched_to = max(searched_to, match.end())
            yield match.span()
        at = text.find("@", max(at + 1, searched_to))
    if "at" in keys and not _EMAIL_HINTS.isdisjoint(keys):
        for match in _OBFUSCATED_EMAIL.finditer(text):
            yield match.span()


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


# --- requests to move off the platform -------------------------------------------------------
# Matched on the words view, where "sn4p" reads "snap".

_PLATFORM: Final = (
    r"(?:snap(?:chat)?|sc|insta(?:gram)?|ig|discord|telegram|tele|tg|whats\s?app|wa|kik|"
    r"tik\s?tok|tt|facebook|fb|messenger|twitter|signal|skype|wechat|viber|line|reddit|"
    r"tumblr|threads|bluesky|bsky|e-?mail|gmail|hotmail|outlook|phone|cell|mobile|"
    r"psn|xbox|steam|twitch|roblox|dms?|pms?)")
_NAMED_PLATFORM: Final = (
    r"(?:snap(?:chat)?|insta(?:gram)?|ig|discord|telegram|tele|whats\s?app|kik|tik\s?tok|"
    r"facebook|fb|twitter|signal|skype|wechat|viber|reddit|tumblr|threads|bluesky|bsky|"
    r"e-?mail|psn|xbox|steam|twitch|roblox)")
_OFF_PLATFORM_REQUEST: Final = re.compile(
    # "add me on snap", "hmu on insta", "dm me on discord", "talk to me on whatsapp"
    rf"\b(?:(?:add|follow|message|msg|dm|pm|text|call|ring|find|contact|reach|talk to|"
    rf"chat with|write to|ping|friend|sub to)\s+(?:me|us)|hmu|hit me up|hit us up)"
    rf"\s+(?:on|at|via|through|over|in)\s+(?:my\s+)?{_PLATFORM}\b")
_OFF_PLATFORM_NAMED: Final = re.compile(
    # "@handle on insta", "insta: @handle", "snap @handle", "discord: name#1234"
    rf"@[\w.]{{2,}}\s+(?:on|at)\s+{_NAMED_PLATFORM}\b"
    rf"|\b{_NAMED_PLATFORM}\s*(?::|-|=)?\s*@[\w.]{{2,}}"
    rf"|\b{_NAMED_PLATFORM}\s*[:=]\s*(?!(?:not|no|yes|the|and|but|its|it's|is|was|i|im)\b)"
    rf"[\w.#]{{3,}}"
    # "join my discord", "let's take this to snap"
    rf"|\bjoin\s+(?:my|our)\s+{_NAMED_PLATFORM}(?:\s+server)?\b"
    rf"|\b(?:come\s+to|move\s+to|switch\s+to|take\s+this\s+to|continue\s+on|talk\s+on|"
    rf"chat\s+on|meet\s+(?:me\s+)?on)\s+(?:my\s+|our\s+|the\s+)?"
    rf"{_NAMED_PLATFORM}(?:\s+server)?\b")
_OFF_PLATFORM_MY: Final = re.compile(
    # "my snap is …", "my insta: …"
    rf"\bmy\s+(?:{_NAMED_PLATFORM}|addy|discord\s+tag|user\s?name\s+on\s+{_NAMED_PLATFORM})"
    rf"\s*(?:is\b|=|:|->|-)"
    # "my website is …", "my blog: …": a site of one's own says who one is
    rf"|\bmy\s+(?:web\s?site|site|blog|channel|portfolio|linktree)\s*(?:is\b|:)"
    # "my number is 07…" (the digits are found as a phone too), "my cell: seven seven…"
    rf"|\bmy\s+(?:phone\s+)?(?:number|cell|mobile|digits)\s*(?:is|:|=)\s*"
    rf"(?:[+(\d]|zero|oh|one|two|three|four|five|six|seven|eight|nine)")
_OFF_PLATFORM_ME: Final = re.compile(
    # "text me", "whatsapp me", "snap me" (not "snap me out of it"), "call me on/at …"
    r"\b(?:text|whats\s?app|snap|kik|telegram|facetime|email|e-mail|skype)\s+me\b"
    r"(?!\s+out\b)"
    r"|\bcall\s+me\s+(?:at|on|anytime|any\s+time|sometime|tonight|later|tomorrow)\b")
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


@dataclass(frozen=True)
class _RequestPattern:
    pattern: re.Pattern[str]
    severity: Severity
    first_words: frozenset[str]
    next_words: frozenset[str] | None


_REQUEST_PATTERNS: Final = (
    _RequestPattern(_OFF_PLATFORM_NAMED, Severity.MEDIUM, _NAMED_PLATFORM_WORDS, None),
    _RequestPattern(_OFF_PLATFORM_REQUEST, Severity.MEDIUM, _REQUEST_VERBS,
                    frozenset({"me", "us", "to", "with", "on", "at", "via"})),
    _RequestPattern(_OFF_PLATFORM_MY, Severity.MEDIUM, frozenset({"my"}), _OWN_DETAILS),
    _RequestPattern(_OFF_PLATFORM_ME, Severity.MEDIUM, _ME_VERBS, frozenset({"me"})),
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
        if request.first_words.isdisjoint(tokens.key_set):
            continue  # the common case
        for window_start, window_end in _windows_around(tokens, request, len(words_text)):
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


def _windows_around(tokens: Tokens, request: _RequestPattern,
                    text_length: int) -> list[tuple[int, int]]:
    keys = tokens.keys
    next_words = request.next_words
    anchors = [index for index in _positions(keys, request.first_words & tokens.key_set)
               if next_words is None or (index + 1 < len(keys) and keys[index + 1] in next_words)]
    windows: list[tuple[int, int]] = []
    for index in anchors:
        start, end = tokens.spans[index]
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
            or (bool(before) and before[-1] in _THIRD_PERSON))


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
