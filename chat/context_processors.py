from __future__ import annotations

from django.http import HttpRequest

from chat.identity import current_member


def current_member_context(request: HttpRequest) -> dict[str, object]:
    return {"member": current_member(request)}
