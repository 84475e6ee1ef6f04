"""Anonymous handles: friendly generated names and the rules a chosen handle must follow."""

from __future__ import annotations

import re
import secrets

from chat.errors import ErrorCode, HearthError

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

RESERVED_WORDS = (
    "admin", "administrator", "moderator", "mod", "staff", "hearth", "system", "support",
    "official", "helpline", "root", "anonymous",
)

# Words that would pass a member off as staff anywhere in a handle ("RealModerator7").
IMPERSONATION_WORDS = ("admin", "moderator", "official", "hearthstaff")

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
    # Checked before the charset so "@" and "." (emails, links) get the kinder, exact reason.
    if "@" in handle or "." in handle or _CONTACT_HINTS.search(handle):
        raise HearthError(ErrorCode.HANDLE_CONTACT_DETAILS)
    if sum(ch.isdigit() for ch in handle) > HANDLE_MAX_DIGITS:
        raise HearthError(ErrorCode.HANDLE_CONTACT_DETAILS)
    if not _HANDLE_SHAPE.match(handle):
        raise HearthError(ErrorCode.HANDLE_INVALID_CHARACTERS)
    letters_only = re.sub(r"[^a-z]", "", handle.lower())
    if letters_only in RESERVED_WORDS or any(
        word in letters_only for word in IMPERSONATION_WORDS
    ):
        raise HearthError(ErrorCode.HANDLE_RESERVED)
    return handle
