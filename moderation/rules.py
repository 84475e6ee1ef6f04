"""Ground rules: what a member sees on entering a room, and the version they accept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F, Q

from chat.errors import ErrorCode, HearthError
from chat.events import tell_room_sync
from hearth.hotcache import TimedCache
from moderation.models import GroundRule, RoomRulesVersion, RulesAcceptance
from rooms.models import Room

# Site-wide rules (no room) before a room's own on every database: PostgreSQL would sort NULL
# last, SQLite first.
SITE_RULES_FIRST = F("room_id").asc(nulls_first=True)


@dataclass(frozen=True)
class RoomRules:
    version: int
    rules: list[dict[str, str]]  # code, title, text, scope ("site" or "room")

    def as_frame_field(self, *, accepted: bool) -> dict[str, Any]:
        return {"version": self.version, "accepted": accepted, "rules": self.rules}


def _load_rules_version(room_id: int) -> int:
    state, _ = RoomRulesVersion.objects.get_or_create(room_id=room_id)
    return state.version


# Read on every post. rules_changed forgets it here; other workers forget it when the room's
# `rules.changed` event reaches their sockets, else when it expires.
rules_version_cache: TimedCache[int, int] = TimedCache("rules_version", _load_rules_version)
# The version each member accepted per room. Only ever rises, so a cached value that is
# current is true; an older or missing one is read again.
_accepted_cache: TimedCache[tuple[int, int], int | None] = TimedCache(
    "rules_accepted", lambda key: _accepted_version(member_id=key[0], room_id=key[1]))


def rules_version(*, room_id: int) -> int:
    return rules_version_cache.get(room_id)


def _accepted_version(*, member_id: int, room_id: int) -> int | None:
    return RulesAcceptance.objects.filter(member_id=member_id, room_id=room_id).values_list(
        "version", flat=True).first()


def room_rules(*, room_id: int) -> RoomRules:
    """What a member sees on entering; read on every join, so kept like the version."""
    return _room_rules_cache.get(room_id)


def _load_room_rules(room_id: int) -> RoomRules:
    rules = (GroundRule.objects.filter(Q(room__isnull=True) | Q(room_id=room_id), is_active=True)
             .order_by(SITE_RULES_FIRST, "position", "code"))
    return RoomRules(
        version=rules_version(room_id=room_id),
        rules=[{"code": r.code, "title": r.title, "text": r.text,
                "scope": "site" if r.room_id is None else "room"} for r in rules],
    )


# Forgotten with the version (rules_changed) and when any rule is saved (moderation/signals).
_room_rules_cache: TimedCache[int, RoomRules] = TimedCache("room_rules", _load_room_rules)


def forget_rules(room_id: int | None = None) -> None:
    rules_version_cache.forget(room_id)
    _room_rules_cache.forget(room_id)


def rule_title(code: str) -> str:
    rule = GroundRule.objects.filter(code=code).order_by(SITE_RULES_FIRST).first()
    return rule.title if rule else code


def accepted_versions(*, member_ids: list[int]) -> dict[tuple[int, int], int]:
    """The version each of these members accepted, per room, read in one query (a burst of
    joins); also kept in the cache for their first posts."""
    accepted: dict[tuple[int, int], int] = {}
    for member_id, room_id, version in RulesAcceptance.objects.filter(
            member_id__in=member_ids).values_list("member_id", "room_id", "version"):
        accepted[(member_id, room_id)] = version
        _accepted_cache.put((member_id, room_id), version)
    return accepted


def has_accepted(*, member_id: int, room_id: int) -> bool:
    if _known_current((member_id, room_id)):
        return True
    # Not known here yet: the member may have accepted through another worker.
    accepted = _accepted_version(member_id=member_id, room_id=room_id)
    if accepted is not None:
        _accepted_cache.put((member_id, room_id), accepted)
    return accepted is not None and accepted >= rules_version(room_id=room_id)


def _known_current(pair: tuple[int, int]) -> bool:
    accepted = _accepted_cache.peek(pair)
    return accepted is not None and accepted >= rules_version(room_id=pair[1])


def prefetch_acceptances(pairs: list[tuple[int, int]]) -> None:
    """Read, in one query, the accepted versions has_accepted would read one by one for these
    (member, room) pairs: those not cached or cached below the room's current version."""
    stale_members = sorted({member_id for member_id, room_id in pairs
                            if not _known_current((member_id, room_id))})
    if stale_members:
        accepted_versions(member_ids=stale_members)


def accept_rules(*, member_id: int, room_id: int, version: int) -> None:
    """Record acceptance of exactly the version the member was shown."""
    current = rules_version(room_id=room_id)
    if version != current:
        raise HearthError(ErrorCode.RULES_OUTDATED)
    RulesAcceptance.objects.update_or_create(member_id=member_id, room_id=room_id,
                                             defaults={"version": version})
    _accepted_cache.put((member_id, room_id), version)


def rules_changed(*, room: Room | None) -> list[int]:
    """Bump the version members must accept: one room's, or every room's for site rules.
    Returns the room ids whose version moved (for the live `rules_changed` event)."""
    with transaction.atomic():
        rooms = Room.objects.all() if room is None else Room.objects.filter(pk=room.pk)
        room_ids = list(rooms.values_list("pk", flat=True))
        existing = set(RoomRulesVersion.objects.filter(room_id__in=room_ids)
                       .values_list("room_id", flat=True))
        RoomRulesVersion.objects.bulk_create(
            [RoomRulesVersion(room_id=pk, version=1) for pk in room_ids if pk not in existing])
        RoomRulesVersion.objects.filter(room_id__in=room_ids).update(version=F("version") + 1)
        versions = dict(RoomRulesVersion.objects.filter(room_id__in=room_ids)
                        .values_list("room_id", "version"))
        # Forgotten now for this transaction's own reads, and again after the commit (below)
        # in case another thread read the old version in between.
        for room_id in room_ids:
            forget_rules(room_id)

        def announce() -> None:
            for room_id in versions:
                forget_rules(room_id)
            for room_id, version in versions.items():
                # The new rules travel with the event: one query per room, not per socket,
                # and no member has to reconnect to read them.
                rules = room_rules(room_id=room_id).rules
                tell_room_sync(room_id, {"type": "rules.changed", "version": version,
                                         "rules": rules})

        transaction.on_commit(announce)
    return room_ids
