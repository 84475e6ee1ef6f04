from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    MEMBER = "member", _("Member")
    PEER_SUPPORTER = "peer_supporter", _("Peer supporter")
    MODERATOR = "moderator", _("Moderator")
    ADMIN = "admin", _("Admin")


# Who is staff and who moderates: decided here only (moderation/permissions.py asks these).
STAFF_ROLES = frozenset({Role.PEER_SUPPORTER, Role.MODERATOR, Role.ADMIN})
MODERATOR_ROLES = frozenset({Role.MODERATOR, Role.ADMIN})


class Member(models.Model):
    """Someone in the community, known only by a handle.

    Anonymous members are tied to a browser session; staff members are tied to a Django user.
    No email, IP address or user agent is ever stored here.
    """

    handle = models.CharField(max_length=24)
    # Lower-cased handle: uniqueness ignores case so "QuietHeron42" and "quietheron42" clash.
    handle_key = models.CharField(max_length=24, unique=True)
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.MEMBER)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.CASCADE, related_name="member")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.handle

    @property
    def is_staff_member(self) -> bool:
        return self.role in STAFF_ROLES


class MessageStatus(models.TextChoices):
    VISIBLE = "visible", _("Visible")
    # Waiting for a moderator: only its author (and moderators) can see it.
    HELD = "held", _("Held for review")
    HIDDEN = "hidden", _("Hidden by a moderator")
    # Gives details of a method or means (safe-messaging guidance): its author sees it, the
    # room sees "waiting for a moderator" until one releases or hides it.
    COLLAPSED = "collapsed", _("Collapsed pending review")


class Message(models.Model):
    room = models.ForeignKey("rooms.Room", on_delete=models.CASCADE, related_name="messages")
    seq = models.BigIntegerField()
    author = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="messages")
    # Chosen by the sending client; a retry with the same id is the same message.
    client_id = models.CharField(max_length=64)
    # What others are shown: the words as written, or with contact details masked.
    body = models.TextField()
    # The author's own words when `body` differs from them (masked), else "": the author and
    # reviewing moderators read these, nobody else (chat.selectors.frame_for_message).
    original_body = models.TextField(blank=True, default="")
    # Made once, at write time, by chat.rendering from `body`; the only HTML a client inserts.
    html = models.TextField()
    status = models.CharField(max_length=10, choices=MessageStatus.choices,
                              default=MessageStatus.VISIBLE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="message_unique_room_seq"),
            models.UniqueConstraint(fields=["author", "client_id"],
                                    name="message_unique_author_client_id"),
        ]
        ordering = ["room", "seq"]

    def __str__(self) -> str:
        return f"{self.room_id}#{self.seq}"
