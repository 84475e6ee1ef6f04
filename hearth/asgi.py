"""ASGI entry point: HTTP goes to Django, websockets through the handshake checks to chat."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hearth.settings")
django_http = get_asgi_application()  # sets Django up before the consumers are imported

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.sessions import SessionMiddlewareStack  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from chat.routing import websocket_urlpatterns  # noqa: E402
from hearth.direct_frames import ExposeDirectSocket  # noqa: E402
from hearth.security import HandshakeGate  # noqa: E402
from moderation.fallback_status import warn_if_not_configured  # noqa: E402
from moderation.model_reader import model_reader  # noqa: E402
from moderation.screening.lexicon import build_phrase_indexes  # noqa: E402

# The learned detector loads with the worker, so a missing model is said at start-up (and on
# /readyz), never discovered on the first message; the word lists are indexed then too.
model_reader.load()
build_phrase_indexes()
warn_if_not_configured()

http_application = ASGIStaticFilesHandler(django_http) if settings.SERVE_STATIC else django_http

application = ProtocolTypeRouter(
    {
        "http": http_application,
        "websocket": ExposeDirectSocket(
            HandshakeGate(SessionMiddlewareStack(URLRouter(websocket_urlpatterns)))),
    }
)
