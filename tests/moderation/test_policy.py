"""From signals to what happens to a message (moderation/policy.py), swept over every policy a
room can have, and the promise that screening never punishes anyone: a crisis signal never
blocks, masks or hides its author's words, and no code path creates a sanction from screening.
"""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

import pytest

from chat.errors import ErrorCode, HearthError
from chat.models import Message, MessageStatus
from chat.selectors import frame_for_message, visible_to
from chat.services import MessageBlockedError, post_message
from moderation import services
from moderation.models import Mute, ReviewItem, Sanction, SanctionKind, ScreeningAction
from moderation.policy import MASK_TEXT, PolicyActions, decide
from moderation.screening import ScreeningContext, Severity, Signal, screen_message
from moderation.services import needs_review, status_for
from tests.factories import accept_room_rules, make_member, make_room
from tests.moderation.support import CRISIS_BODY, set_room_policy
from tests.moderation.test_collapsed_messages import inject_signals

ACTIONS = tuple(ScreeningAction)
DETECTORS = ("contact", "harassment", "spam", "crisis")
# Every policy a room can have: one action per detector (4^4 = 256).
EVERY_POLICY = [PolicyActions(**dict(zip(DETECTORS, combo, strict=True)))
                for combo in itertools.product(ACTIONS, repeat=len(DETECTORS))]
STRENGTH = {ScreeningAction.ALLOW: 0, ScreeningAction.MASK: 1, ScreeningAction.HOLD: 2,
            ScreeningAction.BLOCK: 3}

TEXT = "I can't go on, I want to die. text me on 07700 900123 you idiot"
CRISIS_SPAN = (17, 28)  # "want to die"
CONTACT_SPAN = (41, 53)  # "07700 900123"
INSULT_SPAN = (54, 63)  # "you idiot"


def signal(detector: str, kind: str, rule: str, severity: Severity,
           span: tuple[int, int] | None) -> Signal:
    return Signal(detector=detector, kind=kind, rule=rule, severity=severity, span=span)


CRISIS_SIGNALS = [
    signal("crisis", kind, "crisis-support", severity, span)
    for kind, severity in (("concern", Severity.MEDIUM), ("high_risk", Severity.HIGH),
                           ("imminent", Severity.CRITICAL),
                           ("worried_about_someone", Severity.HIGH))
    for span in (CRISIS_SPAN, None)
]
OTHER_SIGNALS = {
    "contact": signal("contact", "phone", "no-contact-details", Severity.HIGH, CONTACT_SPAN),
    "harassment": signal("harassment", "insult", "respect", Severity.MEDIUM, INSULT_SPAN),
    "spam": signal("spam", "repeat", "no-spam", Severity.MEDIUM, None),  # whole message
}
# Every non-empty mix of the other detectors, to go with a crisis signal.
MIXES = [list(mix) for size in (1, 2, 3)
         for mix in itertools.combinations(OTHER_SIGNALS.values(), size)]


def test_the_sample_text_spans_are_what_the_tests_say():
    assert TEXT[slice(*CRISIS_SPAN)] == "want to die"
    assert TEXT[slice(*CONTACT_SPAN)] == "07700 900123"
    assert TEXT[slice(*INSULT_SPAN)] == "you idiot"


def test_no_signals_allows_the_text_unchanged():
    verdict = decide(text="hello", signals=[], actions=PolicyActions())
    assert (verdict.action, verdict.body, verdict.rule, verdict.masked) == (
        ScreeningAction.ALLOW, "hello", "", False)


@pytest.mark.parametrize(("actions", "expected", "rule"), [
    (PolicyActions(contact="mask", harassment="block"), "block", "respect"),
    (PolicyActions(contact="block", harassment="mask"), "block", "no-contact-details"),
    (PolicyActions(contact="mask", harassment="hold"), "hold", "respect"),
    (PolicyActions(contact="hold", harassment="mask"), "hold", "no-contact-details"),
    (PolicyActions(contact="mask", harassment="allow"), "mask", "no-contact-details"),
    (PolicyActions(contact="allow", harassment="allow"), "allow", "no-contact-details"),
])
def test_the_strongest_action_wins_and_cites_its_rule(actions, expected, rule):
    verdict = decide(text=TEXT, signals=[OTHER_SIGNALS["contact"], OTHER_SIGNALS["harassment"]],
                     actions=actions)
    assert verdict.action == expected
    assert verdict.rule == rule
    assert verdict.signals == (OTHER_SIGNALS["contact"], OTHER_SIGNALS["harassment"])


