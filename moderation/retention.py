"""Retention for moderation's records: what `manage.py purge` deletes or reduces here.

Audit rows are append-only for everyone else (AuditEntryQuerySet refuses updates and
deletes); retention is the one writer allowed past that, through a plain queryset, to
delete rows past their period and to reduce the member in older ones to an opaque id.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.crypto import salted_hmac

from hearth.batches import delete_in_batches
from moderation import audit
from moderation.audit import Actor
from moderation.models import (
    AsideMessage,
    AsideState,
    AuditAction,
    AuditEntry,
    Escalation,
    Report,
    ReviewItem,
    ReviewState,
    Sanction,
    TakeAside,
)

# Who the purge's own audit row names: no person did it.
PURGE_ACTOR_HANDLE = "retention"
# A reduced row's member: "#" and twelve hex digits (no handle can start with "#").
OPAQUE_PREFIX = "#"


def _all_audit_rows() -> models.QuerySet[AuditEntry]:
    return models.QuerySet(model=AuditEntry)


# --- review items, reports, appeals, escalations ------------------------------------------------

def purge_reviews(*, now: datetime, days: int, batch_size: int,
                  dry_run: bool) -> dict[str, int]:
    """Review items (with the appeal in them) and escalations resolved more than `days` ago,
    and reports made more than `days` ago on messages nobody still has to look at."""
    cutoff = now - timedelta(days=days)
    return {
        "review_items": delete_in_batches(
            ReviewItem.objects.filter(state=ReviewState.RESOLVED, resolved_at__lt=cutoff),
            batch_size=batch_size, dry_run=dry_run),
        "reports": delete_in_batches(
            Report.objects.filter(created_at__lt=cutoff).exclude(
                message__review_item__state=ReviewState.OPEN),
            batch_size=batch_size, dry_run=dry_run),
        "escalations": delete_in_batches(
            Escalation.objects.filter(resolved_at__lt=cutoff),
            batch_size=batch_size, dry_run=dry_run),
    }


# --- take-aside transcripts ---------------------------------------------------------------------

def purge_transcripts(*, now: datetime, days: int, batch_size: int, dry_run: bool) -> int:
    """Take-asides (and every message in them) that ended more than `days` ago, invitations
    never answered in that time, and open ones silent for that long."""
    cutoff = now - timedelta(days=days)
    recent_message = AsideMessage.objects.filter(aside=OuterRef("pk"), created_at__gte=cutoff)
    over = (Q(state__in=[AsideState.CLOSED, AsideState.DECLINED], closed_at__lt=cutoff)
            | Q(state=AsideState.INVITED, created_at__lt=cutoff)
            | Q(state=AsideState.OPEN, created_at__lt=cutoff) & ~Exists(recent_message))
    return delete_in_batches(TakeAside.objects.filter(over), batch_size=batch_size,
                             dry_run=dry_run)


# --- sanctions ----------------------------------------------------------------------------------

def purge_sanctions(*, now: datetime, days: int, batch_size: int, dry_run: bool) -> int:
    """Sanctions that ended more than `days` ago; a ban without an end stays."""
    return delete_in_batches(Sanction.objects.filter(ends_at__lt=now - timedelta(days=days)),
                             batch_size=batch_size, dry_run=dry_run)


# --- the audit log ------------------------------------------------------------------------------

def opaque_member_id(member_id: int) -> str:
    """The same member gives the same id under one SECRET_KEY, so repeated actions on one
    person can still be counted; without the key and the member's row it names nobody."""
    digest = salted_hmac("hearth.retention.audit-member", str(member_id)).hexdigest()
    return OPAQUE_PREFIX + digest[:12]


def purge_audit(*, now: datetime, days: int, identify_days: int, batch_size: int,
                dry_run: bool) -> dict[str, int]:
    """Delete audit rows older than `days`; in rows older than `identify_days`, replace the
    member (id, handle and the message that points at them) with an opaque id. A member who
    acted on their own take-aside (the actor is the target) is reduced as actor too; staff
    who acted stay named, so the record still says who did what."""
    deleted = delete_in_batches(
        _all_audit_rows().filter(created_at__lt=now - timedelta(days=days)),
        batch_size=batch_size, dry_run=dry_run)
    identified = _all_audit_rows().filter(created_at__lt=now - timedelta(days=identify_days),
                                          target_member_id_ref__isnull=False)
    if dry_run:
        return {"audit_rows": deleted, "audit_rows_reduced": identified.count()}
    reduced = 0
    while True:
        with transaction.atomic():
            member_ids = [member_id for member_id in identified.order_by("target_member_id_ref")
                          .values_list("target_member_id_ref", flat=True)
                          .distinct()[:batch_size] if member_id is not None]
            if not member_ids:
                break
            for member_id in member_ids:
                opaque = opaque_member_id(member_id)
                theirs = identified.filter(target_member_id_ref=member_id)
                theirs.filter(actor_id_ref=member_id).update(actor_id_ref=0,
                                                             actor_handle=opaque)
                reduced += theirs.update(target_member_id_ref=None, target_handle=opaque,
                                         message_id_ref=None)
    return {"audit_rows": deleted, "audit_rows_reduced": reduced}


def record_purge(*, counts: Mapping[str, int]) -> AuditEntry:
    """The purge's own audit row: how many of each kind, never what they said."""
    summary = ", ".join(f"{kind} {count}" for kind, count in counts.items())
    return audit.record(actor=Actor(id_ref=0, handle=PURGE_ACTOR_HANDLE),
                        action=AuditAction.PURGE, reason=summary)
