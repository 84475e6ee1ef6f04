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
    READ_ORIGINAL = "read_original", _("Read what a member wrote before masking")
    RESTORE = "restore", _("Restore a message")
    HIDE = "hide", _("Hide a message")
    WARN = "warn", _("Warn")
    TIMEOUT = "timeout", _("Timeout")
    BAN = "ban", _("Ban")
    DISMISS = "dismiss", _("Dismiss reports")
    CHECK_IN = "check_in", _("Checked in for duty")
    CHECK_OUT = "check_out", _("Checked out")
    ACKNOWLEDGE = "acknowledge", _("Acknowledged an escalation")
    RESOLVE = "resolve", _("Resolved an escalation")
    ASIDE_OPEN = "aside_open", _("Invited a member to a take-aside")
    ASIDE_ACCEPT = "aside_accept", _("Member accepted a take-aside")
    ASIDE_DECLINE = "aside_decline", _("Member declined a take-aside")
    ASIDE_CLOSE = "aside_close", _("Take-aside ended")
    # The daily retention purge (hearth/retention.py): how many rows of each kind, no content.
    PURGE = "purge", _("Deleted what retention no longer keeps")
    # History of settings (moderation/settings_history.py): `changes` holds the values.
    SETTING_ADD = "setting_add", _("Added a setting")
    SETTING_CHANGE = "setting_change", _("Changed a setting")
    SETTING_DELETE = "setting_delete", _("Deleted a setting")


class SettingKind(models.TextChoices):
    HELPLINE = "helpline", _("Helpline")
    SCREENING_POLICY = "screening_policy", _("Screening policy")
    GROUND_RULE = "ground_rule", _("Ground rule")
    STAFF = "staff", _("Staff role")


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
    # As long as the longest note a person may write (an escalation's resolution note).
    reason = models.CharField(max_length=1000, blank=True)
    # A sanction given while the member showed signs of distress, confirmed on purpose.
    member_in_distress = models.BooleanField(default=False)
    # A change to a setting: which kind, which record (id and a name as it was then), and
    # {field: [before, after]} of the fields that changed, values bounded, never secrets.
    setting_kind = models.CharField(max_length=20, choices=SettingKind.choices, blank=True)
    setting_id_ref = models.BigIntegerField(null=True, blank=True)
    setting_label = models.CharField(max_length=120, blank=True)
    changes = models.JSONField(default=dict, blank=True)
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


class SettingChange(AuditEntry):
    """The audit rows that record a change to a setting (`setting_kind` set): the admin's
    history of settings. Same table, same append-only manager."""

    class Meta:
        proxy = True
        ordering = ["-created_at"]
        verbose_name = "change to a setting"
        verbose_name_plural = "history of settings"


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


# --- crisis path: escalations, the on-duty roster, take-aside conversations ---------------------

class EscalationTier(models.TextChoices):
    HIGH_RISK = "high_risk", _("High risk")
    IMMINENT = "imminent", _("Imminent risk")
    WORRIED_ABOUT_SOMEONE = "worried_about_someone", _("Worried about someone")
    ASKED = "asked", _("Asked to talk")
    # A host or staff member in the room raised it by hand.
    STAFF_CONCERN = "staff_concern", _("Raised by staff")


# Most urgent first: the order the staff dashboard lists open escalations in.
ESCALATION_TIERS_BY_URGENCY = (
    EscalationTier.IMMINENT, EscalationTier.HIGH_RISK, EscalationTier.STAFF_CONCERN,
    EscalationTier.ASKED, EscalationTier.WORRIED_ABOUT_SOMEONE,
)


class EscalationSource(models.TextChoices):
    SCREENING = "screening", _("Screening")
    MEMBER = "member", _("The member asked")
    STAFF = "staff", _("Staff raised it")


class Escalation(models.Model):
    """Someone may be in danger and a person must look now.

    Written in the same transaction as the message that raised it, so it exists whatever
    happens to the channel layer or to the sockets; the live alert is only a notification of
    this row. One open escalation per member and room: later messages update it.
    """

    room = models.ForeignKey("rooms.Room", on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey("chat.Member", on_delete=models.CASCADE,
                               related_name="escalations")
    message = models.ForeignKey("chat.Message", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    tier = models.CharField(max_length=24, choices=EscalationTier.choices)
    source = models.CharField(max_length=12, choices=EscalationSource.choices)
    # The few messages before it, as the room saw them then: [{seq, handle, role, html}].
    context = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    member_asked_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey("chat.Member", null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey("chat.Member", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True, db_index=True)
    resolution_note = models.CharField(max_length=1000, blank=True)
    # Nobody acknowledged in time: every staff socket was alerted, and the fallback.
    re_escalated_at = models.DateTimeField(null=True, blank=True)
    fallback_attempts = models.PositiveSmallIntegerField(default=0)
    fallback_next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    fallback_notified_at = models.DateTimeField(null=True, blank=True)
    # A short code ("http_503", "timeout"), never a message text or an address.
    fallback_last_error = models.CharField(max_length=40, blank=True)
    # The member was told the team is still being reached (once; survives restarts).
    member_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["resolved_at", "acknowledged_at", "created_at"])]

    def __str__(self) -> str:
        return f"escalation {self.pk} ({self.tier})"

    @property
    def state(self) -> str:
        if self.resolved_at is not None:
            return "resolved"
        return "acknowledged" if self.acknowledged_at is not None else "open"


class DutyShift(models.Model):
    """A staff member on duty from check-in to check-out.

    `last_seen_at` is refreshed while one of their staff sockets is open; a shift not seen
    for a while no longer counts, so the directory never claims someone is there who left
    without checking out.
    """

    member = models.ForeignKey("chat.Member", on_delete=models.CASCADE, related_name="shifts")
    started_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [models.UniqueConstraint(fields=["member"],
                                               condition=models.Q(ended_at__isnull=True),
                                               name="one_open_shift_per_member")]

    def __str__(self) -> str:
        return f"shift {self.member_id} from {self.started_at:%Y-%m-%d %H:%M}"


class AsideState(models.TextChoices):
    INVITED = "invited", _("Invited")
    OPEN = "open", _("Open")
    DECLINED = "declined", _("Declined")
    CLOSED = "closed", _("Closed")


class TakeAside(models.Model):
    """A private one-to-one conversation between a staff member and a member, who stays
    anonymous and may decline."""

    member = models.ForeignKey("chat.Member", on_delete=models.CASCADE, related_name="asides")
    staff = models.ForeignKey("chat.Member", on_delete=models.CASCADE,
                              related_name="asides_hosted")
    escalation = models.ForeignKey(Escalation, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="asides")
    room = models.ForeignKey("rooms.Room", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    state = models.CharField(max_length=10, choices=AsideState.choices,
                             default=AsideState.INVITED)
    last_seq = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"aside {self.pk} ({self.state})"


class AsideMessage(models.Model):
    aside = models.ForeignKey(TakeAside, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField()
    author = models.ForeignKey("chat.Member", on_delete=models.CASCADE, related_name="+")
    client_id = models.CharField(max_length=64)
    body = models.TextField()
    html = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["aside", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["aside", "seq"], name="aside_message_unique_seq"),
            models.UniqueConstraint(fields=["aside", "author", "client_id"],
                                    name="aside_message_unique_client_id"),
        ]

    def __str__(self) -> str:
        return f"{self.aside_id}#{self.seq}"
