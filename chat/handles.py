"""Anonymous handles: friendly generated names and the rules a chosen handle must follow."""

from __future__ import annotations

import re
import secrets

from chat.errors import ErrorCode, HearthError
from moderation.screening.normalize import normalize_text

HANDLE_MIN_CHARS = 3
HANDLE_MAX_CHARS = 24
# At most this many digits in a handle: enough for "QuietHeron42", too few for a phone number.
HANDLE_MAX_DIGITS = 4

ADJECTIVES = (
    "Quiet", "Gentle", "Calm", "Bright", "Kind", "Brave", "Steady", "Warm", "Soft", "Patient",
    "Hopeful", "Curious", "Mellow", "Sunny", "Tender", "Easy", "Clear", "Golden", "Silver",
    "Misty", "Lucky", "Cosy", "Humble", "Honest", "Peaceful", "Restful", "Willow", "Amber",
    "Velvet", "Cedar", "Maple", "Autumn", "Spring", "Winter", "Summer", "Morning", "Evening",
    "Starry", "Cloudy", "Breezy",
)
ANIMALS = (
    "Heron", "Otter", "Sparrow", "Fox", "Badger", "Robin", "Finch", "Hare", "Owl", "Wren",
    "Deer", "Seal", "Dolphin", "Panda", "Koala", "Turtle", "Swan", "Lark", "Puffin", "Beaver",
    "Hedgehog", "Bee", "Moth", "Crane", "Dove", "Lynx", "Marten", "Plover", "Kestrel", "Starling",
    "Bison", "Llama", "Alpaca", "Penguin", "Salmon", "Whale", "Pony", "Lamb", "Kitten", "Cub",
)

# Names that would pass a member off as the service or its staff. A handle made only of
# these ("ModTeam", "Staff_Support") is refused; so is one holding an impersonation word
# anywhere ("RealModerator7"). Staff are shown with their role badge, not by their handle.
RESERVED_WORDS = (
    "admin", "administrator", "moderator", "mod", "mods", "staff", "team", "hearth", "system",
    "support", "official", "helpline", "root", "anonymous",
)
IMPERSONATION_WORDS = ("admin", "moderator", "official", "hearthstaff", "hearthteam",
                       "helpline")

_HANDLE_SHAPE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_CONTACT_HINTS = re.compile(
    r"(https?|www|http|gmail|hotmail|outlook|yahoo|insta|snap|telegram|whatsapp|discord"
    r"|tiktok|kik|wickr|signal|dotcom)",
    re.IGNORECASE,
)


def generate_handle() -> str:
    """A random friendly handle like "QuietHeron42" (uniqueness is the caller's job)."""
    return (
        f"{secrets.choice(ADJECTIVES)}{secrets.choice(ANIMALS)}"
        f"{secrets.randbelow(90) + 10}"
    )


def handle_key(handle: str) -> str:
    return handle.lower()


def validate_handle(raw: str) -> str:
    """Return the cleaned handle or raise HearthError with the rule it breaks."""
    handle = raw.strip()
    if len(handle) < HANDLE_MIN_CHARS:
        raise HearthError(ErrorCode.HANDLE_TOO_SHORT)
    if len(handle) > HANDLE_MAX_CHARS:
        raise HearthError(ErrorCode.HANDLE_TOO_LONG)
    # Before the charset and contact checks, so "staff" in Cyrillic or "s.t.a.f.f" get the
    # reason that says what is wrong with them.
    if is_reserved_handle(handle):
        raise HearthError(ErrorCode.HANDLE_RESERVED)
    # Checked before the charset so "@" and "." (emails, links) get the kinder, exact reason.
    if "@" in handle or "." in handle or _CONTACT_HINTS.search(handle):
        raise HearthError(ErrorCode.HANDLE_CONTACT_DETAILS)
    if sum(ch.isdigit() for ch in handle) > HANDLE_MAX_DIGITS:
        raise HearthError(ErrorCode.HANDLE_CONTACT_DETAILS)
    if not _HANDLE_SHAPE.match(handle):
        raise HearthError(ErrorCode.HANDLE_INVALID_CHARACTERS)
    return handle


def _same_i_and_l(text: str) -> str:
    # "1" reads as i or l ("he1pline", "adm1n"), so the two letters compare as one.
    return text.replace("l", "i")


_ONLY_RESERVED = re.compile(
    "(?:" + "|".join(sorted((_same_i_and_l(word) for word in RESERVED_WORDS),
                            key=len, reverse=True)) + ")+")
_IMPERSONATION = tuple(_same_i_and_l(word) for word in IMPERSONATION_WORDS)


# Greek and Cyrillic capitals that look like Latin capitals but whose small letters do not
# (the normaliser folds case first, and a small Greek mu is no "m"): "MOD" in Greek capitals.
_CAPITAL_LOOK_ALIKES = str.maketrans({
    "\u0391": "a", "\u0392": "b", "\u0395": "e", "\u0396": "z", "\u0397": "h",
    "\u0399": "i", "\u039a": "k", "\u039c": "m", "\u039d": "n", "\u039f": "o",
    "\u03a1": "p", "\u03a4": "t", "\u03a5": "y", "\u03a7": "x", "\u0412": "b",
    "\u041d": "h", "\u041c": "m", "\u0422": "t", "\u041a": "k",
})


def _readings(handle: str) -> set[str]:
    """The letters a handle reads as: look-alikes, case, separators and leetspeak undone
    (by the screening normaliser), with and without its trailing number ("m0d42")."""
    readings = set()
    capitals_read = handle.translate(_CAPITAL_LOOK_ALIKES)
    for text in (handle, handle.rstrip("0123456789"), capitals_read,
                 capitals_read.rstrip("0123456789")):
        for view in (normalize_text(text).words.text, handle.lower()):
            letters = re.sub(r"[^a-z]", "", view)
            if letters:
                readings.add(_same_i_and_l(letters))
    return readings


def is_reserved_handle(handle: str) -> bool:
    return any(
        _ONLY_RESERVED.fullmatch(letters) or any(word in letters for word in _IMPERSONATION)
        for letters in _readings(handle)
    )
