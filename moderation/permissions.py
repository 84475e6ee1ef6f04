"""Who may do what: one policy, `can(member, action, ...)`, which every staff endpoint, socket
action, session control and room limit asks, so that no rule is written twice or forgotten.

Roles come from chat.models (STAFF_ROLES, MODERATOR_ROLES); a session's hosts from
rooms.selectors.
"""

from __future__ import annotations

from enum import StrEnum

from chat.errors import ErrorCode, HearthError
from chat.models import MODERATOR_ROLES, STAFF_ROLES, Member
from rooms.models import HostedSession
from rooms.selectors import host_ids


class Action(StrEnum):
    # Peer supporters, moderators and admins: on duty, escalations, take-asides, the
    # dashboard, their own sessions' feedback.
    WORK_CRISIS_PATH = "work_crisis_path"
    # Moderators and admins: the review queue, sanctions, a member's history, originals.
    MODERATE = "moderate"
    # Be a session's host or co-host (set in the admin or by the schedule).
    HOST_SESSIONS = "host_sessions"
    # Start and steer `session` (its host and co-hosts only).
    RUN_SESSION = "run_session"
    # Post in `session` past its pause, turns and slow mode (its hosts).
    SPEAK_FREELY_IN_SESSION = "speak_freely_in_session"
    # Enter a full room, or a session whose seats are taken (staff; a session's hosts).
    JOIN_PAST_CAPACITY = "join_past_capacity"
    # Sanction `target` from the dashboard: moderators, and never a staff member.
    SANCTION = "sanction"
    # Mute or remove `target` in `session`: its hosts, never one of them or a staff member.
    SANCTION_IN_SESSION = "sanction_in_session"


def can(member: Member | None, action: Action, *, session: HostedSession | None = None,
        target: Member | None = None) -> bool:
    if member is None:
        return False
    staff = member.role in STAFF_ROLES

    def hosts() -> set[int]:  # a query: asked only where the answer turns on it
        return host_ids(session) if session is not None else set()

    match action:
        case Action.WORK_CRISIS_PATH | Action.HOST_SESSIONS:
            return staff
        case Action.MODERATE:
            return member.role in MODERATOR_ROLES
        case Action.RUN_SESSION | Action.SPEAK_FREELY_IN_SESSION:
            return member.pk in hosts()
        case Action.JOIN_PAST_CAPACITY:
            return staff or member.pk in hosts()
        case Action.SANCTION:
            return (member.role in MODERATOR_ROLES and target is not None
                    and target.role not in STAFF_ROLES)
        case Action.SANCTION_IN_SESSION:
            if target is None or target.role in STAFF_ROLES:
                return False
            session_hosts = hosts()
            return member.pk in session_hosts and target.pk not in session_hosts


def require(member: Member | None, action: Action, *, code: ErrorCode = ErrorCode.FORBIDDEN,
            detail: str = "", session: HostedSession | None = None,
            target: Member | None = None) -> Member:
    """The member, when the policy allows the action; HearthError(code, detail) when not."""
    if member is None or not can(member, action, session=session, target=target):
        raise HearthError(code, detail or None)
    return member


def speaks_freely(session: HostedSession, member_id: int) -> bool:
    """Action.SPEAK_FREELY_IN_SESSION for a member known by id alone (the post path has no
    Member row to hand, and hosting needs none)."""
    return member_id in host_ids(session)


def can_moderate(member: Member | None) -> bool:
    return can(member, Action.MODERATE)


def can_staff(member: Member | None) -> bool:
    """Peer supporters, moderators and admins: on duty, escalations, take-asides."""
    return can(member, Action.WORK_CRISIS_PATH)


def require_staff(member: Member | None) -> Member:
    return require(member, Action.WORK_CRISIS_PATH)


def require_moderator(member: Member | None) -> Member:
    return require(member, Action.MODERATE)
