"""Shared test set-up.

Unit tests always use the in-memory channel layer, whatever REDIS_URL says; system tests start
real servers and hand them REDIS_URL / DATABASE_URL themselves (tests/system/servers.py).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from channels.layers import channel_layers

from hearth.hotcache import forget_everything

IN_CI = os.environ.get("CI", "").lower() == "true"

# Every server frame the suite makes is checked against the catalogue (chat/frames.py): in
# this process (the fixture below) and in every server a test starts, which inherits these.
# A refused frame is also written to this file, read when the session ends: a server's socket
# may answer the exception with an internal_error that no test is waiting for.
FRAME_VIOLATIONS = Path(tempfile.gettempdir()) / f"hearth-frame-violations-{os.getpid()}.txt"
os.environ["HEARTH_CHECK_FRAMES"] = "1"
os.environ["HEARTH_FRAME_VIOLATIONS"] = str(FRAME_VIOLATIONS)

IN_MEMORY_LAYER = {
    "default": {"BACKEND": "hearth.channel_layer.EmbeddedChannelLayer",
                "CONFIG": {"capacity": 1000, "expiry": 60}},
}


# Tests that start real servers or a browser (these folders, and benchmark smokes marked
# `system`). `--tier unit` leaves them out: CI runs them once, on PostgreSQL, and only the unit
# tier on SQLite as well (.ci/run).
_SERVER_TIER_DIRECTORIES = ("system", "e2e")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--tier", choices=("all", "unit"), default="all",
        help="unit: leave out tests/system, tests/e2e and other tests marked system, except "
             "those marked both_databases")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--tier") != "unit":
        return
    tests_root = Path(__file__).parent
    kept: list[pytest.Item] = []
    left_out: list[pytest.Item] = []
    for item in items:
        parts = (item.path.relative_to(tests_root).parts
                 if item.path.is_relative_to(tests_root) else ())
        server_tier = ((bool(parts) and parts[0] in _SERVER_TIER_DIRECTORIES)
                       or item.get_closest_marker("system") is not None)
        if server_tier and item.get_closest_marker("both_databases") is None:
            left_out.append(item)
        else:
            kept.append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


def skip_or_fail(reason: str) -> None:
    """Skip a test that needs something this machine lacks; in CI that is a failure."""
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def require_env(name: str, purpose: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        skip_or_fail(f"{name} is not set; {purpose}")
    return value


@pytest.fixture
def admin_client(db: None) -> Any:
    """An admin signed in through the real sign-in, second factor included: pytest-django's
    own admin_client skips the second factor, and /admin/ requires it."""
    from django.test import Client

    from chat.models import Role
    from tests.factories import make_staff
    from tests.staff_auth import sign_in_staff

    client = Client()
    sign_in_staff(client, make_staff(Role.ADMIN))
    return client


@pytest.fixture(autouse=True, scope="session")
def _frame_checks() -> Iterator[None]:
    from chat import protocol

    FRAME_VIOLATIONS.unlink(missing_ok=True)
    protocol.enable_frame_checks(True)
    protocol.record_frame_violations(str(FRAME_VIOLATIONS))
    yield
    protocol.enable_frame_checks(False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not FRAME_VIOLATIONS.exists():
        return
    refused = FRAME_VIOLATIONS.read_text(encoding="utf-8").splitlines()
    FRAME_VIOLATIONS.unlink()
    if refused:
        print(f"\n{len(refused)} server frame(s) refused by the catalogue (chat/frames.py):")
        for line in sorted(set(refused)):
            print(f"  {line}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> Iterator[None]:
    # The real hasher spends about 0.4 s per staff password, on purpose; tests make and sign
    # in hundreds of staff. Servers that system tests start keep the real one.
    from django.test import override_settings

    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    fast.enable()
    yield
    fast.disable()


@pytest.fixture(autouse=True)
def _no_cached_values() -> None:
    # Ids come round again after a rollback; a value cached by an earlier test is not true.
    forget_everything()


@pytest.fixture(autouse=True)
def _in_memory_channel_layer(settings) -> Iterator[None]:
    settings.CHANNEL_LAYERS = IN_MEMORY_LAYER
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


# Data the migrations seed (site ground rules, the default screening policy, helplines, the
# session template and prompts).
# Transactional tests empty every table afterwards, so it is put back before each test that
# uses the database, with the migrations' own functions (idempotent get_or_create).
SEED_MIGRATIONS = (
    ("moderation.migrations.0002_site_ground_rules", "add_site_rules_and_default_policy"),
    ("moderation.migrations.0005_seed_helplines", "add_helplines"),
    ("rooms.migrations.0003_hosted_sessions", "add_template_and_prompts"),
)


@pytest.fixture(autouse=True)
def _seeded_data(request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    transactional = marker.kwargs.get("transaction", False)
    request.getfixturevalue("transactional_db" if transactional else "db")
    import importlib

    from django.apps import apps

    from moderation.models import GroundRule

    if GroundRule.objects.filter(room__isnull=True).exists():
        return
    for module_name, function_name in SEED_MIGRATIONS:
        getattr(importlib.import_module(module_name), function_name)(apps, None)


@pytest.fixture(autouse=True)
def _database_thread_closed_after(_seeded_data: None,
                                  request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if request.node.get_closest_marker("django_db") is not None:
        # The sockets' database thread keeps its connection (hearth/database_thread.py).
        # Closed before the test's database is rolled back or emptied, so that it never
        # outlives the test database (PostgreSQL will not drop a database in use).
        from asgiref.sync import SyncToAsync
        from django.db import connection

        SyncToAsync.single_thread_executor.submit(lambda: connection.close()).result()
