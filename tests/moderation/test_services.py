"""Reports and moderator actions through moderation/services.py: refusals with exact codes,
the queue order, and what each action does to what members can see."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chat.errors import ErrorCode, HearthError
from chat.models import Message, MessageStatus, Role
from chat.selectors import messages_before, visible_to
from moderation import services
from moderation.models import (
    AuditEntry,
    Report,
    ReviewItem,
    ReviewState,
    Sanction,
    SanctionKind,
)
from moderation.selectors import open_queue
from tests.factories import make_member, make_room, make_staff, post_in_room
from tests.moderation.support import CRISIS_BODY, PLAIN_BODY, held_item, reported_item

pytestmark = pytest.mark.django_db


def code_of(call, /, **kwargs) -> ErrorCode:
    with pytest.raises(HearthError) as refused:
        call(**kwargs)
    return refused.value.code


def history_for(viewer, room) -> list[int]:
    return [m.seq for m in messages_before(room_id=room.pk, before_seq=10**6, limit=100,
                                           visible=visible_to(viewer_id=viewer.pk))]


def report(reporter, message, reason="harassment", note=""):
    return services.report_message(reporter=reporter, room_id=message.room_id, seq=message.seq,
                                   reason=reason, note=note)


# --- reports ---------------------------------------------------------------------------------

def test_a_report_opens_a_review_item_with_a_receipt():
    room, reporter = make_room(), make_member()
    message = post_in_room(member=make_member(), room=room, client_id="m", body=PLAIN_BODY).message
    receipt = report(reporter, message, note="  this upset me  ")
    assert receipt.seq == message.seq
    stored = Report.objects.get(pk=receipt.report_id)
    assert (stored.reporter_id, stored.reason, stored.note) == (reporter.pk, "harassment",
                                                                "this upset me")
    item = ReviewItem.objects.get(message=message)
    assert (item.state, item.report_count) == (ReviewState.OPEN, 1)


def test_reporting_a_message_the_member_cannot_see_is_message_not_found():
    room, other_room = make_room(), make_room()
    reporter, moderator = make_member(), make_staff()
    others_held = held_item(room).message
    hidden = reported_item(room)
    services.hide_message(moderator=moderator, item_id=hidden.id, rule="respect", reason="")
    elsewhere = post_in_room(member=make_member(), room=other_room, client_id="x",
                             body=PLAIN_BODY).message
    empty_room = make_room()
    cases = {
        "another member's held message": (room.pk, others_held.seq),
        "a hidden message": (room.pk, hidden.message.seq),
        "a message of another room": (empty_room.pk, elsewhere.seq),
        "a seq that does not exist": (room.pk, 999),
        "a seq far beyond any integer column": (room.pk, 2**70),
    }
    for label, (room_id, seq) in cases.items():
        assert code_of(services.report_message, reporter=reporter, room_id=room_id, seq=seq,
                       reason="spam", note="") == ErrorCode.MESSAGE_NOT_FOUND, label
    assert not Report.objects.filter(reporter=reporter).exists()


def test_reporting_twice_is_already_reported_and_counted_once():
    room, reporter = make_room(), make_member()
    message = post_in_room(member=make_member(), room=room, client_id="m", body=PLAIN_BODY).message
    report(reporter, message)
    assert code_of(report, reporter=reporter, message=message,
                   reason="spam") == ErrorCode.ALREADY_REPORTED
    report(make_member(), message)
    assert ReviewItem.objects.get(message=message).report_count == 2
    assert Report.objects.filter(message=message).count() == 2


def test_members_cannot_report_their_own_messages_even_held_ones():
    room, author = make_room(), make_member()
    visible = post_in_room(member=author, room=room, client_id="m", body=PLAIN_BODY).message
    held = held_item(room, author=author).message
    for message in (visible, held):
        assert code_of(report, reporter=author, message=message) == ErrorCode.CANNOT_REPORT_SELF


def test_report_notes_are_at_most_500_characters_and_reasons_come_from_the_list():
    room, reporter = make_room(), make_member()
    message = post_in_room(member=make_member(), room=room, client_id="m", body=PLAIN_BODY).message
    assert code_of(report, reporter=reporter, message=message,
                   note="x" * 501) == ErrorCode.NOTE_TOO_LONG
    for reason in ("rude", "", "HARASSMENT", "worried "):
        assert code_of(report, reporter=reporter, message=message,
                       reason=reason) == ErrorCode.INVALID_FIELD
    assert not Report.objects.exists()
    report(reporter, message, note="x" * 500)


def test_worried_reports_rank_first_and_stay_first_after_other_reports():
    room = make_room()
    many = reported_item(room, reason="harassment")
    for _ in range(5):
        report(make_member(), many.message, reason="harassment")
    spam = reported_item(room, reason="spam")
    worried = reported_item(room, reason="worried")
    # Someone else reports the same message for another reason: it is still a worry.
    report(make_member(), worried.message, reason="other")

    queue = [item.pk for item in open_queue()]

    assert queue[0] == worried.id
    assert queue.index(many.id) < queue.index(spam.id)


def test_crisis_signals_and_worried_reports_come_before_everything_else():
    room = make_room()
    insult = reported_item(room, reason="harassment")
    for _ in range(8):
        report(make_member(), insult.message, reason="harassment")
    crisis = post_in_room(member=make_member(), room=room, client_id="crisis", body=CRISIS_BODY)
    assert crisis.review_item_id is not None
    worried = reported_item(room, reason="worried")
    queue = [item.pk for item in open_queue()]
    assert set(queue[:2]) == {crisis.review_item_id, worried.id}
    assert queue[2] == insult.id


def test_a_report_on_a_resolved_item_opens_it_again():
    room, moderator = make_room(), make_staff()
    item = reported_item(room)
    services.dismiss_item(moderator=moderator, item_id=item.id, reason="fine")
    report(make_member(), item.message, reason="spam")
    reopened = item.refresh()
    assert (reopened.state, reopened.report_count, reopened.resolution) == (ReviewState.OPEN,
                                                                             2, "")


# --- moderator actions ----------------------------------------------------------------------------

def test_every_action_on_an_already_resolved_item_is_already_resolved():
    room, moderator = make_room(), make_staff()
    item = reported_item(room)
    services.hide_message(moderator=moderator, item_id=item.id, rule="respect", reason="")
    common: dict[str, Any] = {"moderator": moderator, "item_id": item.id, "reason": ""}
    attempts = {
        "restore": lambda: services.restore_message(**common, rule="respect"),
        "hide": lambda: services.hide_message(**common, rule="respect"),
        "dismiss": lambda: services.dismiss_item(**common),
        "warn": lambda: services.sanction_member(
            moderator=moderator, member_id=item.author.pk, kind=SanctionKind.WARNING,
            rule="respect", reason="", room_id=room.pk, item_id=item.id),
    }
    for label, attempt in attempts.items():
        assert code_of(attempt) == ErrorCode.ALREADY_RESOLVED, label
    assert not Sanction.objects.exists()
    assert Message.objects.get(pk=item.message.pk).status == MessageStatus.HIDDEN


def test_an_unknown_item_is_message_not_found():
    moderator = make_staff()
    for call, extra in ((services.restore_message, {"rule": "respect"}),
                        (services.hide_message, {"rule": "respect"}),
                        (services.dismiss_item, {})):
        assert code_of(call, moderator=moderator, item_id=424242, reason="",
                       **extra) == ErrorCode.MESSAGE_NOT_FOUND


def test_hiding_removes_the_message_from_everyones_history_including_its_author():
    room, moderator, reader = make_room(), make_staff(), make_member()
    item = reported_item(room)
    before = post_in_room(member=reader, room=room, client_id="b", body="before").message
    assert item.message.seq in history_for(reader, room)

    services.hide_message(moderator=moderator, item_id=item.id, rule="respect", reason="")

    for viewer in (reader, item.author):
        assert history_for(viewer, room) == [before.seq]
    assert item.refresh().state == ReviewState.RESOLVED
    assert item.refresh().resolution == "hidden"


def test_restoring_releases_a_held_message_to_the_room():
    room, moderator, reader = make_room(), make_staff(), make_member()
    item = held_item(room)
    assert history_for(reader, room) == []
    assert history_for(item.author, room) == [item.message.seq]

    restored = services.restore_message(moderator=moderator, item_id=item.id,
                                        rule="no-contact-details", reason="a helpline number")

    assert restored.status == MessageStatus.VISIBLE
    assert history_for(reader, room) == [item.message.seq]
    assert item.refresh().resolution == "restored"


def test_restoring_a_hidden_message_after_an_appeal_brings_it_back():
    room, moderator, reader = make_room(), make_staff(), make_member()
    item = reported_item(room)
    services.hide_message(moderator=moderator, item_id=item.id, rule="respect", reason="")
    services.appeal_decision(member=item.author, text="I was quoting someone",
                             message_id=item.message.pk)
    services.restore_message(moderator=moderator, item_id=item.id, rule="respect", reason="")
    assert history_for(reader, room) == [item.message.seq]


def test_dismissing_releases_a_held_message_and_keeps_a_visible_one():
    room, moderator, reader = make_room(), make_staff(), make_member()
    held, reported = held_item(room), reported_item(room)
    for item in (held, reported):
        services.dismiss_item(moderator=moderator, item_id=item.id, reason="")
        assert item.refresh().resolution == "dismissed"
    assert history_for(reader, room) == [held.message.seq, reported.message.seq]


@pytest.mark.parametrize("duration", [None, timedelta(0), timedelta(minutes=-5),
                                      timedelta(days=30, seconds=1)])
def test_a_timeout_needs_a_duration_from_one_minute_to_30_days(duration):
    room, moderator = make_room(), make_staff()
    item = reported_item(room)
    assert code_of(services.sanction_member, moderator=moderator, member_id=item.author.pk,
                   kind=SanctionKind.TIMEOUT, rule="respect", reason="", room_id=room.pk,
                   duration=duration, item_id=item.id) == ErrorCode.INVALID_FIELD
    assert not Sanction.objects.exists()
    assert item.refresh().state == ReviewState.OPEN


@pytest.mark.parametrize("duration", [timedelta(minutes=1), timedelta(days=30)])
def test_timeouts_at_the_limits_are_accepted(duration):
    room, moderator, member = make_room(), make_staff(), make_member()
    sanction = services.sanction_member(moderator=moderator, member_id=member.pk,
                                        kind=SanctionKind.TIMEOUT, rule="respect", reason="",
                                        room_id=room.pk, duration=duration)
    assert sanction.ends_at is not None
    assert sanction.ends_at - sanction.starts_at == duration


@pytest.mark.parametrize("role", [Role.PEER_SUPPORTER, Role.MODERATOR, Role.ADMIN])
def test_staff_cannot_be_sanctioned(role):
    room, moderator, staff = make_room(), make_staff(), make_staff(role)
    for kind in SanctionKind:
        assert code_of(services.sanction_member, moderator=moderator, member_id=staff.pk,
                       kind=kind, rule="respect", reason="", room_id=room.pk,
                       duration=timedelta(hours=1)) == ErrorCode.FORBIDDEN
    assert not Sanction.objects.exists()


def test_a_sanction_cites_a_rule_and_a_reason_of_at_most_500_characters():
    room, moderator, member = make_room(), make_staff(), make_member()
    common = {"moderator": moderator, "member_id": member.pk, "kind": SanctionKind.WARNING,
              "room_id": room.pk}
    assert code_of(services.sanction_member, **common, rule="",
                   reason="") == ErrorCode.MISSING_FIELD
    assert code_of(services.sanction_member, **common, rule="respect",
                   reason="x" * 501) == ErrorCode.NOTE_TOO_LONG
    assert code_of(services.sanction_member, moderator=moderator, member_id=10**9,
                   kind=SanctionKind.WARNING, rule="respect", reason="",
                   room_id=None) == ErrorCode.MEMBER_NOT_FOUND
    assert not Sanction.objects.exists()


def test_a_sanction_from_the_queue_resolves_the_item_and_remembers_the_message():
    room, moderator = make_room(), make_staff()
    item = reported_item(room)
    sanction = services.sanction_member(moderator=moderator, member_id=item.author.pk,
                                        kind=SanctionKind.WARNING, rule="respect", reason="",
                                        room_id=room.pk, item_id=item.id)
    assert sanction.message_id == item.message.pk
    assert (item.refresh().state, item.refresh().resolution) == (ReviewState.RESOLVED,
                                                                  "warning")


def test_reading_a_members_history_shows_every_status_newest_first():
    room, moderator = make_room(), make_staff()
    author = make_member()
    visible = post_in_room(member=author, room=room, client_id="v", body=PLAIN_BODY).message
    held = held_item(room, author=author).message
    target, messages = services.read_member_history(moderator=moderator, member_id=author.pk)
    assert target.pk == author.pk
    assert [m.pk for m in messages] == [held.pk, visible.pk]
    assert code_of(services.read_member_history, moderator=moderator,
                   member_id=10**9) == ErrorCode.MEMBER_NOT_FOUND


@pytest.mark.parametrize("rule", ["", "   "])
def test_hiding_and_restoring_cite_a_rule(rule):
    room, moderator = make_room(), make_staff()
    item = held_item(room)
    for call in (services.hide_message, services.restore_message):
        assert code_of(call, moderator=moderator, item_id=item.id, rule=rule,
                       reason="") == ErrorCode.MISSING_FIELD
    assert item.refresh().state == ReviewState.OPEN
    assert not AuditEntry.objects.exists()


def test_a_sanction_on_a_held_message_keeps_it_out_of_the_room_for_good(
        django_capture_on_commit_callbacks):
    room, moderator = make_room(), make_staff()
    item = held_item(room)
    with django_capture_on_commit_callbacks(execute=True):
        services.sanction_member(moderator=moderator, member_id=item.message.author_id,
                                 kind=SanctionKind.WARNING, rule="no-contact-details",
                                 reason="", room_id=room.pk, item_id=item.id)
    item.message.refresh_from_db()
    assert item.message.status == MessageStatus.HIDDEN
    assert item.message.seq not in history_for(item.message.author, room)


def test_decisions_must_cite_a_real_ground_rule():
    room, moderator = make_room(), make_staff()
    item = reported_item(room)
    for call, kwargs in (
        (services.hide_message, {"item_id": item.id, "reason": ""}),
        (services.restore_message, {"item_id": item.id, "reason": ""}),
        (services.sanction_member, {"member_id": item.author.pk, "kind": SanctionKind.WARNING,
                                    "reason": "", "room_id": room.pk}),
    ):
        assert code_of(call, moderator=moderator, rule="made-up-rule",
                       **kwargs) == ErrorCode.INVALID_FIELD
    assert item.refresh().state == ReviewState.OPEN
