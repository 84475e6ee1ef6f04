"""Liveness and readiness probes for process managers and load balancers."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse

from moderation.fallback_status import readiness_field
from moderation.model_reader import ModelState, model_reader


def liveness(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readiness(request: HttpRequest) -> JsonResponse:
    """Ready when the database answers and the channel layer answers a harmless command.

    The learned detector's state is reported beside them but never makes a worker unready:
    without it the rules still screen every message. Turned on but unable to load, it makes
    the status "degraded", so a monitor sees it; turned off, that is the operator's choice."""
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
    model = model_reader.status()
    status = "ok" if ready else "unavailable"
    if ready and model["state"] == ModelState.UNAVAILABLE:
        status = "degraded"  # turned on, but not there: the rules screen alone
    return JsonResponse({"status": status, **checks, "screening_model": model,
                         "crisis_fallback": readiness_field()},
                        status=200 if ready else 503)
