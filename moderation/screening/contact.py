"""Contact details: phone numbers, e-mail addresses, social profiles, requests to move the
conversation elsewhere, and street addresses (rule "no-contact-details").

Anonymity is what makes members safe here (PRODUCT.md, principle 1): a phone number or a
"add me on snap" takes a conversation where nobody watches over it. Every signal carries the
span to mask, on the original text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

import phonenumbers
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatch, PhoneNumberMatcher

from moderation.screening.lexicon import read_sections, word_set
from moderation.screening.normalize import NormalizedText, TextView
from moderation.screening.types import (
    DetectorName,
    Rule,
    ScreeningContext,
    Severity,
    Signal,
    SignalKind,
)

# --- phone numbers ---------------------------------------------------------------------------

# Seven or more digits with at most three separator characters between neighbours. Only text
# with such a run reaches phonenumbers, which costs about 0.1 ms a call.
# Not inside a URL or a longer token ("kahoot.it/challenge/08196716").
_PHONE_CANDIDATE: Final = re.compile(r"(?<![\w+/=#.])\+?\(?\d(?:[ \t.\-/()]{0,3}\d){6,30}")
_DIGIT: Final = re.compile(r"\d")
# National formats are read as numbers of these regions, in this order; a number with a
# country code ("+44…", "0044…") is read as written. Hearth's first operators are in these
# countries; an operator elsewhere would add theirs.
# Tried in an order that depends on the number of digits, most likely first: each try costs
# about 0.03 ms.
_REGIONS_BY_LENGTH_WITH_TRUNK_ZERO: Final = {
    10: ("FR", "AU", "GB", "DE"), 11: ("GB", "IN", "DE")}
_OTHER_REGIONS_WITH_TRUNK_ZERO: Final = ("DE", "GB")
_REGIONS_WITHOUT_TRUNK_ZERO: Final = ("US", "IN")
# phonenumbers' own checks for dates and times look just past the candidate ("…-21 10:30").
_CONTEXT_AFTER: Final = 3
# Digit runs that are something else, whatever phonenumbers thinks: IP addresses, dates
# ("13-10-2020", "2020/10/13"), scores and fractions ("0/100000"), a US social security
# number's grouping.
_NOT_A_PHONE: Final = re.compile(
    r"\d{1,3}(?:\.\d{1,3}){3}|\d{1,2}([-/.])\d{1,2}\1\d{2,4}|\d{4}([-/.])\d{1,2}\2\d{1,2}"
    r"|\d{1,2}/\d+|\d{3}-\d{2}-\d{4}")
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
        window = text[start:end + _CONTEXT_AFTER]
        digits = len(_DIGIT.findall(candidate.group()))
        matches = _phone_matches(window, digits=digits)
        if not matches:
            if (_CUED_PHONE_DIGITS[0] <= digits <= _CUED_PHONE_DIGITS[1]
                    and _PHONE_CUE.search(text, max(0, start - _CUE_REACH), start)):
                # "call me on 9472 7916": a local number from a country not listed above.
                yield start, end
            continue
        for match in matches:
            if allowed and phonenumbers.format_number(
                    match.number, PhoneNumberFormat.E164) in allowed:
                continue
            yield start + match.start, start + match.end


def _phone_matches(window: str, *, digits: int) -> list[PhoneNumberMatch]:
    compact = window.lstrip("(")
    if compact.startswith(("+", "00")):
        # An explicit country code is strong evidence on its own, so a number that is merely
        # possible counts (the UK's 07700 900xxx drama range is not "valid").
        return list(PhoneNumberMatcher(window, "GB", leniency=Leniency.POSSIBLE))
    regions = (_REGIONS_BY_LENGTH_WITH_TRUNK_ZERO.get(digits, _OTHER_REGIONS_WITH_TRUNK_ZERO)
               if compact.startswith("0") else _REGIONS_WITHOUT_TRUNK_ZERO)
    for region in regions:
        matches = list(PhoneNumberMatcher(window, region, leniency=Leniency.VALID))
        if matches:
            return matches
    return []


# --- e-mail addresses ------------------------------------------------------------------------

_TLDS: Final = (r"(?:com|net|org|edu|gov|io|co|uk|de|fr|au|in|ca|me|info|biz|us|nl|es|it|"
                r"ru|jp|ch|se|no|dk|fi|pl|ie|nz|za|br|mx|be|at|pt)")
_MAIL_PROVIDERS: Final = (r"(?:gmail|googlemail|yahoo|hotmail|outlook|icloud|aol|"
                          r"proton|protonmail|gmx|yandex|zoho|msn|btinternet|qq)")
_EMAIL: Final = re.compile(
    r"(?<![\w.+-])[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b"
    # "name @ example.com", "name @ gmail . com"; not "thanks @sam . It was"
    rf"|(?<![\w.+-])[a-z0-9][a-z0-9._%+-]*\s?@\s?(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*\.{_TLDS}"
    rf"|{_MAIL_PROVIDERS}\s?\.\s?{_TLDS})\b")
# "name at gmail dot com", "name [at] example (dot) org", "name (at) gmail.com". After a plain
# " at " the dot must be spelled out or the domain a mail provider, or "peers at school. No"
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

# --- social profiles and messaging links -----------------------------------------------------

_SOCIAL_HOSTS: Final = (
    r"instagram\.com|instagr\.am|snapchat\.com|snap\.com|tiktok\.com|facebook\.com|fb\.com|"
    r"fb\.me|m\.me|messenger\.com|twitter\.com|x\.com|discord\.gg|discord\.com|"
    r"discordapp\.com|t\.me|telegram\.me|telegram\.dog|wa\.me|chat\.whatsapp\.com|"
    r"api\.whatsapp\.com|whatsapp\.com|kik\.me|signal\.me|signal\.group|linkedin\.com|"
    r"reddit\.com/u(?:ser)?|threads\.net|bsky\.app|[a-z0-9-]+\.bsky\.social|[a-z0-9-]+\.tumblr\.com|"
    r"tumblr\.com|onlyfans\.com|linktr\.ee|line\.me|skype\.com|twitch\.tv|"
    r"youtube\.com/(?:@|channel/|c/|user/)|"
    r"steamcommunity\.com|vk\.com|weixin\.qq\.com|wechat\.com|viber\.com|invite\.viber\.com")
# A profile needs a path ("instagram.com/someone"); the bare site name is just a site. On
# Reddit and YouTube only user and channel paths are profiles; posts and videos are not.
_SOCIAL_URL: Final = re.compile(
    rf"(?<![\w.-])(?:https?://)?(?:www\.|m\.|mobile\.|vm\.)?(?:{_SOCIAL_HOSTS})/?[^\s<>\"'()\[\]]+")

# --- requests to move off the platform -------------------------------------------------------

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
# Each pattern needs some of these words; without them it is not run.
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
    "text", "whatsapp", "whats", "snap", "kik", "telegram", "facetime", "email", "skype",
    "call"})
_PRIVATE_MESSAGE_VERBS: Final = frozenset({"dm", "pm", "message", "msg", "inbox"})


def _off_platform_patterns(keys: frozenset[str]) -> list[tuple[re.Pattern[str], Severity]]:
    patterns: list[tuple[re.Pattern[str], Severity]] = []
    if not _NAMED_PLATFORM_WORDS.isdisjoint(keys):
        patterns.append((_OFF_PLATFORM_NAMED, Severity.MEDIUM))
    if ("me" in keys or "us" in keys or "hmu" in keys) and not _REQUEST_VERBS.isdisjoint(keys):
        patterns.append((_OFF_PLATFORM_REQUEST, Severity.MEDIUM))
    if "my" in keys and not _OWN_DETAILS.isdisjoint(keys):
        patterns.append((_OFF_PLATFORM_MY, Severity.MEDIUM))
    if "me" in keys:
        if not _ME_VERBS.isdisjoint(keys):
            patterns.append((_OFF_PLATFORM_ME, Severity.MEDIUM))
        if not _PRIVATE_MESSAGE_VERBS.isdisjoint(keys):
            patterns.append((_PRIVATE_MESSAGE_REQUEST, Severity.LOW))
    return patterns


# "please don't text me" and "they text me every day" are not requests.
_NEGATIONS: Final = word_set(read_sections("negations.txt")["negations"])
_THIRD_PERSON: Final = word_set(read_sections("subjects.txt")["third_person"])

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
    r"easier|hard|good|bad|right|wrong|different|same|whole|long|short|very|really|new|old|"
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
# Types that are also English words ("via text 5 times"): the name after them must be
# capitalised in what the member wrote.
_ENGLISH_LOOKING_TYPES: Final = frozenset({"via", "corso", "paseo", "strada", "carrera"})
# Words that introduce an address: "I live at …", "my address is …", "send it to …".
_ADDRESS_CUE: Final = (
    r"(?:li(?:ve|ves|ving)\s+(?:at|on)|(?:stay|staying|located|based)\s+at|address(?:\s+is)?"
    r"|(?:send|sent|deliver(?:ed)?|post(?:ed)?|ship(?:ped)?)\s+(?:it\s+|them\s+)?to"
    r"|drops?\s+(?:you|me|us)\s+off\s+at|meet\s+(?:me|us|you)\s+at|corner\s+of|moved\s+to"
    r"|(?:my|our)\s+(?:house|flat|apartment|place|home)\s+is\s+(?:at|on))")
_TYPE_FIRST_WORDS: Final = frozenset({
    "rue", "avenue", "av", "boulevard", "bd", "chemin", "allee", "impasse", "quai", "calle",
    "c", "avenida", "avda", "paseo", "carrera", "rua", "travessa", "via", "viale", "piazza",
    "corso", "ul", "ulica", "aleja", "strada", "calea"})
_STREET_ADDRESS_PATTERNS: Final = (
    # "221b Baker Street", "1600 Pennsylvania Ave", "24 Clarke Avenue"; not "summer 2019, we
    # were close"
    (re.compile(rf"(?<![\w.,/-])(?!(?:19|20)\d\d,){_HOUSE_NUMBER},?\s+"
                rf"(?:{_NOT_A_STREET_WORD}{_NAME_WORD}\s+){{1,3}}{_STREET_SUFFIX}\b\.?"),
     frozenset(_STREET_SUFFIXES)),
    # "12 rue de la Paix", "36 rue de pologne"
    (re.compile(rf"(?<![\w.,/-]){_HOUSE_NUMBER},?\s+{_TYPE_FIRST}\s+[^\W\d_][\w'-]*"
                r"(?:\s+[^\W\d_][\w'-]*){0,3}"),
     _TYPE_FIRST_WORDS),
    # "PO Box 123", "PSC 4355, Box 4187", "Unit 4719 Box 7394", "FPO AE 25990", "Apt. 117",
    # "Suite 464", "Flat 3"
    (re.compile(r"\b(?:p\.?\s?o\.?\s?box|postfach|(?:psc|cmr|unit)\s+\d{3,5},?\s+box)\s+"
                r"\d{1,6}\b|\b[adf]po\s+a[aep]\s+\d{5}\b"
                r"|\b(?:apt|apartment|suite|ste|flat)\.?\s*#?\d{1,5}[a-z]?\b"),
     frozenset({"box", "pobox", "postfach", "apo", "fpo", "dpo", "apt", "apartment", "suite",
                "ste", "flat"})),
    # "Király u. 15", "Andrássy út 60" (Hungarian: the type follows the name)
    (re.compile(r"\b[^\W\d_]{3,}\s+(?:u\.|utca|ut|utja|ter|korut)\s+\d{1,4}\b"),
     frozenset({"u", "utca", "ut", "utja", "ter", "korut"})),
)
# "I live at Mlynska 1540", "address: 5366 Pivovarska 276": a capitalised name and a number
# after words that introduce an address.
_ADDRESS_CUE_WORDS: Final = frozenset({
    "live", "lives", "living", "stay", "staying", "located", "based", "address", "send", "sent",
    "deliver", "delivered", "post", "posted", "ship", "shipped", "drop", "drops", "meet",
    "corner", "moved", "house", "flat", "apartment", "place", "home"})
_CUED_ADDRESS: Final = re.compile(
    rf"\b{_ADDRESS_CUE}\s*:?\s+(?:the\s+)?(?P<address>"
    rf"(?:{_HOUSE_NUMBER}\s+)?(?:{_NOT_A_STREET_WORD}{_NAME_WORD}\s+){{1,3}}\d{{1,5}}[a-z]?\b"
    rf"|(?!(?:19|20)\d\d\b){_HOUSE_NUMBER},?\s+(?:{_NOT_A_STREET_WORD}{_NAME_WORD}\s+){{0,2}}"
    rf"{_NOT_A_STREET_WORD}{_NAME_WORD})")
_TYPE_FIRST_THEN_NUMBER: Final = re.compile(
    # "Calle Mayor 5", "Via Roma 131", "ul. Długa 5", "Rua Augusta 100", "Via dei Fiorentini 17"
    rf"\b(?P<type>{_TYPE_FIRST})\s+(?P<name>(?:[^\W\d_][\w'-]*\s+){{1,4}})\d{{1,5}}[a-z]?\b")
# "Hauptstraße 5", "Rooseveltlaan 110", "Koskikatu 25", "Storgatan 5": the street type is the
# end of one word. Found as "word number" pairs, then the word's ending is checked, which is
# much cheaper than a regular expression that tries every ending at every word.
_WORD_THEN_NUMBER: Final = re.compile(r"\b([^\W\d_]{4,})\.?\s+\d{1,4}[a-z]?\b")
_COMPOUND_STREET_ENDINGS: Final = (
    "strasse", "str", "gasse", "weg", "allee", "platz", "damm", "ufer", "straat", "laan",
    "gracht", "plein", "steeg", "kade", "singel", "gatan", "vagen", "gata", "gade", "vej",
    "veien", "vegen", "vænget", "stræti", "braut", "katu", "tie", "kuja", "utca")


def _street_address_spans(folded: TextView, original: str,
                          keys: frozenset[str]) -> Iterator[tuple[int, int]]:
    text = folded.text
    # Each pattern needs one of a few words; most messages with digits have none of them.
    for pattern, needed in _STREET_ADDRESS_PATTERNS:
        if not needed.isdisjoint(keys):
            for match in pattern.finditer(text):
                yield match.start(), match.end() - _trailing_space(match.group())
    if not _ADDRESS_CUE_WORDS.isdisjoint(keys):
        for match in _CUED_ADDRESS.finditer(text):
            if _has_capitalised_word(folded, original, *match.span("address")):
                yield match.start(), match.end() - _trailing_space(match.group())
    if not _TYPE_FIRST_WORDS.isdisjoint(keys):
        for match in _TYPE_FIRST_THEN_NUMBER.finditer(text):
            if match.group("type") in _ENGLISH_LOOKING_TYPES and not _has_capitalised_word(
                    folded, original, match.start("name"), match.end("name")):
                continue
            yield match.span()
    if any(key.endswith(_COMPOUND_STREET_ENDINGS) for key in keys):
        for match in _WORD_THEN_NUMBER.finditer(text):
            if match.group(1).endswith(_COMPOUND_STREET_ENDINGS):
                yield match.span()


def _has_capitalised_word(folded: TextView, original: str, start: int, end: int) -> bool:
    original_start, original_end = folded.original_span(start, end)
    return any(word[:1].isupper() for word in original[original_start:original_end].split())


def detect_contact_details(*, text: NormalizedText, context: ScreeningContext) -> list[Signal]:
    folded = text.folded
    found: list[tuple[SignalKind, Severity, tuple[int, int]]] = []

    # Each kind has a cheap test first: most messages have no "@", no "/" and few digits.
    found.extend((SignalKind.PHONE, Severity.HIGH, span)
                 for span in _phone_spans(folded, context.allowed_phone_numbers))
    keys = text.tokens.key_set
    if "@" in folded.text or ("at" in keys and not _EMAIL_HINTS.isdisjoint(keys)):
        for pattern in (_EMAIL, _OBFUSCATED_EMAIL):
            found.extend((SignalKind.EMAIL, Severity.HIGH, match.span())
                         for match in pattern.finditer(folded.text))
    if "/" in folded.text:
        found.extend((SignalKind.SOCIAL_PROFILE, Severity.HIGH, match.span())
                     for match in _SOCIAL_URL.finditer(folded.text))
    if _DIGIT.search(folded.text):
        found.extend((SignalKind.STREET_ADDRESS, Severity.HIGH, span)
                     for span in _street_address_spans(folded, text.original, keys))

    signals = [Signal(detector=DetectorName.CONTACT, kind=kind, rule=Rule.NO_CONTACT_DETAILS,
                      severity=severity, span=folded.original_span(*span))
               for kind, severity, span in _drop_overlaps(found)]
    signals.extend(_off_platform_requests(text))
    return signals


def _off_platform_requests(text: NormalizedText) -> list[Signal]:
    # Words, not characters, matter here ("sn4p", "1nsta"), so this reads the words view.
    patterns = _off_platform_patterns(text.tokens.key_set)
    if not patterns:
        return []
    words = text.words
    signals: list[Signal] = []
    for pattern, severity in patterns:
        for match in pattern.finditer(words.text):
            if _negated_or_reported(words.text, match.start()):
                continue
            span = words.original_span(*match.span())
            if any(_overlaps(span, signal.span) for signal in signals if signal.span):
                continue
            signals.append(Signal(detector=DetectorName.CONTACT, kind=SignalKind.OFF_PLATFORM,
                                  rule=Rule.NO_CONTACT_DETAILS, severity=severity, span=span))
    return signals


def _negated_or_reported(text: str, start: int) -> bool:
    before = text[max(0, start - 24):start].replace("'", "").split()[-3:]
    return (any(word in _NEGATIONS for word in before)
            or (bool(before) and before[-1] in _THIRD_PERSON))


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
