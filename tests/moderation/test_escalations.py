"""Escalations (moderation/escalations.py): written with the message that raised them, one
open per member and room, raised but never lowered, acknowledged and resolved by staff with an
audit row, their SLA figures, and the overdue sweep each worker's watcher runs."""

from __future__ import annotations

import itertools
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from chat.errors import ErrorCode, HearthError
from chat.models import Member, Message, Role
from moderation import escalations
from moderation.models import AuditAction, AuditEntry, Escalation
from moderation.screening import ScreeningContext, Severity, Signal, screen_message
from rooms.models import Room
from tests.factories import make_member, make_room, make_staff, post_in_room

pytestmark = pytest.mark.django_db

# Bodies the crisis tests rely on; test_the_crisis_bodies_screen_as_the_tests_assume checks
# them against the detector (which is tuned separately), so a change there fails here first.
IMMINENT_BODY = "I want to end my life tonight"
HIGH_RISK_BODY = "I want to kill myself"
CONCERN_BODY = "I feel so hopeless and worthless"
PLAIN_BODY = "thank you all for listening tonight"
BODY_KINDS = {IMMINENT_BODY: {"imminent"}, HIGH_RISK_BODY: {"high_risk"},
              CONCERN_BODY: {"concern"}, PLAIN_BODY: set()}
DOCS = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"

_client_ids = itertools.count(1)


def post(member: Member, room: Room, body: str) -> Message:
    return post_in_room(member=member, room=room, client_id=f"e{next(_client_ids)}",
                        body=body).message


def crisis_escalation(room: Room | None = None, member: Member | None = None,
                      body: str = HIGH_RISK_BODY) -> Escalation:
    """An escalation raised by screening a member's message, as production raises it."""
    message = post(member or make_member(), room or make_room(), body)
    return Escalation.objects.get(message=message)


def crisis_signal(kind: str, severity: Severity = Severity.HIGH) -> Signal:
    return Signal(detector="crisis", kind=kind, rule="crisis-support", severity=severity)


def test_the_crisis_bodies_screen_as_the_tests_assume():
    for body, kinds in BODY_KINDS.items():
        signals = screen_message(text=body, context=ScreeningContext())
        assert {s.kind for s in signals} == kinds, body
        assert {s.detector for s in signals} <= {"crisis"}, body


# --- which signals raise an escalation ------------------------------------------------------

@pytest.mark.parametrize(("signals", "tier"), [
    ((), None),
    ((crisis_signal("concern", Severity.MEDIUM),), None),
    ((crisis_signal("method_detail"),), None),
    ((crisis_signal("worried_about_someone", Severity.MEDIUM),), None),
    ((crisis_signal("worried_about_someone", Severity.LOW),), None),
    ((crisis_signal("worried_about_someone", Severity.HIGH),), "worried_about_someone"),
    ((crisis_signal("worried_about_someone", Severity.CRITICAL),), "worried_about_someone"),
    ((crisis_signal("high_risk"),), "high_risk"),
    ((crisis_signal("imminent", Severity.CRITICAL),), "imminent"),
    ((crisis_signal("concern"), crisis_signal("high_risk")), "high_risk"),
    ((crisis_signal("high_risk"), crisis_signal("imminent")), "imminent"),
    ((crisis_signal("worried_about_someone", Severity.CRITICAL), crisis_signal("high_risk")),
     "high_risk"),
    ((crisis_signal("method_detail"), crisis_signal("imminent")), "imminent"),
])
def test_escalation_tier_for_each_signal_mix(signals, tier):
    assert escalations.escalation_tier(signals) == tier


@pytest.mark.parametrize(("body", "tier"), [(HIGH_RISK_BODY, "high_risk"),
                                            (IMMINENT_BODY, "imminent")])
def test_a_high_risk_or_imminent_message_opens_exactly_one_escalation(body, tier):
    room, member = make_room(), make_member()
    post(make_member(), room, "hi everyone")
    message = post(member, room, body)
    escalation = Escalation.objects.get()
    assert escalation.message == message
    assert (escalation.member, escalation.room) == (member, room)
    assert (escalation.tier, escalation.source, escalation.state) == (tier, "screening", "open")
    assert escalation.member_asked_at is None and escalation.acknowledged_at is None
    # The context snapshot is the room as it was: the message before, not the message itself.
    assert [c["seq"] for c in escalation.context] == [1]
    assert escalation.context[0]["html"] == "hi everyone"


def test_the_context_snapshot_holds_at_most_four_earlier_visible_messages():
    room, member = make_room(), make_member()
    for number in range(6):
        post(make_member(), room, f"earlier {number}")
    escalation = crisis_escalation(room, member)
    assert [c["seq"] for c in escalation.context] == [3, 4, 5, 6]
    assert escalation.context[-1]["html"] == "earlier 5"


