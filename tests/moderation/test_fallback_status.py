"""No crisis fallback configured must be hard to miss (moderation/fallback_status.py): a
WARNING when a worker starts, a field on /readyz, a warning on the staff dashboard for admins
only; and `manage.py send_test_fallback` sends a marked test alert through the real webhook
(a local receiver) or email, failing with a clear message when nothing is set or it fails."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from chat.models import Role
from moderation import fallback_status
from tests.factories import make_staff
from tests.moderation.test_fallback import Receiver, receiver  # noqa: F401 - a fixture
from tests.staff_auth import sign_in_staff

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_fallback(settings):
    settings.HEARTH_FALLBACK_WEBHOOK_URL = ""
    settings.HEARTH_FALLBACK_EMAIL = ""
    return settings


def test_a_worker_without_a_fallback_warns_at_start_up(no_fallback, caplog):
    with caplog.at_level(logging.WARNING, logger="moderation.fallback_status"):
        assert fallback_status.warn_if_not_configured() is False
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "HEARTH_FALLBACK_WEBHOOK_URL" in caplog.records[0].getMessage()


def test_a_worker_with_a_fallback_says_nothing(settings, caplog):
    settings.HEARTH_FALLBACK_EMAIL = "oncall@example.org"
    with caplog.at_level(logging.WARNING, logger="moderation.fallback_status"):
        assert fallback_status.warn_if_not_configured() is True
    assert caplog.records == []


def test_readyz_reports_the_fallback_without_failing_readiness(no_fallback, client):
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json()["crisis_fallback"] == "not_configured"
    no_fallback.HEARTH_FALLBACK_EMAIL = "oncall@example.org"
    assert client.get("/readyz").json()["crisis_fallback"] == "configured"


def _dashboard(client, role: Role) -> str:
    staff = make_staff(role)
    sign_in_staff(client, staff)
    page = client.get("/moderation/")
    assert page.status_code == 200
    return page.content.decode()


def test_only_admins_see_the_warning_on_the_dashboard(no_fallback, client):
    assert 'id="fallback-warning"' in _dashboard(client, Role.ADMIN)
    client.logout()
    assert 'id="fallback-warning"' not in _dashboard(client, Role.MODERATOR)


def test_admins_see_no_warning_once_a_fallback_is_set(settings, client):
    settings.HEARTH_FALLBACK_WEBHOOK_URL = "https://hooks.example.org/hearth"
    assert 'id="fallback-warning"' not in _dashboard(client, Role.ADMIN)


def test_the_test_alert_goes_through_the_webhook_clearly_marked(
        settings, receiver: Receiver):  # noqa: F811
    settings.HEARTH_FALLBACK_WEBHOOK_URL = receiver.url
    settings.HEARTH_FALLBACK_EMAIL = ""
    out = StringIO()
    call_command("send_test_fallback", stdout=out)
    assert "webhook" in out.getvalue()
    assert len(receiver.requests) == 1
    body = json.loads(receiver.requests[0][2])
    assert body["test"] is True and body["event"] == "test"
    assert body["text"].startswith("TEST ONLY - nobody needs help.")


def test_the_test_alert_goes_by_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.HEARTH_FALLBACK_WEBHOOK_URL = ""
    settings.HEARTH_FALLBACK_EMAIL = "oncall@example.org"
    call_command("send_test_fallback", stdout=StringIO())
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["oncall@example.org"]
    assert "TEST ONLY" in mail.outbox[0].body


def test_a_failed_send_is_a_clear_error(settings, receiver: Receiver):  # noqa: F811
    receiver.status = 503
    settings.HEARTH_FALLBACK_WEBHOOK_URL = receiver.url
    settings.HEARTH_FALLBACK_EMAIL = ""
    with pytest.raises(CommandError, match=r"not delivered \(http_503\)"):
        call_command("send_test_fallback", stdout=StringIO())


def test_a_bad_url_is_a_clear_error(settings):
    settings.HEARTH_FALLBACK_WEBHOOK_URL = "ftp://example.org/hook"
    settings.HEARTH_FALLBACK_EMAIL = ""
    with pytest.raises(CommandError, match="bad_url"):
        call_command("send_test_fallback", stdout=StringIO())


def test_nothing_configured_exits_non_zero_with_the_reason(tmp_path):
    env = {**os.environ, "HEARTH_FALLBACK_WEBHOOK_URL": "", "HEARTH_FALLBACK_EMAIL": "",
           "HEARTH_STATE_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run([sys.executable, "manage.py", "send_test_fallback"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert "No crisis fallback is configured" in done.stderr
