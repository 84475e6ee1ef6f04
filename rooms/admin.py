from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from chat.errors import HearthError
from chat.models import Member, Role
from moderation.permissions import Action, can
from rooms.models import (
    HostedSession,
    Prompt,
    Room,
    RoomKind,
    SessionFeedback,
    SessionTemplate,
)
from rooms.schedule import validate_duration, validate_time_zone


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin[Room]):
    list_display = ("title", "slug", "focus_area", "audience", "kind", "capacity", "is_active",
                    "message_retention_days")
    list_filter = ("focus_area", "audience", "kind", "is_active")
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("last_seq", "created_at")


class HostedSessionForm(forms.ModelForm[HostedSession]):
    """The schedule checks of rooms.schedule, shown next to the field they are about."""

    class Meta:
        model = HostedSession
        fields = ("room", "title", "host", "co_hosts", "template", "capacity", "time_zone",
                  "first_date", "start_time", "duration_minutes", "recurrence", "share_seconds")
        help_texts = {"time_zone": "The host's IANA time zone, e.g. Europe/London. The clock "
                                   "time stays the same across daylight-saving changes."}

    def _checked(self, name: str, check: Callable[[Any], object]) -> Any:
        value = self.cleaned_data.get(name)
        try:
            check(value)
        except HearthError as error:
            raise forms.ValidationError(error.detail, code=error.code.value) from None
        return value

    def clean_time_zone(self) -> Any:
        return self._checked("time_zone", validate_time_zone)

    def clean_duration_minutes(self) -> Any:
        return self._checked("duration_minutes", validate_duration)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        room = cleaned.get("room")
        if room is not None and room.kind != RoomKind.HOSTED:
            raise forms.ValidationError("Sessions run in rooms of kind \"hosted\".")
        hosts = [cleaned.get("host"), *(cleaned.get("co_hosts") or ())]
        if any(host is not None and not can(host, Action.HOST_SESSIONS) for host in hosts):
            raise forms.ValidationError("Hosts and co-hosts need a peer supporter, moderator "
                                        "or admin role (set it on the member).")
        return cleaned


@admin.register(HostedSession)
class HostedSessionAdmin(admin.ModelAdmin[HostedSession]):
    form = HostedSessionForm
    list_display = ("title", "room", "host", "recurrence", "first_date", "start_time",
                    "time_zone", "capacity", "state")
    list_filter = ("state", "recurrence", "room")
    search_fields = ("title", "room__title")
    raw_id_fields = ("host",)
    filter_horizontal = ("co_hosts",)
    fieldsets = (
        (None, {"fields": ("room", "title", "host", "co_hosts", "template", "capacity")}),
        ("Schedule", {"fields": ("time_zone", "first_date", "start_time", "duration_minutes",
                                 "recurrence")}),
        ("Live state (changed by the host's console)", {
            "classes": ("collapse",),
            "fields": ("state", "phase", "started_at", "ended_at", "paused", "locked",
                       "slow_mode_seconds", "pinned_seq", "sharer", "share_ends_at",
                       "share_seconds", "prompt", "version")}),
    )
    # The live state goes through rooms.sessions, which broadcasts it; an edit here would not.
    readonly_fields = ("state", "phase", "started_at", "ended_at", "paused", "locked",
                       "slow_mode_seconds", "pinned_seq", "sharer", "share_ends_at", "prompt",
                       "version")

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest,
                                 **kwargs: Any) -> Any:
        if db_field.name == "co_hosts":
            kwargs["queryset"] = Member.objects.exclude(role=Role.MEMBER).order_by("handle")
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(SessionTemplate)
class SessionTemplateAdmin(admin.ModelAdmin[SessionTemplate]):
    list_display = ("name", "share_seconds")
    search_fields = ("name",)


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin[Prompt]):
    list_display = ("text", "focus_area", "position", "is_active")
    list_editable = ("position", "is_active")
    list_filter = ("focus_area", "is_active")
    search_fields = ("text",)


@admin.register(SessionFeedback)
class SessionFeedbackAdmin(admin.ModelAdmin[SessionFeedback]):
    """Read-only: answers are anonymous and nobody edits what members said."""

    list_display = ("session", "occurrence_on", "mood_before", "mood_after", "helpful",
                    "tags", "comment")
    list_filter = ("session__room", "occurrence_on")
    ordering = ("-occurrence_on", "session")
    fields = ("session", "occurrence_on", "mood_before", "mood_after", "helpful", "tags",
              "comment")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
