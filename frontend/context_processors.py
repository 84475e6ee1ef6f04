from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse


def site_links(request: HttpRequest) -> dict[str, object]:
    """Links every page's footer carries: the source code (GNU AGPL §13)."""
    return {"source_url": settings.HEARTH_SOURCE_URL or reverse("frontend:source-code")}
