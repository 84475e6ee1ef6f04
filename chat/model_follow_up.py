"""After a message is delivered: the learned detector reads it, and what it adds follows.

The message never waits for this (crisis signals never block). The task outlives the socket
that sent the message: an escalation must be written even when the writer has closed the
tab, and their other tabs still get the card.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from django.db import OperationalError

from chat.events import member_group, send_to_group
from chat.protocol import encode
from hearth.database_thread import database_thread
from moderation import services as moderation
from moderation import support
from moderation.model_reader import model_reader
from moderation.screening.combine import added_by_model
from moderation.screening.types import Signal

logger = logging.getLogger(__name__)

# References to the running follow-ups, so none is collected before it finishes.
_running: set[asyncio.Task[None]] = set()


@dataclass(frozen=True)
class StoredMessage:
    message_id: int
    seq: int
    author_id: int
    room_id: int
    text: str  # the author's own words as the rules read them (Verdict.model_text)
    rules_signals: tuple[Signal, ...]


CardSender = Callable[[dict[str, Any]], Awaitable[bool]]


def follow_up(stored: StoredMessage, *, region: str | None, send_card: CardSender) -> None:
    """Start reading `stored` with the model. `send_card` puts a support card down the
    sending socket and says whether it could (False once that socket has closed)."""
    if not model_reader.ready:
        return
    task = asyncio.get_running_loop().create_task(_follow(stored, region, send_card))
    _running.add(task)
    task.add_done_callback(_running.discard)


async def _apply(stored: StoredMessage, added: tuple[Signal, ...]
                 ) -> moderation.ModelFollowUp | None:
    """apply_model_signals, tried once more if the database chose it to end a deadlock with a
    moderator's action on the same message: the escalation must not be lost to that."""
    for attempt in range(2):
        try:
            return await database_thread(moderation.apply_model_signals)(
                message_id=stored.message_id, signals=added,
                rules_signals=stored.rules_signals)
        except OperationalError:
            if attempt:
                raise
    return None


async def _follow(stored: StoredMessage, region: str | None, send_card: CardSender) -> None:
    try:
        added = added_by_model(stored.rules_signals, await model_reader.read(stored.text))
        if not added:
            return
        outcome = await _apply(stored, tuple(added))
        if outcome is None or not outcome.card_tier:
            return
        card = await database_thread(support.support_frame_for)(
            tier=outcome.card_tier, seq=outcome.seq, region=region)
        if not await send_card(card):
            # The sending tab has gone: the member's other tabs, wherever they are.
            await send_to_group(member_group(stored.author_id), {
                "type": "room.frame", "author_id": stored.author_id, "text": encode(card)})
    except Exception:
        # The rules already screened this message; a failure here costs only the model's
        # second look, and is logged without the text.
        logger.exception("the learned detector's follow-up failed")
