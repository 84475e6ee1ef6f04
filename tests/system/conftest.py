"""Fixtures for system tests: one real single-worker server per test module, fresh rooms and
fresh members per test, so no test depends on what another one left behind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.system.client import unique
from tests.system.servers import Servers, new_session_cookies, run_servers


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with run_servers(tmp_path_factory.mktemp("servers")) as running:
        yield running


@pytest.fixture
def room(servers: Servers) -> str:
    """A room of this test's own (capacity 40), so sequence numbers start at 1."""
    slug = unique("room")
    servers.manage("add_room", slug, "--title", "A test room")
    return slug


@pytest.fixture
async def cookies(servers: Servers) -> list[str]:
    """Session cookies of three fresh members."""
    return await new_session_cookies(servers.http(), 3)
