"""History of settings (moderation/settings_history.py): every add, change and delete of a
helpline, screening policy, ground rule or staff role, through the admin or the services and
commands, leaves one audit row with who did it and the values before and after; admins read
it in the admin and nobody changes it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from chat.models import Member, Role
from chat.services import set_staff_role
from moderation.audit import Actor
from moderation.models import (
    AuditAction,
    AuditEntry,
    GroundRule,
    Helpline,
    ScreeningPolicy,
    SettingChange,
    SettingKind,
)
from moderation.settings_history import COMMAND_ACTOR, TRUNCATED_MARK, VALUE_LIMIT
from tests.factories import make_room, make_staff
from tests.staff_auth import sign_in_staff

pytestmark = pytest.mark.django_db

HISTORY = "/admin/moderation/settingchange/"


@pytest.fixture
def admin() -> Member:
    return make_staff(Role.ADMIN)


@pytest.fixture
def admin_client(admin: Member) -> Client:
    client = Client()
    sign_in_staff(client, admin)
    return client


def _history() -> list[AuditEntry]:
    return list(AuditEntry.objects.exclude(setting_kind="").order_by("pk"))


def _helpline_form(line: Helpline, **changed: Any) -> dict[str, Any]:
    values = {"region": line.region, "name": line.name, "phone": line.phone,
              "text": line.text, "chat_url": line.chat_url, "url": line.url,
              "hours": line.hours, "audience": line.audience, "position": line.position,
              "verified_on": line.verified_on.isoformat() if line.verified_on else "",
              "is_24_7": line.is_24_7, "is_verified": line.is_verified, **changed}
    return {name: ("on" if value is True else value) for name, value in values.items()
            if value is not False}


def _rule_form(rule: GroundRule, **changed: Any) -> dict[str, Any]:
    values = {"room": rule.room_id or "", "code": rule.code, "title": rule.title,
              "text": rule.text, "position": rule.position, "is_active": rule.is_active,
              **changed}
    return {name: ("on" if value is True else value) for name, value in values.items()
            if value is not False}


# --- through the admin --------------------------------------------------------------------------

def test_changing_a_helplines_number_in_the_admin_records_before_and_after(admin,
                                                                          admin_client):
    line = Helpline.objects.get(region="GB")
    response = admin_client.post(f"/admin/moderation/helpline/{line.pk}/change/",
                                 _helpline_form(line, phone="0800 123 456"))
    assert response.status_code == 302, response.content[:500]

    [row] = _history()
    assert (row.action, row.setting_kind, row.setting_id_ref) == (
        AuditAction.SETTING_CHANGE, SettingKind.HELPLINE, line.pk)
    assert (row.actor_id_ref, row.actor_handle) == (admin.pk, admin.handle)
    assert row.setting_label == "Samaritans (GB)"
    assert row.changes == {"phone": ["116 123", "0800 123 456"]}


def test_saving_without_a_change_records_nothing(admin_client):
    line = Helpline.objects.get(region="GB")
    response = admin_client.post(f"/admin/moderation/helpline/{line.pk}/change/",
                                 _helpline_form(line))
    assert response.status_code == 302, response.content[:500]
    assert _history() == []


def test_editing_a_ground_rules_text_records_the_old_and_new_text(admin_client):
    rule = GroundRule.objects.get(room=None, code="respect")
    old_text = rule.text
    response = admin_client.post(f"/admin/moderation/groundrule/{rule.pk}/change/",
                                 _rule_form(rule, text="Be kind; no insults or threats."))
    assert response.status_code == 302, response.content[:500]
    [row] = _history()
    assert row.setting_kind == SettingKind.GROUND_RULE
    assert row.changes == {"text": [old_text, "Be kind; no insults or threats."]}


def test_a_rooms_screening_policy_added_then_changed(admin_client):
    room = make_room()
    response = admin_client.post("/admin/moderation/screeningpolicy/add/", {
        "room": room.pk, "contact": "mask", "harassment": "block", "spam": "block",
        "crisis": "allow"})
    assert response.status_code == 302, response.content[:500]
    policy = ScreeningPolicy.objects.get(room=room)
    response = admin_client.post(f"/admin/moderation/screeningpolicy/{policy.pk}/change/", {
        "room": room.pk, "contact": "mask", "harassment": "hold", "spam": "block",
        "crisis": "hold"})
    assert response.status_code == 302, response.content[:500]

    added, changed = _history()
    assert (added.action, added.setting_kind) == (AuditAction.SETTING_ADD,
                                                  SettingKind.SCREENING_POLICY)
    assert added.changes == {"room": [None, room.title], "contact": [None, "mask"],
                             "harassment": [None, "block"], "spam": [None, "block"],
                             "crisis": [None, "allow"]}
    assert changed.action == AuditAction.SETTING_CHANGE
    assert changed.changes == {"harassment": ["block", "hold"], "crisis": ["allow", "hold"]}


def test_deleting_a_helpline_keeps_what_it_was(admin_client):
    line = Helpline.objects.get(region="NZ")
    response = admin_client.post(f"/admin/moderation/helpline/{line.pk}/delete/",
                                 {"post": "yes"})
    assert response.status_code == 302
    assert not Helpline.objects.filter(pk=line.pk).exists()
    [row] = _history()
    assert (row.action, row.setting_id_ref, row.setting_label) == (
        AuditAction.SETTING_DELETE, line.pk, "Need to talk? 1737 (NZ)")
    assert row.changes["phone"] == ["1737", None]
    assert row.changes["url"] == ["https://1737.org.nz/", None]


def test_a_bulk_delete_records_each_rule(admin_client):
    room = make_room()
    rules = [GroundRule.objects.create(room=room, code=code, title=code, text="Be gentle.")
             for code in ("first", "second")]
    response = admin_client.post("/admin/moderation/groundrule/", {
        "action": "delete_selected", "_selected_action": [r.pk for r in rules],
        "post": "yes"})
    assert response.status_code == 302
    assert {(row.action, row.setting_id_ref, row.changes["code"][0]) for row in _history()} == {
        (AuditAction.SETTING_DELETE, rule.pk, rule.code) for rule in rules}


def test_long_values_are_cut_at_the_limit_and_changes_past_it_still_count(admin_client):
    long_text = "Take care of each other. " * 24  # 600 characters, the field's maximum
    response = admin_client.post("/admin/moderation/groundrule/add/", {
        "room": "", "code": "care", "title": "Care", "text": long_text[:600],
        "position": 9, "is_active": "on"})
    assert response.status_code == 302, response.content[:500]
    rule = GroundRule.objects.get(code="care")
    response = admin_client.post(f"/admin/moderation/groundrule/{rule.pk}/change/",
                                 _rule_form(rule, text=long_text[:599] + "!"))
    assert response.status_code == 302, response.content[:500]

    added, changed = _history()
    assert added.changes["text"] == [None, long_text[:VALUE_LIMIT] + TRUNCATED_MARK]
    assert changed.changes == {"text": [long_text[:VALUE_LIMIT] + TRUNCATED_MARK] * 2}


# --- staff roles --------------------------------------------------------------------------------

def test_a_role_change_through_the_service_names_who_did_it():
    staff, admin = make_staff(Role.PEER_SUPPORTER), make_staff(Role.ADMIN)
    assert staff.user is not None
    set_staff_role(username=staff.user.username, role=Role.MODERATOR,
                   actor=Actor(id_ref=admin.pk, handle=admin.handle))
    [row] = _history()
    assert (row.action, row.setting_kind, row.actor_handle) == (
        AuditAction.SETTING_CHANGE, SettingKind.STAFF, admin.handle)
    assert row.changes == {"role": [Role.PEER_SUPPORTER, Role.MODERATOR]}


def test_the_commands_record_a_new_login_and_a_role_change(monkeypatch):
    monkeypatch.setenv("HEARTH_STAFF_PASSWORD", "a-long-enough-password")
    call_command("add_staff", "river", "--role", "moderator")
    call_command("set_staff_role", "river", "--role", "admin")

    added, changed = _history()
    assert (added.action, added.actor_handle) == (AuditAction.SETTING_ADD,
                                                  COMMAND_ACTOR.handle)
    assert added.changes == {"username": [None, "river"], "role": [None, "moderator"],
                             "is_active": [None, True], "is_superuser": [None, False]}
    assert changed.changes == {"role": ["moderator", "admin"], "is_superuser": [False, True]}
    assert User.objects.get(username="river").is_staff


def test_bad_role_changes_are_refused_and_change_nothing():
    staff = make_staff(Role.MODERATOR)
    assert staff.user is not None
    with pytest.raises(CommandError, match="no staff login"):
        call_command("set_staff_role", "nobody-here", "--role", "admin")
    with pytest.raises(ValueError, match="staff role"):
        set_staff_role(username=staff.user.username, role=Role.MEMBER, actor=COMMAND_ACTOR)
    staff.refresh_from_db()
    assert staff.role == Role.MODERATOR
    assert _history() == []


def test_no_secret_reaches_the_history(admin, admin_client):
    staff = make_staff(Role.MODERATOR)
    sign_in_staff(Client(), staff)  # enrols an authenticator: a key that must not be logged
    user = User.objects.get(pk=staff.user.pk)  # type: ignore[union-attr]
    response = admin_client.post(f"/admin/auth/user/{user.pk}/change/", {
        "username": user.username, "first_name": "", "last_name": "", "email": "",
        "is_staff": "on", "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"), "initial-date_joined_0": "",
        "initial-date_joined_1": ""})  # is_active left unticked: the login is switched off
    assert response.status_code == 302, response.content[:500]
    user.refresh_from_db()
    assert not user.is_active

    [row] = _history()
    assert row.changes == {"is_active": [True, False]}
    from django_otp.plugins.otp_totp.models import TOTPDevice

    stored = json.dumps([entry.changes for entry in AuditEntry.objects.all()])
    secrets = [user.password, *TOTPDevice.objects.values_list("key", flat=True)]
    assert secrets and not any(secret in stored for secret in secrets)
    assert "password" not in stored


# --- who can read it ----------------------------------------------------------------------------

def test_admins_read_the_history_and_nobody_changes_it(admin_client):
    line = Helpline.objects.get(region="GB")
    admin_client.post(f"/admin/moderation/helpline/{line.pk}/change/",
                      _helpline_form(line, phone="0800 123 456"))
    [row] = _history()

    listing = admin_client.get(HISTORY, {"setting_kind__exact": SettingKind.HELPLINE})
    assert listing.status_code == 200
    assert "116 123 → 0800 123 456" in listing.content.decode()
    detail = admin_client.get(f"{HISTORY}{row.pk}/change/")
    assert detail.status_code == 200 and b'name="_save"' not in detail.content
    refusals = {
        "add": admin_client.post(f"{HISTORY}add/", {"action": "setting_change"}),
        "change": admin_client.post(f"{HISTORY}{row.pk}/change/", {"setting_label": "x"}),
        "delete": admin_client.post(f"{HISTORY}{row.pk}/delete/", {"post": "yes"}),
    }
    assert {label: r.status_code for label, r in refusals.items()} == dict.fromkeys(
        refusals, 403)
    assert SettingChange.objects.get(pk=row.pk).changes == {"phone": ["116 123",
                                                                      "0800 123 456"]}


def test_moderators_cannot_see_the_history():
    moderator = make_staff(Role.MODERATOR)
    client = Client()
    sign_in_staff(client, moderator)
    response = client.get(HISTORY)
    assert response.status_code == 302 and "/login/" in response["Location"]

    # Even with the admin site open to them, the history stays an admin's.
    User.objects.filter(pk=moderator.user.pk).update(is_staff=True)  # type: ignore[union-attr]
    assert client.get(HISTORY).status_code == 403