def test_masking_replaces_exactly_the_spans():
    verdict = decide(text=TEXT, signals=[OTHER_SIGNALS["contact"], OTHER_SIGNALS["harassment"]],
                     actions=PolicyActions(contact="mask", harassment="mask"))
    assert verdict.action == ScreeningAction.MASK and verdict.masked
    assert verdict.body == (TEXT[:CONTACT_SPAN[0]] + MASK_TEXT + " " + MASK_TEXT)


def test_overlapping_and_touching_spans_are_masked_once():
    text = "0123456789abcdef"
    signals = [signal("contact", "phone", "no-contact-details", Severity.HIGH, span)
               for span in ((2, 5), (4, 8), (8, 10), (12, 14))]
    verdict = decide(text=text, signals=signals, actions=PolicyActions())
    assert verdict.body == f"01{MASK_TEXT}ab{MASK_TEXT}ef"


def test_masking_real_contact_details_leaves_everything_else_as_written():
    text = "my number is +1 (415) 555-2671 and my mail is sam.jones@example.com, thanks"
    signals = screen_message(text=text, context=ScreeningContext())
    verdict = decide(text=text, signals=signals, actions=PolicyActions())
    assert verdict.action == ScreeningAction.MASK
    assert "555" not in verdict.body and "2671" not in verdict.body
    assert "example.com" not in verdict.body and "sam.jones" not in verdict.body
    # Whatever the detectors matched is replaced, span for span; the rest is as written.
    covered = set().union(*(range(*s.span) for s in signals if s.span))
    kept = "".join(ch if i not in covered else "\0" for i, ch in enumerate(text))
    assert verdict.body == re.sub("\0+", MASK_TEXT, kept)
    assert verdict.body.endswith(", thanks")


def test_a_whole_message_signal_set_to_mask_is_held_instead():
    verdict = decide(text="same again", signals=[OTHER_SIGNALS["spam"]],
                     actions=PolicyActions(spam="mask"))
    assert verdict.action == ScreeningAction.HOLD
    assert verdict.body == "same again" and not verdict.masked
    assert verdict.rule == "no-spam"


def test_a_block_never_carries_a_masked_body():
    verdict = decide(text=TEXT, signals=[OTHER_SIGNALS["contact"], OTHER_SIGNALS["harassment"]],
                     actions=PolicyActions(contact="mask", harassment="block"))
    assert verdict.action == ScreeningAction.BLOCK and not verdict.masked


# --- the sweep: every policy, crisis alone and mixed --------------------------------------------

def test_sweep_a_crisis_signal_alone_never_blocks_masks_or_changes_the_text():
    checked = 0
    for actions in EVERY_POLICY:
        for crisis in CRISIS_SIGNALS:
            verdict = decide(text=TEXT, signals=[crisis], actions=actions)
            assert verdict.action in (ScreeningAction.ALLOW, ScreeningAction.HOLD), (actions,
                                                                                      crisis)
            assert not verdict.masked and verdict.body == TEXT, (actions, crisis)
            expected = (ScreeningAction.ALLOW if actions.crisis == ScreeningAction.ALLOW
                        else ScreeningAction.HOLD)
            assert verdict.action == expected, (actions, crisis)
            assert verdict.rule == "crisis-support"
            assert status_for(verdict) in (MessageStatus.VISIBLE, MessageStatus.HELD)
            # A crisis always reaches a person, whatever the policy.
            assert needs_review(verdict)
            checked += 1
    assert checked == 256 * len(CRISIS_SIGNALS)


def _expected_action(actions: PolicyActions, others: list[Signal]) -> ScreeningAction:
    strongest = (ScreeningAction.ALLOW if actions.crisis == ScreeningAction.ALLOW
                 else ScreeningAction.HOLD)
    for other in others:
        action = ScreeningAction(getattr(actions, other.detector))
        if action == ScreeningAction.MASK and other.span is None:
            action = ScreeningAction.HOLD
        strongest = max(strongest, action, key=STRENGTH.__getitem__)
    # With a crisis signal present nothing is blocked: it is held for a moderator instead.
    return ScreeningAction.HOLD if strongest == ScreeningAction.BLOCK else strongest


