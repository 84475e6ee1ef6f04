from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class ScreeningAction(models.TextChoices):
    ALLOW = "allow", _("Allow")
    MASK = "mask", _("Mask the matched part")
    HOLD = "hold", _("Hold for review")
    BLOCK = "block", _("Block")


class GroundRule(models.Model):
    """One ground rule. Site-wide when `room` is empty, else one of a room's own additions.

    `code` is what every notice, sanction and audit row cites ("no-contact-details").
    """

    room = models.ForeignKey("rooms.Room", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="ground_rules")
    code = models.SlugField(max_length=48)
    title = models.CharField(max_length=120)
    text = models.CharField(max_length=600)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["room_id", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["room", "code"], name="ground_rule_unique_code"),
            models.UniqueConstraint(fields=["code"], condition=models.Q(room__isnull=True),
                                    name="ground_rule_unique_site_code"),
        ]

    def __str__(self) -> str:
        return self.code


class RoomRulesVersion(models.Model):
    """The version of the rules a member must accept in a room; bumped by every change to
    the site-wide rules or the room's own."""

    room = models.OneToOneField("rooms.Room", on_delete=models.CASCADE,
                                related_name="rules_version")
    version = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.room_id} v{self.version}"


class RulesAcceptance(models.Model):
    member = models.ForeignKey("chat.Member", on_delete=models.CASCADE,
                               related_name="rules_acceptances")
    room = models.ForeignKey("rooms.Room", on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    accepted_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "room"],
                                               name="rules_acceptance_unique")]

    def __str__(self) -> str:
        return f"{self.member_id}@{self.room_id} v{self.version}"


class ScreeningPolicy(models.Model):
    """What happens to a message when a detector fires. One site default (room empty) and
    optional per-room overrides. Crisis signals can never block (see moderation.policy)."""

    room = models.OneToOneField("rooms.Room", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="screening_policy")
    contact = models.CharField(max_length=8, choices=ScreeningAction.choices,
                               default=ScreeningAction.MASK)
    harassment = models.CharField(max_length=8, choices=ScreeningAction.choices,
                                  default=ScreeningAction.BLOCK)
    spam = models.CharField(max_length=8, choices=ScreeningAction.choices,
                            default=ScreeningAction.BLOCK)
    crisis = models.CharField(max_length=8, choices=ScreeningAction.choices,
                              default=ScreeningAction.ALLOW)

    class Meta:
        verbose_name_plural = "screening policies"
        constraints = [models.UniqueConstraint(fields=["room"], condition=models.Q(
            room__isnull=True), name="screening_policy_one_default")]

    def __str__(self) -> str:
        return f"policy for {self.room or 'the whole site'}"


class ReportReason(models.TextChoices):
    HARASSMENT = "harassment", _("Harassment or bullying")
    SPAM = "spam", _("Spam")
    UNSAFE = "unsafe", _("Unsafe content")
    CONTACT_DETAILS = "contact_details", _("Sharing contact details")
    WORRIED = "worried", _("I'm worried about this person")
    OTHER = "other", _("Something else")


class Report(models.Model):
    message = models.ForeignKey("chat.Message", on_delete=models.CASCADE,
                                related_name="reports")
    reporter = models.ForeignKey("chat.Member", on_delete=models.CASCADE,
                                 related_name="reports_made")
    reason = models.CharField(max_length=20, choices=ReportReason.choices)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "reporter"],
                                               name="report_once_per_member")]

    def __str__(self) -> str:
        return f"report {self.pk} on {self.message_id}"


class ReviewState(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class ReviewItem(models.Model):
    """A message that needs a human: held by screening, flagged, or reported."""

    message = models.OneToOneField("chat.Message", on_delete=models.CASCADE,
                                   related_name="review_item")
    state = models.CharField(max_length=10, choices=ReviewState.choices,
                             default=ReviewState.OPEN)
    urgency = models.PositiveSmallIntegerField(default=0)
    # Signals that fired at screening: [{"detector", "kind", "rule", "severity"}].
    signals = models.JSONField(default=list)
    report_count = models.PositiveIntegerField(default=0)
    opened_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=20, blank=True)
    # The member's own words when they asked for a decision to be looked at again.
    appeal_note = models.CharField(max_length=1000, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "-urgency", "opened_at"])]

    def __str__(self) -> str:
        return f"review {self.pk} ({self.state})"


