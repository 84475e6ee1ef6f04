"""The one audit writer (moderation/audit.py): copies, not links; text cut to its column."""

import pytest

from chat.models import MessageStatus
from moderation import audit
from moderation.models import AuditAction, AuditEntry, SettingKind
from tests.factories import make_member, make_room, make_staff

pytestmark = pytest.mark.django_db


def test_a_row_keeps_copies_of_who_and_what():
    staff, member = make_staff(), make_member()
    room = make_room(slug="lounge")
    message = member.messages.create(room=room, seq=1, body="hello", client_id="c1",
                                     status=MessageStatus.VISIBLE)
    row = audit.record(actor=staff, action=AuditAction.HIDE, target=member, message=message,
                       rule="respect", reason="aimed at someone")
    assert (row.actor_id_ref, row.actor_handle) == (staff.pk, staff.handle)
    assert (row.target_member_id_ref, row.target_handle) == (member.pk, member.handle)
    assert (row.message_id_ref, row.room_slug) == (message.pk, "lounge")
    member.delete()
    row.refresh_from_db()
    assert row.target_handle == member.handle  # the copy outlives the member


def test_text_longer_than_its_column_is_cut_to_fit_never_refused():
    row = audit.record(actor=audit.Actor(id_ref=0, handle="a-process-with-a-long-name"),
                       action=AuditAction.SETTING_CHANGE, reason="r" * 1500,
                       rule="x" * 60, room_slug="s" * 80, setting_kind=SettingKind.HELPLINE,
                       setting_label="l" * 200)
    row.refresh_from_db()
    assert len(row.actor_handle) == 24
    assert len(row.reason) == 1000
    assert (len(row.rule), len(row.room_slug), len(row.setting_label)) == (48, 64, 120)


def test_rows_stay_append_only():
    audit.record(actor=make_staff(), action=AuditAction.CHECK_IN)
    with pytest.raises(PermissionError):
        AuditEntry.objects.update(reason="rewritten")
