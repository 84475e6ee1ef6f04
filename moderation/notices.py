"""Every notice a member gets from moderation, in one place: warm, plain, never blaming,
always citing the rule and saying how to ask for a review."""

from __future__ import annotations

from typing import Any

from chat.models import Message
from moderation.models import Sanction, SanctionKind
from moderation.rules import rule_title
from moderation.screening.types import Signal
from moderation.support import COLLAPSED_NOTICE, KEPT_FOR_AUTHOR_NOTICE

APPEAL_TEXT = ("If you think this wasn't fair, you can ask a moderator to look at it again "
               "from your You page.")
APPEAL_URL = "/me/#appeals"


def _notice(kind: str, rule: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": "notice", "kind": kind, "rule": rule,
            "rule_title": rule_title(rule) if rule else "", "detail": detail,
            "appeal_url": APPEAL_URL, **extra}


def event(notice: dict[str, Any]) -> dict[str, Any]:
    """Wrap a notice for the member's sockets (the consumer forwards it as is)."""
    return {"type": "member.notice", "notice": notice}


def masked(*, rule: str, signals: tuple[Signal, ...]) -> dict[str, Any]:
    return _notice("masked", rule,
                   "We hid part of your message, because sharing contact details here can "
                   "put people at risk. Everything else was posted.")


def held(*, rule: str, seq: int) -> dict[str, Any]:
    return _notice("held", rule,
                   "Your message is waiting for a moderator to look at it. Only you can see "
                   "it for now. You haven't done anything wrong by writing it.", seq=seq)


def kept_for_author(*, seq: int) -> dict[str, Any]:
    return _notice("kept_for_author", "no-method-details", KEPT_FOR_AUTHOR_NOTICE, seq=seq)


def collapsed(*, seq: int) -> dict[str, Any]:
    return _notice("collapsed", "no-method-details", COLLAPSED_NOTICE, seq=seq)


def blocked(*, rule: str, client_id: str) -> dict[str, Any]:
    return _notice("blocked", rule,
                   "This message wasn't posted because it goes against this ground rule. "
                   "You're welcome to say it another way.", client_id=client_id)


def hidden(*, message: Message, rule: str) -> dict[str, Any]:
    return _notice("hidden", rule,
                   "A moderator hid one of your messages because of this ground rule. "
                   + APPEAL_TEXT, seq=message.seq)


def restored(*, message: Message) -> dict[str, Any]:
    return _notice("restored", "", "A moderator looked at your message and it's back in "
                   "the conversation.", seq=message.seq)


def sanctioned(*, sanction: Sanction) -> dict[str, Any]:
    where = "in this room" if sanction.room_id else "anywhere on Hearth"
    if sanction.kind == SanctionKind.WARNING:
        detail = ("A moderator is asking you to keep to this ground rule. This is a friendly "
                  "reminder, nothing more.")
    elif sanction.kind == SanctionKind.TIMEOUT:
        detail = (f"A moderator has paused your posting {where} for a while because of this "
                  "ground rule. You can still read along, and posting comes back by itself. "
                  + APPEAL_TEXT)
    else:
        detail = (f"A moderator has stopped you posting {where} because of this ground "
                  "rule. " + APPEAL_TEXT)
    return _notice(sanction.kind, sanction.rule, detail,
                   ends_at=sanction.ends_at.isoformat() if sanction.ends_at else None,
                   reason=sanction.reason,
                   room=sanction.room.slug if sanction.room else None)
