"""How long a room keeps its messages, and the purge of session feedback past its period."""

from __future__ import annotations

from datetime import datetime, timedelta

from hearth.batches import delete_in_batches
from rooms.models import Room, SessionFeedback


def message_days(*, room_days: int | None, site_days: int) -> int:
    """A room's own period when it has one, else the site default."""
    return room_days if room_days is not None else site_days


def rooms_with_message_days(*, site_days: int) -> list[tuple[int, str, int]]:
    """(room id, slug, days its messages are kept) for every room, closed ones included."""
    return [(room_id, slug, message_days(room_days=days, site_days=site_days))
            for room_id, slug, days in Room.objects.order_by("pk").values_list(
                "pk", "slug", "message_retention_days")]


def purge_feedback(*, now: datetime, days: int, batch_size: int, dry_run: bool) -> int:
    """Feedback on session occurrences more than `days` ago (it carries no time of day)."""
    cutoff = (now - timedelta(days=days)).date()
    return delete_in_batches(SessionFeedback.objects.filter(occurrence_on__lt=cutoff),
                             batch_size=batch_size, dry_run=dry_run)
