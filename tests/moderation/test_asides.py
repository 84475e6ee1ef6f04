"""Take-aside conversations (moderation/asides.py): opened by staff from an escalation or a
review item, answered only by the member, written to only while open and only by its two
people, and never readable by anyone else."""

from __future__ import annotations

from typing import Any

import pytest

from chat.errors import ErrorCode, HearthError
from chat.models import Member, Role
from moderation import asides
from moderation.models import AsideMessage, AsideState, Escalation, TakeAside
from moderation.policy import MASK_TEXT
from tests.factories import make_member, make_room, make_staff
from tests.moderation.support import INSULT_BODY, PHONE_BODY, held_item
from tests.moderation.test_escalations import HIGH_RISK_BODY, IMMINENT_BODY, crisis_escalation

pytestmark = pytest.mark.django_db


def refused(call, *args, **kwargs) -> ErrorCode:
    with pytest.raises(HearthError) as caught:
        call(*args, **kwargs)
    return caught.value.code


def open_aside(staff: Member | None = None) -> tuple[TakeAside, Member, Member]:
    """An accepted take-aside: (aside, staff, member)."""
    staff = staff or make_staff()
    escalation = crisis_escalation()
    aside = asides.open_take_aside(staff=staff, escalation_id=escalation.pk)
    asides.reply(member=escalation.member, aside_id=aside.pk, accept=True)
    aside.refresh_from_db()
    return aside, staff, escalation.member


# --- opening -----------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [Role.PEER_SUPPORTER, Role.MODERATOR])
def test_opening_from_an_escalation_invites_its_member_and_acknowledges_it(role):
    escalation, staff = crisis_escalation(), make_staff(role)
    aside = asides.open_take_aside(staff=staff, escalation_id=escalation.pk)
    assert (aside.state, aside.member, aside.staff) == ("invited", escalation.member, staff)
    assert (aside.escalation_id, aside.room_id) == (escalation.pk, escalation.room_id)
    stored = Escalation.objects.get()
    assert (stored.state, stored.acknowledged_by) == ("acknowledged", staff)


def test_opening_again_returns_the_same_live_aside():
    escalation, staff = crisis_escalation(), make_staff()
    first = asides.open_take_aside(staff=staff, escalation_id=escalation.pk)
    again = asides.open_take_aside(staff=staff, escalation_id=escalation.pk)
    assert again.pk == first.pk and TakeAside.objects.count() == 1
    # Once it has ended, a new invitation is a new aside.
    asides.leave(person=staff, aside_id=first.pk)
    assert asides.open_take_aside(staff=staff, escalation_id=escalation.pk).pk != first.pk


def test_opening_from_a_review_item_is_for_moderators_only():
    item = held_item(make_room())
    peer = make_staff(Role.PEER_SUPPORTER)
    assert refused(asides.open_take_aside, staff=peer, item_id=item.id) == ErrorCode.FORBIDDEN
    aside = asides.open_take_aside(staff=make_staff(), item_id=item.id)
    assert aside.member == item.author and aside.escalation_id is None
    assert aside.room_id == item.message.room_id
    assert TakeAside.objects.count() == 1


def test_opening_refusals():
    escalation, staff = crisis_escalation(), make_staff()
    item = held_item(make_room())
    cases: list[tuple[dict[str, Any], ErrorCode]] = [
        ({"staff": make_member(), "escalation_id": escalation.pk}, ErrorCode.FORBIDDEN),
        ({"staff": staff}, ErrorCode.INVALID_FIELD),
        ({"staff": staff, "escalation_id": escalation.pk, "item_id": item.id},
         ErrorCode.INVALID_FIELD),
        ({"staff": staff, "escalation_id": escalation.pk + 99}, ErrorCode.ESCALATION_NOT_FOUND),
        ({"staff": staff, "item_id": item.id + 99}, ErrorCode.MESSAGE_NOT_FOUND),
    ]
    for kwargs, code in cases:
        assert refused(asides.open_take_aside, **kwargs) == code, kwargs
    assert TakeAside.objects.count() == 0
    assert Escalation.objects.get().state == "open"


def test_a_resolved_escalation_cannot_be_taken_aside():
    from moderation import escalations

    escalation, staff = crisis_escalation(), make_staff()
    escalations.resolve(staff=staff, escalation_id=escalation.pk, note="Done.")
    assert refused(asides.open_take_aside, staff=staff,
                   escalation_id=escalation.pk) == ErrorCode.ALREADY_RESOLVED


def test_staff_cannot_take_themselves_aside():
    staff = make_staff()
    escalation = crisis_escalation(member=staff)
    item = held_item(make_room(), author=staff)
    assert refused(asides.open_take_aside, staff=staff,
                   escalation_id=escalation.pk) == ErrorCode.INVALID_FIELD
    assert refused(asides.open_take_aside, staff=staff,
                   item_id=item.id) == ErrorCode.INVALID_FIELD
    assert TakeAside.objects.count() == 0
    assert Escalation.objects.get().acknowledged_at is None


