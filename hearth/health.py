"""Liveness and readiness probes for process managers and load balancers."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse


def liveness(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readiness(request: HttpRequest) -> JsonResponse:
    """Ready when the database answers and the channel layer answers a harmless command."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # a probe reports failures instead of raising them
        checks["database"] = type(exc).__name__
    try:
        layer = get_channel_layer()
        if layer is None:
            raise RuntimeError("no channel layer configured")
        # A discard of a name that was never added reaches Redis and leaves nothing behind.
        async_to_sync(layer.group_discard)("hearth-readiness", "readiness.probe")
        checks["channel_layer"] = "ok"
    except Exception as exc:
        checks["channel_layer"] = type(exc).__name__
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", **checks},
                        status=200 if ready else 503)
