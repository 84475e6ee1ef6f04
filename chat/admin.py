from django.contrib import admin

from chat.models import Member


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin[Member]):
    """Operators set staff roles here. Message text is deliberately not browsable in the
    admin: reading members' words is a moderation action with its own audit trail."""

    list_display = ("handle", "role", "user", "created_at")
    list_filter = ("role",)
    search_fields = ("handle",)
    fields = ("handle", "role", "user", "created_at")
    readonly_fields = ("handle", "created_at")
    raw_id_fields = ("user",)