def test_sweep_with_crisis_mixed_in_nothing_is_blocked_and_only_other_signals_mask():
    checked = 0
    for actions, crisis, others in itertools.product(EVERY_POLICY, CRISIS_SIGNALS, MIXES):
        verdict = decide(text=TEXT, signals=[crisis, *others], actions=actions)
        case = (actions, crisis.kind, crisis.span, [o.detector for o in others])
        assert verdict.action == _expected_action(actions, others), case
        assert verdict.action != ScreeningAction.BLOCK, case
        # What the policy masks is masked; what it would have blocked for its own sake is
        # masked too, since the message is held instead of dropped.
        masked_spans = [o.span for o in others
                        if getattr(actions, o.detector) in (ScreeningAction.MASK,
                                                            ScreeningAction.BLOCK) and o.span]
        assert verdict.masked == bool(masked_spans), case
        # The crisis words are never masked: the author and moderators see what was said.
        assert "want to die" in verdict.body, case
        expected_body = TEXT
        for start, end in sorted(masked_spans, reverse=True):
            expected_body = expected_body[:start] + MASK_TEXT + expected_body[end:]
        assert verdict.body == expected_body, case
        checked += 1
    assert checked > 0


# --- method details: collapsed for the room, whole for its author --------------------------------

METHOD_SIGNALS = [signal("crisis", "method_detail", "no-method-details", Severity.HIGH, span)
                  for span in (CRISIS_SPAN, None)]


def test_method_detail_is_held_and_collapsed_under_every_policy():
    checked = 0
    for actions, method in itertools.product(EVERY_POLICY, METHOD_SIGNALS):
        verdict = decide(text=TEXT, signals=[method], actions=actions)
        case = (actions, method.span)
        assert verdict.action == ScreeningAction.HOLD, case
        assert verdict.collapsed, case
        assert verdict.rule == "no-method-details", case
        assert verdict.body == TEXT and not verdict.masked, case
        assert status_for(verdict) == MessageStatus.COLLAPSED, case
        assert needs_review(verdict), case
        checked += 1
    assert checked == 256 * 2
    # A hold for another reason is not a collapse: the room would never see a placeholder.
    held = decide(text=TEXT, signals=[OTHER_SIGNALS["spam"]], actions=PolicyActions(spam="hold"))
    assert held.action == ScreeningAction.HOLD and not held.collapsed
    assert status_for(held) == MessageStatus.HELD


# Every crisis signal, method details too, and the writer's distress with method details.
EVERY_CRISIS_SIGNAL = [[crisis] for crisis in CRISIS_SIGNALS + METHOD_SIGNALS] + [
    [METHOD_SIGNALS[0], crisis] for crisis in CRISIS_SIGNALS]


def test_sweep_no_crisis_signal_blocks_or_hides_and_method_detail_always_collapses():
    """Every policy x every crisis signal x every mix of other signals (none included)."""
    statuses: set[str] = set()
    checked = 0
    for actions, crisis, others in itertools.product(EVERY_POLICY, EVERY_CRISIS_SIGNAL,
                                                     [[], *MIXES]):
        verdict = decide(text=TEXT, signals=[*crisis, *others], actions=actions)
        case = (actions, [(c.kind, c.span) for c in crisis], [o.detector for o in others])
        status = status_for(verdict)
        assert verdict.action != ScreeningAction.BLOCK, case
        assert status != MessageStatus.HIDDEN, case
        assert "want to die" in verdict.body, case  # the words as written, for the author
        if any(c.kind == "method_detail" for c in crisis):
            assert status == MessageStatus.COLLAPSED and verdict.collapsed, case
        else:
            assert not verdict.collapsed, case
        assert needs_review(verdict), case
        statuses.add(status)
        checked += 1
    assert checked == 256 * len(EVERY_CRISIS_SIGNAL) * (len(MIXES) + 1)
    assert statuses == {MessageStatus.VISIBLE, MessageStatus.HELD, MessageStatus.COLLAPSED}


# --- through the real services: stored, visible to its author, never sanctioned -----------------

def _post_under_every_policy(body: str) -> list[tuple[PolicyActions, Message | None]]:
    room, author = make_room(), make_member()
    accept_room_rules(author, room)
    outcomes: list[tuple[PolicyActions, Message | None]] = []
    for number, actions in enumerate(EVERY_POLICY):
        set_room_policy(room, contact=actions.contact, harassment=actions.harassment,
                        spam=actions.spam, crisis=actions.crisis)
        try:
            result = post_message(member=author, room=room, client_id=f"p{number}", body=body)
        except MessageBlockedError as blocked:
            blocked_by = blocked.verdict.rule
            outcomes.append((actions, None))
        else:
            blocked_by = ""
            outcomes.append((actions, result.message))
        assert blocked_by != "crisis-support"
    return outcomes


