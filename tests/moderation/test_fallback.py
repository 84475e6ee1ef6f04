"""The operator's fallback (moderation/fallback.py) against a real HTTP receiver on 127.0.0.1
and Django's in-memory mail outbox: what leaves Hearth (never a handle, never the words), the
retries with a doubling delay, giving up, and claims that never send twice."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.utils import timezone

from moderation import escalations, fallback
from moderation.models import Escalation
from tests.factories import make_staff
from tests.moderation.test_escalations import HIGH_RISK_BODY, crisis_escalation

pytestmark = pytest.mark.django_db

RETRY = 30.0
ATTEMPTS = 3


@dataclass
class Receiver:
    """A local webhook receiver: records every request and answers with `status`."""

    url: str = ""
    status: int = 200
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append((self.path, dict(self.headers), body))
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def webhook(settings, receiver: Receiver) -> Receiver:
    settings.HEARTH_FALLBACK_WEBHOOK_URL = receiver.url
    settings.HEARTH_FALLBACK_EMAIL = ""
    settings.HEARTH_FALLBACK_ATTEMPTS = ATTEMPTS
    settings.HEARTH_FALLBACK_RETRY_SECONDS = RETRY
    settings.HEARTH_ESCALATION_ACK_SECONDS = 60.0
    return receiver


def overdue_escalation() -> tuple[Escalation, datetime]:
    """An escalation nobody acknowledged, re-escalated by the sweep; and the sweep's time."""
    escalation = crisis_escalation()
    now = escalation.created_at + timedelta(seconds=61)
    assert escalations.re_escalate_overdue(now=now) == [escalation.pk]
    return escalation, now


def run_once(now: datetime) -> list[str]:
    """What a watcher tick does: claim, send, record."""
    jobs = fallback.claim_due(now=now)
    errors = [fallback.send(job) for job in jobs]
    for job, error in zip(jobs, errors, strict=True):
        fallback.record_result(job, error, now=now)
    return errors


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def assert_nothing_personal(raw: bytes | str, escalation: Escalation) -> None:
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    assert escalation.member.handle not in text
    assert HIGH_RISK_BODY not in text and "kill myself" not in text.lower()


def test_a_webhook_gets_the_bare_minimum_and_the_escalation_is_marked(webhook: Receiver):
    escalation, now = overdue_escalation()
    assert run_once(now) == [""]
    assert len(webhook.requests) == 1
    path, headers, body = webhook.requests[0]
    assert path == "/hook" and headers["Content-Type"] == "application/json"
    assert_nothing_personal(body, escalation)
    payload = json.loads(body)
    assert payload["event"] == "escalation_unacknowledged"
    assert (payload["escalation_id"], payload["tier"]) == (escalation.pk, "high_risk")
    assert payload["room"] == escalation.room.slug and payload["waited_seconds"] == 61
    assert payload["dashboard_url"].endswith(f"/moderation/#escalation-{escalation.pk}")
    stored = Escalation.objects.get()
    assert stored.fallback_notified_at == now and stored.fallback_next_attempt_at is None
    assert (stored.fallback_attempts, stored.fallback_last_error) == (1, "")
    # Notified: later ticks send nothing more.
    assert run_once(now + timedelta(hours=1)) == []
    assert len(webhook.requests) == 1


