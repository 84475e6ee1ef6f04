"""Everything Hearth says to someone who may be in distress, in one place.

Written to safe-messaging guidance (Samaritans, NSPA, 988 Lifeline): warm and plain; no
blame, no alarm, no talk of methods; one way to reach a person now, always; never a wall of
links. Change the words here and only here, and have someone who knows the guidance read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from moderation import duty
from moderation.helplines import (
    FALLBACK_REGION,
    MORE_HELPLINES_URL,
    helpline_card,
    helpline_for,
    regions_with_lines,
)
from moderation.screening.types import Signal, SignalKind

EMERGENCY: Final = "If you're in danger right now, call your local emergency number."

# The tier of the support card, from the writer's own words (or someone else's crisis).
CARD_TIERS: Final = ("concern", "high_risk", "imminent", "worried_about_someone")
_WRITER_TIERS: Final = (SignalKind.IMMINENT, SignalKind.HIGH_RISK, SignalKind.CONCERN)


@dataclass(frozen=True)
class CardCopy:
    title: str
    body: str


_ALONE = "It sounds like you're going through a lot right now. You don't have to face this alone."
CARD_COPY: Final = {
    "concern": CardCopy(
        title="Thank you for sharing this",
        body="It sounds like things are really hard right now. You don't have to face this "
             "alone. If it would help to talk to someone, the line below is free, "
             "confidential and there to listen."),
    "high_risk": CardCopy(
        title="You don't have to face this alone",
        body=_ALONE + " If you can, please reach out to someone now. The line below is free "
             "and confidential, and you'll talk to a real person."),
    "imminent": CardCopy(
        title="You don't have to face this alone",
        body=_ALONE + " Please reach out to someone right now. The line below is free and "
             "confidential, and you'll talk to a real person."),
    "worried_about_someone": CardCopy(
        title="It's kind to look out for them",
        body="It sounds like you're worried about someone. You're not alone with this. You "
             "can gently encourage them to talk to someone, and the line below can also help "
             "you think about how to support them. Please look after yourself too."),
}

ASKED_WITH_STAFF: Final = ("We've let the team know. Someone will invite you to a private chat "
                           "here soon. You don't need to do anything else.")
ASKED_WITHOUT_STAFF: Final = ("Nobody from our team is on duty right now, so we can't chat "
                              "one-to-one here yet. The helpline on your card is there to "
                              "talk with you.")
ROOM_CLOSED: Final = ("This room is open when someone from our team is on duty, and nobody "
                      "is right now. You can still read along. If you'd like to talk to "
                      "someone now, the line below is there for you.")
ROOM_OPEN: Final = "Someone from our team is on duty, so this room is open."
ASIDE_INVITE: Final = ("{staff} from the team would like to talk with you privately. Only the "
                       "two of you will see it, and you stay anonymous. It's fine to say "
                       "not now.")
COLLAPSED_NOTICE: Final = ("Others see your message as waiting for a moderator for now, "
                           "because it includes details about ways of harming yourself, "
                           "which can put others at risk. You haven't done anything wrong, "
                           "and you're welcome to keep talking about how you feel.")
KEPT_FOR_AUTHOR_NOTICE: Final = ("A moderator looked at your message. It stays visible only to "
                          "you, because details about ways of harming yourself can put "
                          "others at risk. You haven't done anything wrong, and you're "
                          "welcome to keep talking about how you feel.")

# Nobody from the team has answered the member's alert yet. Honest (no "someone is coming"
# we cannot promise), warm, and a person to talk to now.
STILL_REACHING_TITLE: Final = "We haven't forgotten you"
STILL_REACHING_BODY: Final = ("We're still trying to reach someone from our team for you, and "
                              "it's taking longer than we'd like. You don't have to wait for "
                              "us: the line below is free and confidential, and you can talk "
                              "to a real person there now.")

REGION_LABELS: Final = {
    "US": "United States", "CA": "Canada", "GB": "United Kingdom", "IE": "Ireland",
    "AU": "Australia", "NZ": "New Zealand", FALLBACK_REGION: "Somewhere else",
}


def card_tier(signals: tuple[Signal, ...]) -> str | None:
    """Which card a message's crisis signals call for, if any: the writer's own distress
    first, then someone else's; method detail alone gets the gentlest card."""
    kinds = {signal.kind for signal in signals}
    for tier in _WRITER_TIERS:
        if tier in kinds:
            return tier.value
    if SignalKind.WORRIED_ABOUT_SOMEONE in kinds:
        return "worried_about_someone"
    if SignalKind.METHOD_DETAIL in kinds:
        return "concern"
    return None


def region_choices() -> list[dict[str, str]]:
    return [{"code": code, "label": REGION_LABELS.get(code, code)}
            for code in [*regions_with_lines(), FALLBACK_REGION]]


def helpline_frame_field(region: str | None) -> dict[str, Any]:
    return helpline_card(helpline_for(region=None if region == FALLBACK_REGION else region))


def support_frame(*, tier: str, seq: int | None, region: str | None,
                  staff_on_duty: int) -> dict[str, Any]:
    copy = CARD_COPY[tier]
    return {"type": "support", "tier": tier, "seq": seq, "title": copy.title,
            "body": copy.body, "helpline": helpline_frame_field(region),
            "region": region or FALLBACK_REGION, "regions": region_choices(),
            "more_url": MORE_HELPLINES_URL, "emergency": EMERGENCY,
            "staff_on_duty": staff_on_duty, "can_ask_for_support": staff_on_duty > 0}


def support_frame_for(*, tier: str, seq: int | None, region: str | None) -> dict[str, Any]:
    """The card as it is sent now: with the number of staff on duty to talk to."""
    return support_frame(tier=tier, seq=seq, region=region, staff_on_duty=duty.on_duty_count())


def helpline_frame(*, region: str | None) -> dict[str, Any]:
    return {"type": "helpline", "region": region or FALLBACK_REGION,
            "helpline": helpline_frame_field(region), "more_url": MORE_HELPLINES_URL}


def support_requested_frame(*, staff_on_duty: int) -> dict[str, Any]:
    return {"type": "support_requested", "staff_on_duty": staff_on_duty,
            "detail": ASKED_WITH_STAFF if staff_on_duty else ASKED_WITHOUT_STAFF}


def still_reaching_frame(*, room_slug: str, room_title: str) -> dict[str, Any]:
    """Told once to a member whose alert nobody has acknowledged yet. The worldwide line: the
    member's region is known only to their page, which shows its own line when it has one."""
    return {"type": "still_reaching", "room": room_slug, "room_title": room_title,
            "title": STILL_REACHING_TITLE, "body": STILL_REACHING_BODY,
            "helpline": helpline_frame_field(None), "more_url": MORE_HELPLINES_URL,
            "emergency": EMERGENCY}


def staffing_field(*, staffed_only: bool, on_duty: int, region: str | None) -> dict[str, Any]:
    is_open = not staffed_only or on_duty > 0
    return {"staffed_only": staffed_only, "on_duty": on_duty, "open": is_open,
            "detail": "" if not staffed_only else (ROOM_OPEN if is_open else ROOM_CLOSED),
            "helpline": None if is_open else helpline_frame_field(region)}


def aside_invite_text(*, staff_handle: str) -> str:
    return ASIDE_INVITE.format(staff=staff_handle)
