"""Send a clearly marked test alert through the configured fallback (webhook and/or email),
end to end, so an operator knows the on-call path works before it is needed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from moderation import fallback
from moderation.fallback_status import NOT_CONFIGURED

TEST_TEXT = ("TEST ONLY - nobody needs help. This is a test of Hearth's crisis fallback, sent "
             "with manage.py send_test_fallback. Real alerts look like this and link to the "
             "dashboard: {dashboard}")


def test_job() -> fallback.FallbackJob:
    dashboard = settings.HEARTH_PUBLIC_URL.rstrip("/") + "/moderation/"
    return fallback.FallbackJob(escalation_id=0, attempt=1, payload={
        "event": "test", "test": True, "escalation_id": 0, "tier": "test", "room": "",
        "created_at": timezone.now().isoformat(), "waited_seconds": 0,
        "dashboard_url": dashboard, "text": TEST_TEXT.format(dashboard=dashboard)})


class Command(BaseCommand):
    help = "Send a test alert through the crisis fallback (webhook and/or email)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not fallback.is_configured():
            raise CommandError(NOT_CONFIGURED)
        channels = [name for name, value in (
            ("webhook", settings.HEARTH_FALLBACK_WEBHOOK_URL),
            ("email", settings.HEARTH_FALLBACK_EMAIL)) if value]
        error = fallback.send(test_job())
        if error:
            raise CommandError(f"The test alert was not delivered ({error}). Check "
                               f"{' and '.join(channels)} settings and try again.")
        self.stdout.write(f"Test alert sent by {' and '.join(channels)}. Check that it "
                          "arrived where the on-call person will see it.")