@pytest.mark.django_db
def test_sweep_a_crisis_message_is_stored_as_written_and_its_author_always_sees_it():
    assert {s.detector for s in screen_message(
        text=CRISIS_BODY, context=ScreeningContext())} == {"crisis"}
    outcomes = _post_under_every_policy(CRISIS_BODY)
    assert len(outcomes) == 256
    for actions, message in outcomes:
        assert message is not None, f"blocked under {actions}"
        assert message.body == CRISIS_BODY
        assert message.status in (MessageStatus.VISIBLE, MessageStatus.HELD)
        assert Message.objects.filter(visible_to(viewer_id=message.author_id),
                                      pk=message.pk).exists(), actions
        # And a moderator is always told.
        assert ReviewItem.objects.filter(message=message).exists()
        if actions.crisis == ScreeningAction.ALLOW:
            assert message.status == MessageStatus.VISIBLE
            other = make_member() if message.seq == 1 else None
            if other is not None:
                assert Message.objects.filter(visible_to(viewer_id=other.pk),
                                              pk=message.pk).exists()
    assert Sanction.objects.count() == 0


@pytest.mark.django_db
def test_sweep_a_crisis_mixed_with_contact_details_is_never_dropped():
    body = "I want to end my life tonight. text me on +44 7700 900123"
    assert {s.detector for s in screen_message(
        text=body, context=ScreeningContext())} == {"crisis", "contact"}
    for actions, message in _post_under_every_policy(body):
        # A block for the contact details would drop a crisis unseen: it is held instead.
        assert message is not None, actions
        if actions.contact == ScreeningAction.BLOCK:
            assert message.status == MessageStatus.HELD
            assert ReviewItem.objects.filter(message=message).exists()
        assert "end my life" in message.body
        assert Message.objects.filter(visible_to(viewer_id=message.author_id),
                                      pk=message.pk).exists(), actions
        if actions.contact in (ScreeningAction.MASK, ScreeningAction.BLOCK):
            assert "7700" not in message.body
    assert Sanction.objects.count() == 0


# --- no automatic sanctions ---------------------------------------------------------------------

PROJECT = Path(__file__).resolve().parents[2]
APP_PACKAGES = ("chat", "moderation", "rooms", "frontend", "hearth")
SANCTION_WRITE = re.compile(
    r"Sanction\.objects\.(create|bulk_create|get_or_create|update_or_create)"
    r"|\bSanction\(|sanctions\.create\(")


def _app_sources() -> list[Path]:
    return [path for package in APP_PACKAGES for path in (PROJECT / package).rglob("*.py")
            if "migrations" not in path.parts]


def _enclosing_functions(path: Path) -> dict[int, str]:
    """Line number -> name of the outermost function around it."""
    lines: dict[int, str] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for line in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                lines[line] = node.name
    return lines


def test_only_sanction_member_creates_sanctions_and_only_the_staff_socket_calls_it():
    """Sanctions come from people: a moderator (sanction_member, from the staff socket) or a
    session's host (sanction_for_session, from rooms/sessions.py); never from screening."""
    writers: set[tuple[str, str]] = set()
    callers: set[str] = set()
    session_callers: set[str] = set()
    for path in _app_sources():
        text = path.read_text()
        functions = _enclosing_functions(path)
        relative = str(path.relative_to(PROJECT))
        for number, line in enumerate(text.splitlines(), start=1):
            if SANCTION_WRITE.search(line) and not line.lstrip().startswith("class "):
                writers.add((relative, functions.get(number, "<module>")))
            if "sanction_member(" in line and "def sanction_member" not in line:
                callers.add(relative)
            if "sanction_for_session" in line and "def sanction_for_session" not in line:
                session_callers.add(relative)
    assert writers == {("moderation/services.py", "sanction_member"),
                       ("moderation/services.py", "sanction_for_session")}
    assert callers == {"moderation/consumers.py"}
    assert session_callers == {"rooms/sessions.py"}
    # Screening is pure: it knows nothing of sanctions or the database.
    for path in (PROJECT / "moderation" / "screening").rglob("*.py"):
        source = path.read_text()
        assert "Sanction" not in source and "django.db" not in source, path


@pytest.mark.django_db
def test_sanction_member_requires_a_moderator():
    target = make_member()
    for actor in (make_member(), target):
        with pytest.raises(HearthError) as refused:
            services.sanction_member(moderator=actor, member_id=target.pk,
                                     kind=SanctionKind.WARNING, rule="respect", reason="",
                                     room_id=None)
        assert refused.value.code == ErrorCode.FORBIDDEN
    assert Sanction.objects.count() == 0


# --- the sweep through the real services: no sanction, no mute, the author always sees it --------

