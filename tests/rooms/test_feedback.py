"""rooms.feedback: every bad input refused with its code, sums correct with missing answers,
and anonymity by construction (nothing in the table can point at a member)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import models

from chat.errors import ErrorCode, HearthError
from chat.identity import SESSION_MEMBER_KEY
from chat.models import Member, Role
from rooms.feedback import (
    COMMENT_MAX_CHARS,
    aggregate,
    aggregates_for_host,
    aggregates_for_session,
    submit_feedback,
    trends,
    week_of,
)
from rooms.models import FeedbackTag, Recurrence, RoomKind, SessionFeedback
from rooms.schedule import schedule_session
from tests.factories import make_room, make_staff

pytestmark = pytest.mark.django_db

TUESDAY = date(2026, 11, 17)
AFTER = datetime(2026, 11, 17, 20, 30, tzinfo=UTC)  # London is on UTC in November


def make_session(*, host=None, room=None, co_hosts=(), first_date: date = TUESDAY,
                 recurrence: str = Recurrence.WEEKLY):
    return schedule_session(
        room=room or make_room(kind=RoomKind.HOSTED), title="Circle",
        host=host or make_staff(Role.PEER_SUPPORTER), co_hosts=co_hosts,
        time_zone="Europe/London", first_date=first_date, start_time=time(19, 0),
        recurrence=recurrence)


def give(session, *, on: date = TUESDAY, now: datetime = AFTER, **answers):
    fields = {"mood_before": None, "mood_after": None, "helpful": None, "tags": [],
              "comment": "", **answers}
    return submit_feedback(session_id=session.pk, occurrence_on=on, now=now, **fields)


# --- submitting ------------------------------------------------------------------------------

def test_a_full_answer_is_stored_under_a_random_key():
    session = make_session()
    feedback = give(session, mood_before=2, mood_after=4, helpful=True,
                    tags=["felt_heard", "felt_safe", "felt_heard"], comment="  Thank you.  ")
    stored = SessionFeedback.objects.get()
    assert stored.pk == feedback.pk and isinstance(stored.pk, uuid.UUID)
    assert stored.pk.version == 4
    assert (stored.occurrence_on, stored.mood_before, stored.mood_after, stored.helpful,
            stored.tags, stored.comment) == (TUESDAY, 2, 4, True,
                                             ["felt_heard", "felt_safe"], "Thank you.")


def test_every_answer_is_optional_and_dates_may_come_as_text():
    session = make_session()
    feedback = submit_feedback(session_id=session.pk, occurrence_on="2026-11-17",
                               mood_before=None, mood_after=None, helpful=None, tags=None,
                               comment=None, now=AFTER)
    assert (feedback.mood_before, feedback.helpful, feedback.tags, feedback.comment) == (
        None, None, [], "")
    assert give(session, comment=" \n ").comment == ""


@pytest.mark.parametrize(("answers", "code"), [
    ({"mood_before": 0}, ErrorCode.INVALID_FIELD),
    ({"mood_before": 6}, ErrorCode.INVALID_FIELD),
    ({"mood_after": -1}, ErrorCode.INVALID_FIELD),
    ({"mood_after": 3.5}, ErrorCode.INVALID_FIELD),
    ({"mood_after": "4"}, ErrorCode.INVALID_FIELD),
    ({"mood_before": True}, ErrorCode.INVALID_FIELD),
    ({"helpful": "yes"}, ErrorCode.INVALID_FIELD),
    ({"helpful": 1}, ErrorCode.INVALID_FIELD),
    ({"tags": ["felt_heard", "made_up"]}, ErrorCode.INVALID_FIELD),
    ({"tags": "felt_heard"}, ErrorCode.INVALID_FIELD),
    ({"tags": [1]}, ErrorCode.INVALID_FIELD),
    ({"tags": {"felt_heard": True}}, ErrorCode.INVALID_FIELD),
    ({"comment": "x" * (COMMENT_MAX_CHARS + 1)}, ErrorCode.NOTE_TOO_LONG),
    ({"comment": "hello\x00there"}, ErrorCode.CONTROL_CHARACTERS),
    ({"comment": "bell\x07"}, ErrorCode.CONTROL_CHARACTERS),
    ({"comment": "abc\u202edcba"}, ErrorCode.CONTROL_CHARACTERS),
    ({"comment": ["not", "text"]}, ErrorCode.INVALID_FIELD),
])
def test_bad_answers_are_refused_with_their_code(answers, code):
    session = make_session()
    with pytest.raises(HearthError) as caught:
        give(session, **answers)
    assert caught.value.code == code
    assert not SessionFeedback.objects.exists()


def test_a_comment_of_exactly_the_limit_with_line_breaks_is_fine():
    comment = ("a\n" * (COMMENT_MAX_CHARS // 2))[:COMMENT_MAX_CHARS - 1] + "z"
    assert len(give(make_session(), comment=comment).comment) == COMMENT_MAX_CHARS


@pytest.mark.parametrize(("occurrence_on", "code"), [
    (date(2026, 11, 18), ErrorCode.INVALID_FIELD),       # a Wednesday
    (date(2026, 11, 10), ErrorCode.INVALID_FIELD),       # before the first date
    ("17/11/2026", ErrorCode.INVALID_FIELD),
    ("", ErrorCode.INVALID_FIELD),
    (20261117, ErrorCode.INVALID_FIELD),
    (None, ErrorCode.INVALID_FIELD),
    (datetime(2026, 11, 17, 19, tzinfo=UTC), ErrorCode.INVALID_FIELD),
    (date(2026, 11, 24), ErrorCode.INVALID_PHASE),        # next week: not started yet
])
def test_the_occurrence_must_be_a_real_one_that_has_started(occurrence_on, code):
    session = make_session()
    with pytest.raises(HearthError) as caught:
        give(session, on=occurrence_on)
    assert caught.value.code == code


def test_feedback_opens_at_the_start_and_closes_a_week_after_the_end():
    session = make_session()
    start, end = datetime(2026, 11, 17, 19, tzinfo=UTC), datetime(2026, 11, 17, 20, tzinfo=UTC)
    with pytest.raises(HearthError, match="invalid_phase"):
        give(session, now=start - timedelta(seconds=1))
    give(session, now=start)
    give(session, now=end + timedelta(days=7))
    with pytest.raises(HearthError, match="invalid_phase"):
        give(session, now=end + timedelta(days=7, seconds=1))


def test_a_one_off_session_takes_feedback_only_for_its_day():
    session = make_session(recurrence=Recurrence.ONCE)
    give(session)
    with pytest.raises(HearthError, match="invalid_field"):
        give(session, on=TUESDAY + timedelta(days=7), now=AFTER + timedelta(days=7))


@pytest.mark.parametrize("session_id", [987654, -1, "1", None, True, 1.0])
def test_unknown_or_malformed_sessions_are_refused(session_id):
    with pytest.raises(HearthError) as caught:
        submit_feedback(session_id=session_id, occurrence_on=TUESDAY, mood_before=None,
                        mood_after=None, helpful=None, tags=[], comment="", now=AFTER)
    assert caught.value.code == ErrorCode.INVALID_FIELD


# --- anonymity by construction --------------------------------------------------------------

def test_the_feedback_table_has_no_relation_to_a_member():
    for field in SessionFeedback._meta.get_fields():
        related = getattr(field, "related_model", None)
        assert related is not Member, field.name
        if related is not None:
            # The only relation is the session, which points at hosts, never at who answered.
            assert field.name == "session"
    names = {field.name for field in SessionFeedback._meta.get_fields()}
    assert names == {"id", "session", "occurrence_on", "mood_before", "mood_after", "helpful",
                     "tags", "comment"}
    forbidden = ("member", "handle", "author", "user", "session_key", "ip", "created",
                 "updated", "submitted", "at")
    for name in names - {"session"}:
        assert not any(word == part for word in forbidden for part in name.split("_")), name
    # No time of day: nothing to line up with when someone left the room.
    assert not any(isinstance(field, models.DateTimeField | models.TimeField)
                   for field in SessionFeedback._meta.get_fields())
    assert not SessionFeedback._meta.get_field("id").has_default()  # set to uuid4 per row


def test_a_stored_answer_holds_nothing_equal_to_the_members_identity(client):
    # An id no small number in the row (a mood, the session's id) can equal by chance.
    member = Member.objects.create(pk=424242, handle="QuietHeron42", handle_key="quietheron42")
    browser = client.session
    browser[SESSION_MEMBER_KEY] = member.pk
    browser.save()
    assert client.get("/").context["member"] == member
    session = make_session()
    feedback = give(session, mood_before=1, mood_after=2, helpful=False,
                    tags=["felt_safe"], comment="It was fine")
    row = SessionFeedback.objects.filter(pk=feedback.pk).values().get()
    identities = {member.pk, str(member.pk), member.handle, member.handle_key,
                  client.session.session_key}
    for name, value in row.items():
        assert all(value != identity and str(identity) not in str(value)
                   for identity in identities), name


# --- sums --------------------------------------------------------------------------------

def test_aggregates_are_correct_with_missing_answers():
    session = make_session()
    give(session, mood_before=2, mood_after=4, helpful=True, tags=["felt_heard"])
    give(session, mood_before=3, mood_after=None, helpful=False, tags=["too_fast", "felt_heard"])
    give(session, mood_before=None, mood_after=5, helpful=None)
    give(session, mood_before=1, mood_after=2, helpful=True, tags=["felt_safe"])
    give(session)
    sums = aggregates_for_session(session)
    assert sums.count == 5
    assert sums.mood_before_mean == 2.0          # (2 + 3 + 1) / 3
    assert sums.mood_after_mean == pytest.approx(3.67, abs=0.01)  # (4 + 5 + 2) / 3
    assert sums.mood_change_mean == 1.5           # (+2, +1) from the two with both
    assert sums.helpful_percent == pytest.approx(66.7, abs=0.1)   # 2 of the 3 who said
    assert sums.answered_helpful == 3
    assert sums.tag_counts == {"felt_heard": 2, "felt_safe": 1, "too_fast": 1,
                               "learned_something": 0, "too_slow": 0, "someone_unkind": 0,
                               "wanted_more_time": 0}
    assert [label for label, _count in sums.tag_rows()] == [
        str(label) for label in FeedbackTag.labels]
    assert sums.shown


def test_no_answers_give_no_means():
    sums = aggregates_for_session(make_session())
    assert (sums.count, sums.mood_before_mean, sums.mood_after_mean, sums.mood_change_mean,
            sums.helpful_percent, sums.shown) == (0, None, None, None, None, False)
    assert set(sums.tag_counts.values()) == {0}
    assert aggregate([]).count == 0


def test_a_host_sees_the_sessions_they_host_or_co_host_and_no_others():
    host, co_host, other = (make_staff(Role.PEER_SUPPORTER) for _ in range(3))
    mine = make_session(host=host, co_hosts=(co_host,))
    theirs = make_session(host=other)
    give(mine, mood_before=1, mood_after=3, helpful=True)
    give(mine, mood_before=3, mood_after=3, helpful=True)
    give(theirs, mood_before=5, mood_after=1, helpful=False)
    for member in (host, co_host):
        sums = aggregates_for_host(member)
        assert (sums.count, sums.mood_change_mean, sums.helpful_percent) == (2, 1.0, 100.0)
    assert aggregates_for_host(other).count == 1
    assert aggregates_for_host(make_staff(Role.PEER_SUPPORTER)).count == 0


def test_trends_by_room_and_by_host_go_week_by_week():
    host_a, host_b = make_staff(Role.PEER_SUPPORTER), make_staff(Role.PEER_SUPPORTER)
    room_x, room_y = (make_room(slug="x-room", kind=RoomKind.HOSTED),
                      make_room(slug="y-room", kind=RoomKind.HOSTED))
    ax = make_session(host=host_a, room=room_x)
    by = make_session(host=host_b, room=room_y)
    ay = make_session(host=host_a, room=room_y, first_date=date(2026, 11, 19))  # Thursdays
    give(ax, mood_before=2, mood_after=3)
    give(ax, on=TUESDAY + timedelta(days=7), now=AFTER + timedelta(days=7), helpful=True)
    give(by, mood_before=4, mood_after=4)
    give(ay, on=date(2026, 11, 19), now=AFTER + timedelta(days=2), helpful=False)

    by_room = {(row.key, row.week): row.aggregates for row in trends(by="room")}
    assert set(by_room) == {("x-room", date(2026, 11, 16)), ("x-room", date(2026, 11, 23)),
                            ("y-room", date(2026, 11, 16))}
    assert by_room[("y-room", date(2026, 11, 16))].count == 2
    assert by_room[("y-room", date(2026, 11, 16))].helpful_percent == 0.0
    by_host = {(row.key, row.week): row.aggregates.count for row in trends(by="host")}
    assert by_host == {(host_a.handle, date(2026, 11, 16)): 2,
                       (host_a.handle, date(2026, 11, 23)): 1,
                       (host_b.handle, date(2026, 11, 16)): 1}
    recent = trends(by="room", since=date(2026, 11, 20))
    assert [(row.key, row.week) for row in recent] == [("x-room", date(2026, 11, 23))]
    with pytest.raises(HearthError, match="invalid_field"):
        trends(by="member")  # type: ignore[arg-type]


def test_weeks_start_on_monday():
    assert week_of(date(2026, 11, 22)) == date(2026, 11, 16)  # a Sunday
    assert week_of(date(2026, 11, 16)) == date(2026, 11, 16)


def test_feedback_counts_from_when_the_host_actually_started():
    """A host who starts 25 minutes early (or on another day) still gets feedback for the
    session they ran."""
    import datetime as dt

    from django.utils import timezone

    from rooms.feedback import submit_feedback
    from rooms.models import HostedSession, SessionState
    from rooms.sessions import occurrence_date
    from tests.factories import make_room, make_staff

    started = timezone.now() - dt.timedelta(minutes=5)
    session = HostedSession.objects.create(
        room=make_room(kind=RoomKind.HOSTED), title="Early", host=make_staff(),
        time_zone="Europe/London",
        first_date=(timezone.now() + dt.timedelta(days=3)).date(), start_time=dt.time(19),
        state=SessionState.SCHEDULED, started_at=started, ended_at=timezone.now())
    on = occurrence_date(session, started)
    stored = submit_feedback(session_id=session.pk, occurrence_on=on.isoformat(),
                             mood_before=2, mood_after=4, helpful=True, tags=[], comment="")
    assert stored.occurrence_on == on
