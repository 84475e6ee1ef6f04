"""The on-duty roster (moderation/duty.py): checking in and out, shifts that go stale when no
dashboard is seen, and staffed-only rooms that are read-only with nobody on duty. A clock the
tests move stands in for waiting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chat.errors import ErrorCode, HearthError
from chat.models import Message, Role
from moderation import duty
from moderation.models import AuditAction, AuditEntry, DutyShift
from tests.factories import make_member, make_room, make_staff, post_in_room
from tests.moderation.support import Clock

pytestmark = pytest.mark.django_db

STALE = 90.0


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, settings) -> Clock:
    settings.HEARTH_DUTY_STALE_SECONDS = STALE
    fake = Clock()
    monkeypatch.setattr(timezone, "now", fake)
    return fake


def audit_actions() -> list[str]:
    return list(AuditEntry.objects.order_by("pk").values_list("action", flat=True))


@pytest.mark.parametrize("role", [Role.PEER_SUPPORTER, Role.MODERATOR, Role.ADMIN])
def test_check_in_and_out_are_audited_once_each(clock, role):
    staff = make_staff(role)
    assert not duty.is_on_duty(member_id=staff.pk) and duty.on_duty_count() == 0
    duty.check_in(member=staff)
    clock.advance(timedelta(seconds=10))
    duty.check_in(member=staff)  # a second tab: the same shift, freshly seen
    shift = DutyShift.objects.get()
    assert shift.ended_at is None and shift.last_seen_at == clock.now
    assert duty.is_on_duty(member_id=staff.pk) and duty.on_duty_count() == 1
    assert audit_actions() == [AuditAction.CHECK_IN]
    duty.check_out(member=staff)
    duty.check_out(member=staff)
    assert DutyShift.objects.get().ended_at == clock.now
    assert not duty.is_on_duty(member_id=staff.pk) and duty.on_duty_count() == 0
    assert audit_actions() == [AuditAction.CHECK_IN, AuditAction.CHECK_OUT]
    entry = AuditEntry.objects.get(action=AuditAction.CHECK_OUT)
    assert (entry.actor_id_ref, entry.actor_handle) == (staff.pk, staff.handle)


def test_members_cannot_check_in(clock):
    member = make_member()
    with pytest.raises(HearthError) as refused:
        duty.check_in(member=member)
    assert refused.value.code == ErrorCode.FORBIDDEN
    duty.check_out(member=member)  # nothing to end: no shift, no row
    assert DutyShift.objects.count() == 0 and AuditEntry.objects.count() == 0


def test_a_shift_not_seen_for_the_stale_time_no_longer_counts(clock):
    staff = make_staff()
    duty.check_in(member=staff)
    clock.advance(timedelta(seconds=STALE - 1))
    assert duty.on_duty_count() == 1
    clock.advance(timedelta(seconds=2))
    assert duty.on_duty_count() == 0 and not duty.is_on_duty(member_id=staff.pk)
    assert duty.roster() == []
    # A stale shift is not brought back by a late touch...
    duty.touch(member_id=staff.pk)
    assert duty.on_duty_count() == 0
    # ...but checking in again ends it where it was last seen and starts a new one.
    duty.check_in(member=staff)
    old, new = DutyShift.objects.order_by("pk")
    assert old.ended_at == old.last_seen_at and new.ended_at is None
    assert duty.on_duty_count() == 1
    assert audit_actions() == [AuditAction.CHECK_IN, AuditAction.CHECK_IN]


def test_touch_keeps_a_shift_fresh(clock):
    staff, other = make_staff(), make_staff(Role.PEER_SUPPORTER)
    duty.check_in(member=staff)
    duty.check_in(member=other)
    for _ in range(3):
        clock.advance(timedelta(seconds=STALE - 10))
        duty.touch(member_id=staff.pk)
    assert duty.is_on_duty(member_id=staff.pk)
    assert not duty.is_on_duty(member_id=other.pk)
    assert DutyShift.objects.get(member=staff).last_seen_at == clock.now
    assert duty.is_on_duty(member_id=staff.pk)


def test_roster_and_duty_frame(clock):
    first, second = make_staff(), make_staff(Role.PEER_SUPPORTER)
    duty.check_in(member=first)
    clock.advance(timedelta(seconds=5))
    duty.check_in(member=second)
    frame = duty.duty_frame(member_id=second.pk)
    assert frame == {"type": "duty", "on_duty": True, "on_duty_count": 2, "roster": [
        {"handle": first.handle, "role": "moderator",
         "since": (clock.now - timedelta(seconds=5)).isoformat()},
        {"handle": second.handle, "role": "peer_supporter", "since": clock.now.isoformat()}]}
    assert duty.duty_frame(member_id=make_staff().pk)["on_duty"] is False


# --- staffed-only rooms ------------------------------------------------------------------------

def staffed_room():
    room = make_room()
    room.staffed_only = True
    room.save(update_fields=["staffed_only"])
    return room


def test_ensure_room_open_refuses_only_staffed_only_rooms_with_nobody_on_duty(clock):
    plain, staffed = make_room(), staffed_room()
    duty.ensure_room_open(room=plain)
    with pytest.raises(HearthError) as refused:
        duty.ensure_room_open(room=staffed)
    assert refused.value.code == ErrorCode.ROOM_UNSTAFFED
    assert not duty.staffing_for(room=staffed).open and duty.staffing_for(room=plain).open
    staff = make_staff(Role.PEER_SUPPORTER)
    duty.check_in(member=staff)
    duty.ensure_room_open(room=staffed)
    assert duty.staffing_for(room=staffed) == duty.Staffing(staffed_only=True, on_duty=1)
    clock.advance(timedelta(seconds=STALE + 1))  # left without checking out
    with pytest.raises(HearthError):
        duty.ensure_room_open(room=staffed)


def test_posting_in_an_unstaffed_staffed_only_room_is_refused_and_stores_nothing(clock):
    room, member = staffed_room(), make_member()
    with pytest.raises(HearthError) as refused:
        post_in_room(member=member, room=room, client_id="c1", body="hello")
    assert refused.value.code == ErrorCode.ROOM_UNSTAFFED
    assert Message.objects.count() == 0
    room.refresh_from_db()
    assert room.last_seq == 0
    duty.check_in(member=make_staff())
    assert post_in_room(member=member, room=room, client_id="c1", body="hello").message.seq == 1
