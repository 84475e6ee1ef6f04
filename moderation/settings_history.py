"""History of settings: who changed a helpline, a screening policy, a ground rule or a staff
role, when, and the values before and after.

One writer for every path (the admin's save and delete, the staff-role service and the
commands): it compares two snapshots and writes one append-only audit row with
`changes = {field: [before, after]}` of the fields that differ; nothing changed, no row.
A snapshot holds only the fields named here, so a secret (a password hash, an OTP key) can
never reach the log; every value is cut to VALUE_LIMIT characters, marked TRUNCATED_MARK.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import models

from chat.models import Member, Role
from moderation import audit
from moderation.audit import Actor
from moderation.models import (
    AuditAction,
    AuditEntry,
    GroundRule,
    Helpline,
    ScreeningPolicy,
    SettingKind,
)

# The longest value kept of any one field; a longer one keeps its start and this mark.
VALUE_LIMIT = 200
TRUNCATED_MARK = "…[cut]"

Value = str | int | bool | None
Snapshot = dict[str, Value]

_FIELDS: dict[type[models.Model], tuple[SettingKind, tuple[str, ...]]] = {
    Helpline: (SettingKind.HELPLINE, ("region", "name", "phone", "text", "chat_url", "url",
                                      "hours", "is_24_7", "audience", "is_verified",
                                      "verified_on", "position")),
    ScreeningPolicy: (SettingKind.SCREENING_POLICY, ("room", "contact", "harassment", "spam",
                                                     "crisis")),
    GroundRule: (SettingKind.GROUND_RULE, ("room", "code", "title", "text", "position",
                                           "is_active")),
}


# Changes made from the command line: no signed-in person, the operator's shell.
COMMAND_ACTOR = Actor(id_ref=0, handle="manage.py")
# A superuser's handle promoted to the admin role when they sign in.
SIGN_IN_ACTOR = Actor(id_ref=0, handle="sign-in")


def actor_for(user: AbstractBaseUser | AnonymousUser) -> Actor:
    """The staff member behind an admin request (their handle, else their username)."""
    member = Member.objects.filter(user_id=user.pk).first() if user.pk is not None else None
    if member is not None:
        return Actor(id_ref=member.pk, handle=member.handle)
    return Actor(id_ref=0, handle=user.get_username()[:24])


def snapshot(record: models.Model) -> Snapshot:
    """The tracked fields' values now (a staff login: its username, role and whether it may
    sign in, never its password or devices)."""
    if isinstance(record, Member | User):
        return _staff_snapshot(record)
    _kind, fields = _FIELDS[type(record)]
    return {name: _plain(_value(record, name)) for name in fields}


def stored_snapshot(record: models.Model) -> Snapshot | None:
    """The values as the database holds them, before an unsaved change; None for a new one."""
    if record.pk is None:
        return None
    stored = type(record)._default_manager.filter(pk=record.pk).first()
    return None if stored is None else snapshot(stored)


def record_setting_change(*, actor: Actor, record: models.Model, before: Snapshot | None,
                          after: Snapshot | None) -> AuditEntry | None:
    """One audit row for a create (before None), a change or a delete (after None), with the
    fields that differ; None, and no row, when nothing did."""
    old, new = before or {}, after or {}
    # Compared whole, stored bounded: a change past the limit still makes a row.
    changes = {name: [_bounded(old.get(name)), _bounded(new.get(name))]
               for name in {**old, **new} if old.get(name) != new.get(name)}
    if not changes or (_kind_of(record) == SettingKind.STAFF and not (
            _has_staff_powers(before) or _has_staff_powers(after))):
        return None  # nothing changed, or a member's row that never carried a staff role
    if before is None:
        action = AuditAction.SETTING_ADD
    elif after is None:
        action = AuditAction.SETTING_DELETE
    else:
        action = AuditAction.SETTING_CHANGE
    return audit.record(actor=actor, action=action, setting_kind=_kind_of(record),
                        setting_id_ref=record.pk, setting_label=str(record), changes=changes)


def _kind_of(record: models.Model) -> SettingKind:
    if isinstance(record, Member | User):
        return SettingKind.STAFF
    return _FIELDS[type(record)][0]


def _has_staff_powers(values: Snapshot | None) -> bool:
    return values is not None and (values.get("role") not in (None, Role.MEMBER)
                                   or bool(values.get("is_superuser")))


def _staff_snapshot(record: Member | User) -> Snapshot:
    if isinstance(record, Member):
        member: Member | None = record
        user = record.user
    else:
        user = record
        member = Member.objects.filter(user_id=record.pk).first() if record.pk else None
    return {
        "username": user.get_username() if user is not None else None,
        "role": member.role if member is not None else None,
        "is_active": user.is_active if user is not None else None,
        "is_superuser": user.is_superuser if user is not None else None,
    }


def _value(record: models.Model, name: str) -> Any:
    field = record._meta.get_field(name)
    if field.is_relation:
        related = getattr(record, name)
        return None if related is None else str(related)
    return getattr(record, name)


def _plain(value: Any) -> Value:
    if value is None or isinstance(value, bool | int | str):
        return value
    return value.isoformat() if isinstance(value, date) else str(value)


def _bounded(value: Value) -> Value:
    if isinstance(value, str) and len(value) > VALUE_LIMIT:
        return value[:VALUE_LIMIT] + TRUNCATED_MARK
    return value
