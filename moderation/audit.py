"""The one audit writer: every moderator read and action, every duty change, every change to
a setting and every purge becomes an `AuditEntry` here, and nowhere else.

Text is cut to what its column holds, read from the model itself, so a limit raised on one
side can never again leave the other keeping less than people were allowed to write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models

from chat.models import Member, Message
from moderation.models import AuditAction, AuditEntry, SettingKind


@dataclass(frozen=True)
class Actor:
    """Who acted, as the audit log names people: a member id and handle, or 0 and the name of
    a process (the purge, `manage.py`)."""

    id_ref: int
    handle: str

    @classmethod
    def of(cls, member: Member) -> Actor:
        return cls(id_ref=member.pk, handle=member.handle)


def record(*, actor: Member | Actor, action: AuditAction, target: Member | None = None,
           target_id_ref: int | None = None, target_handle: str = "",
           message: Message | None = None, message_id_ref: int | None = None,
           room_slug: str = "", rule: str = "", reason: str = "",
           member_in_distress: bool = False, setting_kind: SettingKind | None = None,
           setting_id_ref: int | None = None, setting_label: str = "",
           changes: dict[str, Any] | None = None) -> AuditEntry:
    """Append one row. A target or message may be given as the object or by id (and handle):
    rows keep copies, never foreign keys, so no later deletion rewrites them."""
    who = actor if isinstance(actor, Actor) else Actor.of(actor)
    if target is not None:
        target_id_ref, target_handle = target.pk, target.handle
    if message is not None:
        message_id_ref = message.pk
        room_slug = room_slug or message.room.slug
    return AuditEntry.objects.create(
        actor_id_ref=who.id_ref, actor_handle=_fit("actor_handle", who.handle), action=action,
        target_member_id_ref=target_id_ref, target_handle=_fit("target_handle", target_handle),
        message_id_ref=message_id_ref, room_slug=_fit("room_slug", room_slug),
        rule=_fit("rule", rule), reason=_fit("reason", reason),
        member_in_distress=member_in_distress, setting_kind=setting_kind or "",
        setting_id_ref=setting_id_ref, setting_label=_fit("setting_label", setting_label),
        changes=changes or {})


def _fit(name: str, text: str) -> str:
    field = AuditEntry._meta.get_field(name)
    assert isinstance(field, models.CharField)  # noqa: S101
    return text[:field.max_length] if field.max_length is not None else text
