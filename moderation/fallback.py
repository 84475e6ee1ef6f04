"""The operator's fallback: when nobody on the team acknowledges an escalation in time, tell
the on-call person outside Hearth (a webhook and/or an email), retrying until it is taken.

What leaves Hearth is the bare minimum to act on: the escalation's number, its tier, the
room, how long it has waited and a link to the dashboard. Never a handle, never the words
the member wrote: a webhook may land in a chat tool that keeps everything.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from hearth import counters
from moderation.models import Escalation

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 5.0
# While one worker sends, others leave the row alone for this long.
CLAIM_SECONDS = 60.0


@dataclass(frozen=True)
class FallbackJob:
    escalation_id: int
    attempt: int  # 1 for the first
    payload: dict[str, Any]


def is_configured() -> bool:
    return bool(settings.HEARTH_FALLBACK_WEBHOOK_URL or settings.HEARTH_FALLBACK_EMAIL)


def _payload(escalation: Escalation, now: datetime) -> dict[str, Any]:
    waited = int((now - escalation.created_at).total_seconds())
    dashboard = settings.HEARTH_PUBLIC_URL.rstrip("/") + f"/moderation/#escalation-{escalation.pk}"
    text = (f"Hearth: an escalation ({escalation.get_tier_display().lower()}) in "
            f"{escalation.room.title} has waited {waited} s with nobody from the team "
            f"acknowledging it. Please open the dashboard: {dashboard}")
    return {"event": "escalation_unacknowledged", "escalation_id": escalation.pk,
            "tier": escalation.tier, "room": escalation.room.slug,
            "created_at": escalation.created_at.isoformat(), "waited_seconds": waited,
            "dashboard_url": dashboard, "text": text}


def claim_due(*, now: datetime | None = None) -> list[FallbackJob]:
    """Fallback sends that are due, each claimed for this worker for CLAIM_SECONDS."""
    now = now or timezone.now()
    if not is_configured():
        return []
    due = (Escalation.objects.select_related("room")
           .filter(fallback_next_attempt_at__lte=now, fallback_notified_at__isnull=True,
                   fallback_attempts__lt=settings.HEARTH_FALLBACK_ATTEMPTS))
    jobs: list[FallbackJob] = []
    for escalation in due:
        if escalation.acknowledged_at is not None or escalation.resolved_at is not None:
            # Someone took it while the fallback waited: nothing to chase any more.
            Escalation.objects.filter(pk=escalation.pk).update(fallback_next_attempt_at=None)
            continue
        won = Escalation.objects.filter(
            pk=escalation.pk, fallback_next_attempt_at=escalation.fallback_next_attempt_at,
        ).update(fallback_next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
        if won:
            jobs.append(FallbackJob(escalation_id=escalation.pk,
                                    attempt=escalation.fallback_attempts + 1,
                                    payload=_payload(escalation, now)))
    return jobs


def send(job: FallbackJob) -> str:
    """Deliver one job to every configured channel; returns "" or a short error code.

    Runs without the database (and off the database thread): it may wait on the network.
    """
    errors = []
    if settings.HEARTH_FALLBACK_WEBHOOK_URL:
        errors.append(_post_webhook(settings.HEARTH_FALLBACK_WEBHOOK_URL, job.payload))
    if settings.HEARTH_FALLBACK_EMAIL:
        errors.append(_send_email(settings.HEARTH_FALLBACK_EMAIL, job.payload))
    return next((error for error in errors if error), "")


def _post_webhook(url: str, payload: dict[str, Any]) -> str:
    if not url.startswith(("https://", "http://")):
        return "bad_url"  # never file: or other schemes urllib would open
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=json.dumps(payload).encode("utf-8"), method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "Hearth-fallback/1"})
    try:
        with urllib.request.urlopen(  # noqa: S310 - scheme checked above
                request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            status = int(response.status)
    except urllib.error.HTTPError as error:
        return f"http_{error.code}"
    except TimeoutError:
        return "timeout"
    except (urllib.error.URLError, OSError, ValueError):
        return "unreachable"
    return "" if 200 <= status < 300 else f"http_{status}"


def _send_email(address: str, payload: dict[str, Any]) -> str:
    try:
        send_mail(subject=f"Hearth: escalation {payload['escalation_id']} needs someone",
                  message=payload["text"], from_email=None, recipient_list=[address],
                  fail_silently=False)
    except Exception as exc:  # smtplib and socket errors alike: retry later
        return f"smtp_{type(exc).__name__}"[:40]
    return ""


def record_result(job: FallbackJob, error: str, *, now: datetime | None = None) -> None:
    now = now or timezone.now()
    with transaction.atomic():
        escalation = Escalation.objects.select_for_update().filter(pk=job.escalation_id).first()
        if escalation is None:
            return
        escalation.fallback_attempts = job.attempt
        escalation.fallback_last_error = error
        if not error:
            escalation.fallback_notified_at, escalation.fallback_next_attempt_at = now, None
            counters.note_fallback_send("success")
            logger.info("fallback notified", extra={"escalation": job.escalation_id,
                                                    "attempt": job.attempt})
        elif job.attempt >= settings.HEARTH_FALLBACK_ATTEMPTS:
            escalation.fallback_next_attempt_at = None
            counters.note_fallback_send("gave_up")
            logger.error("fallback gave up", extra={"escalation": job.escalation_id,
                                                    "error": error, "attempt": job.attempt})
        else:
            delay = settings.HEARTH_FALLBACK_RETRY_SECONDS * 2 ** (job.attempt - 1)
            escalation.fallback_next_attempt_at = now + timedelta(seconds=delay)
            counters.note_fallback_send("failure")
            logger.warning("fallback failed, will retry", extra={
                "escalation": job.escalation_id, "error": error, "attempt": job.attempt})
        escalation.save(update_fields=["fallback_attempts", "fallback_last_error",
                                       "fallback_notified_at", "fallback_next_attempt_at"])
