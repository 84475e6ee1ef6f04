"""/metrics behind the shipped nginx files (deploy/nginx): nginx answers it with 404 whatever
the request says, while each worker still serves it on its own port to a local scrape."""

from __future__ import annotations

import pytest

from tests.system.client import http_request
from tests.system.test_deploy_nginx import Stack, stack  # noqa: F401 - a fixture

pytestmark = [pytest.mark.system, pytest.mark.redis]


async def test_nginx_hides_metrics_and_each_worker_serves_them(stack: Stack) -> None:  # noqa: F811
    for headers in ({}, {"Authorization": "Bearer anything"},
                    {"X-Forwarded-For": "127.0.0.1"}):
        reply = await http_request(stack.front, "GET", "/metrics", headers=headers)
        assert reply.status == 404, (headers, reply.status)
        assert "hearth_" not in reply.body
    for worker in range(2):
        reply = await http_request(stack.workers, "GET", "/metrics", worker=worker)
        assert reply.status == 200, reply.status
        assert "hearth_escalations_open " in reply.body
