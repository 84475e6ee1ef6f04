from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

from chat.models import Member
from moderation.admin import SettingsHistoryAdmin


@admin.register(Member)
class MemberAdmin(SettingsHistoryAdmin[Member]):
    """Operators set staff roles here. Message text is deliberately not browsable in the
    admin: reading members' words is a moderation action with its own audit trail."""

    list_display = ("handle", "role", "user", "created_at")
    list_filter = ("role",)
    search_fields = ("handle",)
    fields = ("handle", "role", "user", "created_at")
    readonly_fields = ("handle", "created_at")
    raw_id_fields = ("user",)


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(SettingsHistoryAdmin[User], UserAdmin[User]):
    """Django's user admin, with changes to who may sign in and as what kept in the history
    of settings (the username, active and superuser flags; never the password)."""