def test_an_email_carries_no_handle_and_no_words(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.HEARTH_FALLBACK_WEBHOOK_URL = ""
    settings.HEARTH_FALLBACK_EMAIL = "oncall@example.org"
    settings.HEARTH_ESCALATION_ACK_SECONDS = 60.0
    escalation, now = overdue_escalation()
    assert run_once(now) == [""]
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["oncall@example.org"]
    assert str(escalation.pk) in sent.subject
    assert_nothing_personal(f"{sent.subject} {sent.body} {sent.message()}", escalation)
    assert Escalation.objects.get().fallback_notified_at == now


def test_a_failing_receiver_is_retried_with_a_doubling_delay_then_given_up(webhook: Receiver):
    webhook.status = 500
    escalation, now = overdue_escalation()
    expected_delays = [RETRY, RETRY * 2]
    for attempt in range(1, ATTEMPTS + 1):
        assert run_once(now) == ["http_500"]
        stored = Escalation.objects.get()
        assert (stored.fallback_attempts, stored.fallback_last_error) == (attempt, "http_500")
        assert stored.fallback_notified_at is None
        if attempt < ATTEMPTS:
            delay = timedelta(seconds=expected_delays[attempt - 1])
            assert stored.fallback_next_attempt_at == now + delay
            # Not due a moment before the delay is up.
            assert fallback.claim_due(now=now + delay - timedelta(seconds=1)) == []
            now += delay
    # Gave up: nothing is due any more, however long one waits.
    assert Escalation.objects.get().fallback_next_attempt_at is None
    assert run_once(now + timedelta(days=1)) == []
    assert len(webhook.requests) == ATTEMPTS
    for _path, _headers, body in webhook.requests:
        assert_nothing_personal(body, escalation)


def test_a_receiver_that_recovers_gets_the_retry(webhook: Receiver):
    webhook.status = 503
    _escalation, now = overdue_escalation()
    assert run_once(now) == ["http_503"]
    webhook.status = 204
    assert run_once(now + timedelta(seconds=RETRY)) == [""]
    stored = Escalation.objects.get()
    assert stored.fallback_attempts == 2 and stored.fallback_notified_at is not None


@pytest.mark.parametrize(("url", "error"), [
    ("unreachable", "unreachable"),
    ("ftp://127.0.0.1/hook", "bad_url"),
    ("file:///etc/passwd", "bad_url"),
    ("127.0.0.1:9/hook", "bad_url"),
])
def test_unreachable_and_bad_urls_are_short_error_codes(settings, url, error):
    if url == "unreachable":
        url = f"http://127.0.0.1:{free_port()}/hook"
    settings.HEARTH_FALLBACK_WEBHOOK_URL = url
    settings.HEARTH_FALLBACK_EMAIL = ""
    settings.HEARTH_FALLBACK_ATTEMPTS = ATTEMPTS
    settings.HEARTH_FALLBACK_RETRY_SECONDS = RETRY
    settings.HEARTH_ESCALATION_ACK_SECONDS = 60.0
    _escalation, now = overdue_escalation()
    assert run_once(now) == [error]
    stored = Escalation.objects.get()
    assert stored.fallback_last_error == error
    assert stored.fallback_next_attempt_at == now + timedelta(seconds=RETRY)


@pytest.mark.parametrize("taken_by", ["acknowledge", "resolve"])
def test_an_escalation_taken_before_the_send_is_not_sent(webhook: Receiver, taken_by):
    escalation, now = overdue_escalation()
    staff = make_staff()
    if taken_by == "acknowledge":
        escalations.acknowledge(staff=staff, escalation_id=escalation.pk)
    else:
        escalations.resolve(staff=staff, escalation_id=escalation.pk, note="With a friend.")
    assert fallback.claim_due(now=now) == []
    assert Escalation.objects.get().fallback_next_attempt_at is None
    assert run_once(now + timedelta(minutes=5)) == []
    assert webhook.requests == []


def test_a_due_send_is_claimed_once(webhook: Receiver):
    escalation, now = overdue_escalation()
    first = fallback.claim_due(now=now)
    assert [job.escalation_id for job in first] == [escalation.pk]
    assert first[0].attempt == 1
    # Another worker (or the next tick) while the first is still sending: nothing to claim.
    assert fallback.claim_due(now=now) == []
    assert fallback.claim_due(now=now + timedelta(seconds=fallback.CLAIM_SECONDS - 1)) == []
    assert webhook.requests == []


def test_a_claim_whose_worker_died_is_taken_again_after_the_claim_time(webhook: Receiver):
    _escalation, now = overdue_escalation()
    assert len(fallback.claim_due(now=now)) == 1  # this worker never records a result
    later = now + timedelta(seconds=fallback.CLAIM_SECONDS)
    assert [job.attempt for job in fallback.claim_due(now=later)] == [1]


def test_nothing_is_claimed_without_a_configured_fallback(settings):
    settings.HEARTH_FALLBACK_WEBHOOK_URL = ""
    settings.HEARTH_FALLBACK_EMAIL = ""
    settings.HEARTH_ESCALATION_ACK_SECONDS = 60.0
    _escalation, now = overdue_escalation()
    assert not fallback.is_configured()
    assert fallback.claim_due(now=now) == []
    assert Escalation.objects.get().fallback_next_attempt_at == now  # still queued


def test_an_escalation_not_overdue_is_never_sent(webhook: Receiver):
    crisis_escalation()
    assert run_once(timezone.now() + timedelta(hours=1)) == []  # never re-escalated
    assert webhook.requests == []
