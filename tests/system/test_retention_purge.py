"""The retention purge against a real worker: `manage.py purge`, run as the systemd timer runs
it (its own process, the worker's database and Redis), takes an expired message off a
member's open screen and out of the history, and leaves the newer one.

Needs REDIS_URL (skipped without it, a failure when CI=true): the purge reaches the worker's
sockets through the channel layer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.conftest import require_env
from tests.system.client import join
from tests.system.servers import Servers, run_servers

pytestmark = [pytest.mark.system, pytest.mark.redis]


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    redis_url = require_env("REDIS_URL", "the purge reaches open screens through Redis")
    # The rules alone: a message the model put in the review queue would be kept past its
    # period (on purpose), and this test is about the purge, not about what the model reads.
    with run_servers(tmp_path_factory.mktemp("retention"), redis_url=redis_url,
                     extra_env={"HEARTH_SCREENING_MODEL": "false"}) as running:
        yield running


def age_message(servers: Servers, room: str, seq: int, days: int) -> None:
    """Move one message `days` into the past: the clock, moved forward for that message."""
    servers.shell(
        "from datetime import timedelta\n"
        "from django.utils import timezone\n"
        "from chat.models import Message\n"
        f"moved = Message.objects.filter(room__slug={room!r}, seq={seq}).update(\n"
        f"    created_at=timezone.now() - timedelta(days={days}))\n"
        "assert moved == 1\n")


async def test_purge_takes_an_expired_message_off_an_open_screen(
        servers: Servers, room: str, cookies: list[str]) -> None:
    writer = await join(servers, room, cookies[0])
    reader = await join(servers, room, cookies[1])
    try:
        old = await writer.send("something from last month")
        new = await writer.send("something from today")
        while (await reader.message())["seq"] != new["seq"]:
            pass
        age_message(servers, room, old["seq"], days=31)

        dry = await asyncio.to_thread(servers.manage, "purge", "--dry-run")
        assert "  messages: 1" in dry.splitlines()
        output = await asyncio.to_thread(servers.manage, "purge")
        assert "  messages: 1" in output.splitlines()

        removed = await reader.frame("message_removed")
        assert removed == {"type": "message_removed", "room": room, "seqs": [old["seq"]],
                           "reason": "expired"}
        page = await reader.history(before_seq=new["seq"] + 1, limit=100)
        assert [(m["seq"], m["body"]) for m in page["messages"]] == [
            (new["seq"], "something from today")]
        # The purge said what it did, and nothing of what was written.
        assert "something from last month" not in output
    finally:
        await writer.close()
        await reader.close()
