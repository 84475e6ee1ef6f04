"""What a worker keeps of policy, rules and sanctions between posts (hearth/hotcache.py):
a change made in this worker applies to the very next post; one made elsewhere (no signal
here) applies once the cached copy expires, or at once when its live event arrives."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat.errors import ErrorCode, HearthError
from chat.services import post_message
from moderation import services
from moderation.models import Sanction, SanctionKind, ScreeningAction, ScreeningPolicy
from moderation.rules import rules_changed
from moderation.sanctions import forget_sanctions
from tests.factories import accept_room_rules, make_member, make_room, make_staff

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, settings) -> Clock:
    settings.HEARTH_HOT_CACHE_SECONDS = 2.0
    fake = Clock()
    monkeypatch.setattr("hearth.hotcache.time.monotonic", fake)
    return fake


def _post(member, room, client_id: str, body: str = "thinking of you all tonight"):
    return post_message(member=member, room=room, client_id=client_id, body=body)


def _refusal(member, room, client_id: str) -> ErrorCode:
    with pytest.raises(HearthError) as caught:
        _post(member, room, client_id)
    return caught.value.code


def test_a_timeout_given_in_this_worker_stops_the_very_next_post(clock):
    room, member = make_room(), make_member()
    accept_room_rules(member, room)
    _post(member, room, "before")  # caches "no sanction"
    services.sanction_member(moderator=make_staff(), member_id=member.pk,
                             kind=SanctionKind.TIMEOUT, rule="respect", reason="Name-calling",
                             room_id=room.pk, duration=timedelta(hours=1))
    assert _refusal(member, room, "after") == ErrorCode.TIMED_OUT


def test_a_timeout_written_by_another_worker_applies_when_the_copy_expires(clock):
    room, member = make_room(), make_member()
    accept_room_rules(member, room)
    _post(member, room, "before")
    # bulk_create sends no signal: as if another process had written it.
    now = timezone.now()
    Sanction.objects.bulk_create([Sanction(member=member, room=room, kind=SanctionKind.TIMEOUT,
                                           rule="respect", reason="Elsewhere",
                                           starts_at=now, ends_at=now + timedelta(hours=1))])
    _post(member, room, "still-cached")
    clock.now += 2.1
    assert _refusal(member, room, "expired") == ErrorCode.TIMED_OUT


def test_the_sanction_notice_from_another_worker_forgets_at_once(clock):
    room, member = make_room(), make_member()
    accept_room_rules(member, room)
    _post(member, room, "before")
    now = timezone.now()
    Sanction.objects.bulk_create([Sanction(member=member, room=None, kind=SanctionKind.BAN,
                                           rule="respect", reason="Elsewhere",
                                           starts_at=now)])
    forget_sanctions(member_id=member.pk)  # what the member's socket does on their notice
    assert _refusal(member, room, "after") == ErrorCode.BANNED


def test_a_timeout_that_runs_out_while_cached_no_longer_refuses(clock, monkeypatch):
    room, member = make_room(), make_member()
    accept_room_rules(member, room)
    services.sanction_member(moderator=make_staff(), member_id=member.pk,
                             kind=SanctionKind.TIMEOUT, rule="respect", reason="Name-calling",
                             room_id=room.pk, duration=timedelta(minutes=1))
    assert _refusal(member, room, "during") == ErrorCode.TIMED_OUT
    later = timezone.now() + timedelta(minutes=2)
    monkeypatch.setattr("moderation.sanctions.timezone.now", lambda: later)
    assert _post(member, room, "after").created


def test_a_policy_saved_in_this_worker_applies_to_the_next_post(clock):
    room, member = make_room(), make_member()
    accept_room_rules(member, room)
    ScreeningPolicy.objects.create(room=room, spam=ScreeningAction.ALLOW)
    assert _post(member, room, "allowed").created
    assert services.policy_actions(room_id=room.pk).spam == ScreeningAction.ALLOW
    policy = ScreeningPolicy.objects.get(room=room)
    policy.spam = ScreeningAction.HOLD
    policy.save()
    assert services.policy_actions(room_id=room.pk).spam == ScreeningAction.HOLD
    policy.delete()
    assert services.policy_actions(room_id=room.pk).spam == ScreeningAction.BLOCK  # site's


def test_new_rules_must_be_accepted_before_the_next_post(clock):
    room, member = make_room(), make_member()
    accept_room_rules(member, room)
    _post(member, room, "before")
    rules_changed(room=room)
    assert _refusal(member, room, "after") == ErrorCode.RULES_NOT_ACCEPTED
    accept_room_rules(member, room)
    assert _post(member, room, "accepted").created


def test_rules_accepted_through_another_worker_are_read_not_refused_from_cache(clock):
    from moderation.models import RulesAcceptance
    from moderation.rules import rules_version

    room, member = make_room(), make_member()
    assert _refusal(member, room, "first") == ErrorCode.RULES_NOT_ACCEPTED
    RulesAcceptance.objects.create(member=member, room=room,
                                   version=rules_version(room_id=room.pk))
    assert _post(member, room, "second").created


def test_a_rule_saved_or_removed_in_this_worker_shows_on_the_next_join(clock):
    from moderation.models import GroundRule
    from moderation.rules import room_rules

    room = make_room()
    before = [r["code"] for r in room_rules(room_id=room.pk).rules]
    rule = GroundRule.objects.create(room=room, code="no-spoilers", title="No spoilers",
                                     text="Keep endings to yourself.", position=1)
    assert [r["code"] for r in room_rules(room_id=room.pk).rules] == [*before, "no-spoilers"]
    rule.delete()
    assert [r["code"] for r in room_rules(room_id=room.pk).rules] == before


def test_a_batch_of_posts_reads_the_expired_rules_and_sanctions_once_whatever_its_senders(
        clock):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from chat.services import PostRequest, post_messages

    room = make_room()
    members = [make_member() for _ in range(6)]
    for member in members:
        accept_room_rules(member, room)
    post_messages([PostRequest(member=m, room=room, client_id=f"warm-{m.pk}", body="hi all")
                   for m in members])

    def queries_for(senders, tag: str) -> int:
        clock.now += 10  # every cached acceptance and sanction has expired
        with CaptureQueriesContext(connection) as captured:
            outcomes = post_messages([PostRequest(member=m, room=room, client_id=f"{tag}-{m.pk}",
                                                  body="thinking of you") for m in senders])
        assert all(not isinstance(o, Exception) for o in outcomes), outcomes
        return len(captured)

    assert queries_for(members[:2], "two") == queries_for(members, "six")


def test_prefetched_acceptances_and_sanctions_are_what_the_checks_would_have_read(clock):
    from moderation.rules import has_accepted, prefetch_acceptances
    from moderation.sanctions import prefetch_stale_posting_sanctions, sanction_cache

    room = make_room()
    accepted, stranger, banned = make_member(), make_member(), make_member()
    accept_room_rules(accepted, room)
    accept_room_rules(banned, room)
    Sanction.objects.bulk_create([Sanction(member=banned, room=room, kind=SanctionKind.BAN,
                                           rule="respect", reason="Harassment",
                                           starts_at=timezone.now())])
    pairs = [(m.pk, room.pk) for m in (accepted, stranger, banned)]
    prefetch_acceptances(pairs)
    prefetch_stale_posting_sanctions(pairs)

    assert has_accepted(member_id=accepted.pk, room_id=room.pk)
    assert not has_accepted(member_id=stranger.pk, room_id=room.pk)
    assert sanction_cache.is_fresh((banned.pk, room.pk))
    assert sanction_cache.get((banned.pk, room.pk)) is not None
    assert sanction_cache.get((accepted.pk, room.pk)) is None
    with pytest.raises(HearthError) as refused:
        services.ensure_may_post_here(member_id=banned.pk, room_id=room.pk)
    assert refused.value.code == ErrorCode.BANNED
    rules_changed(room=room)  # the cached acceptances are now below the room's version
    prefetch_acceptances(pairs)
    assert not has_accepted(member_id=accepted.pk, room_id=room.pk)
