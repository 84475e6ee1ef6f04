"""The room directory as JSON, for the directory page's live counts and for other clients."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from moderation.duty import on_duty_count
from rooms.models import Audience, FocusArea, RoomKind
from rooms.selectors import directory, room_summary

_FILTERS = {"focus_area": FocusArea.values, "audience": Audience.values, "kind": RoomKind.values}


@require_GET
def room_directory(request: HttpRequest) -> JsonResponse:
    filters: dict[str, str | None] = {}
    for name, allowed in _FILTERS.items():
        value = request.GET.get(name) or None
        if value is not None and value not in allowed:
            return JsonResponse(
                {"error": {"code": "invalid_field",
                           "detail": f"{name} must be one of: {', '.join(allowed)}"}},
                status=400)
        filters[name] = value
    rooms = directory(focus_area=filters["focus_area"], audience=filters["audience"],
                      kind=filters["kind"])
    return JsonResponse({"rooms": [room_summary(room) for room in rooms],
                         "on_duty_count": on_duty_count()})
