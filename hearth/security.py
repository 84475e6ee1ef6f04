"""Security headers for every page and the websocket origin check."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http import HttpRequest, HttpResponse

# No inline script or style anywhere: the client only runs our own modules and inserts only
# HTML the server made with chat.rendering.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), interest-cohort=()"


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    headers: Iterable[tuple[bytes, bytes]] = scope.get("headers", [])
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def origin_is_allowed(origin: str | None, host: str | None, allowed: list[str]) -> bool:
    """True when a websocket handshake comes from a page we serve.

    With an explicit allowlist the Origin must be on it exactly. Without one, the Origin must
    be the same site the socket was opened on. A missing Origin is refused either way: every
    browser sends one, and a socket without it is not one of our pages.
    """
    if not origin:
        return False
    origin = origin.rstrip("/").lower()
    if allowed:
        return origin in allowed
    parts = urlsplit(origin)
    if parts.scheme not in {"http", "https"} or not parts.netloc or not host:
        return False
    return parts.netloc == host.lower()


class OriginValidator:
    """ASGI middleware refusing websocket handshakes from origins we did not allow."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket":
            allowed = settings.ALLOWED_ORIGINS
            if not origin_is_allowed(_header(scope, b"origin"), _header(scope, b"host"), allowed):
                denier = WebsocketDenier()
                return await denier(scope, receive, send)
        return await self.application(scope, receive, send)
