"""What every screening detector returns, and what it is given."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum


class Severity(IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4


class DetectorName(StrEnum):
    """The stable names detectors are registered under (registry.py)."""

    CONTACT = "contact"
    HARASSMENT = "harassment"
    SPAM = "spam"
    CRISIS = "crisis"
    DOSING = "dosing"


class Rule(StrEnum):
    """Ground-rule codes a signal cites."""

    NO_CONTACT_DETAILS = "no-contact-details"
    RESPECT = "respect"
    NO_SLURS = "no-slurs"
    NO_SPAM = "no-spam"
    CRISIS_SUPPORT = "crisis-support"
    NO_METHOD_DETAILS = "no-method-details"
    NO_MEDICATION_DOSING = "no-medication-dosing"


class SignalKind(StrEnum):
    # contact
    PHONE = "phone"
    EMAIL = "email"
    SOCIAL_PROFILE = "social_profile"
    OFF_PLATFORM = "off_platform"
    STREET_ADDRESS = "street_address"
    # harassment
    INSULT = "insult"
    SLUR = "slur"
    THREAT = "threat"
    SELF_HARM_INCITEMENT = "self_harm_incitement"
    # spam
    REPEAT = "repeat"
    LINK_FLOOD = "link_flood"
    SHOUTING = "shouting"
    MASS_MENTION = "mass_mention"
    CHARACTER_FLOOD = "character_flood"
    # crisis
    CONCERN = "concern"
    HIGH_RISK = "high_risk"
    IMMINENT = "imminent"
    WORRIED_ABOUT_SOMEONE = "worried_about_someone"
    # Details of a method or means of suicide or self-harm (safe-messaging guidance): the
    # message is collapsed for everyone but its author until a moderator looks. Never a
    # sanction; it comes with the writer's own tier when they are also in distress.
    METHOD_DETAIL = "method_detail"
    # dosing: advising someone else to take, raise, lower, double, skip, stop or switch a
    # medicine or a dose. Whole message; the policy holds it for a moderator.
    DOSING_ADVICE = "dosing_advice"


@dataclass(frozen=True)
class Signal:
    """One thing a detector found.

    `detector` is the registered name (a `DetectorName`); `kind` says what exactly (a
    `SignalKind`: phone, email, social_profile, off_platform, street_address, insult, slur,
    repeat, link_flood, shouting, mass_mention, dosing_advice, …); `rule` is the ground-rule
    code the signal cites (a `Rule`); `span` is (start, end) in the ORIGINAL text, or None
    when the signal is about the whole message.
    """

    detector: str
    kind: str
    rule: str
    severity: Severity
    span: tuple[int, int] | None = None


@dataclass(frozen=True)
class ScreeningContext:
    """What a detector may know besides the text. Empty by default, so detectors can run on
    a bare string (the evaluation command does)."""

    # The same author's recent bodies in this room, newest last (for repeat/flood checks).
    recent_bodies: tuple[str, ...] = field(default_factory=tuple)
    # Seconds since the author's previous message in the room, if any.
    seconds_since_previous: float | None = None
    # Phone numbers members may share, in E.164 form ("+448457909090"): the helplines in the
    # operator's directory. A member pointing another to a helpline is not sharing contact
    # details.
    allowed_phone_numbers: frozenset[str] = field(default_factory=frozenset)
