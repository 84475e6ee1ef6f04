"""Sanctions in force, and the graduated ladder moderators are offered."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from chat.errors import ErrorCode, HearthError
from hearth.hotcache import TimedCache
from moderation.models import Sanction, SanctionKind

LADDER_LOOKBACK = timedelta(days=90)


@dataclass(frozen=True)
class LadderStep:
    kind: SanctionKind
    duration: timedelta | None  # None: no end (ban) or nothing to end (warning)
    label: str


LADDER = (
    LadderStep(SanctionKind.WARNING, None, "Warning"),
    LadderStep(SanctionKind.TIMEOUT, timedelta(hours=1), "1 hour timeout"),
    LadderStep(SanctionKind.TIMEOUT, timedelta(hours=24), "24 hour timeout"),
    LadderStep(SanctionKind.BAN, None, "Ban"),
)


def active_posting_sanction(*, member_id: int, room_id: int) -> Sanction | None:
    """A timeout or ban that stops this member posting in this room right now."""
    sanction = sanction_cache.get((member_id, room_id))
    if sanction is not None and sanction.ends_at is not None and (
            sanction.ends_at <= timezone.now()):
        # It ran out while cached; another may follow it.
        sanction_cache.forget((member_id, room_id))
        sanction = sanction_cache.get((member_id, room_id))
    return sanction


def _posting_sanctions(*, member_ids: list[int], room_ids: list[int]) -> QuerySet[Sanction]:
    now = timezone.now()
    return (Sanction.objects
            .filter(member_id__in=member_ids, kind__in=[SanctionKind.TIMEOUT, SanctionKind.BAN],
                    starts_at__lte=now)
            .filter(Q(room_id__in=room_ids) | Q(room__isnull=True))
            .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
            # A ban (no end) first, else the timeout that ends last; explicit about NULL,
            # which SQLite sorts first and PostgreSQL last.
            .order_by(F("ends_at").desc(nulls_first=True)))


def _load_posting_sanction(key: tuple[int, int]) -> Sanction | None:
    member_id, room_id = key
    return _posting_sanctions(member_ids=[member_id], room_ids=[room_id]).first()


def prefetch_posting_sanctions(pairs: list[tuple[int, int]]) -> None:
    """Read the sanctions of many (member, room) pairs in one query, into the cache (a burst
    of joins checks bans for each)."""
    if not pairs:
        return
    found = list(_posting_sanctions(member_ids=sorted({m for m, _ in pairs}),
                                    room_ids=sorted({r for _, r in pairs})))
    for member_id, room_id in pairs:
        # `found` is in the order active_posting_sanction wants: the first that applies.
        sanction_cache.put((member_id, room_id), next(
            (s for s in found if s.member_id == member_id and s.room_id in (None, room_id)),
            None))


def prefetch_stale_posting_sanctions(pairs: list[tuple[int, int]]) -> None:
    """prefetch_posting_sanctions for the pairs whose cached answer has expired (a batch of
    posts: one query instead of one per sender)."""
    prefetch_posting_sanctions(sorted({p for p in pairs if not sanction_cache.is_fresh(p)}))


# Read on every post. A sanction saved in this worker forgets it (moderation/signals.py); one
# saved elsewhere reaches this worker with its notice to the member's sockets, else expires.
sanction_cache: TimedCache[tuple[int, int], Sanction | None] = TimedCache(
    "posting_sanction", _load_posting_sanction)


def forget_sanctions(*, member_id: int) -> None:
    """This member's cached sanctions, in every room, are read again on their next post."""
    sanction_cache.forget_where(lambda key: key[0] == member_id)


def ensure_may_post(*, member_id: int, room_id: int) -> None:
    sanction = active_posting_sanction(member_id=member_id, room_id=room_id)
    if sanction is None:
        return
    if sanction.kind == SanctionKind.BAN or sanction.ends_at is None:
        raise HearthError(ErrorCode.BANNED)
    seconds = max(1, math.ceil((sanction.ends_at - timezone.now()).total_seconds()))
    raise SanctionRefusedError(ErrorCode.TIMED_OUT, retry_after=seconds)


class SanctionRefusedError(HearthError):
    def __init__(self, code: ErrorCode, *, retry_after: float) -> None:
        super().__init__(code)
        self.retry_after = retry_after


def _rung_of(sanction: Sanction) -> int:
    """Where a past sanction sits on the ladder; a timeout of any length counts, by length."""
    if sanction.kind == SanctionKind.WARNING:
        return 0
    if sanction.kind == SanctionKind.BAN or sanction.ends_at is None:
        return len(LADDER) - 1
    length = sanction.ends_at - sanction.starts_at
    long_timeout = LADDER[2].duration or timedelta(hours=24)
    return 2 if length >= long_timeout - timedelta(minutes=1) else 1


def suggested_step(*, member_id: int) -> LadderStep:
    """The next rung: one past the strongest sanction this member had in the last 90 days."""
    since = timezone.now() - LADDER_LOOKBACK
    history = Sanction.objects.filter(member_id=member_id, starts_at__gte=since)
    rung = max((_rung_of(sanction) for sanction in history), default=-1)
    return LADDER[min(rung + 1, len(LADDER) - 1)]


def ensure_not_banned(*, member_id: int, room_id: int) -> None:
    """A banned member cannot enter the room (or any room, for a site ban)."""
    sanction = active_posting_sanction(member_id=member_id, room_id=room_id)
    if sanction is not None and (sanction.kind == SanctionKind.BAN or sanction.ends_at is None):
        raise HearthError(ErrorCode.BANNED)
