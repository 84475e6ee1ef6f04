"""The audit log: one row per moderator action and history read, and no way to change or
remove a row afterwards (model, queryset, admin, a member erasing themselves)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client

from chat.errors import HearthError
from chat.models import Member, Role
from chat.services import forget_member
from moderation import services
from moderation.models import AuditAction, AuditEntry, SanctionKind
from tests.factories import make_room, make_staff
from tests.moderation.support import Item, held_item, reported_item
from tests.staff_auth import sign_in_staff

pytestmark = pytest.mark.django_db


def _restore(moderator: Member, item: Item) -> None:
    services.restore_message(moderator=moderator, item_id=item.id, rule="no-contact-details",
                             reason="a helpline")


def _hide(moderator: Member, item: Item) -> None:
    services.hide_message(moderator=moderator, item_id=item.id, rule="respect",
                          reason="name-calling")


def _dismiss(moderator: Member, item: Item) -> None:
    services.dismiss_item(moderator=moderator, item_id=item.id, reason="nothing wrong")


def _sanction(kind: SanctionKind, duration: timedelta | None = None) -> Callable[..., None]:
    def act(moderator: Member, item: Item) -> None:
        services.sanction_member(moderator=moderator, member_id=item.author.pk, kind=kind,
                                 rule="respect", reason="name-calling",
                                 room_id=item.message.room_id, duration=duration,
                                 item_id=item.id)
    return act


def _read_history(moderator: Member, item: Item) -> None:
    services.read_member_history(moderator=moderator, member_id=item.author.pk)


def _read_original(moderator: Member, item: Item) -> None:
    services.read_original(moderator=moderator, item_id=item.id)


# action, what it does, the rule the row must cite, whether the row names the message
ACTIONS = [
    (AuditAction.RESTORE, _restore, "no-contact-details", True),
    (AuditAction.HIDE, _hide, "respect", True),
    (AuditAction.DISMISS, _dismiss, "", True),
    (AuditAction.WARN, _sanction(SanctionKind.WARNING), "respect", True),
    (AuditAction.TIMEOUT, _sanction(SanctionKind.TIMEOUT, timedelta(hours=1)), "respect", True),
    (AuditAction.BAN, _sanction(SanctionKind.BAN), "respect", True),
    (AuditAction.READ_HISTORY, _read_history, "", False),
    (AuditAction.READ_ORIGINAL, _read_original, "", True),
]


@pytest.mark.parametrize(("action", "act", "rule", "names_message"), ACTIONS,
                         ids=[a[0].value for a in ACTIONS])
def test_each_moderator_action_and_history_read_writes_exactly_one_audit_row(
        action, act, rule, names_message):
    room, moderator = make_room(), make_staff()
    item = held_item(room)
    assert AuditEntry.objects.count() == 0

    act(moderator, item)

    entry = AuditEntry.objects.get()
    assert entry.action == action
    assert (entry.actor_id_ref, entry.actor_handle) == (moderator.pk, moderator.handle)
    assert (entry.target_member_id_ref, entry.target_handle) == (item.author.pk,
                                                                 item.author.handle)
    assert entry.rule == rule
    if names_message:
        assert (entry.message_id_ref, entry.room_slug) == (item.message.pk, room.slug)
    assert "+44" not in entry.reason  # a reason is the moderator's words, never the message


# The crisis path's actions (duty, escalations, take-asides) have their own one-row tests in
# tests/moderation/test_crisis_audit.py.
CRISIS_ACTIONS = {AuditAction.CHECK_IN, AuditAction.CHECK_OUT, AuditAction.ACKNOWLEDGE,
                  AuditAction.RESOLVE, AuditAction.ASIDE_OPEN, AuditAction.ASIDE_ACCEPT,
                  AuditAction.ASIDE_DECLINE, AuditAction.ASIDE_CLOSE}
# The retention purge's row: tests/moderation/test_retention.py and tests/hearth/.
RETENTION_ACTIONS = {AuditAction.PURGE}
# The history of settings: tests/moderation/test_settings_history.py.
SETTINGS_ACTIONS = {AuditAction.SETTING_ADD, AuditAction.SETTING_CHANGE,
                    AuditAction.SETTING_DELETE}


def test_every_audit_action_is_covered():
    assert ({a[0] for a in ACTIONS} | CRISIS_ACTIONS | RETENTION_ACTIONS | SETTINGS_ACTIONS
            == set(AuditAction))


@pytest.mark.parametrize(("action", "act", "rule", "names_message"), ACTIONS,
                         ids=[a[0].value for a in ACTIONS])
def test_refused_actions_leave_no_audit_row(action, act, rule, names_message):
    room, member = make_room(), make_staff(Role.PEER_SUPPORTER)
    item = held_item(room)
    with pytest.raises(HearthError):
        act(member, item)
    assert AuditEntry.objects.count() == 0


def test_an_action_on_a_resolved_item_leaves_no_second_row():
    room, moderator = make_room(), make_staff()
    item = reported_item(room)
    _hide(moderator, item)
    # Reads (a member's history, a message's original words) stay possible once resolved.
    reads = {AuditAction.READ_HISTORY, AuditAction.READ_ORIGINAL}
    for _label, act, _rule, _names in (a for a in ACTIONS if a[0] not in reads):
        with pytest.raises(HearthError):
            act(moderator, item)
    assert AuditEntry.objects.count() == 1


# --- append-only --------------------------------------------------------------------------------

@pytest.fixture
def entry() -> AuditEntry:
    room, moderator = make_room(), make_staff()
    _hide(moderator, reported_item(room))
    return AuditEntry.objects.get()


def _unchanged(entry: AuditEntry) -> None:
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.action, stored.rule, stored.reason, stored.actor_handle) == (
        AuditAction.HIDE, "respect", "name-calling", entry.actor_handle)


def test_rows_cannot_be_changed_or_deleted_through_the_model(entry):
    entry.reason = "rewritten"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.save(update_fields=["reason"])
    with pytest.raises(PermissionError):
        entry.delete()
    _unchanged(entry)


def test_rows_cannot_be_changed_or_deleted_through_querysets(entry):
    attempts = [
        lambda: AuditEntry.objects.update(reason="rewritten"),
        lambda: AuditEntry.objects.filter(pk=entry.pk).update(reason="rewritten"),
        lambda: AuditEntry.objects.all().delete(),
        lambda: AuditEntry.objects.filter(pk=entry.pk).delete(),
        lambda: AuditEntry.objects.bulk_update([entry], ["reason"]),
        lambda: AuditEntry.objects.update_or_create(pk=entry.pk,
                                                    defaults={"reason": "rewritten"}),
    ]
    for attempt in attempts:
        # Each in its own savepoint: some of these open a transaction without one.
        with pytest.raises(PermissionError), transaction.atomic():
            attempt()
    _unchanged(entry)


def test_the_admin_shows_the_log_but_never_adds_changes_or_deletes(entry):
    from django.contrib import admin

    model_admin = admin.site._registry[AuditEntry]
    superuser = make_staff(Role.ADMIN)
    assert superuser.user is not None and superuser.user.is_superuser
    client = Client()
    sign_in_staff(client, superuser)
    request = client.get("/admin/").wsgi_request
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)

    base = "/admin/moderation/auditentry/"
    assert client.get(base).status_code == 200
    change = client.get(f"{base}{entry.pk}/change/")
    assert change.status_code == 200  # read-only view
    assert b'name="_save"' not in change.content
    refusals = {
        "add page": client.get(f"{base}add/"),
        "add": client.post(f"{base}add/", {"actor_id_ref": 1, "action": "hide"}),
        "change": client.post(f"{base}{entry.pk}/change/", {"reason": "rewritten",
                                                             "action": "ban"}),
        "delete page": client.get(f"{base}{entry.pk}/delete/"),
        "delete": client.post(f"{base}{entry.pk}/delete/", {"post": "yes"}),
    }
    assert {label: r.status_code for label, r in refusals.items()} == dict.fromkeys(
        refusals, 403)
    # The changelist offers no bulk delete either; trying it anyway changes nothing.
    client.post(base, {"action": "delete_selected", "_selected_action": [entry.pk],
                       "post": "yes"})
    _unchanged(entry)
    assert AuditEntry.objects.count() == 1


def test_a_member_forgetting_themselves_leaves_the_audit_rows_intact():
    room, moderator = make_room(), make_staff()
    item = reported_item(room)
    _read_history(moderator, item)
    _sanction(SanctionKind.WARNING)(moderator, item)
    before = list(AuditEntry.objects.order_by("pk").values())
    assert len(before) == 2

    forget_member(member=item.author)

    assert not Member.objects.filter(pk=item.author.pk).exists()
    assert list(AuditEntry.objects.order_by("pk").values()) == before
    assert {row["target_handle"] for row in before} == {item.author.handle}
