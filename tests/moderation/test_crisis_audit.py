"""The crisis path's audit rows (tests/moderation/test_audit.py covers the moderator actions):
each duty, escalation and take-aside action writes exactly one row through the real service,
naming who acted and about whom, never the words; a refused attempt writes none."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from chat.errors import HearthError
from chat.models import Member, Role
from moderation import asides, duty, escalations
from moderation.models import AuditAction, AuditEntry, Escalation, TakeAside
from tests.factories import make_member, make_staff
from tests.moderation.test_audit import CRISIS_ACTIONS
from tests.moderation.test_escalations import HIGH_RISK_BODY, crisis_escalation

pytestmark = pytest.mark.django_db


@dataclass
class Scene:
    """A staff member (checked in), an acknowledged escalation and an aside in some state."""

    staff: Member
    escalation: Escalation
    aside: TakeAside | None = None

    @property
    def member(self) -> Member:
        return self.escalation.member


def _scene(*, checked_in: bool = False, acknowledged: bool = False,
           aside: str | None = None) -> Scene:
    staff = make_staff()
    escalation = crisis_escalation()
    if checked_in:
        duty.check_in(member=staff)
    scene = Scene(staff=staff, escalation=escalation)
    if acknowledged or aside:
        # Opening an aside acknowledges the escalation (its own row, tested below).
        escalations.acknowledge(staff=staff, escalation_id=escalation.pk)
    if aside:
        scene.aside = asides.open_take_aside(staff=staff, escalation_id=escalation.pk)
        if aside == "open":
            asides.reply(member=escalation.member, aside_id=scene.aside.pk, accept=True)
    return scene


def _aside_id(scene: Scene) -> int:
    assert scene.aside is not None
    return scene.aside.pk


# action, the state it starts from, who acts (the staff member or the member), what they do
CASES: list[tuple[AuditAction, dict[str, object], str, Callable[[Scene, Member], object]]] = [
    (AuditAction.CHECK_IN, {}, "staff", lambda s, actor: duty.check_in(member=actor)),
    (AuditAction.CHECK_OUT, {"checked_in": True}, "staff",
     lambda s, actor: duty.check_out(member=actor)),
    (AuditAction.ACKNOWLEDGE, {}, "staff",
     lambda s, actor: escalations.acknowledge(staff=actor, escalation_id=s.escalation.pk)),
    (AuditAction.RESOLVE, {"acknowledged": True}, "staff",
     lambda s, actor: escalations.resolve(staff=actor, escalation_id=s.escalation.pk,
                                          note="Talked it through; with a friend now.")),
    (AuditAction.ASIDE_OPEN, {"acknowledged": True}, "staff",
     lambda s, actor: asides.open_take_aside(staff=actor, escalation_id=s.escalation.pk)),
    (AuditAction.ASIDE_ACCEPT, {"aside": "invited"}, "member",
     lambda s, actor: asides.reply(member=actor, aside_id=_aside_id(s), accept=True)),
    (AuditAction.ASIDE_DECLINE, {"aside": "invited"}, "member",
     lambda s, actor: asides.reply(member=actor, aside_id=_aside_id(s), accept=False)),
    (AuditAction.ASIDE_CLOSE, {"aside": "open"}, "member",
     lambda s, actor: asides.leave(person=actor, aside_id=_aside_id(s))),
]
IDS = [case[0].value for case in CASES]


def test_every_crisis_action_is_covered_here():
    assert {case[0] for case in CASES} == CRISIS_ACTIONS


@pytest.mark.parametrize(("action", "start", "actor", "act"), CASES, ids=IDS)
def test_each_crisis_action_writes_exactly_one_audit_row(action, start, actor, act):
    scene = _scene(**start)
    person = scene.staff if actor == "staff" else scene.member
    last = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    act(scene, person)

    entry = AuditEntry.objects.get(pk__gt=last)  # exactly one new row
    assert entry.action == action
    assert (entry.actor_id_ref, entry.actor_handle) == (person.pk, person.handle)
    if action in (AuditAction.CHECK_IN, AuditAction.CHECK_OUT):
        assert entry.target_member_id_ref is None and entry.target_handle == ""
    else:
        assert (entry.target_member_id_ref, entry.target_handle) == (scene.member.pk,
                                                                     scene.member.handle)
        assert entry.room_slug == scene.escalation.room.slug
        assert entry.rule == "crisis-support"
    # The member's words never reach the audit log.
    assert "kill" not in entry.reason and HIGH_RISK_BODY not in entry.reason


def test_the_resolve_row_keeps_the_note_and_the_ack_row_names_the_message():
    scene = _scene()
    escalations.resolve(staff=scene.staff, escalation_id=scene.escalation.pk,
                        note="With a friend now.")
    acknowledged, resolved = AuditEntry.objects.order_by("pk")
    assert acknowledged.action == AuditAction.ACKNOWLEDGE
    assert acknowledged.message_id_ref == scene.escalation.message_id
    assert (resolved.action, resolved.reason) == (AuditAction.RESOLVE, "With a friend now.")


def _refusals(scene: Scene) -> list[Callable[[], object]]:
    member, stranger = scene.member, make_member()
    aside_id = _aside_id(scene)
    return [
        lambda: duty.check_in(member=member),
        lambda: escalations.acknowledge(staff=member, escalation_id=scene.escalation.pk),
        lambda: escalations.acknowledge(staff=scene.staff, escalation_id=10**6),
        lambda: escalations.resolve(staff=member, escalation_id=scene.escalation.pk,
                                    note="Fine."),
        lambda: escalations.resolve(staff=scene.staff, escalation_id=scene.escalation.pk,
                                    note=" "),
        lambda: escalations.resolve(staff=scene.staff, escalation_id=scene.escalation.pk,
                                    note="x" * 1001),
        lambda: asides.open_take_aside(staff=member, escalation_id=scene.escalation.pk),
        lambda: asides.open_take_aside(staff=make_staff(Role.PEER_SUPPORTER), item_id=1),
        lambda: asides.open_take_aside(staff=scene.staff),
        lambda: asides.reply(member=scene.staff, aside_id=aside_id, accept=True),
        lambda: asides.reply(member=stranger, aside_id=aside_id, accept=False),
        lambda: asides.leave(person=stranger, aside_id=aside_id),
    ]


def test_refused_attempts_write_no_row():
    scene = _scene(aside="invited")
    before = AuditEntry.objects.count()
    for attempt in _refusals(scene):
        with pytest.raises(HearthError):
            attempt()
    assert AuditEntry.objects.count() == before


def test_repeats_write_no_second_row():
    scene = _scene(checked_in=True, aside="open")
    before = AuditEntry.objects.count()
    duty.check_in(member=scene.staff)  # already on duty
    escalations.acknowledge(staff=make_staff(), escalation_id=scene.escalation.pk)
    asides.open_take_aside(staff=scene.staff, escalation_id=scene.escalation.pk)  # still live
    with pytest.raises(HearthError):
        asides.reply(member=scene.member, aside_id=_aside_id(scene), accept=False)
    assert AuditEntry.objects.count() == before
    asides.leave(person=scene.staff, aside_id=_aside_id(scene))
    with pytest.raises(HearthError):
        asides.leave(person=scene.member, aside_id=_aside_id(scene))
    duty.check_out(member=scene.staff)
    duty.check_out(member=scene.staff)
    escalations.resolve(staff=scene.staff, escalation_id=scene.escalation.pk, note="Done.")
    with pytest.raises(HearthError):
        escalations.resolve(staff=scene.staff, escalation_id=scene.escalation.pk, note="Again.")
    assert list(AuditEntry.objects.order_by("pk").values_list(
        "action", flat=True))[before:] == [AuditAction.ASIDE_CLOSE, AuditAction.CHECK_OUT,
                                           AuditAction.RESOLVE]