@pytest.mark.parametrize("body", [CONCERN_BODY, PLAIN_BODY])
def test_concern_and_plain_messages_open_none(body):
    post(make_member(), make_room(), body)
    assert Escalation.objects.count() == 0


def test_worried_about_someone_opens_one_only_at_high_severity():
    room = make_room()
    for severity, expected in ((Severity.MEDIUM, 0), (Severity.HIGH, 1)):
        message = post(make_member(), room, PLAIN_BODY)
        with transaction.atomic():
            escalations.record_for_message(
                message=message, signals=(crisis_signal("worried_about_someone", severity),))
        assert Escalation.objects.filter(member=message.author).count() == expected
    assert Escalation.objects.get().tier == "worried_about_someone"


def test_the_escalation_is_written_in_the_messages_transaction(monkeypatch):
    """If storing the message fails after the escalation row was written, neither exists."""
    real = escalations.record_for_message

    def record_then_fail(**kwargs):
        assert real(**kwargs) is not None
        assert Escalation.objects.count() == 1  # written, inside the message's transaction
        raise RuntimeError("the insert failed")

    monkeypatch.setattr(escalations, "record_for_message", record_then_fail)
    room, member = make_room(), make_member()
    with pytest.raises(RuntimeError):
        post(member, room, HIGH_RISK_BODY)
    assert Message.objects.filter(room=room).count() == 0
    assert Escalation.objects.count() == 0


def test_the_live_alert_goes_out_only_after_the_commit(monkeypatch,
                                                       django_capture_on_commit_callbacks):
    pushed: list[tuple[int, str]] = []
    monkeypatch.setattr(escalations, "push_escalation", lambda i, e: pushed.append((i, e)))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        escalation = crisis_escalation()
        assert pushed == []
    for callback in callbacks:
        callback()
    assert pushed == [(escalation.pk, "new")]


# --- one open escalation per member and room ------------------------------------------------

def test_a_second_crisis_message_updates_the_open_escalation_and_never_lowers_its_tier():
    room, member = make_room(), make_member()
    first = crisis_escalation(room, member, IMMINENT_BODY)
    second_message = post(member, room, HIGH_RISK_BODY)
    escalation = Escalation.objects.get()
    assert escalation.pk == first.pk
    assert escalation.tier == "imminent"  # not lowered to high_risk
    assert escalation.message == second_message  # staff see the latest words


def test_a_higher_tier_raises_the_open_escalation():
    room, member = make_room(), make_member()
    first = crisis_escalation(room, member, HIGH_RISK_BODY)
    post(member, room, IMMINENT_BODY)
    assert Escalation.objects.get().pk == first.pk
    assert Escalation.objects.get().tier == "imminent"


def test_a_concern_message_after_an_escalation_leaves_it_alone():
    room, member = make_room(), make_member()
    first = crisis_escalation(room, member)
    post(member, room, CONCERN_BODY)
    escalation = Escalation.objects.get()
    assert (escalation.tier, escalation.message_id) == ("high_risk", first.message_id)


def test_another_room_or_another_member_opens_another():
    room, member = make_room(), make_member()
    crisis_escalation(room, member)
    crisis_escalation(make_room(), member)
    crisis_escalation(room, make_member())
    assert Escalation.objects.count() == 3


def test_after_a_resolve_a_new_crisis_opens_a_new_escalation():
    room, member = make_room(), make_member()
    first = crisis_escalation(room, member)
    escalations.resolve(staff=make_staff(), escalation_id=first.pk, note="Talked it through.")
    post(member, room, HIGH_RISK_BODY)
    assert Escalation.objects.count() == 2
    assert Escalation.objects.exclude(pk=first.pk).get().state == "open"


# --- the member asks to talk ----------------------------------------------------------------

def test_asking_for_support_opens_an_asked_escalation():
    room, member = make_room(), make_member()
    message = post(member, room, PLAIN_BODY)
    escalation = escalations.ask_for_support(member=member, room=room, seq=message.seq)
    assert (escalation.tier, escalation.source, escalation.message) == ("asked", "member",
                                                                        message)
    assert escalation.member_asked_at is not None
    assert Escalation.objects.count() == 1
    without_seq = escalations.ask_for_support(member=make_member(), room=room, seq=None)
    assert without_seq.message is None and without_seq.context == []


