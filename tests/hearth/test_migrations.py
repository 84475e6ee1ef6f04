"""An existing database migrates forward with its data intact: the schema of release 0.1.0
(2026-11-22), with a room, members, messages, an escalation and audit rows written through
the models of that time, is migrated to today's and read back through today's models."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from chat.models import Member, Message
from moderation.models import AuditEntry, Escalation
from rooms.models import Room

pytestmark = pytest.mark.django_db(transaction=True)

# The last migration of each app that release 0.1.0 shipped.
RELEASE_0_1_0 = [("chat", "0004_alter_message_status"),
                 ("moderation", "0007_staff_escalations"),
                 ("rooms", "0003_hosted_sessions")]


def _migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)  # a fresh loader sees what is applied now


def _latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def test_a_database_of_release_0_1_0_migrates_forward_with_its_data():
    latest = _latest()
    try:
        executor = _migrate(RELEASE_0_1_0)
        old = executor.loader.project_state(RELEASE_0_1_0).apps
        room = old.get_model("rooms", "Room").objects.create(
            slug="then", title="Then", description="A room of the last release",
            focus_area="general", last_seq=2)
        old_member = old.get_model("chat", "Member")
        author = old_member.objects.create(handle="EarlyBird12", handle_key="earlybird12")
        staff = old_member.objects.create(handle="Keeper34", handle_key="keeper34",
                                          role="moderator")
        old_message = old.get_model("chat", "Message")
        first = old_message.objects.create(room=room, seq=1, author=author, client_id="a",
                                           body="hello from before", html="<p>hello</p>")
        old_message.objects.create(room=room, seq=2, author=author, client_id="b",
                                   body="••• masked", html="<p>•••</p>", status="held")
        old.get_model("moderation", "Escalation").objects.create(
            room=room, member=author, message=first, tier="high_risk", source="screening")
        old.get_model("moderation", "AuditEntry").objects.create(
            actor_id_ref=staff.pk, actor_handle=staff.handle, action="hide",
            target_member_id_ref=author.pk, target_handle=author.handle,
            room_slug="then", reason="r" * 500)
    finally:
        _migrate(latest)

    room = Room.objects.get(slug="then")
    assert room.last_seq == 2
    assert room.message_retention_days is None  # added since: the site's period applies
    messages = list(Message.objects.filter(room=room).order_by("seq"))
    assert [(m.seq, m.body, m.status) for m in messages] == [
        (1, "hello from before", "visible"), (2, "••• masked", "held")]
    assert [m.original_body for m in messages] == ["", ""]  # added since: nothing to keep
    assert Member.objects.get(handle_key="keeper34").role == "moderator"
    escalation = Escalation.objects.get()
    assert (escalation.member.handle, escalation.message_id) == ("EarlyBird12", messages[0].pk)
    assert AuditEntry.objects.get().reason == "r" * 500
    # Today's limits hold on the migrated tables.
    AuditEntry.objects.create(actor_id_ref=1, actor_handle="Keeper34", action="resolve",
                              reason="n" * 1000)
    assert AuditEntry.objects.filter(reason="n" * 1000).exists()
