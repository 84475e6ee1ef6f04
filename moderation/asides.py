"""Take-aside conversations: a private one-to-one between a staff member and a member.

The member stays anonymous (staff see the handle only) and may decline. Opening, answering
and ending are audited; the words are not copied into the audit.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from chat.errors import ErrorCode, HearthError
from chat.events import aside_group, send_to_group_sync
from chat.models import Member
from chat.protocol import encode
from chat.rendering import render_message_html
from hearth.sequences import claim_next
from moderation import audit, escalations, support
from moderation.models import (
    AsideMessage,
    AsideState,
    AuditAction,
    ReviewItem,
    ScreeningAction,
    TakeAside,
)
from moderation.permissions import can_moderate, require_staff
from moderation.policy import PolicyActions, decide
from moderation.screening import screen_message
from moderation.screening.types import ScreeningContext

Side = Literal["member", "staff"]
MESSAGES_IN_FRAME: Final = 100
LIVE_STATES: Final = (AsideState.INVITED, AsideState.OPEN)


# --- frames ---------------------------------------------------------------------------------

def _message_field(message: AsideMessage, aside: TakeAside) -> dict[str, Any]:
    return {"aside_id": aside.pk, "seq": message.seq, "handle": message.author.handle,
            "from": "staff" if message.author_id == aside.staff_id else "member",
            "body": message.body, "html": message.html,
            "sent_at": message.created_at.isoformat(), "client_id": message.client_id}


def aside_field(aside: TakeAside, *, you: Side) -> dict[str, Any]:
    messages = list(aside.messages.select_related("author").order_by("-seq")
                    [:MESSAGES_IN_FRAME])
    messages.reverse()
    field: dict[str, Any] = {
        "id": aside.pk, "state": aside.state, "you": you,
        "staff": {"handle": aside.staff.handle, "role": aside.staff.role},
        "member": {"handle": aside.member.handle},
        "room": aside.room.slug if aside.room else None,
        "escalation_id": aside.escalation_id,
        "created_at": aside.created_at.isoformat(),
        "messages": [_message_field(m, aside) for m in messages],
    }
    if you == "member" and aside.state == AsideState.INVITED:
        field["detail"] = support.aside_invite_text(staff_handle=aside.staff.handle)
    return field


def _tell_both(aside: TakeAside, frame_type: str) -> None:
    """Each person gets the aside from their own side; the member's first sight of an
    invitation is a take_aside_invite."""
    member_type = "take_aside_invite" if frame_type == "invite" else "take_aside_state"
    for group, side, kind in ((aside_group(aside.member_id), "member", member_type),
                              (aside_group(aside.staff_id), "staff", "take_aside_state")):
        frame = {"type": kind, "aside": aside_field(aside, you=side)}  # type: ignore[arg-type]
        send_to_group_sync(group, {"type": "aside.frame", "text": encode(frame)})


def live_asides_by_member(*, member_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """live_asides_for(you="member") for many members in one query (a burst of joins)."""
    by_member: dict[int, list[dict[str, Any]]] = {member_id: [] for member_id in member_ids}
    for aside in (TakeAside.objects.filter(state__in=LIVE_STATES, member_id__in=member_ids)
                  .select_related("staff", "member", "room").order_by("created_at")):
        by_member[aside.member_id].append(aside_field(aside, you="member"))
    return by_member


def live_asides_for(*, member_id: int, you: Side) -> list[dict[str, Any]]:
    """Invited and open asides, for a reconnecting socket."""
    mine = (TakeAside.objects.filter(state__in=LIVE_STATES).select_related(
        "staff", "member", "room"))
    mine = mine.filter(member_id=member_id) if you == "member" else mine.filter(
        staff_id=member_id)
    return [aside_field(aside, you=you) for aside in mine.order_by("created_at")]


# --- writes ---------------------------------------------------------------------------------

def _audit(*, actor: Member, action: AuditAction, aside: TakeAside) -> None:
    audit.record(actor=actor, action=action, target=aside.member,
                 room_slug=aside.room.slug if aside.room else "", rule="crisis-support",
                 reason=f"take-aside {aside.pk}")


def open_take_aside(*, staff: Member, escalation_id: int | None = None,
                    item_id: int | None = None, room_slug: str | None = None,
                    handle: str | None = None) -> TakeAside:
    """Invite a member to talk privately: the member of an escalation, the author of a
    review item (moderators only), or someone in a room by handle (a host's console).
    Opening from an escalation acknowledges it."""
    require_staff(staff)
    given = [escalation_id is not None, item_id is not None,
             room_slug is not None or handle is not None]
    if sum(given) != 1 or (given[2] and (room_slug is None or handle is None)):
        raise HearthError(ErrorCode.INVALID_FIELD,
                          "Give escalation_id, item_id, or room and handle.")
    with transaction.atomic():
        escalation = None
        if escalation_id is not None:
            escalation = escalations.locked_open_escalation(escalation_id)
            member, room = escalation.member, escalation.room
        elif room_slug is not None and handle is not None:
            member, room = escalations.member_in_room(room_slug=room_slug, handle=handle)
        elif item_id is not None:
            if not can_moderate(staff):
                raise HearthError(ErrorCode.FORBIDDEN)
            item = (ReviewItem.objects.select_related("message__author", "message__room")
                    .filter(pk=item_id).first())
            if item is None:
                raise HearthError(ErrorCode.MESSAGE_NOT_FOUND)
            member, room = item.message.author, item.message.room
        else:
            raise HearthError(ErrorCode.INVALID_FIELD,
                              "Give escalation_id, item_id, or room and handle.")
        if member.pk == staff.pk:
            raise HearthError(ErrorCode.INVALID_FIELD, "You can't take yourself aside.")
        aside = TakeAside.objects.filter(member=member, staff=staff,
                                         state__in=LIVE_STATES).first()
        if aside is None:
            aside = TakeAside.objects.create(member=member, staff=staff, escalation=escalation,
                                             room=room)
            _audit(actor=staff, action=AuditAction.ASIDE_OPEN, aside=aside)
        # Asking again for an aside the member already accepted just shows it again.
        kind = "invite" if aside.state == AsideState.INVITED else "state"
        acknowledged = escalation is not None and escalations.mark_acknowledged(escalation,
                                                                                 staff)

        def announce() -> None:
            _tell_both(aside, kind)
            if escalation is not None:
                escalations.push_escalation(escalation.pk,
                                            "acknowledged" if acknowledged else "aside")

        transaction.on_commit(announce)
    return aside


def _locked_aside(aside_id: int, person: Member) -> TakeAside:
    # Lock the aside row only: its room is nullable, and PostgreSQL refuses FOR UPDATE on the
    # nullable side of the outer join that select_related makes for it.
    aside = (TakeAside.objects.select_for_update(of=("self",))
             .select_related("staff", "member", "room")
             .filter(pk=aside_id).first())
    if aside is None or person.pk not in (aside.member_id, aside.staff_id):
        raise HearthError(ErrorCode.ASIDE_NOT_FOUND)
    return aside


def reply(*, member: Member, aside_id: int, accept: bool) -> TakeAside:
    with transaction.atomic():
        aside = _locked_aside(aside_id, member)
        if aside.member_id != member.pk:
            raise HearthError(ErrorCode.ASIDE_NOT_FOUND)
        if aside.state != AsideState.INVITED:
            raise HearthError(ErrorCode.ASIDE_CLOSED)
        aside.state = AsideState.OPEN if accept else AsideState.DECLINED
        aside.answered_at = timezone.now()
        if not accept:
            aside.closed_at = aside.answered_at
        aside.save()
        _audit(actor=member, action=AuditAction.ASIDE_ACCEPT if accept
               else AuditAction.ASIDE_DECLINE, aside=aside)
        transaction.on_commit(lambda: _after_state_change(aside))
    return aside


def leave(*, person: Member, aside_id: int) -> TakeAside:
    with transaction.atomic():
        aside = _locked_aside(aside_id, person)
        if aside.state not in LIVE_STATES:
            raise HearthError(ErrorCode.ASIDE_CLOSED)
        aside.state, aside.closed_at = AsideState.CLOSED, timezone.now()
        aside.save()
        _audit(actor=person, action=AuditAction.ASIDE_CLOSE, aside=aside)
        transaction.on_commit(lambda: _after_state_change(aside))
    return aside


def _after_state_change(aside: TakeAside) -> None:
    _tell_both(aside, "state")
    if aside.escalation_id is not None:
        escalations.push_escalation(aside.escalation_id, "aside")


def send(*, author: Member, aside_id: int, client_id: str,
         body: str) -> tuple[AsideMessage, bool]:
    """Store a message in an open aside, once per client_id. Returns (message, created).

    Contact details are masked as in rooms; nothing said here is ever blocked for distress.
    """
    if not TakeAside.objects.filter(pk=aside_id).filter(
            Q(member_id=author.pk) | Q(staff_id=author.pk)).exists():
        raise HearthError(ErrorCode.ASIDE_NOT_FOUND)
    existing = AsideMessage.objects.filter(aside_id=aside_id, author=author,
                                           client_id=client_id).first()
    if existing is not None:
        return existing, False
    # The crisis detector runs too, only so that distress is never blocked: the policy turns
    # a block into a hold with the insult masked, and here a hold is simply delivered.
    verdict = decide(text=body, signals=screen_message(
        text=body, context=ScreeningContext(), detectors=["contact", "harassment", "crisis"]),
        actions=_aside_policy())
    if verdict.action == ScreeningAction.BLOCK:
        raise HearthError(ErrorCode.MESSAGE_BLOCKED)
    try:
        with transaction.atomic():
            aside = _locked_aside(aside_id, author)
            if aside.state != AsideState.OPEN:
                raise HearthError(ErrorCode.ASIDE_CLOSED)
            seq = claim_next(TakeAside, pk=aside.pk)
            assert seq is not None  # noqa: S101  (the row is locked above)
            aside.last_seq = seq
            message = AsideMessage.objects.create(
                aside=aside, seq=seq, author=author, client_id=client_id,
                body=verdict.body, html=render_message_html(verdict.body))
            frame = {"type": "take_aside_message", **_message_field(message, aside)}
            text = encode(frame)

            def announce() -> None:
                for person_id in (aside.member_id, aside.staff_id):
                    send_to_group_sync(aside_group(person_id),
                                       {"type": "aside.frame", "text": text})

            transaction.on_commit(announce)
    except IntegrityError:
        existing = AsideMessage.objects.filter(aside_id=aside_id, author=author,
                                               client_id=client_id).first()
        if existing is None:
            raise
        return existing, False
    return message, True


def _aside_policy() -> PolicyActions:
    # One to one with staff: contact details are masked (nobody moves a member off the
    # platform), insults are held back; there is no room policy to apply.
    return PolicyActions(contact=ScreeningAction.MASK, harassment=ScreeningAction.BLOCK)
