"""/metrics on a real worker: the numbers move as a member in crisis raises an escalation and a
moderator checks in and acknowledges it, all over real sockets; and who may not scrape it (a
request through a proxy, a spoofed forwarding header, a wrong token)."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.system.client import http_request
from tests.system.servers import Servers, new_session_cookies, run_servers
from tests.system.test_crisis_flow import HIGH_RISK_TEXT, close_all, enter, query, staff_socket
from tests.system.test_moderation_flow import MODERATION_ENV, add_moderator

pytestmark = pytest.mark.system

TOKEN = "system-test-metrics-token"


async def scrape(servers: Servers, headers: dict[str, str] | None = None) -> dict[str, float]:
    reply = await http_request(servers, "GET", "/metrics", headers=headers)
    assert reply.status == 200, reply.status
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(reply.body):
        for sample in family.samples:
            if not sample.labels:
                samples[sample.name] = sample.value
    return samples


async def test_metrics_follow_an_escalation_and_the_duty_roster(tmp_path: Path) -> None:
    env = {**MODERATION_ENV, "HEARTH_METRICS_TOKEN": TOKEN}
    with run_servers(tmp_path, extra_env=env) as servers:
        quiet = await scrape(servers)
        assert quiet["hearth_escalations_open"] == 0
        assert quiet["hearth_staff_on_duty"] == 0
        assert quiet["hearth_sockets_open"] == 0
        assert quiet["hearth_fallback_configured"] == 0

        (cookie,) = await new_session_cookies(servers.http(), 1)
        member = await enter(servers, "the-lounge", cookie)
        await member.send(HIGH_RISK_TEXT)
        raised = await scrape(servers)
        assert raised["hearth_sockets_open"] == 1
        assert raised["hearth_rooms_occupied"] == 1
        assert raised["hearth_escalations_open"] == 1
        assert raised["hearth_escalations_unacknowledged"] == 1
        assert raised["hearth_escalation_oldest_unacknowledged_age_seconds"] >= 0

        staff = await staff_socket(servers, add_moderator(servers))
        await staff.check_in()
        on_duty = await scrape(servers)
        assert on_duty["hearth_staff_on_duty"] == 1
        assert on_duty["hearth_staff_sockets_open"] == 1

        escalation_id = query(servers, "from moderation.models import Escalation\n"
                                       "result = Escalation.objects.get().pk")
        done = await staff.act({"type": "acknowledge", "escalation_id": escalation_id})
        assert done["type"] == "action_done", done
        taken = await scrape(servers, headers={"Authorization": f"Bearer {TOKEN}"})
        assert taken["hearth_escalations_open"] == 1
        assert taken["hearth_escalations_unacknowledged"] == 0
        assert taken["hearth_escalation_oldest_unacknowledged_age_seconds"] == 0
        assert taken["hearth_escalation_acknowledge_seconds_count"] == 1

        await staff.check_out()
        await close_all(member, staff)
        assert (await scrape(servers))["hearth_staff_on_duty"] == 0

        log = servers.log_text()
        assert HIGH_RISK_TEXT not in log
        assert member.handle not in log


async def test_metrics_refuse_proxied_requests_and_wrong_tokens(tmp_path: Path) -> None:
    with run_servers(tmp_path, extra_env={"HEARTH_METRICS_TOKEN": TOKEN}) as servers:
        # What nginx passes on (it connects from 127.0.0.1 and adds X-Forwarded-Proto), and a
        # client claiming to be local through a forwarding header: not a local scrape.
        for headers in ({"X-Forwarded-Proto": "https"}, {"X-Forwarded-For": "127.0.0.1"},
                        {"X-Forwarded-For": "203.0.113.9"}, {"Forwarded": "for=127.0.0.1"}):
            reply = await http_request(servers, "GET", "/metrics", headers=headers)
            assert reply.status == 404, (headers, reply.status)
            assert "hearth_" not in reply.body
        for authorization in (f"Bearer {TOKEN}-wrong", "Bearer ", f"Basic {TOKEN}"):
            reply = await http_request(servers, "GET", "/metrics",
                                       headers={"Authorization": authorization})
            assert reply.status == 403, (authorization, reply.status)
            assert "hearth_" not in reply.body
        # The right token opens it through a proxy too.
        proxied = await scrape(servers, headers={"X-Forwarded-For": "203.0.113.9",
                                                 "Authorization": f"Bearer {TOKEN}"})
        assert "hearth_escalations_open" in proxied
        assert "203.0.113.9" not in servers.log_text()


@pytest.mark.parametrize("server", ["uvicorn", "daphne"])
async def test_both_servers_sockets_take_the_direct_fan_out_path(tmp_path: Path,
                                                                  server: str) -> None:
    """The fast path finds its server by what the connection can do; an upgrade of either
    server that moved what it uses would show here as a fallback, not as a slow room."""
    with run_servers(tmp_path, server=server) as servers:
        (cookie,) = await new_session_cookies(servers.http(), 1)
        member = await enter(servers, "the-lounge", cookie)
        samples = await scrape(servers)
        assert samples["hearth_sockets_open"] == 1
        assert samples["hearth_direct_frames_fallbacks_total"] == 0
        await close_all(member)
        assert "go through the ASGI send" not in servers.log_text()
