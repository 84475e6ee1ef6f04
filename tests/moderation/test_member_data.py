import json
from dataclasses import dataclass

import pytest

from chat.models import Member, Role
from moderation import asides
from moderation.member_data import (
    EXPORT_FORMAT,
    FEEDBACK_NOTE,
    ErasureSummary,
    erasure_summary,
    member_export,
)
from moderation.models import ReviewItem, SanctionKind
from moderation.services import (
    appeal_decision,
    hide_message,
    mute_member,
    report_message,
    sanction_member,
)
from tests.factories import make_member, make_room, make_staff, post_in_room

pytestmark = pytest.mark.django_db

ALICE_SAYS = "Long day, but glad to be here tonight"
ALICE_MASKED = "Text me on 07700 900123 if you like"
BOB_SAYS = "Some days are harder than others for me"
ALICE_NOTE = "This one felt unkind to me"
BOB_NOTE = "Looks like someone sharing a number"
BOB_APPEALS = "I was only talking about my own week"
STAFF_LINE = "Hello, I wanted to check in with you"
BOB_LINE = "Thanks, I'm doing alright now"


@dataclass
class Scene:
    alice: Member
    bob: Member
    moderator: Member


@pytest.fixture
def scene() -> Scene:
    """Two members in one room, each with messages and a report on the other's message; bob
    also has a moderation decision, an appeal and a take-aside with a moderator."""
    room = make_room()
    alice, bob, moderator = make_member(), make_member(), make_staff(Role.MODERATOR)
    first = post_in_room(member=alice, room=room, client_id="a1", body=ALICE_SAYS).message
    post_in_room(member=alice, room=room, client_id="a2", body=ALICE_MASKED)
    bobs = post_in_room(member=bob, room=room, client_id="b1", body=BOB_SAYS).message
    report_message(reporter=alice, room_id=room.pk, seq=bobs.seq, reason="harassment",
                   note=ALICE_NOTE)
    report_message(reporter=bob, room_id=room.pk, seq=first.seq, reason="spam", note=BOB_NOTE)
    item = ReviewItem.objects.get(message=bobs)
    hide_message(moderator=moderator, item_id=item.pk, rule="respect", reason="")
    sanction_member(moderator=moderator, member_id=bob.pk, kind=SanctionKind.WARNING,
                    rule="respect", reason="Please keep it kind.", room_id=room.pk)
    appeal_decision(member=bob, text=BOB_APPEALS, message_id=bobs.pk)
    aside = asides.open_take_aside(staff=moderator, item_id=item.pk)
    asides.reply(member=bob, aside_id=aside.pk, accept=True)
    asides.send(author=moderator, aside_id=aside.pk, client_id="s1", body=STAFF_LINE)
    asides.send(author=bob, aside_id=aside.pk, client_id="b1", body=BOB_LINE)
    mute_member(member=alice, handle=bob.handle)
    return Scene(alice=alice, bob=bob, moderator=moderator)


def _texts(export: dict[str, object]) -> str:
    return json.dumps(export, ensure_ascii=False)


def test_alice_gets_exactly_her_own_data(scene: Scene) -> None:
    export = member_export(member=scene.alice)
    assert export["format"] == EXPORT_FORMAT
    assert export["you"]["handle"] == scene.alice.handle
    [room] = export["messages"]
    # Her own words, also where others were shown them masked.
    assert [m["text"] for m in room["messages"]] == [ALICE_SAYS, ALICE_MASKED]
    assert "07700 900123" not in room["messages"][1]["shown_to_others"]
    assert [(r["reason"], r["note"]) for r in export["reports_made"]] == [
        ("harassment", ALICE_NOTE)]
    assert export["moderation_decisions"] == []
    assert export["appeals"] == []
    assert export["private_conversations"] == []
    assert len(export["mutes"]) == 1
    assert export["session_feedback"] == FEEDBACK_NOTE
    everything = _texts(export)
    for someone_elses in (scene.bob.handle, scene.moderator.handle, BOB_SAYS, BOB_NOTE,
                          BOB_APPEALS, STAFF_LINE, BOB_LINE):
        assert someone_elses not in everything


def test_bob_gets_exactly_his_own_data(scene: Scene) -> None:
    export = member_export(member=scene.bob)
    assert export["you"]["handle"] == scene.bob.handle
    [room] = export["messages"]
    assert [(m["text"], m["status"]) for m in room["messages"]] == [(BOB_SAYS, "hidden")]
    assert [(r["reason"], r["note"]) for r in export["reports_made"]] == [("spam", BOB_NOTE)]
    [decision] = export["moderation_decisions"]
    assert (decision["kind"], decision["rule"]) == ("warning", "respect")
    [appeal] = export["appeals"]
    assert (appeal["your_words"], appeal["state"]) == (BOB_APPEALS, "open")
    [conversation] = export["private_conversations"]
    # Only his own lines: the moderator's words and handle are theirs.
    assert [line["text"] for line in conversation["your_lines"]] == [BOB_LINE]
    assert export["mutes"] == []
    everything = _texts(export)
    for someone_elses in (scene.alice.handle, scene.moderator.handle, ALICE_SAYS,
                          ALICE_MASKED, "07700", ALICE_NOTE, STAFF_LINE):
        assert someone_elses not in everything


def test_a_member_with_nothing_gets_an_empty_export() -> None:
    member = make_member()
    export = member_export(member=member)
    assert export["you"]["handle"] == member.handle
    for kind in ("messages", "ground_rules_accepted", "reports_made", "moderation_decisions",
                 "appeals", "support_alerts", "private_conversations",
                 "hosted_sessions_joined", "mutes"):
        assert export[kind] == [], kind
    json.dumps(export)  # plain JSON types only
    assert erasure_summary(member=member).is_empty


def test_the_erasure_summary_counts_what_will_go(scene: Scene) -> None:
    assert erasure_summary(member=scene.alice) == ErasureSummary(
        messages=2, rooms=1, reports=1, decisions=0, private_conversations=0)
    assert erasure_summary(member=scene.bob) == ErasureSummary(
        messages=1, rooms=1, reports=1, decisions=1, private_conversations=1)