# The crisis detector is tuned separately: these two are not left to it. Their signal is added
# to whatever the real detectors find, so the rest of the path (policy, storage, escalation,
# views) is the real one.
WORRIED_BODY = "my friend keeps saying she won't be around much longer"
METHOD_BODY = "she told me exactly what she was planning to use"
INJECTED = {
    WORRIED_BODY: signal("crisis", "worried_about_someone", "crisis-support", Severity.HIGH,
                         (0, len(WORRIED_BODY))),
    METHOD_BODY: METHOD_SIGNALS[1],
}
PHONE = " text me on +44 7700 900123"
INSULT = " you pathetic idiot"
# (body, recent bodies for the spam detector, the words the author must always see)
CRISIS_POSTS = [
    ("I want to end my life tonight", (), "end my life"),
    ("I want to kill myself", (), "kill myself"),
    ("I feel so hopeless and worthless", (), "hopeless"),
    (WORRIED_BODY, (), "around much longer"),
    (METHOD_BODY, (), "planning to use"),
    ("I want to end my life tonight" + PHONE, (), "end my life"),
    ("I want to kill myself" + INSULT, (), "kill myself"),
    (METHOD_BODY + PHONE + INSULT, (), "planning to use"),
    ("I want to kill myself", ("I want to kill myself",) * 2, "kill myself"),  # a repeat
]


@pytest.fixture
def injected_crisis(monkeypatch: pytest.MonkeyPatch) -> None:
    inject_signals(monkeypatch, INJECTED)


@pytest.mark.django_db
def test_sweep_through_the_services_no_crisis_leads_to_a_sanction_or_hides_it_from_its_author(
        injected_crisis):
    for body, recent, _words in CRISIS_POSTS:
        kinds = {s.kind for s in services.screen(text=body, room_id=0, recent_bodies=recent
                                                  ).crisis_signals}
        assert kinds & {"concern", "high_risk", "imminent", "worried_about_someone",
                        "method_detail"}, body
    room, author, other = make_room(), make_member(), make_member()
    accept_room_rules(author, room)
    statuses: set[str] = set()
    for number, actions in enumerate(EVERY_POLICY):
        set_room_policy(room, contact=actions.contact, harassment=actions.harassment,
                        spam=actions.spam, crisis=actions.crisis)
        # Two bodies per policy, rotating: each body meets about a fifth of the policies.
        for offset in (0, 1):
            body, recent, words = CRISIS_POSTS[(2 * number + offset) % len(CRISIS_POSTS)]
            case = (actions, body)
            try:
                result = post_message(member=author, room=room, client_id=f"s{number}-{offset}",
                                      body=body, recent_bodies=recent)
            except MessageBlockedError:
                pytest.fail(f"blocked: {case}")
            message = Message.objects.select_related("author", "room").get(
                pk=result.message.pk)
            assert message.status != MessageStatus.HIDDEN, case
            assert words in message.body, case
            assert Message.objects.filter(visible_to(viewer_id=author.pk),
                                          pk=message.pk).exists(), case
            own = frame_for_message(message, viewer_id=author.pk)
            # Its author reads their own words, masked for the room or not (all but what would
            # have been blocked for its own sake, which is never stored).
            assert (own["body"], own.get("collapsed")) == (
                message.original_body or message.body, None), case
            assert words in own["body"], case
            if body.startswith(METHOD_BODY):
                assert message.status == MessageStatus.COLLAPSED, case
                seen = frame_for_message(message, viewer_id=other.pk)
                assert (seen["body"], seen["html"], seen["collapsed"]) == ("", "", True), case
            statuses.add(message.status)
    assert statuses == {MessageStatus.VISIBLE, MessageStatus.HELD, MessageStatus.COLLAPSED}
    assert Message.objects.filter(room=room).count() == 2 * len(EVERY_POLICY)
    assert Sanction.objects.count() == 0
    assert Mute.objects.count() == 0


def test_a_slur_in_a_message_held_for_a_crisis_stays_masked_even_for_its_author():
    from moderation.screening.types import Rule

    text = "I want to kill myself you absolute SLURWORD"
    start = text.index("SLURWORD")
    signals = [signal("crisis", "high_risk", "crisis-support", Severity.HIGH, None),
               signal("harassment", "slur", Rule.NO_SLURS, Severity.HIGH,
                      (start, len(text)))]
    verdict = decide(text=text, signals=signals, actions=PolicyActions())
    assert verdict.action == "hold"
    assert verdict.author_body is not None
    assert "SLURWORD" not in verdict.author_body and "kill myself" in verdict.author_body


def test_an_ordinary_verdict_leaves_the_authors_words_as_written():
    verdict = decide(text="hello all", signals=[], actions=PolicyActions())
    assert verdict.author_body is None
