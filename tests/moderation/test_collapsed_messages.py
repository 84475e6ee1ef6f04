"""Messages with method details (safe-messaging guidance): stored as `collapsed`, shown in full
to their author and as a placeholder to everyone else (live, resume, history), queued for a
moderator who releases or hides them; never a sanction, never in an escalation's context.

The crisis detector is tuned separately, so these tests do not depend on which words it
reads as method details: `inject_signals` adds a method_detail signal to what the real
detectors find for one known body; everything after screening is the real code.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chat.errors import ErrorCode, HearthError
from chat.models import Message, MessageStatus
from chat.selectors import frame_for_message, messages_after, messages_before, visible_to
from moderation import screening, services
from moderation.models import AuditEntry, Escalation, ReviewItem, Sanction, SanctionKind
from moderation.screening import Severity, Signal
from tests.factories import make_member, make_room, make_staff, post_in_room
from tests.moderation.test_escalations import HIGH_RISK_BODY

METHOD_BODY = "she told me exactly what she was planning to use"
METHOD_DETAIL = Signal(detector="crisis", kind="method_detail", rule="no-method-details",
                       severity=Severity.HIGH, span=None)


def inject_signals(monkeypatch: pytest.MonkeyPatch, extra: dict[str, Signal]) -> None:
    """Screening adds `extra[body]` for a text that starts with `body`."""
    real = screening.screen_message

    def screen(*, text, context, detectors=None, normalized=None):
        signals = real(text=text, context=context, detectors=detectors, normalized=normalized)
        signals += [signal for body, signal in extra.items() if text.startswith(body)]
        return signals

    monkeypatch.setattr(services, "screen_message", screen)


@pytest.fixture
def method_detail_screening(monkeypatch: pytest.MonkeyPatch) -> None:
    inject_signals(monkeypatch, {METHOD_BODY: METHOD_DETAIL})


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("method_detail_screening")]


def collapsed_message(room=None, author=None, body: str = METHOD_BODY) -> Message:
    result = post_in_room(member=author or make_member(), room=room or make_room(),
                          client_id="method", body=body)
    assert result.verdict is not None and result.verdict.collapsed
    return Message.objects.select_related("author", "room").get(pk=result.message.pk)


def test_a_method_detail_message_is_stored_collapsed_and_queued():
    message = collapsed_message()
    assert message.status == MessageStatus.COLLAPSED and message.body == METHOD_BODY
    item = ReviewItem.objects.get(message=message)
    assert {s["kind"] for s in item.signals} >= {"method_detail"}
    assert Sanction.objects.count() == 0


def test_its_author_sees_it_whole_and_everyone_else_a_placeholder():
    room, author, other = make_room(), make_member(), make_member()
    post_in_room(member=other, room=room, client_id="before", body="hello")
    message = collapsed_message(room, author)
    post_in_room(member=other, room=room, client_id="after", body="still here")
    for viewer in (author, other):
        visible = visible_to(viewer_id=viewer.pk)
        after = messages_after(room_id=room.pk, after_seq=0, up_to_seq=3, limit=10,
                               visible=visible)
        before = messages_before(room_id=room.pk, before_seq=10, limit=10, visible=visible)
        assert [m.seq for m in after] == [m.seq for m in before] == [1, 2, 3]
        frame = frame_for_message(after[1], viewer_id=viewer.pk)
        if viewer == author:
            assert frame["body"] == METHOD_BODY and "collapsed" not in frame
        else:
            assert (frame["body"], frame["html"], frame["collapsed"]) == ("", "", True)
            assert frame["status"] == "collapsed" and frame["handle"] == author.handle
    # Without a viewer (the author's own live copy) it is whole.
    assert frame_for_message(message)["body"] == METHOD_BODY


def test_others_cannot_report_it_and_it_never_enters_an_escalations_context():
    room, author, other = make_room(), make_member(), make_member()
    message = collapsed_message(room, author)
    with pytest.raises(HearthError) as refused:
        services.report_message(reporter=other, room_id=room.pk, seq=message.seq,
                                reason="harassment", note="")
    assert refused.value.code == ErrorCode.MESSAGE_NOT_FOUND
    post_in_room(member=other, room=room, client_id="crisis", body=HIGH_RISK_BODY)
    assert Escalation.objects.get().context == []


def _restore(moderator, item_id):
    services.restore_message(moderator=moderator, item_id=item_id, rule="no-method-details",
                             reason="It's about getting help")


def _dismiss(moderator, item_id):
    services.dismiss_item(moderator=moderator, item_id=item_id, reason="")


def _hide(moderator, item_id):
    services.hide_message(moderator=moderator, item_id=item_id, rule="no-method-details",
                          reason="Method details")


def _warn(moderator, item_id):
    item = ReviewItem.objects.select_related("message").get(pk=item_id)
    services.sanction_member(moderator=moderator, member_id=item.message.author_id,
                             kind=SanctionKind.WARNING, rule="no-method-details", reason="",
                             room_id=item.message.room_id, item_id=item_id)


@pytest.mark.parametrize(("decide", "status"), [(_restore, MessageStatus.VISIBLE),
                                                (_dismiss, MessageStatus.VISIBLE),
                                                # Kept from the room, never from its author.
                                                (_hide, MessageStatus.HELD),
                                                (_warn, MessageStatus.HELD)])
def test_a_moderator_releases_it_or_keeps_it_from_the_room(
        decide: Callable[..., None], status: str):
    message = collapsed_message()
    item = ReviewItem.objects.get(message=message)
    with pytest.raises(HearthError) as refused:
        decide(make_member(), item.pk)
    assert refused.value.code == ErrorCode.FORBIDDEN
    decide(make_staff(), item.pk)
    message.refresh_from_db()
    assert message.status == status
    other = make_member()
    seen = Message.objects.filter(visible_to(viewer_id=other.pk), pk=message.pk).first()
    if status == MessageStatus.VISIBLE:
        assert seen is not None
        assert frame_for_message(seen, viewer_id=other.pk)["body"] == METHOD_BODY
    else:
        assert seen is None
        own = Message.objects.filter(visible_to(viewer_id=message.author_id),
                                     pk=message.pk).first()
        assert own is not None
        assert frame_for_message(own, viewer_id=message.author_id)["body"] == METHOD_BODY
    assert AuditEntry.objects.count() == 1


def test_method_details_with_distress_are_collapsed_and_still_escalated(monkeypatch):
    inject_signals(monkeypatch, {HIGH_RISK_BODY: METHOD_DETAIL})
    message = collapsed_message(body=HIGH_RISK_BODY)
    assert Escalation.objects.get().message_id == message.pk
    assert Sanction.objects.count() == 0
