"""The learned detector beside the rules, on one real worker over real websockets:

1. a crisis message the rules alone miss brings the private support card and an escalation
   to the on-duty moderator, though the message itself was delivered at once;
2. an aimed insult with distress words is handled as harassment: refused, and its author
   gets no crisis card;
3. a moderator reads the original of a masked message (an audited read); the room never
   sees it.

Runs on SQLite by default and on PostgreSQL when DATABASE_URL points at one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from tests.system.servers import Servers, new_session_cookies, run_servers, send_frame
from tests.system.test_crisis_flow import close_all, end_every_shift, enter, query, staff_socket
from tests.system.test_moderation_flow import MODERATION_ENV, add_moderator

pytestmark = pytest.mark.system

# Own wording: ways of saying it that word lists tend to miss. The test uses the first one
# the rules alone leave unflagged and the deployed model raises (see crisis_the_rules_miss),
# so retuning either side cannot make it test nothing.
RULES_MISS_CANDIDATES = (
    "i've started giving my things away, i won't be needing them much longer",
    "everyone would honestly cope better if i just wasnt around anymore",
    "i keep looking up how high the multistorey car park is",
    "made my peace with it. tonight i stop being a problem for everyone",
    "i'm so tired of waking up every day, i just want it all to stop for good",
)
AIMED_INSULT = "you're a pathetic idiot, nobody cares about you"
PHONE_TEXT = "text me on +44 7700 900461 after group"
# The card's promise is 2 s after the send at load; this bounds a quiet test machine.
CARD_WITHIN_SECONDS = 10.0


def crisis_the_rules_miss() -> str:
    from moderation.screening import ScreeningContext, screen_message
    from moderation.screening.combine import added_by_model
    from moderation.screening.learned import LearnedScreener

    screener = LearnedScreener()
    for text in RULES_MISS_CANDIDATES:
        rules = [s for s in screen_message(text=text, context=ScreeningContext())
                 if s.detector == "crisis"]
        added = added_by_model(rules, screener.signals([text])[0])
        if not rules and any(s.kind in {"high_risk", "imminent"} for s in added):
            return text
    raise AssertionError("every candidate is either caught by the rules or missed by the "
                         "model; add a wording of the kind the model is for")


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with run_servers(tmp_path_factory.mktemp("learned"),
                     extra_env={**MODERATION_ENV, "HEARTH_SCREENING_MODEL": "true"}) as running:
        yield running


@pytest.fixture(scope="module")
def moderator(servers: Servers) -> str:
    return add_moderator(servers)


async def test_a_crisis_message_the_rules_miss_brings_the_card_and_an_escalation(
        servers: Servers, room: str, moderator: str) -> None:
    text = crisis_the_rules_miss()
    end_every_shift(servers)
    staff = await staff_socket(servers, moderator)
    await staff.check_in()
    [cookie] = await new_session_cookies(servers.http(), 1)
    author = await enter(servers, room, cookie, name="author")
    try:
        sent = time.monotonic()
        ack = await author.send(text)
        # Delivered at once, as written: the model never holds a crisis message back.
        assert ack["status"] == "visible"
        assert (await author.message(ack["seq"]))["body"] == text
        card = await author.inbox.frame("support", timeout=CARD_WITHIN_SECONDS, seq=ack["seq"])
        card_seconds = time.monotonic() - sent
        print(f"\nmodel-raised support card {card_seconds * 1000:.0f} ms after the send")
        assert card["tier"] in {"high_risk", "imminent"}
        assert card["helpline"] and card["emergency"]
        alert = await staff.escalation("new", member=author.handle)
        assert alert["escalation"]["message"]["seq"] == ack["seq"]
        assert alert["escalation"]["tier"] in {"high_risk", "imminent"}
        # Never a sanction, never hidden.
        assert query(servers, (
            "from moderation.models import Sanction; from chat.models import Message\n"
            f"m = Message.objects.get(room__slug={room!r}, seq={ack['seq']})\n"
            "result = [m.status, Sanction.objects.filter(member_id=m.author_id).count()]"
        )) == ["visible", 0]
    finally:
        await close_all(staff, author)


async def test_an_aimed_insult_is_harassment_and_brings_its_author_no_crisis_card(
        servers: Servers, room: str) -> None:
    cookies = await new_session_cookies(servers.http(), 2)
    author = await enter(servers, room, cookies[0], name="author")
    reader = await enter(servers, room, cookies[1], name="reader")
    try:
        reply = await author.try_send(AIMED_INSULT)
        assert (reply["type"], reply["code"]) == ("error", "message_blocked"), reply
        await author.inbox.drain(3.0)  # time enough for the model to have read it
        assert not author.inbox.got("support")
        await reader.inbox.drain(0.5)
        assert AIMED_INSULT not in json.dumps(reader.inbox.received)
    finally:
        await close_all(author, reader)


async def test_a_moderator_reads_what_a_masked_message_said_and_the_read_is_audited(
        servers: Servers, room: str, moderator: str) -> None:
    staff = await staff_socket(servers, moderator)
    cookies = await new_session_cookies(servers.http(), 2)
    author = await enter(servers, room, cookies[0], name="author")
    reader = await enter(servers, room, cookies[1], name="reader")
    try:
        ack = await author.send(PHONE_TEXT)
        # Its author reads their own words; the room reads them masked.
        assert (await author.message(ack["seq"]))["body"] == PHONE_TEXT
        seen = await reader.message(ack["seq"])
        assert "7700" not in seen["body"] and "•••" in seen["body"]
        await send_frame(reader.inbox.ws, {"type": "report", "seq": ack["seq"],
                                           "reason": "contact_details", "note": ""})
        item = await staff.inbox.wait_for(
            "queue_item", lambda f: f.get("type") == "queue_item"
            and f["item"]["room"]["slug"] == room and f["item"]["message"]["seq"] == ack["seq"])
        assert item["item"]["message"]["masked"] is True
        assert "7700" not in json.dumps(item)  # the queue shows what the room saw
        await send_frame(staff.inbox.ws, {"type": "read_original", "item_id": item["item"]["id"]})
        original = await staff.inbox.frame("original", item_id=item["item"]["id"])
        assert "7700 900461" in original["html"]
        assert query(servers, (
            "from moderation.models import AuditEntry\n"
            "result = AuditEntry.objects.filter(action='read_original').count()")) >= 1
        # A bad item id is an explicit error, never a crash.
        await send_frame(staff.inbox.ws, {"type": "read_original", "item_id": "nine"})
        error = await staff.inbox.frame("error")
        assert error["code"] == "invalid_field"
        assert "7700" not in json.dumps(reader.inbox.received)
    finally:
        await close_all(staff, author, reader)

