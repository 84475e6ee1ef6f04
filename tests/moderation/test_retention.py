"""Retention of moderation's records (moderation/retention.py), with the clock moved forward:
settled review items, reports, escalations, ended take-asides and expired sanctions go after
their periods, live ones stay; audit rows go after theirs and, past the shorter identify
period, keep only an opaque id for the member."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from moderation import asides, escalations, retention
from moderation import services as moderation
from moderation.models import (
    AsideMessage,
    AuditAction,
    AuditEntry,
    Escalation,
    Report,
    ReviewItem,
    Sanction,
    SanctionKind,
    TakeAside,
)
from tests.factories import make_member, make_room, make_staff
from tests.moderation.support import Clock, reported_item
from tests.moderation.test_asides import open_aside
from tests.moderation.test_escalations import crisis_escalation

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(timezone, "now", fake)
    return fake


def reviews(dry_run: bool = False) -> dict[str, int]:
    return retention.purge_reviews(now=timezone.now(), days=90, batch_size=1, dry_run=dry_run)


# --- review items, reports, escalations -----------------------------------------------------------

def test_settled_reviews_reports_and_escalations_go_after_their_period(clock: Clock):
    staff = make_staff()
    settled, still_open = reported_item(make_room()), reported_item(make_room())
    moderation.dismiss_item(moderator=staff, item_id=settled.id, reason="Fine as it is")
    resolved, unresolved = crisis_escalation(), crisis_escalation()
    escalations.resolve(staff=staff, escalation_id=resolved.pk, note="Talked it through")
    items = set(ReviewItem.objects.values_list("pk", flat=True))  # the crisis ones too, open
    clock.advance(timedelta(days=89))
    assert reviews() == {"review_items": 0, "reports": 0, "escalations": 0}
    clock.advance(timedelta(days=2))
    assert reviews(dry_run=True) == {"review_items": 1, "reports": 1, "escalations": 1}
    assert set(ReviewItem.objects.values_list("pk", flat=True)) == items
    assert Report.objects.count() == 2
    assert reviews() == {"review_items": 1, "reports": 1, "escalations": 1}
    # What a moderator still has to look at stays, however old.
    assert set(ReviewItem.objects.values_list("pk", flat=True)) == items - {settled.id}
    assert still_open.id in items
    assert list(Report.objects.values_list("message_id", flat=True)) == [still_open.message.pk]
    assert list(Escalation.objects.values_list("pk", flat=True)) == [unresolved.pk]


# --- take-aside transcripts -----------------------------------------------------------------------

def test_ended_take_asides_go_with_their_transcript_after_the_period(clock: Clock):
    ended, staff, member = open_aside()
    asides.send(author=member, aside_id=ended.pk, client_id="a1", body="thank you for asking")
    asides.leave(person=staff, aside_id=ended.pk)
    talking, _staff, other = open_aside()
    clock.advance(timedelta(days=20))
    asides.send(author=other, aside_id=talking.pk, client_id="b1", body="still talking")
    clock.advance(timedelta(days=11))
    transcripts = retention.purge_transcripts(now=timezone.now(), days=30, batch_size=500,
                                              dry_run=False)
    assert transcripts == 1
    assert list(TakeAside.objects.values_list("pk", flat=True)) == [talking.pk]
    assert list(AsideMessage.objects.values_list("aside_id", flat=True)) == [talking.pk]
    # Silent for the whole period, an open one goes too.
    clock.advance(timedelta(days=21))
    assert retention.purge_transcripts(now=timezone.now(), days=30, batch_size=500,
                                       dry_run=False) == 1
    assert not AsideMessage.objects.exists()


# --- sanctions ------------------------------------------------------------------------------------

def test_sanctions_go_a_period_after_they_ended_and_bans_stay(clock: Clock):
    staff, member = make_staff(), make_member()

    def sanction(kind: SanctionKind, duration: timedelta | None = None) -> Sanction:
        return moderation.sanction_member(moderator=staff, member_id=member.pk, kind=kind,
                                          rule="respect", reason="Name-calling", room_id=None,
                                          duration=duration)

    sanction(SanctionKind.WARNING)
    timeout = sanction(SanctionKind.TIMEOUT, timedelta(days=7))
    ban = sanction(SanctionKind.BAN)
    clock.advance(timedelta(days=181))
    purge = retention.purge_sanctions
    assert purge(now=timezone.now(), days=180, batch_size=500, dry_run=True) == 1
    assert purge(now=timezone.now(), days=180, batch_size=500, dry_run=False) == 1
    assert set(Sanction.objects.values_list("pk", flat=True)) == {timeout.pk, ban.pk}
    clock.advance(timedelta(days=7))
    assert purge(now=timezone.now(), days=180, batch_size=500, dry_run=False) == 1
    assert list(Sanction.objects.values_list("pk", flat=True)) == [ban.pk]


# --- the audit log --------------------------------------------------------------------------------

def audit(dry_run: bool = False) -> dict[str, int]:
    return retention.purge_audit(now=timezone.now(), days=730, identify_days=90, batch_size=1,
                                 dry_run=dry_run)


def test_audit_rows_keep_only_an_opaque_id_after_the_identify_period(clock: Clock):
    staff, member = make_staff(), make_member()
    moderation.sanction_member(moderator=staff, member_id=member.pk, kind=SanctionKind.WARNING,
                               rule="respect", reason="Name-calling", room_id=None)
    aside, _staff, aside_member = open_aside()
    asides.leave(person=aside_member, aside_id=aside.pk)  # the member acts: actor and target
    clock.advance(timedelta(days=60))
    recent_staff = make_staff()
    moderation.sanction_member(moderator=recent_staff, member_id=member.pk,
                               kind=SanctionKind.WARNING, rule="respect", reason="Again",
                               room_id=None)
    clock.advance(timedelta(days=31))
    old = list(AuditEntry.objects.filter(created_at__lt=timezone.now() - timedelta(days=90))
               .values_list("pk", flat=True))
    assert audit(dry_run=True) == {"audit_rows": 0, "audit_rows_reduced": len(old)}
    assert AuditEntry.objects.filter(target_handle=member.handle).count() == 2
    assert audit() == {"audit_rows": 0, "audit_rows_reduced": len(old)}

    reduced = AuditEntry.objects.filter(pk__in=old)
    assert not reduced.filter(target_member_id_ref__isnull=False).exists()
    assert not reduced.exclude(message_id_ref=None).exists()
    handles = {member.handle, aside_member.handle}
    assert not reduced.filter(target_handle__in=handles).exists()
    assert not reduced.filter(actor_handle__in=handles).exists()
    assert not reduced.filter(actor_id_ref__in=[member.pk, aside_member.pk]).exists()
    warning = reduced.get(action=AuditAction.WARN)
    assert warning.target_handle == retention.opaque_member_id(member.pk)
    # "#" and 12 hex digits of a keyed hash: not the pk itself, which may share a digit with it
    assert re.fullmatch(r"#[0-9a-f]{12}", warning.target_handle)
    # Staff stay named: the record still says who did what.
    assert (warning.actor_id_ref, warning.actor_handle) == (staff.pk, staff.handle)
    closed = reduced.get(action=AuditAction.ASIDE_CLOSE)
    assert closed.actor_handle == closed.target_handle == retention.opaque_member_id(
        aside_member.pk)
    # The newer row still names the member.
    newer = AuditEntry.objects.get(actor_id_ref=recent_staff.pk)
    assert (newer.target_member_id_ref, newer.target_handle) == (member.pk, member.handle)
    assert audit() == {"audit_rows": 0, "audit_rows_reduced": 0}  # done once


def test_audit_rows_go_after_their_own_period(clock: Clock):
    staff, member = make_staff(), make_member()
    moderation.sanction_member(moderator=staff, member_id=member.pk, kind=SanctionKind.WARNING,
                               rule="respect", reason="Name-calling", room_id=None)
    clock.advance(timedelta(days=700))
    moderation.sanction_member(moderator=staff, member_id=member.pk, kind=SanctionKind.WARNING,
                               rule="respect", reason="Again", room_id=None)
    clock.advance(timedelta(days=31))
    assert audit()["audit_rows"] == 1
    assert list(AuditEntry.objects.values_list("reason", flat=True)) == ["Again"]


def test_the_audit_log_is_still_append_only_for_everyone_else():
    entry = retention.record_purge(counts={"messages": 3, "members": 1})
    assert (entry.action, entry.actor_handle, entry.reason) == (
        AuditAction.PURGE, "retention", "messages 3, members 1")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.update(reason="")
