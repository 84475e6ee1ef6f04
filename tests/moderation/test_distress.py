"""Guarding against sanctioning distress (moderation/distress.py and sanction_member): a
timeout or ban of a member with an open escalation or a crisis signal in the last hour needs
a confirmation and a reason, and its audit row says so; warnings and members not in distress
are unchanged. Then the staff socket: the refusal code with the state, and bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from chat.errors import ErrorCode, HearthError
from chat.models import Member
from moderation import distress, escalations
from moderation.distress import MemberInDistressError
from moderation.models import (
    AuditAction,
    AuditEntry,
    Escalation,
    ReviewItem,
    Sanction,
    SanctionKind,
)
from moderation.services import sanction_member
from rooms.models import Room
from tests.factories import make_member, make_room, make_staff
from tests.moderation.support import frame_of, reported_item, send_json, staff_socket
from tests.moderation.test_escalations import (
    CONCERN_BODY,
    PLAIN_BODY,
    crisis_escalation,
    post,
)

HOUR = timedelta(hours=1)


def _timeout(moderator: Member, member: Member, *, reason: str = "",
             confirm_distress: bool = False) -> Sanction:
    return sanction_member(moderator=moderator, member_id=member.pk, kind=SanctionKind.TIMEOUT,
                           rule="respect", reason=reason, room_id=None,
                           duration=timedelta(minutes=60), confirm_distress=confirm_distress)


def _age_everything(member: Member, by: timedelta) -> None:
    then = timezone.now() - by
    Escalation.objects.filter(member=member).update(created_at=then, updated_at=then)
    ReviewItem.objects.filter(message__author=member).update(opened_at=then)


@pytest.mark.django_db
class TestService:
    def test_an_open_escalation_needs_confirmation_and_nothing_is_written_without_it(self):
        escalation = crisis_escalation()
        moderator = make_staff()
        with pytest.raises(MemberInDistressError) as refused:
            _timeout(moderator, escalation.member, reason="Name-calling")
        assert refused.value.code == ErrorCode.MEMBER_IN_DISTRESS
        assert refused.value.state.open_escalation_id == escalation.pk
        assert refused.value.state.tier == "high_risk"
        assert not Sanction.objects.exists() and not AuditEntry.objects.exists()

    def test_a_ban_is_guarded_too(self):
        escalation = crisis_escalation()
        with pytest.raises(MemberInDistressError):
            sanction_member(moderator=make_staff(), member_id=escalation.member_id,
                            kind=SanctionKind.BAN, rule="respect", reason="x", room_id=None)

    def test_confirmed_without_a_reason_is_missing_field(self):
        escalation = crisis_escalation()
        with pytest.raises(HearthError) as refused:
            _timeout(make_staff(), escalation.member, reason="   ", confirm_distress=True)
        assert refused.value.code == ErrorCode.MISSING_FIELD
        assert not isinstance(refused.value, MemberInDistressError)
        assert not Sanction.objects.exists()

    def test_confirmed_with_a_reason_is_given_and_the_audit_row_marks_it(self):
        escalation = crisis_escalation()
        sanction = _timeout(make_staff(), escalation.member, reason="Threats after two warnings",
                            confirm_distress=True)
        assert sanction.kind == SanctionKind.TIMEOUT
        row = AuditEntry.objects.get(action=AuditAction.TIMEOUT)
        assert row.member_in_distress is True
        assert row.reason == "Threats after two warnings"

    def test_a_warning_needs_no_confirmation_and_is_not_marked(self):
        escalation = crisis_escalation()
        sanction_member(moderator=make_staff(), member_id=escalation.member_id,
                        kind=SanctionKind.WARNING, rule="respect", reason="", room_id=None)
        assert AuditEntry.objects.get(action=AuditAction.WARN).member_in_distress is False

    def test_a_member_not_in_distress_is_unchanged(self):
        member = make_member()
        post(member, make_room(), PLAIN_BODY)
        assert distress.distress_state(member_id=member.pk) is None
        _timeout(make_staff(), member)
        assert AuditEntry.objects.get(action=AuditAction.TIMEOUT).member_in_distress is False

    def test_a_crisis_signal_in_the_last_hour_counts_without_an_escalation(self):
        member = make_member()
        post(member, make_room(), CONCERN_BODY)  # a review item, no escalation
        assert not Escalation.objects.filter(member=member).exists()
        state = distress.distress_state(member_id=member.pk)
        assert state is not None and state.open_escalation_id is None
        assert state.as_frame_field()["last_signal_at"] is not None
        with pytest.raises(MemberInDistressError):
            _timeout(make_staff(), member, reason="x")
        _age_everything(member, HOUR + timedelta(minutes=1))
        assert distress.distress_state(member_id=member.pk) is None

    def test_a_resolved_escalation_counts_for_an_hour_then_not(self):
        escalation = crisis_escalation()
        escalations.resolve(staff=make_staff(), escalation_id=escalation.pk, note="All right now")
        state = distress.distress_state(member_id=escalation.member_id)
        assert state is not None and state.open_escalation_id is None
        _age_everything(escalation.member, HOUR + timedelta(minutes=1))
        assert distress.distress_state(member_id=escalation.member_id) is None

    def test_an_open_escalation_counts_however_old(self):
        escalation = crisis_escalation()
        _age_everything(escalation.member, timedelta(days=2))
        state = distress.distress_state(member_id=escalation.member_id)
        assert state is not None and state.open_escalation_id == escalation.pk


# --- the staff socket ---------------------------------------------------------------------------

def _distressed_item() -> tuple[int, Room]:
    """A member in distress whose other message was reported for harassment."""
    room = make_room()
    escalation = crisis_escalation(room=room)
    item = reported_item(room, author=escalation.member)
    return item.id, room


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_staff_socket_asks_for_confirmation_then_accepts_it():
    item_id, _room = await database_sync_to_async(_distressed_item)()
    moderator = await database_sync_to_async(make_staff)()
    socket = await staff_socket(moderator)
    await frame_of(socket, "queue")
    base = {"type": "sanction", "item_id": item_id, "action": "timeout", "rule": "respect",
            "duration_minutes": 60}

    await send_json(socket, {**base, "reason": "Insults"})
    refused = await frame_of(socket, "error")
    assert refused["code"] == "member_in_distress" and refused["item_id"] == item_id
    assert refused["distress"]["tier"] == "high_risk"
    assert refused["distress"]["open_escalation_id"] is not None

    bad_frames: list[tuple[dict[str, Any], str]] = [
        ({"confirm_distress": "yes", "reason": "Insults"}, "invalid_field"),
        ({"confirm_distress": 1, "reason": "Insults"}, "invalid_field"),
        ({"confirm_distress": True}, "missing_field"),
        ({"confirm_distress": True, "reason": "  "}, "missing_field"),
        ({"confirm_distress": True, "reason": 5}, "invalid_field"),
        ({"confirm_distress": False, "reason": "Insults"}, "member_in_distress")]
    for bad, code in bad_frames:
        await send_json(socket, {**base, **bad})
        assert (await frame_of(socket, "error"))["code"] == code, bad
    assert not await database_sync_to_async(Sanction.objects.exists)()

    await send_json(socket, {**base, "reason": "Insults after a warning",
                             "confirm_distress": True})
    done = await frame_of(socket, "action_done")
    assert (done["item_id"], done["action"]) == (item_id, "timeout")
    row = await database_sync_to_async(AuditEntry.objects.get)(action=AuditAction.TIMEOUT)
    assert row.member_in_distress is True
    await socket.disconnect()