# --- replying ----------------------------------------------------------------------------------

@pytest.mark.parametrize("accept", [True, False])
def test_only_the_member_replies_and_only_once(accept):
    escalation, staff = crisis_escalation(), make_staff()
    aside = asides.open_take_aside(staff=staff, escalation_id=escalation.pk)
    member = escalation.member
    assert refused(asides.reply, member=staff, aside_id=aside.pk,
                   accept=True) == ErrorCode.ASIDE_NOT_FOUND
    assert refused(asides.reply, member=make_member(), aside_id=aside.pk,
                   accept=True) == ErrorCode.ASIDE_NOT_FOUND
    assert refused(asides.reply, member=member, aside_id=aside.pk + 99,
                   accept=True) == ErrorCode.ASIDE_NOT_FOUND
    asides.reply(member=member, aside_id=aside.pk, accept=accept)
    aside.refresh_from_db()
    assert aside.state == ("open" if accept else "declined")
    assert aside.answered_at is not None
    assert (aside.closed_at is None) == accept
    for again in (True, False):
        assert refused(asides.reply, member=member, aside_id=aside.pk,
                       accept=again) == ErrorCode.ASIDE_CLOSED
    aside.refresh_from_db()
    assert aside.state == ("open" if accept else "declined")


# --- sending -----------------------------------------------------------------------------------

def test_both_people_write_in_an_open_aside_and_seq_counts_per_aside():
    aside, staff, member = open_aside()
    first, created = asides.send(author=staff, aside_id=aside.pk, client_id="s1",
                                 body="Hi, I'm here. How are you doing?")
    assert created and first.seq == 1
    second, created = asides.send(author=member, aside_id=aside.pk, client_id="m1",
                                  body="Thank you for asking")
    assert created and second.seq == 2
    other, _staff, _member = open_aside(staff)
    assert asides.send(author=staff, aside_id=other.pk, client_id="s1",
                       body="Hello")[0].seq == 1
    field = asides.aside_field(TakeAside.objects.get(pk=aside.pk), you="member")
    assert [(m["seq"], m["from"], m["body"]) for m in field["messages"]] == [
        (1, "staff", "Hi, I'm here. How are you doing?"), (2, "member", "Thank you for asking")]


def test_a_retry_with_the_same_client_id_is_stored_once():
    aside, _staff, member = open_aside()
    first, created = asides.send(author=member, aside_id=aside.pk, client_id="m1", body="hi")
    again, created_again = asides.send(author=member, aside_id=aside.pk, client_id="m1",
                                       body="hi")
    assert created and not created_again and again.pk == first.pk
    assert AsideMessage.objects.count() == 1
    assert TakeAside.objects.get(pk=aside.pk).last_seq == 1


def test_contact_details_are_masked_and_insults_refused():
    aside, staff, member = open_aside()
    message, _ = asides.send(author=member, aside_id=aside.pk, client_id="m1", body=PHONE_BODY)
    assert MASK_TEXT in message.body and "7700" not in message.body
    assert "7700" not in message.html
    for author in (member, staff):
        assert refused(asides.send, author=author, aside_id=aside.pk, client_id="x2",
                       body=INSULT_BODY) == ErrorCode.MESSAGE_BLOCKED
    assert AsideMessage.objects.count() == 1


@pytest.mark.parametrize("body", [HIGH_RISK_BODY, IMMINENT_BODY,
                                  "I hate myself and I don't want to be here any more"])
def test_words_of_distress_are_never_blocked_or_changed(body):
    aside, _staff, member = open_aside()
    message, created = asides.send(author=member, aside_id=aside.pk, client_id="m1", body=body)
    assert created and message.body == body


def test_sending_needs_an_open_aside_and_one_of_its_two_people():
    escalation, staff = crisis_escalation(), make_staff()
    aside = asides.open_take_aside(staff=staff, escalation_id=escalation.pk)
    member = escalation.member
    for author in (staff, member):  # invited, not yet accepted
        assert refused(asides.send, author=author, aside_id=aside.pk, client_id="c",
                       body="hello") == ErrorCode.ASIDE_CLOSED
    asides.reply(member=member, aside_id=aside.pk, accept=True)
    for stranger in (make_member(), make_staff()):
        assert refused(asides.send, author=stranger, aside_id=aside.pk, client_id="c",
                       body="hello") == ErrorCode.ASIDE_NOT_FOUND
    assert refused(asides.send, author=member, aside_id=aside.pk + 99, client_id="c",
                   body="hello") == ErrorCode.ASIDE_NOT_FOUND
    asides.leave(person=member, aside_id=aside.pk)
    assert refused(asides.send, author=staff, aside_id=aside.pk, client_id="c",
                   body="hello") == ErrorCode.ASIDE_CLOSED
    assert AsideMessage.objects.count() == 0


def test_a_declined_aside_takes_no_messages():
    escalation, staff = crisis_escalation(), make_staff()
    aside = asides.open_take_aside(staff=staff, escalation_id=escalation.pk)
    asides.reply(member=escalation.member, aside_id=aside.pk, accept=False)
    assert refused(asides.send, author=staff, aside_id=aside.pk, client_id="c",
                   body="hello?") == ErrorCode.ASIDE_CLOSED


