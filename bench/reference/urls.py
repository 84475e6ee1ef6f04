from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path


def healthz(request: HttpRequest) -> HttpResponse:
    """For the benchmark to know the server is up."""
    return HttpResponse("ok")


urlpatterns = [path("healthz", healthz)]
