from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hearth.env import MAX_RETENTION_DAYS


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
    # Empty: the site default (HEARTH_RETENTION_MESSAGE_DAYS); read through rooms.retention.
    message_retention_days = models.PositiveIntegerField(
        null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RETENTION_DAYS)],
        verbose_name=_("keep messages for (days)"),
        help_text=format_lazy(_(
            "How many days this room's messages are kept before the daily purge deletes "
            "them, from 1 to {maximum}. Leave empty for the site default."),
            maximum=MAX_RETENTION_DAYS))
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


# --- hosted sessions --------------------------------------------------------------------------

class SessionPhase(models.TextChoices):
    OPENING = "opening", _("Opening")
    SHARING = "sharing", _("Sharing")
    DISCUSSION = "discussion", _("Discussion")
    CLOSING = "closing", _("Closing")


class SessionState(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    LIVE = "live", _("Live")
    ENDED = "ended", _("Ended")


class Recurrence(models.TextChoices):
    ONCE = "once", _("Once")
    WEEKLY = "weekly", _("Every week")


class SessionTemplate(models.Model):
    """The words a host walks a session through; operators edit these in the admin."""

    name = models.CharField(max_length=80, unique=True)
    welcome_text = models.TextField()
    introductions_prompt = models.CharField(max_length=300, blank=True)
    closing_prompt = models.CharField(max_length=300)
    grounding_text = models.CharField(max_length=300, help_text=_(
        "Shown to everyone while the host pauses the room."))
    share_seconds = models.PositiveIntegerField(default=180)

    def __str__(self) -> str:
        return self.name


class Prompt(models.Model):
    """A discussion prompt from the library; a host posts one into the discussion phase."""

    text = models.CharField(max_length=300)
    # Empty: fits any room.
    focus_area = models.CharField(max_length=32, choices=FocusArea.choices, blank=True)
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.text[:60]


class HostedSession(models.Model):
    """A session a peer supporter hosts in a room, on a schedule, with its live state.

    Every change of the live state goes through rooms.sessions and is stored here, so a
    worker restart or a host reconnecting to another worker loses nothing.
    """

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="sessions")
    title = models.CharField(max_length=120)
    host = models.ForeignKey("chat.Member", on_delete=models.PROTECT, related_name="+")
    co_hosts = models.ManyToManyField("chat.Member", blank=True, related_name="+")
    template = models.ForeignKey(SessionTemplate, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    # The schedule, in the host's own time zone ("Europe/London"): the local clock time
    # stays put across daylight-saving changes.
    time_zone = models.CharField(max_length=64, default="UTC")
    first_date = models.DateField()
    start_time = models.TimeField()
    duration_minutes = models.PositiveIntegerField(default=60)
    recurrence = models.CharField(max_length=8, choices=Recurrence.choices,
                                  default=Recurrence.WEEKLY)
    capacity = models.PositiveIntegerField(default=10)
    # --- live state ---
    state = models.CharField(max_length=10, choices=SessionState.choices,
                             default=SessionState.SCHEDULED)
    phase = models.CharField(max_length=12, choices=SessionPhase.choices,
                             default=SessionPhase.OPENING)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    paused = models.BooleanField(default=False)
    locked = models.BooleanField(default=False)
    slow_mode_seconds = models.PositiveIntegerField(default=0)
    pinned_seq = models.BigIntegerField(null=True, blank=True)
    sharer = models.ForeignKey("chat.Member", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    share_ends_at = models.DateTimeField(null=True, blank=True)
    share_seconds = models.PositiveIntegerField(default=180)
    prompt = models.CharField(max_length=300, blank=True)
    # Bumped by every change: clients keep the newest state they have seen.
    version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["first_date", "start_time"]
        constraints = [models.UniqueConstraint(
            fields=["room"], condition=models.Q(state="live"), name="one_live_session_per_room")]

    def __str__(self) -> str:
        return self.title


class QueueState(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    SHARING = "sharing", _("Sharing")
    DONE = "done", _("Done")
    PASSED = "passed", _("Passed")
    SKIPPED = "skipped", _("Skipped")


class QueueEntry(models.Model):
    """A raised hand in the sharing phase's turn queue."""

    session = models.ForeignKey(HostedSession, on_delete=models.CASCADE, related_name="queue")
    member = models.ForeignKey("chat.Member", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    state = models.CharField(max_length=8, choices=QueueState.choices,
                             default=QueueState.WAITING)
    raised_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(
            fields=["session", "member"], condition=models.Q(state__in=["waiting", "sharing"]),
            name="one_raised_hand_per_member")]

    def __str__(self) -> str:
        return f"{self.member_id} #{self.position} ({self.state})"


class SessionParticipant(models.Model):
    """Someone who was in the room while the session was live: a lock keeps newcomers out,
    never the people already taking part, who may reconnect."""

    session = models.ForeignKey(HostedSession, on_delete=models.CASCADE,
                                related_name="participants")
    member = models.ForeignKey("chat.Member", on_delete=models.CASCADE, related_name="+")
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "member"],
                                               name="participant_once")]

    def __str__(self) -> str:
        return f"{self.member_id} in {self.session_id}"


class FeedbackTag(models.TextChoices):
    FELT_HEARD = "felt_heard", _("I felt heard")
    FELT_SAFE = "felt_safe", _("I felt safe")
    LEARNED_SOMETHING = "learned_something", _("I learned something")
    TOO_FAST = "too_fast", _("It felt too fast")
    TOO_SLOW = "too_slow", _("It felt too slow")
    SOMEONE_UNKIND = "someone_unkind", _("Someone was unkind")
    WANTED_MORE_TIME = "wanted_more_time", _("I wanted more time to share")


class SessionFeedback(models.Model):
    """Anonymous by construction: no member, no handle, no time of day, a random key. That a
    member already answered is kept in their browser session, not here, so no table pairs a
    member with an answer, not even by the order rows were written."""

    id = models.UUIDField(primary_key=True)
    session = models.ForeignKey(HostedSession, on_delete=models.CASCADE,
                                related_name="feedback")
    occurrence_on = models.DateField()
    mood_before = models.PositiveSmallIntegerField(null=True, blank=True)
    mood_after = models.PositiveSmallIntegerField(null=True, blank=True)
    helpful = models.BooleanField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    comment = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"feedback on {self.session_id} {self.occurrence_on}"

