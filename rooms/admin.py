from django.contrib import admin

from rooms.models import Room


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin[Room]):
    list_display = ("title", "slug", "focus_area", "audience", "kind", "capacity", "is_active")
    list_filter = ("focus_area", "audience", "kind", "is_active")
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("last_seq", "created_at")
