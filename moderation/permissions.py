"""Who may do what. Every staff endpoint and action asks here, so no check is forgotten."""

from __future__ import annotations

from chat.errors import ErrorCode, HearthError
from chat.models import MODERATOR_ROLES, Member


def can_moderate(member: Member | None) -> bool:
    return member is not None and member.role in MODERATOR_ROLES


def can_staff(member: Member | None) -> bool:
    """Peer supporters, moderators and admins: on duty, escalations, take-asides."""
    return member is not None and member.is_staff_member


def require_staff(member: Member | None) -> Member:
    if member is None or not can_staff(member):
        raise HearthError(ErrorCode.FORBIDDEN)
    return member


def require_moderator(member: Member | None) -> Member:
    if member is None or not can_moderate(member):
        raise HearthError(ErrorCode.FORBIDDEN)
    return member
