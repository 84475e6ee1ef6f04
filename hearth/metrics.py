"""Prometheus metrics of one worker, served at /metrics (docs/operations.md, "Metrics").

Two kinds. What the database knows (open escalations, the oldest one nobody acknowledged,
staff on duty, rooms with people in them) is read when Prometheus scrapes, by
`DatabaseCollector`, so it is true whichever worker or `watch_escalations` process changed it
and the same on every worker. What only this process knows (its sockets, its watcher's last
run, the fallback sends it made, acknowledgements it recorded) is counted as it happens, in
hearth/counters.py (below the features that count, which never import this module).

Privacy: no label ever holds an address, an email, a handle or words; labels are fixed
vocabularies (a tier, an outcome, a state).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterator
from datetime import timedelta
from typing import Final

from django.conf import settings
from django.db.models import Min
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from chat.hub import hub
from hearth import counters as _counted  # noqa: F401  (registers what is counted as it happens)
from moderation import duty, fallback
from moderation.model_reader import model_reader
from moderation.models import Escalation
from moderation.watch import watcher
from rooms.models import Room
from rooms.selectors import fresh_connections

# A request that came through a proxy carries one of these (nginx sets X-Forwarded-Proto on
# every request it passes on), so it is never taken for a local scrape, even though the
# proxy connects from 127.0.0.1.
PROXY_HEADERS: Final = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_REAL_IP",
                        "HTTP_FORWARDED", "HTTP_X_FORWARDED_HOST")

# --- read at scrape time ----------------------------------------------------------------------

class DatabaseCollector(Collector):
    """Gauges read from the database on every scrape (a handful of indexed counts)."""

    def describe(self) -> Iterator[Metric]:
        return iter(())

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        open_escalations = Escalation.objects.filter(resolved_at__isnull=True)
        unacknowledged = open_escalations.filter(acknowledged_at__isnull=True)
        oldest = unacknowledged.aggregate(oldest=Min("created_at"))["oldest"]
        window = settings.HEARTH_ESCALATION_ACK_SECONDS
        # Overdue and still not re-escalated after a few watcher rounds: no watcher is
        # running anywhere (workers' or watch_escalations), whatever this process's says.
        grace = window + 3 * settings.HEARTH_WATCH_SECONDS
        unclaimed = unacknowledged.filter(
            re_escalated_at__isnull=True,
            created_at__lte=now - timedelta(seconds=grace)).count()
        gave_up = unacknowledged.filter(
            fallback_notified_at__isnull=True, re_escalated_at__isnull=False,
            fallback_attempts__gte=settings.HEARTH_FALLBACK_ATTEMPTS).count()

        yield _gauge("hearth_escalations_open", "Escalations not yet resolved.",
                     open_escalations.count())
        yield _gauge("hearth_escalations_unacknowledged",
                     "Escalations nobody from the team has acknowledged yet.",
                     unacknowledged.count())
        yield _gauge("hearth_escalation_oldest_unacknowledged_age_seconds",
                     "Age of the oldest unacknowledged escalation (0 when there is none).",
                     0.0 if oldest is None else max((now - oldest).total_seconds(), 0.0))
        yield _gauge("hearth_escalation_ack_window_seconds",
                     "HEARTH_ESCALATION_ACK_SECONDS: how long an escalation may wait before "
                     "every dashboard and the fallback are alerted.", window)
        yield _gauge("hearth_escalations_overdue_unclaimed",
                     "Unacknowledged escalations past their window that no watcher has "
                     "re-escalated: no watcher is running.", unclaimed)
        yield _gauge("hearth_escalations_fallback_gave_up",
                     "Unacknowledged escalations whose fallback used every attempt and "
                     "failed.", gave_up)
        yield _gauge("hearth_fallback_configured",
                     "1 when a fallback webhook or email is set, else 0.",
                     1 if fallback.is_configured() else 0)
        yield _gauge("hearth_staff_on_duty", "Staff members on duty now.",
                     duty.on_duty_count())
        yield _gauge("hearth_rooms_occupied", "Rooms with at least one member connected.",
                     fresh_connections().values("room").distinct().count())
        yield _gauge("hearth_rooms_staffed_only", "Active rooms open only while staff are on "
                     "duty.", Room.objects.filter(staffed_only=True, is_active=True).count())


class ProcessCollector(Collector):
    """What this worker holds in memory, read at scrape time (nothing is counted twice)."""

    def describe(self) -> Iterator[Metric]:
        return iter(())

    def collect(self) -> Iterator[Metric]:
        yield _gauge("hearth_sockets_open", "Room sockets open on this worker.",
                     sum(len(sockets) for sockets in hub.sockets_by_room.values()))
        yield _gauge("hearth_rooms_local", "Rooms with a socket open on this worker.",
                     len(hub.sockets_by_room))
        yield _gauge("hearth_staff_sockets_open", "Staff dashboard sockets open on this worker.",
                     sum(watcher.staff_sockets.values()))
        yield _gauge("hearth_watcher_interval_seconds", "HEARTH_WATCH_SECONDS.",
                     settings.HEARTH_WATCH_SECONDS)
        counters = model_reader.counters
        state = GaugeMetricFamily("hearth_screening_model_state",
                                  "The learned detector's state (1 for the current one).",
                                  labels=["state"])
        for name in ("not_loaded", "ready", "off", "unavailable"):
            state.add_metric([name], 1 if model_reader.state.value == name else 0)
        yield state
        for name, help_text, value in (
                ("read", "Messages the learned detector read.", counters.read),
                ("failed", "Messages whose reading failed (the rules alone screened them).",
                 counters.failed),
                ("over_backlog", "Messages the model never read: its backlog was full.",
                 counters.over_backlog)):
            yield _counter(f"hearth_screening_model_messages_{name}", help_text, value)
        yield _counter("hearth_screening_model_seconds", "Seconds spent reading messages.",
                       counters.seconds_total)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _counter(name: str, documentation: str, value: float) -> Metric:
    return CounterMetricFamily(name, documentation, value=value)


# Once per process (this module is imported once). `describe` says nothing, so registering
# never reads the database: it may not exist yet (migrate imports this module too).
REGISTRY.register(DatabaseCollector())
REGISTRY.register(ProcessCollector())


# --- the view ---------------------------------------------------------------------------------

def scrape_allowed(request: HttpRequest) -> bool | None:
    """True for a local scrape or the right bearer token; False for a wrong token; None when
    nothing entitles the request (answered as if there were no such page)."""
    token = settings.HEARTH_METRICS_TOKEN
    authorization = request.headers.get("Authorization", "")
    if authorization:
        scheme, _, offered = authorization.partition(" ")
        if not token or scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(offered.strip().encode(), token.encode())
    return _is_local(request) or None


def _is_local(request: HttpRequest) -> bool:
    if any(header in request.META for header in PROXY_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format. Sync on purpose: the database collector runs in the request's
    own thread, whose connection Django opens and closes around it as for any page. A
    database that does not answer fails the scrape (500), which Prometheus counts as the
    worker down: loud, where dropping the escalation gauges would silence their alerts."""
    allowed = scrape_allowed(request)
    if allowed is None:
        return HttpResponse(status=404)
    if not allowed:
        return HttpResponse(status=403)
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)


def metric_names(registry: CollectorRegistry = REGISTRY) -> set[str]:
    """Every sample name the registry exports (with _total, _bucket… suffixes), for tests that
    check the alert rules name only real metrics. Reads the database."""
    return {sample.name for family in registry.collect() for sample in family.samples}