def test_asking_after_a_crisis_message_updates_that_escalation_and_keeps_its_tier():
    room, member = make_room(), make_member()
    first = crisis_escalation(room, member, IMMINENT_BODY)
    assert first.member_asked_at is None
    escalation = escalations.ask_for_support(member=member, room=room, seq=None)
    assert escalation.pk == first.pk
    stored = Escalation.objects.get()
    assert stored.tier == "imminent" and stored.source == "screening"
    assert stored.member_asked_at is not None
    assert stored.message_id == first.message_id  # no seq: the message stays


def test_asking_about_a_message_that_is_not_theirs_is_message_not_found():
    room, member = make_room(), make_member()
    someone_elses = post(make_member(), room, PLAIN_BODY)
    other_room = post(member, make_room(), PLAIN_BODY)
    for seq in (someone_elses.seq, 99, other_room.seq + 5):
        with pytest.raises(HearthError) as refused:
            escalations.ask_for_support(member=member, room=room, seq=seq)
        assert refused.value.code == ErrorCode.MESSAGE_NOT_FOUND
    assert Escalation.objects.count() == 0


# --- acknowledge ----------------------------------------------------------------------------

@pytest.mark.parametrize("role", [Role.PEER_SUPPORTER, Role.MODERATOR, Role.ADMIN])
def test_staff_acknowledge_once_and_a_second_time_changes_nothing(role):
    escalation = crisis_escalation()
    staff, other = make_staff(role), make_staff()
    escalations.acknowledge(staff=staff, escalation_id=escalation.pk)
    first = Escalation.objects.get()
    assert (first.state, first.acknowledged_by) == ("acknowledged", staff)
    escalations.acknowledge(staff=other, escalation_id=escalation.pk)
    escalations.acknowledge(staff=staff, escalation_id=escalation.pk)
    again = Escalation.objects.get()
    assert (again.acknowledged_by, again.acknowledged_at) == (staff, first.acknowledged_at)
    entry = AuditEntry.objects.get()
    assert entry.action == AuditAction.ACKNOWLEDGE and entry.actor_id_ref == staff.pk
    assert entry.target_handle == escalation.member.handle


def test_acknowledge_refusals():
    escalation = crisis_escalation()
    for actor, escalation_id, code in ((make_member(), escalation.pk, ErrorCode.FORBIDDEN),
                                       (escalation.member, escalation.pk, ErrorCode.FORBIDDEN),
                                       (make_staff(), escalation.pk + 100,
                                        ErrorCode.ESCALATION_NOT_FOUND)):
        with pytest.raises(HearthError) as refused:
            escalations.acknowledge(staff=actor, escalation_id=escalation_id)
        assert refused.value.code == code
    assert Escalation.objects.get().state == "open"
    escalations.resolve(staff=make_staff(), escalation_id=escalation.pk, note="Done.")
    rows = AuditEntry.objects.count()
    with pytest.raises(HearthError) as refused:
        escalations.acknowledge(staff=make_staff(), escalation_id=escalation.pk)
    assert refused.value.code == ErrorCode.ALREADY_RESOLVED
    assert AuditEntry.objects.count() == rows


# --- resolve ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("note", "code"), [("", ErrorCode.MISSING_FIELD),
                                            ("   \n\t", ErrorCode.MISSING_FIELD),
                                            ("x" * 1001, ErrorCode.NOTE_TOO_LONG)])
def test_resolve_needs_a_note_of_at_most_1000_characters(note, code):
    escalation = crisis_escalation()
    with pytest.raises(HearthError) as refused:
        escalations.resolve(staff=make_staff(), escalation_id=escalation.pk, note=note)
    assert refused.value.code == code
    assert Escalation.objects.get().state == "open"
    assert AuditEntry.objects.count() == 0


def test_resolve_with_a_1000_character_note_also_acknowledges_and_is_audited():
    escalation = crisis_escalation()
    staff = make_staff(Role.PEER_SUPPORTER)
    note = "n" * 1000
    escalations.resolve(staff=staff, escalation_id=escalation.pk, note=f"  {note} ")
    stored = Escalation.objects.get()
    assert stored.state == "resolved"
    assert (stored.resolved_by, stored.acknowledged_by) == (staff, staff)
    assert stored.resolution_note == note
    assert stored.acknowledged_at is not None and stored.resolved_at is not None
    assert stored.fallback_next_attempt_at is None
    # Resolving an unacknowledged alert acknowledges it too: one row for each.
    assert list(AuditEntry.objects.order_by("pk").values_list("action", flat=True)) == [
        AuditAction.ACKNOWLEDGE, AuditAction.RESOLVE]
    resolve_row = AuditEntry.objects.get(action=AuditAction.RESOLVE)
    assert resolve_row.reason == note  # the audit keeps the whole note


