"""What Hearth says to someone who may be in distress (moderation/support.py): the card for each
signal mix, the frames as docs/protocol.md describes them, one helpline for the region, and
copy that follows safe-messaging guidance (no method words, always a way to reach a person)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from moderation import support
from moderation.helplines import MORE_HELPLINES_URL
from moderation.screening import Severity, Signal

DOCS = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
METHOD_WORDS = ("pills", "overdose", "rope", "hang", "jump", "knife", "dose", "bridge")
BLAMING_WORDS = ("should have", "your fault", "committed suicide", "successful", "failed")


def crisis(kind: str, severity: Severity = Severity.HIGH) -> Signal:
    return Signal(detector="crisis", kind=kind, rule="crisis-support", severity=severity)


CONTACT = Signal(detector="contact", kind="phone", rule="no-contact-details",
                 severity=Severity.HIGH, span=(0, 3))
INSULT = Signal(detector="harassment", kind="insult", rule="respect", severity=Severity.MEDIUM)


@pytest.mark.parametrize(("signals", "tier"), [
    ((), None),
    ((CONTACT, INSULT), None),
    ((crisis("concern", Severity.MEDIUM),), "concern"),
    ((crisis("high_risk"),), "high_risk"),
    ((crisis("imminent", Severity.CRITICAL),), "imminent"),
    ((crisis("worried_about_someone"),), "worried_about_someone"),
    ((crisis("worried_about_someone", Severity.LOW),), "worried_about_someone"),
    ((crisis("method_detail"),), "concern"),
    ((crisis("concern"), crisis("high_risk")), "high_risk"),
    ((crisis("high_risk"), crisis("imminent")), "imminent"),
    ((crisis("method_detail"), crisis("imminent")), "imminent"),
    ((crisis("worried_about_someone"), crisis("concern")), "concern"),
    ((crisis("worried_about_someone"), crisis("method_detail")), "worried_about_someone"),
    ((CONTACT, crisis("high_risk"), INSULT), "high_risk"),
])
def test_card_tier_for_each_signal_mix(signals, tier):
    assert support.card_tier(signals) == tier
    if tier is not None:
        assert tier in support.CARD_TIERS


def _documented(heading: str) -> dict[str, Any]:
    text = DOCS.read_text()
    start = text.index(f"### `{heading}`\n")
    block = re.search(r"```json\n(.*?)```", text[start:], flags=re.S)
    assert block is not None
    return json.loads(block.group(1))


@pytest.mark.django_db
def test_the_support_frame_has_exactly_the_documented_fields():
    documented = _documented("support")
    frame = support.support_frame(tier="high_risk", seq=121, region="GB", staff_on_duty=1)
    assert set(frame) == set(documented)
    assert set(frame["helpline"]) == set(documented["helpline"])
    assert set(frame["regions"][0]) == set(documented["regions"][0])
    assert (frame["type"], frame["tier"], frame["seq"], frame["region"]) == (
        "support", "high_risk", 121, "GB")
    assert frame["helpline"]["name"] == "Samaritans" and frame["helpline"]["phone"] == "116 123"
    assert frame["more_url"] == MORE_HELPLINES_URL
    assert frame["emergency"] == support.EMERGENCY
    assert (frame["staff_on_duty"], frame["can_ask_for_support"]) == (1, True)
    nobody = support.support_frame(tier="concern", seq=None, region=None, staff_on_duty=0)
    assert (nobody["can_ask_for_support"], nobody["region"]) == (False, "*")
    codes = [r["code"] for r in frame["regions"]]
    assert {"US", "CA", "GB", "IE", "AU", "NZ"} <= set(codes) and codes[-1] == "*"


@pytest.mark.django_db
def test_the_helpline_support_requested_and_staffing_frames_match_the_docs():
    helpline = support.helpline_frame(region="US")
    assert set(helpline) == set(_documented("helpline"))
    requested = support.support_requested_frame(staff_on_duty=1)
    assert set(requested) == set(_documented("support_requested"))
    assert requested["detail"] == support.ASKED_WITH_STAFF
    assert support.support_requested_frame(staff_on_duty=0)["detail"] == (
        support.ASKED_WITHOUT_STAFF)
    staffing = {"type": "staffing", **support.staffing_field(staffed_only=True, on_duty=0,
                                                              region="US")}
    assert set(staffing) == set(_documented("staffing"))
    assert staffing["open"] is False and staffing["detail"] == support.ROOM_CLOSED
    assert staffing["helpline"]["phone"] == "988"
    open_room = support.staffing_field(staffed_only=True, on_duty=2, region="US")
    assert (open_room["open"], open_room["helpline"], open_room["detail"]) == (
        True, None, support.ROOM_OPEN)
    plain = support.staffing_field(staffed_only=False, on_duty=0, region=None)
    assert (plain["open"], plain["helpline"], plain["detail"]) == (True, None, "")


@pytest.mark.django_db
@pytest.mark.parametrize(("region", "name", "phone", "card_region"), [
    ("GB", "Samaritans", "116 123", "GB"),
    ("IE", "Samaritans Ireland", "116 123", "IE"),
    ("US", "988 Suicide & Crisis Lifeline", "988", "US"),
    ("AU", "Lifeline Australia", "13 11 14", "AU"),
    ("NZ", "Need to talk? 1737", "1737", "NZ"),
    ("ZZ", "Find A Helpline", "", "*"),
    (None, "Find A Helpline", "", "*"),
    ("*", "Find A Helpline", "", "*"),
])
def test_one_helpline_for_the_region_else_the_worldwide_fallback(region, name, phone,
                                                                   card_region):
    line = support.helpline_frame_field(region)
    assert (line["name"], line["phone"], line["region"]) == (name, phone, card_region)
    assert line["phone"] or line["url"]  # always a way to reach someone
    frame = support.helpline_frame(region=region)
    assert frame["region"] == (region or "*") and frame["helpline"] == line


def _all_copy() -> dict[str, str]:
    copy = {f"card {tier} {part}": getattr(card, part)
            for tier, card in support.CARD_COPY.items() for part in ("title", "body")}
    copy.update({name: getattr(support, name) for name in (
        "EMERGENCY", "ASKED_WITH_STAFF", "ASKED_WITHOUT_STAFF", "ROOM_CLOSED", "ROOM_OPEN",
        "ASIDE_INVITE", "COLLAPSED_NOTICE")})
    copy["invite"] = support.aside_invite_text(staff_handle="SteadyHeron7")
    return copy


def test_the_copy_names_no_method_and_never_blames():
    for name, text in _all_copy().items():
        words = set(re.findall(r"[a-z]+", text.lower()))
        for method in METHOD_WORDS:
            assert method not in words, (name, method)
            assert not any(word.startswith(method) for word in words), (name, method)
        for phrase in BLAMING_WORDS:
            assert phrase not in text.lower(), (name, phrase)


def test_every_card_has_copy_and_speaks_to_the_reader():
    assert set(support.CARD_COPY) == set(support.CARD_TIERS)
    for tier, card in support.CARD_COPY.items():
        assert card.title and card.body, tier
        assert "alone" in card.body.lower(), tier  # you are not alone with this
        assert len(card.body) < 400, tier  # plain and short


@pytest.mark.django_db
@pytest.mark.parametrize("tier", support.CARD_TIERS)
@pytest.mark.parametrize("region", ["GB", "US", "ZZ", None, "*"])
def test_every_card_names_a_way_to_reach_a_person_and_the_emergency_line(tier, region):
    frame = support.support_frame(tier=tier, seq=1, region=region, staff_on_duty=0)
    helpline = frame["helpline"]
    assert helpline["phone"] or helpline["url"] or helpline["chat_url"]
    assert frame["more_url"].startswith("https://")
    assert "emergency" in frame["emergency"].lower()
    text = json.dumps(frame).lower()
    for method in METHOD_WORDS:
        assert not re.search(rf"\b{method}", text), (tier, method)


def test_the_copy_without_staff_points_to_the_helpline_honestly():
    assert "nobody" in support.ASKED_WITHOUT_STAFF.lower()
    assert "helpline" in support.ASKED_WITHOUT_STAFF.lower()
    assert "line below" in support.ROOM_CLOSED
    assert "anonymous" in support.aside_invite_text(staff_handle="X")
    assert "not now" in support.ASIDE_INVITE
