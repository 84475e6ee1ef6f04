from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from chat.models import Member, Role
from moderation import settings_history
from moderation.models import (
    AuditEntry,
    DutyShift,
    Escalation,
    GroundRule,
    Helpline,
    Sanction,
    ScreeningPolicy,
    SettingChange,
    TakeAside,
)
from moderation.rules import rules_changed

_M = TypeVar("_M", bound=Model)


class SettingsHistoryAdmin(admin.ModelAdmin[_M]):
    """Every add, change and delete made here writes its values to the history of settings
    (moderation/settings_history.py), in the same transaction as the change."""

    def save_model(self, request: HttpRequest, obj: _M, form: ModelForm[_M],
                   change: bool) -> None:
        before = settings_history.stored_snapshot(obj)
        super().save_model(request, obj, form, change)
        settings_history.record_setting_change(
            actor=settings_history.actor_for(request.user), record=obj, before=before,
            after=settings_history.snapshot(obj))

    def delete_model(self, request: HttpRequest, obj: _M) -> None:
        before = settings_history.snapshot(obj)
        pk = obj.pk
        super().delete_model(request, obj)
        obj.pk = pk  # the row names the record it was
        settings_history.record_setting_change(
            actor=settings_history.actor_for(request.user), record=obj, before=before,
            after=None)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[_M]) -> None:
        going = [(obj, obj.pk, settings_history.snapshot(obj)) for obj in queryset]
        super().delete_queryset(request, queryset)
        actor = settings_history.actor_for(request.user)
        for obj, pk, before in going:
            obj.pk = pk
            settings_history.record_setting_change(actor=actor, record=obj, before=before,
                                                   after=None)


@admin.register(GroundRule)
class GroundRuleAdmin(SettingsHistoryAdmin[GroundRule]):
    """Every change moves the rules version, so members accept the new rules."""

    list_display = ("code", "title", "room", "position", "is_active")
    list_filter = ("is_active", "room")
    search_fields = ("code", "title")

    def save_model(self, request: HttpRequest, obj: GroundRule, form: ModelForm[GroundRule],
                   change: bool) -> None:
        previous = GroundRule.objects.filter(pk=obj.pk).select_related("room").first()
        super().save_model(request, obj, form, change)
        rules_changed(room=obj.room)
        if previous is not None and previous.room_id != obj.room_id:
            rules_changed(room=previous.room)  # the rule left that room (or the site set)

    def delete_model(self, request: HttpRequest, obj: GroundRule) -> None:
        room = obj.room
        super().delete_model(request, obj)
        rules_changed(room=room)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[GroundRule]) -> None:
        rooms = {rule.room for rule in queryset}
        super().delete_queryset(request, queryset)
        for room in rooms:
            rules_changed(room=room)


@admin.register(ScreeningPolicy)
class ScreeningPolicyAdmin(SettingsHistoryAdmin[ScreeningPolicy]):
    list_display = ("__str__", "contact", "harassment", "spam", "crisis")

    def get_form(self, request: HttpRequest, obj: ScreeningPolicy | None = None,
                 change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        form.base_fields["crisis"].help_text = (
            "A crisis signal can at most hold a message for review; it never blocks, masks "
            "or sanctions. Mask and block act as hold here.")
        return form


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit log can be read here and never changed."""

    list_display = ("created_at", "actor_handle", "action", "target_handle", "room_slug",
                    "rule")
    list_filter = ("action",)
    search_fields = ("actor_handle", "target_handle")


def _is_site_admin(request: HttpRequest) -> bool:
    user = request.user
    if not (user.is_active and user.is_staff):
        return False
    return bool(user.is_superuser) or Member.objects.filter(user_id=user.pk,
                                                            role=Role.ADMIN).exists()


@admin.register(SettingChange)
class SettingChangeAdmin(ReadOnlyAdmin):
    """The history of settings: read here by admins only, never changed."""

    list_display = ("created_at", "setting_kind", "setting_label", "action", "actor_handle",
                    "values")
    list_filter = ("setting_kind", "action", "actor_handle")
    search_fields = ("setting_label", "actor_handle")
    date_hierarchy = "created_at"
    fields = ("created_at", "actor_handle", "action", "setting_kind", "setting_id_ref",
              "setting_label", "values")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).exclude(setting_kind="")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_site_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_site_admin(request)

    @admin.display(description="before → after")
    def values(self, obj: SettingChange) -> SafeString:
        return format_html("<ul>{}</ul>", format_html_join(
            "", "<li><b>{}</b>: {} → {}</li>",
            ((name, _shown(pair[0]), _shown(pair[1])) for name, pair in obj.changes.items())))


def _shown(value: object) -> str:
    return "—" if value is None or value == "" else str(value)


@admin.register(Sanction)
class SanctionAdmin(ReadOnlyAdmin):
    list_display = ("member", "kind", "room", "rule", "starts_at", "ends_at")
    list_filter = ("kind",)


@admin.register(Helpline)
class HelplineAdmin(SettingsHistoryAdmin[Helpline]):
    list_display = ("name", "region", "phone", "text", "is_24_7", "audience", "is_verified",
                    "verified_on")
    list_filter = ("region", "is_verified", "audience")
    search_fields = ("name", "region")


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    """The record of every escalation and how fast the team got there; handled on the
    dashboard, read here."""

    list_display = ("created_at", "tier", "room", "state", "acknowledged_by",
                    "seconds_to_acknowledge", "resolved_by", "seconds_to_resolve",
                    "re_escalated_at", "fallback_notified_at", "fallback_last_error")
    list_filter = ("tier", "source")
    exclude = ("context",)  # other members' words stay on the dashboard

    @admin.display(description="to acknowledge (s)")
    def seconds_to_acknowledge(self, obj: Escalation) -> float | None:
        return _seconds(obj.created_at, obj.acknowledged_at)

    @admin.display(description="to resolve (s)")
    def seconds_to_resolve(self, obj: Escalation) -> float | None:
        return _seconds(obj.created_at, obj.resolved_at)


def _seconds(start: Any, end: Any) -> float | None:
    return None if end is None else round((end - start).total_seconds(), 1)


@admin.register(DutyShift)
class DutyShiftAdmin(ReadOnlyAdmin):
    list_display = ("member", "started_at", "last_seen_at", "ended_at")


@admin.register(TakeAside)
class TakeAsideAdmin(ReadOnlyAdmin):
    """Who talked with whom and when; the conversation itself is not shown here."""

    list_display = ("created_at", "staff", "member", "room", "state", "answered_at",
                    "closed_at")
    list_filter = ("state",)