def test_resolve_refusals():
    escalation = crisis_escalation()
    for actor, escalation_id, code in ((make_member(), escalation.pk, ErrorCode.FORBIDDEN),
                                       (make_staff(), 10**6, ErrorCode.ESCALATION_NOT_FOUND)):
        with pytest.raises(HearthError) as refused:
            escalations.resolve(staff=actor, escalation_id=escalation_id, note="Fine.")
        assert refused.value.code == code
    escalations.resolve(staff=make_staff(), escalation_id=escalation.pk, note="Fine.")
    with pytest.raises(HearthError) as refused:
        escalations.resolve(staff=make_staff(), escalation_id=escalation.pk, note="Again.")
    assert refused.value.code == ErrorCode.ALREADY_RESOLVED
    assert Escalation.objects.get().resolution_note == "Fine."


def test_open_escalations_leaves_out_resolved_ones_newest_first():
    done, older, newer = crisis_escalation(), crisis_escalation(), crisis_escalation()
    escalations.resolve(staff=make_staff(), escalation_id=done.pk, note="Done.")
    Escalation.objects.filter(pk=older.pk).update(
        created_at=timezone.now() - timedelta(minutes=5))
    assert [e.pk for e in escalations.open_escalations()] == [newer.pk, older.pk]


# --- the frame ------------------------------------------------------------------------------

def _documented_escalation() -> dict[str, Any]:
    text = DOCS.read_text()
    section = text[text.index("### `escalations`"):text.index("### `escalation`\n")]
    blocks = re.findall(r"```json\n(.*?)```", section, flags=re.S)
    return json.loads(blocks[1])


def test_the_escalation_frame_field_has_exactly_the_documented_fields():
    documented = _documented_escalation()
    room, member = make_room(), make_member()
    post(make_member(), room, "before")
    escalation = crisis_escalation(room, member)
    field = escalations.escalation_frame_field(escalation)
    assert set(field) == set(documented)
    for nested in ("room", "member", "message"):
        assert set(field[nested]) == set(documented[nested]), nested
    assert set(field["context"][0]) == set(documented["context"][0])
    assert field["state"] == "open" and field["tier"] == "high_risk"
    assert field["member"] == {"handle": member.handle}
    assert escalation.message is not None
    assert field["message"]["seq"] == escalation.message.seq
    assert field["aside"] is None and field["seconds_to_acknowledge"] is None
    json.dumps(field)  # it goes down a socket as it is


def test_the_frame_field_after_acknowledge_resolve_and_an_aside():
    from moderation import asides

    escalation = crisis_escalation()
    staff = make_staff()
    aside = asides.open_take_aside(staff=staff, escalation_id=escalation.pk)
    escalations.resolve(staff=staff, escalation_id=escalation.pk, note="All good now.")
    field = escalations.escalation_frame_field(Escalation.objects.get())
    assert field["state"] == "resolved"
    assert field["acknowledged_by"] == field["resolved_by"] == staff.handle
    assert field["note"] == "All good now."
    assert field["aside"] == {"id": aside.pk, "state": "invited"}
    assert isinstance(field["seconds_to_acknowledge"], float)
    assert field["seconds_to_resolve"] >= field["seconds_to_acknowledge"] >= 0
    frame = escalations.escalations_frame()
    assert frame["type"] == "escalations" and frame["items"] == []  # resolved: not listed
    assert set(frame["sla"]) == {"window_days", "count", "median_seconds_to_acknowledge",
                                 "median_seconds_to_resolve"}


# --- SLA ------------------------------------------------------------------------------------

def test_sla_medians_over_the_last_30_days():
    now = timezone.now()
    rows = [  # (created minutes ago, seconds to acknowledge, seconds to resolve)
        (10, 30, 600), (20, 50, None), (30, 90, 1200), (40, None, None),
        (60 * 24 * 31, 5, 5),  # older than the window: left out
    ]
    for minutes_ago, to_ack, to_resolve in rows:
        escalation = crisis_escalation()
        created = now - timedelta(minutes=minutes_ago)
        Escalation.objects.filter(pk=escalation.pk).update(
            created_at=created,
            acknowledged_at=created + timedelta(seconds=to_ack) if to_ack else None,
            resolved_at=created + timedelta(seconds=to_resolve) if to_resolve else None)
    figures = escalations.sla(now=now)
    assert figures.count == 4
    assert figures.median_seconds_to_acknowledge == 50.0
    assert figures.median_seconds_to_resolve == 900.0
    assert figures.as_frame_field() == {"window_days": 30, "count": 4,
                                        "median_seconds_to_acknowledge": 50.0,
                                        "median_seconds_to_resolve": 900.0}