# --- leaving -----------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["staff", "member"])
def test_either_person_ends_it_once(who):
    aside, staff, member = open_aside()
    person = staff if who == "staff" else member
    assert refused(asides.leave, person=make_member(), aside_id=aside.pk) == (
        ErrorCode.ASIDE_NOT_FOUND)
    asides.leave(person=person, aside_id=aside.pk)
    aside.refresh_from_db()
    assert aside.state == AsideState.CLOSED and aside.closed_at is not None
    for anyone in (staff, member):
        assert refused(asides.leave, person=anyone, aside_id=aside.pk) == ErrorCode.ASIDE_CLOSED


def test_an_invitation_can_be_withdrawn_by_staff():
    escalation, staff = crisis_escalation(), make_staff()
    aside = asides.open_take_aside(staff=staff, escalation_id=escalation.pk)
    asides.leave(person=staff, aside_id=aside.pk)
    assert refused(asides.reply, member=escalation.member, aside_id=aside.pk,
                   accept=True) == ErrorCode.ASIDE_CLOSED


# --- reading -----------------------------------------------------------------------------------

def test_live_asides_for_lists_invited_and_open_ones_from_each_side():
    staff = make_staff()
    open_one, _staff, member = open_aside(staff)
    asides.send(author=member, aside_id=open_one.pk, client_id="m1", body="hello")
    invited_escalation = crisis_escalation()
    invited = asides.open_take_aside(staff=staff, escalation_id=invited_escalation.pk)
    declined_escalation = crisis_escalation()
    declined_member = declined_escalation.member
    declined = asides.open_take_aside(staff=staff, escalation_id=declined_escalation.pk)
    asides.reply(member=declined_member, aside_id=declined.pk, accept=False)
    closed, _s, closed_member = open_aside(staff)
    asides.leave(person=closed_member, aside_id=closed.pk)

    staff_view = asides.live_asides_for(member_id=staff.pk, you="staff")
    assert [(a["id"], a["state"], a["you"]) for a in staff_view] == [
        (open_one.pk, "open", "staff"), (invited.pk, "invited", "staff")]
    assert staff_view[0]["messages"][0]["body"] == "hello"
    assert "detail" not in staff_view[1]

    member_view = asides.live_asides_for(member_id=member.pk, you="member")
    assert [(a["id"], a["you"]) for a in member_view] == [(open_one.pk, "member")]
    invited_view = asides.live_asides_for(member_id=invited_escalation.member_id, you="member")
    assert [a["id"] for a in invited_view] == [invited.pk]
    assert staff.handle in invited_view[0]["detail"]  # the invitation, in the member's words
    for person in (declined_member, closed_member, make_member()):
        assert asides.live_asides_for(member_id=person.pk, you="member") == []
    # A member's id is never read from the staff side, nor a staff member's from the member's.
    assert asides.live_asides_for(member_id=member.pk, you="staff") == []
    assert asides.live_asides_for(member_id=staff.pk, you="member") == []


def test_the_aside_field_names_the_member_by_handle_only():
    aside, staff, member = open_aside()
    field = asides.aside_field(aside, you="staff")
    assert field["member"] == {"handle": member.handle}
    assert field["staff"] == {"handle": staff.handle, "role": "moderator"}
    assert set(field) == {"id", "state", "you", "staff", "member", "room", "escalation_id",
                          "created_at", "messages"}


def test_a_stranger_is_refused_before_anything_is_screened():
    aside, _staff, _member = open_aside()
    for stranger in (make_member(), make_staff()):
        # An insult from someone outside the aside is "not yours", never "blocked".
        assert refused(asides.send, author=stranger, aside_id=aside.pk, client_id="s1",
                       body=INSULT_BODY) == ErrorCode.ASIDE_NOT_FOUND


def test_distress_with_an_insult_is_delivered_with_the_insult_masked():
    aside, _staff, member = open_aside()
    body = "I want to kill myself, you're a pathetic idiot"
    message, created = asides.send(author=member, aside_id=aside.pk, client_id="m1", body=body)
    assert created
    assert message.body.startswith("I want to kill myself")
    assert "idiot" not in message.body and MASK_TEXT in message.body


def _frames_sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    import json

    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(asides, "send_to_group_sync",
                        lambda group, event: sent.append({"group": group,
                                                          **json.loads(event["text"])}))
    return sent


def test_asking_again_for_an_accepted_aside_shows_it_rather_than_inviting_again(
        monkeypatch, django_capture_on_commit_callbacks):
    aside, staff, member = open_aside()
    sent = _frames_sent(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        asides.open_take_aside(staff=staff, escalation_id=aside.escalation_id)
    to_member = [frame for frame in sent if frame["group"] == f"aside-{member.pk}"]
    assert [frame["type"] for frame in to_member] == ["take_aside_state"]
    assert to_member[0]["aside"]["state"] == "open"
