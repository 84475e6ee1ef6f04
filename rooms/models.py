from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class FocusArea(models.TextChoices):
    DEPRESSION = "depression", _("Depression")
    ANXIETY = "anxiety", _("Anxiety")
    GRIEF = "grief", _("Grief and loss")
    TRAUMA = "trauma", _("Trauma")
    SUBSTANCE_USE = "substance_use", _("Substance use")
    GENERAL = "general", _("General support")


class Audience(models.TextChoices):
    EVERYONE = "everyone", _("Everyone")
    YOUNG_ADULTS = "young_adults", _("Young adults")
    VETERANS = "veterans", _("Veterans")
    LGBTQ = "lgbtq", _("LGBTQ+")
    CARERS = "carers", _("Carers")


class RoomKind(models.TextChoices):
    ALWAYS_OPEN = "always_open", _("Always open")
    HOSTED = "hosted", _("Hosted sessions")


class Room(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=120)
    description = models.CharField(max_length=400)
    focus_area = models.CharField(max_length=32, choices=FocusArea.choices)
    audience = models.CharField(max_length=32, choices=Audience.choices,
                                default=Audience.EVERYONE)
    kind = models.CharField(max_length=32, choices=RoomKind.choices,
                            default=RoomKind.ALWAYS_OPEN)
    # Small groups stay intimate; staff are not counted against it.
    capacity = models.PositiveIntegerField(default=40)
    is_active = models.BooleanField(default=True)
    # Open only while someone from the team is on duty; read-only otherwise (with a notice
    # and the helpline card), for rooms where peers should never be alone.
    staffed_only = models.BooleanField(default=False)
    # The highest message sequence number handed out in this room (gap-free, per room).
    last_seq = models.BigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["focus_area", "audience", "title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return f"/rooms/{self.slug}/"


class RoomConnection(models.Model):
    """One open websocket in a room: the source of presence and capacity across workers.

    Rows belong to a worker process; each worker refreshes its own rows in one statement per
    heartbeat, so rows of a worker that died age out without anyone having to clean up first.
    """

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="connections")
    member = models.ForeignKey("chat.Member", on_delete=models.CASCADE,
                               related_name="connections")
    channel_name = models.CharField(max_length=200, unique=True)
    worker_id = models.CharField(max_length=64, db_index=True)
    connected_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["room", "last_seen"])]

    def __str__(self) -> str:
        return f"{self.member_id}@{self.room_id}"