def test_sla_with_nothing_acknowledged_has_no_medians():
    assert escalations.sla() == escalations.Sla(0, None, None)
    crisis_escalation()
    assert escalations.sla() == escalations.Sla(1, None, None)


# --- overdue: re-escalation -------------------------------------------------------------------

@pytest.fixture
def ack_seconds(settings) -> float:
    settings.HEARTH_ESCALATION_ACK_SECONDS = 60.0
    return 60.0


def test_only_overdue_unacknowledged_open_escalations_are_re_escalated(ack_seconds,
                                                                       monkeypatch):
    pushed: list[tuple[int, str]] = []
    monkeypatch.setattr(escalations, "push_escalation", lambda i, e: pushed.append((i, e)))
    overdue, acknowledged, resolved = (crisis_escalation() for _ in range(3))
    escalations.acknowledge(staff=make_staff(), escalation_id=acknowledged.pk)
    escalations.resolve(staff=make_staff(), escalation_id=resolved.pk, note="Done.")
    created = Escalation.objects.get(pk=overdue.pk).created_at
    pushed.clear()
    assert escalations.re_escalate_overdue(now=created + timedelta(seconds=59)) == []
    young = crisis_escalation()  # created now, so not overdue at created + 61 s
    later = created + timedelta(seconds=61)
    Escalation.objects.filter(pk=young.pk).update(created_at=later - timedelta(seconds=10))
    assert escalations.re_escalate_overdue(now=later) == [overdue.pk]
    stored = Escalation.objects.get(pk=overdue.pk)
    assert stored.re_escalated_at == later and stored.fallback_next_attempt_at == later
    assert pushed == [(overdue.pk, "re_escalated")]
    for other in (acknowledged, resolved, young):
        assert Escalation.objects.get(pk=other.pk).re_escalated_at is None
    # Called again (the next tick, or another worker): nothing is claimed twice.
    assert escalations.re_escalate_overdue(now=later + timedelta(seconds=30)) == []
    assert pushed == [(overdue.pk, "re_escalated")]


def test_two_workers_interleaved_claim_each_overdue_escalation_exactly_once(ack_seconds,
                                                                            monkeypatch):
    """Worker A lists two overdue escalations and claims the first; while it pushes that
    alert, worker B runs a whole sweep. A's claim of the second then finds it taken."""
    first, second = crisis_escalation(), crisis_escalation()
    later = timezone.now() + timedelta(seconds=120)
    claims: dict[str, list[int]] = {}
    pushed: list[int] = []

    def push(escalation_id: int, event: str) -> None:
        pushed.append(escalation_id)
        if not claims:
            claims["B"] = []  # B runs once, while A's first alert is on its way
            claims["B"] = escalations.re_escalate_overdue(now=later)

    monkeypatch.setattr(escalations, "push_escalation", push)
    claims["A"] = escalations.re_escalate_overdue(now=later)
    assert len(claims["A"]) == len(claims["B"]) == 1  # they really did interleave
    assert sorted(claims["A"] + claims["B"]) == sorted([first.pk, second.pk])
    assert not set(claims["A"]) & set(claims["B"])
    assert sorted(pushed) == sorted([first.pk, second.pk])


def test_an_ordinary_refusal_carries_no_support():
    from chat.errors import HearthError
    from chat.services import post_message
    from tests.factories import accept_room_rules

    room = make_room(staffed_only=True)
    member = make_member()
    accept_room_rules(member, room)
    with pytest.raises(HearthError) as refused:
        post_message(member=member, room=room, client_id="c1", body="hello, anyone here?")
    assert refused.value.code == ErrorCode.ROOM_UNSTAFFED
    assert refused.value.support_tier is None
    assert not Escalation.objects.exists()


def test_a_crisis_message_refused_by_the_room_still_alerts_the_team():
    from chat.errors import HearthError
    from chat.services import post_message
    from tests.factories import accept_room_rules

    room = make_room(staffed_only=True)
    member = make_member()
    accept_room_rules(member, room)
    with pytest.raises(HearthError) as refused:
        post_message(member=member, room=room, client_id="c1", body=HIGH_RISK_BODY)
    assert (refused.value.code, refused.value.support_tier) == (ErrorCode.ROOM_UNSTAFFED,
                                                                "high_risk")
    escalation = Escalation.objects.get()
    assert escalation.context[-1]["not_posted"] is True
    # Twice: one escalation, raised, never two.
    with pytest.raises(HearthError):
        post_message(member=member, room=room, client_id="c2", body=IMMINENT_BODY)
    assert Escalation.objects.get().tier == "imminent"
