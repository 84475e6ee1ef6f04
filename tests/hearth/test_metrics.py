"""/metrics (hearth/metrics.py): who may scrape it, and that its numbers follow what the real
services do (escalations raised and acknowledged, staff checking in, fallback sends, the
watcher's rounds)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from moderation import duty, escalations, fallback
from moderation.watch import Watcher
from tests.factories import make_staff
from tests.moderation.test_escalations import crisis_escalation

TOKEN = "a-long-random-metrics-token"


def scrape(client: Client, **extra: Any) -> dict[str, float]:
    """Unlabelled samples by name, and labelled ones as name{label=value}."""
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain")
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            labels = ",".join(f"{key}={value}" for key, value in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


@pytest.fixture
def client() -> Client:
    return Client()


# --- who may scrape -----------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_loopback_scrape_needs_no_token(client, settings):
    settings.HEARTH_METRICS_TOKEN = ""
    samples = scrape(client)
    for name in ("hearth_escalations_open", "hearth_staff_on_duty", "hearth_sockets_open",
                 "hearth_escalation_oldest_unacknowledged_age_seconds",
                 "hearth_watcher_last_run_timestamp_seconds",
                 "hearth_fallback_sends_total{outcome=gave_up}"):
        assert name in samples, name


@pytest.mark.parametrize("remote", ["10.0.0.5", "203.0.113.9", "::ffff:10.1.2.3", "nonsense"])
def test_a_remote_scrape_without_a_token_finds_nothing(client, settings, remote):
    settings.HEARTH_METRICS_TOKEN = TOKEN
    assert client.get("/metrics", REMOTE_ADDR=remote).status_code == 404


@pytest.mark.parametrize("header", ["HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_FOR",
                                    "HTTP_X_REAL_IP", "HTTP_FORWARDED"])
def test_a_scrape_through_a_proxy_is_not_local(client, settings, header):
    """nginx connects from 127.0.0.1: what it passes on must not count as a local scrape."""
    settings.HEARTH_METRICS_TOKEN = ""
    assert client.get("/metrics", **{header: "https"}).status_code == 404


@pytest.mark.parametrize("authorization", [f"Bearer {TOKEN}x", "Bearer ", "Bearer",
                                           f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN[:-1]}"])
def test_a_wrong_token_is_refused_even_from_loopback(client, settings, authorization):
    settings.HEARTH_METRICS_TOKEN = TOKEN
    response = client.get("/metrics", HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 403
    assert b"hearth_" not in response.content


def test_any_token_is_refused_when_none_is_set(client, settings):
    settings.HEARTH_METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ", REMOTE_ADDR="10.0.0.5",
                      ).status_code == 403


@pytest.mark.django_db
def test_the_right_token_opens_it_from_anywhere(client, settings):
    settings.HEARTH_METRICS_TOKEN = TOKEN
    samples = scrape(client, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_PROTO="https",
                     HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert "hearth_escalations_open" in samples


# --- the numbers follow the services ------------------------------------------------------------

@pytest.mark.django_db
def test_escalations_and_duty_move_with_the_services(client, django_capture_on_commit_callbacks):
    before = scrape(client)
    assert before["hearth_escalations_open"] == 0
    assert before["hearth_escalation_oldest_unacknowledged_age_seconds"] == 0
    acknowledged_before = before["hearth_escalation_acknowledge_seconds_count"]

    escalation = crisis_escalation()
    raised = scrape(client)
    assert raised["hearth_escalations_open"] == 1
    assert raised["hearth_escalations_unacknowledged"] == 1
    assert raised["hearth_escalation_oldest_unacknowledged_age_seconds"] >= 0
    assert raised["hearth_escalations_overdue_unclaimed"] == 0

    staff = make_staff()
    with django_capture_on_commit_callbacks(execute=True):
        duty.check_in(member=staff)
        escalations.acknowledge(staff=staff, escalation_id=escalation.pk)
    taken = scrape(client)
    assert taken["hearth_staff_on_duty"] == 1
    assert taken["hearth_escalations_open"] == 1
    assert taken["hearth_escalations_unacknowledged"] == 0
    assert taken["hearth_escalation_acknowledge_seconds_count"] == acknowledged_before + 1

    with django_capture_on_commit_callbacks(execute=True):
        escalations.resolve(staff=staff, escalation_id=escalation.pk, note="Talked it through.")
        duty.check_out(member=staff)
    done = scrape(client)
    assert done["hearth_escalations_open"] == 0
    assert done["hearth_staff_on_duty"] == 0


@pytest.mark.django_db
def test_an_overdue_escalation_no_watcher_claimed_is_counted(client, settings):
    settings.HEARTH_ESCALATION_ACK_SECONDS = 1.0
    settings.HEARTH_WATCH_SECONDS = 0.1
    escalation = crisis_escalation()
    type(escalation).objects.filter(pk=escalation.pk).update(
        created_at=escalation.created_at - timedelta(seconds=60))
    samples = scrape(client)
    assert samples["hearth_escalations_overdue_unclaimed"] == 1
    assert samples["hearth_escalation_oldest_unacknowledged_age_seconds"] >= 60
    assert samples["hearth_escalation_ack_window_seconds"] == 1.0

    escalations.re_escalate_overdue()
    assert scrape(client)["hearth_escalations_overdue_unclaimed"] == 0


@pytest.mark.django_db
def test_fallback_sends_are_counted_by_outcome(settings):
    settings.HEARTH_FALLBACK_WEBHOOK_URL = "http://127.0.0.1:9/hook"
    settings.HEARTH_FALLBACK_ATTEMPTS = 2
    escalation = crisis_escalation()

    def sent(outcome: str) -> float:
        value = REGISTRY.get_sample_value("hearth_fallback_sends_total", {"outcome": outcome})
        return value or 0.0

    before = {outcome: sent(outcome) for outcome in ("success", "failure", "gave_up")}
    job = fallback.FallbackJob(escalation_id=escalation.pk, attempt=1, payload={})
    fallback.record_result(job, "unreachable")
    fallback.record_result(fallback.FallbackJob(escalation_id=escalation.pk, attempt=2,
                                                payload={}), "timeout")
    assert sent("failure") == before["failure"] + 1
    assert sent("gave_up") == before["gave_up"] + 1
    assert sent("success") == before["success"]


@pytest.mark.django_db(transaction=True)
async def test_a_watcher_round_sets_its_last_run():
    before = REGISTRY.get_sample_value("hearth_watcher_last_run_timestamp_seconds") or 0.0
    await Watcher().check_once()
    after = REGISTRY.get_sample_value("hearth_watcher_last_run_timestamp_seconds") or 0.0
    assert after > before
