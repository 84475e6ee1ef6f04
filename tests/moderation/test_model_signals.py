"""The learned detector's additions to a stored message (moderation.services.
apply_model_signals): followed up as a rules signal would be, never a sanction."""

from __future__ import annotations

import itertools

import pytest

from chat.models import MessageStatus
from moderation import services
from moderation.models import Escalation, ReviewItem, Sanction
from moderation.screening.types import DetectorName, Rule, Severity, Signal, SignalKind
from tests.factories import make_member, make_room, post_in_room

pytestmark = pytest.mark.django_db

_ids = itertools.count(1)
HIGH = Signal(detector=DetectorName.CRISIS, kind=SignalKind.HIGH_RISK, rule=Rule.CRISIS_SUPPORT,
              severity=Severity.HIGH)
METHOD = Signal(detector=DetectorName.CRISIS, kind=SignalKind.METHOD_DETAIL,
                rule=Rule.NO_METHOD_DETAILS, severity=Severity.HIGH)
INSULT = Signal(detector=DetectorName.HARASSMENT, kind=SignalKind.INSULT, rule=Rule.RESPECT,
                severity=Severity.HIGH)


def stored(body: str = "an ordinary line about the garden"):
    member, room = make_member(), make_room()
    return post_in_room(member=member, room=room, client_id=f"m{next(_ids)}",
                        body=body).message


def test_a_crisis_tier_the_rules_missed_opens_an_escalation_and_a_review_item():
    message = stored()
    outcome = services.apply_model_signals(message_id=message.pk, signals=(HIGH,))
    assert outcome is not None
    assert outcome.card_tier == "high_risk"
    assert not outcome.collapsed and not outcome.held
    escalation = Escalation.objects.get(message=message)
    assert escalation.tier == "high_risk"
    item = ReviewItem.objects.get(message=message)
    assert item.signals[0]["model"] is True
    assert item.urgency >= 100  # crisis first in the queue
    message.refresh_from_db()
    assert message.status == MessageStatus.VISIBLE  # never hidden, never blocked
    assert not Sanction.objects.exists()


def test_method_details_collapse_the_message_for_the_room():
    message = stored()
    outcome = services.apply_model_signals(message_id=message.pk, signals=(METHOD,))
    assert outcome is not None and outcome.collapsed
    message.refresh_from_db()
    assert message.status == MessageStatus.COLLAPSED


def test_aimed_harassment_the_rules_missed_is_held_for_review():
    message = stored()
    outcome = services.apply_model_signals(message_id=message.pk, signals=(INSULT,))
    assert outcome is not None and outcome.held and outcome.card_tier == ""
    message.refresh_from_db()
    assert message.status == MessageStatus.HELD
    assert not Sanction.objects.exists()


def test_a_less_sure_harassment_reading_puts_the_message_before_a_moderator_and_leaves_it():
    message = stored()
    unsure = Signal(detector=DetectorName.HARASSMENT, kind=SignalKind.INSULT, rule=Rule.RESPECT,
                    severity=Severity.MEDIUM)
    outcome = services.apply_model_signals(message_id=message.pk, signals=(unsure,))
    assert outcome is not None and not outcome.held and outcome.card_tier == ""
    message.refresh_from_db()
    assert message.status == MessageStatus.VISIBLE
    item = ReviewItem.objects.get(message=message)
    assert [(s["kind"], s["severity"], s["model"]) for s in item.signals] == [
        ("insult", int(Severity.MEDIUM), True)]
    assert not Sanction.objects.exists()


def test_a_message_already_held_is_not_changed_but_its_item_learns_the_signal():
    message = stored()
    services.apply_model_signals(message_id=message.pk, signals=(INSULT,))
    services.apply_model_signals(message_id=message.pk, signals=(METHOD,))
    message.refresh_from_db()
    assert message.status == MessageStatus.HELD
    kinds = [s["kind"] for s in ReviewItem.objects.get(message=message).signals]
    assert kinds == ["insult", "method_detail"]


def test_an_erased_message_is_nothing_to_follow_up():
    message = stored()
    message_id = message.pk
    message.delete()
    assert services.apply_model_signals(message_id=message_id, signals=(HIGH,)) is None


def test_no_signals_change_nothing():
    message = stored()
    assert services.apply_model_signals(message_id=message.pk, signals=()) is None
    assert not ReviewItem.objects.filter(message=message).exists()


CONCERN = Signal(detector=DetectorName.CRISIS, kind=SignalKind.CONCERN, rule=Rule.CRISIS_SUPPORT,
                 severity=Severity.MEDIUM)
IMMINENT = Signal(detector=DetectorName.CRISIS, kind=SignalKind.IMMINENT,
                  rule=Rule.CRISIS_SUPPORT, severity=Severity.CRITICAL)


def test_a_later_card_never_replaces_a_stronger_one():
    message = stored()
    # The rules gave the imminent card; method details alone would call for the gentlest.
    outcome = services.apply_model_signals(message_id=message.pk, signals=(METHOD,),
                                           rules_signals=(IMMINENT,))
    assert outcome is not None and outcome.card_tier == ""
    raised = services.apply_model_signals(message_id=stored().pk, signals=(HIGH,),
                                          rules_signals=(CONCERN,))
    assert raised is not None and raised.card_tier == "high_risk"


def test_a_moderators_decision_stands_against_a_later_reading():
    from moderation.models import ReviewState

    message = stored()
    ReviewItem.objects.create(message=message, signals=[], state=ReviewState.RESOLVED,
                              resolution="dismissed")
    outcome = services.apply_model_signals(message_id=message.pk, signals=(INSULT, METHOD))
    assert outcome is not None and not outcome.held and not outcome.collapsed
    message.refresh_from_db()
    assert message.status == MessageStatus.VISIBLE
    assert ReviewItem.objects.get(message=message).signals == []


def test_a_room_that_allows_harassment_is_not_held_by_the_model():
    from moderation.models import ScreeningAction, ScreeningPolicy

    message = stored()
    ScreeningPolicy.objects.create(room_id=message.room_id, harassment=ScreeningAction.ALLOW)
    services.policy_cache.forget(message.room_id)
    outcome = services.apply_model_signals(message_id=message.pk, signals=(INSULT,))
    assert outcome is not None and not outcome.held
    message.refresh_from_db()
    assert message.status == MessageStatus.VISIBLE
    assert ReviewItem.objects.filter(message=message).exists()  # a moderator still sees it