class SanctionKind(models.TextChoices):
    WARNING = "warning", _("Warning")
    TIMEOUT = "timeout", _("Timeout")
    BAN = "ban", _("Ban")


class Sanction(models.Model):
    member = models.ForeignKey("chat.Member", on_delete=models.CASCADE, related_name="sanctions")
    # Empty room: the sanction applies across the whole site.
    room = models.ForeignKey("rooms.Room", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    kind = models.CharField(max_length=10, choices=SanctionKind.choices)
    rule = models.CharField(max_length=48)
    reason = models.CharField(max_length=500)
    issued_by = models.ForeignKey("chat.Member", null=True, on_delete=models.SET_NULL,
                                  related_name="sanctions_issued")
    # The message that led to it, when it was issued from the review queue (for appeals).
    message = models.ForeignKey("chat.Message", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    starts_at = models.DateTimeField()
    # Empty: does not end by itself (a ban); warnings end when issued.
    ends_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["member", "ends_at"])]

    def __str__(self) -> str:
        return f"{self.kind} for {self.member_id}"


class AuditAction(models.TextChoices):
    READ_HISTORY = "read_history", _("Read a member's history")
    RESTORE = "restore", _("Restore a message")
    HIDE = "hide", _("Hide a message")
    WARN = "warn", _("Warn")
    TIMEOUT = "timeout", _("Timeout")
    BAN = "ban", _("Ban")
    DISMISS = "dismiss", _("Dismiss reports")


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("audit entries are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("audit entries are append-only")


class AuditEntry(models.Model):
    """Append-only record of every moderator read and action.

    People and messages are referenced by id and handle copies, not foreign keys, so no later
    deletion (a member erasing themselves, a staff account removed) can rewrite the record.
    """

    actor_id_ref = models.BigIntegerField()
    actor_handle = models.CharField(max_length=24)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    target_member_id_ref = models.BigIntegerField(null=True, blank=True)
    target_handle = models.CharField(max_length=24, blank=True)
    message_id_ref = models.BigIntegerField(null=True, blank=True)
    room_slug = models.CharField(max_length=64, blank=True)
    rule = models.CharField(max_length=48, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.actor_handle} {self.action} {self.target_handle}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("audit entries are append-only")


class Mute(models.Model):
    """A member chose not to see another handle. Only the muter is affected."""

    member = models.ForeignKey("chat.Member", on_delete=models.CASCADE, related_name="mutes")
    muted = models.ForeignKey("chat.Member", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "muted"], name="mute_once")]

    def __str__(self) -> str:
        return f"{self.member_id} mutes {self.muted_id}"


class HelplineAudience(models.TextChoices):
    EVERYONE = "everyone", _("Everyone")
    YOUTH = "youth", _("Young people")


class Helpline(models.Model):
    """A crisis line a member can reach now. Operators keep this list in the admin; the
    support card shows exactly one: the first verified line for the member's region."""

    # ISO 3166 alpha-2 code ("GB"), or "*" for the worldwide fallback.
    region = models.CharField(max_length=2, db_index=True)
    name = models.CharField(max_length=120)
    phone = models.CharField(max_length=40, blank=True)
    text = models.CharField(max_length=120, blank=True, help_text=_("How to reach it by SMS"))
    chat_url = models.URLField(blank=True)
    url = models.URLField()
    hours = models.CharField(max_length=80, default="24 hours a day, 7 days a week")
    is_24_7 = models.BooleanField(default=True)
    audience = models.CharField(max_length=10, choices=HelplineAudience.choices,
                                default=HelplineAudience.EVERYONE)
    is_verified = models.BooleanField(default=False, help_text=_(
        "Only verified lines are shown to members. Check the number before ticking."))
    verified_on = models.DateField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["region", "position", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.region})"
