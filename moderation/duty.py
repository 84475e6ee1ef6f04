"""The on-duty roster: who from the team is here now, and which rooms are open because of it.

A shift counts while it is open and one of its staff member's dashboards was seen recently,
so nobody is shown as on duty after closing the laptop without checking out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from chat.errors import ErrorCode, HearthError
from chat.events import STAFF_GROUP, room_group, send_to_group_sync
from chat.models import Member
from moderation import audit
from moderation.models import AuditAction, DutyShift
from moderation.permissions import can_staff
from rooms.models import Room


def _stale_before() -> Any:
    return timezone.now() - timedelta(seconds=settings.HEARTH_DUTY_STALE_SECONDS)


def current_shifts() -> QuerySet[DutyShift]:
    return (DutyShift.objects.filter(ended_at__isnull=True, last_seen_at__gte=_stale_before())
            .select_related("member"))


def on_duty_count() -> int:
    return current_shifts().values("member").distinct().count()


def is_on_duty(*, member_id: int) -> bool:
    return current_shifts().filter(member_id=member_id).exists()


def roster() -> list[dict[str, Any]]:
    return [{"handle": shift.member.handle, "role": shift.member.role,
             "since": shift.started_at.isoformat()}
            for shift in current_shifts().order_by("started_at")]


def duty_frame(*, member_id: int) -> dict[str, Any]:
    people = roster()
    return {"type": "duty", "on_duty": is_on_duty(member_id=member_id),
            "on_duty_count": len(people), "roster": people}


def _audit(member: Member, action: AuditAction) -> None:
    audit.record(actor=member, action=action)


def check_in(*, member: Member) -> None:
    if not can_staff(member):
        raise HearthError(ErrorCode.FORBIDDEN)
    now = timezone.now()
    try:
        with transaction.atomic():
            # A stale shift (dashboard closed without checking out) ends where it was last
            # seen; a fresh one just carries on.
            stale = DutyShift.objects.select_for_update().filter(
                member=member, ended_at__isnull=True, last_seen_at__lt=_stale_before())
            for shift in stale:
                shift.ended_at = shift.last_seen_at
                shift.save(update_fields=["ended_at"])
            open_shift = DutyShift.objects.filter(member=member, ended_at__isnull=True).first()
            if open_shift is None:
                DutyShift.objects.create(member=member, last_seen_at=now)
                _audit(member, AuditAction.CHECK_IN)
            else:
                open_shift.last_seen_at = now
                open_shift.save(update_fields=["last_seen_at"])
    except IntegrityError:
        pass  # checked in from two tabs at once: one shift, which is what we want
    transaction.on_commit(announce_staffing)


def check_out(*, member: Member) -> None:
    with transaction.atomic():
        ended = DutyShift.objects.filter(member=member, ended_at__isnull=True).update(
            ended_at=timezone.now())
        if ended:
            _audit(member, AuditAction.CHECK_OUT)
    transaction.on_commit(announce_staffing)


def touch(*, member_id: int) -> None:
    """A staff dashboard of this member is still open."""
    DutyShift.objects.filter(member_id=member_id, ended_at__isnull=True,
                             last_seen_at__gte=_stale_before()).update(
        last_seen_at=timezone.now())


# --- staffed-only rooms ---------------------------------------------------------------------

@dataclass(frozen=True)
class Staffing:
    staffed_only: bool
    on_duty: int

    @property
    def open(self) -> bool:
        return not self.staffed_only or self.on_duty > 0


def staffing_for(*, room: Room) -> Staffing:
    # The count is only read where it decides something (a query saved on every join).
    return Staffing(staffed_only=room.staffed_only,
                    on_duty=on_duty_count() if room.staffed_only else 0)


def ensure_room_open(*, room: Room) -> None:
    """Raises room_unstaffed when a staffed-only room has nobody on duty."""
    if room.staffed_only and on_duty_count() == 0:
        raise HearthError(ErrorCode.ROOM_UNSTAFFED)


def announce_staffing() -> None:
    """Tell staff dashboards the roster and staffed-only rooms whether they are open.

    Each room socket builds its own frame (it adds the helpline for its member's region).
    """
    count = on_duty_count()
    send_to_group_sync(STAFF_GROUP, {"type": "staff.duty"})
    for room_id in Room.objects.filter(staffed_only=True, is_active=True).values_list(
            "pk", flat=True):
        send_to_group_sync(room_group(room_id), {"type": "staffing.changed", "on_duty": count})
