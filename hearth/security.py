"""Security headers for every page, the websocket handshake checks (client limit, Host,
Origin) and the 429 for too many new sessions from one address."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port, validate_host

from chat.errors import ErrorCode, HearthError
from chat.protocol import error_frame
from hearth.address_limits import take_socket_open

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


def host_is_allowed(host: str | None) -> bool:
    """The websocket Host checked as Django checks an HTTP request's (ALLOWED_HOSTS)."""
    if not host:
        return False
    domain, _port = split_domain_port(host)
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]  # Django's own DEBUG fallback
    return bool(domain) and validate_host(domain, allowed)


def websocket_scheme(scope: dict[str, Any]) -> str:
    """"https" when the socket came over TLS, else "http": the scheme its page must have.

    The server's word first (uvicorn sets wss from a trusted proxy's X-Forwarded-Proto),
    then the proxy header Django itself trusts (BEHIND_TLS_PROXY).
    """
    if scope.get("scheme") in {"wss", "https"}:
        return "https"
    proxy_ssl_header: tuple[str, str] | None = getattr(settings, "SECURE_PROXY_SSL_HEADER",
                                                       None)
    if proxy_ssl_header is not None:
        meta_name, secure_value = proxy_ssl_header
        name = meta_name.removeprefix("HTTP_").lower().replace("_", "-").encode()
        value = _header(scope, name)
        if value is not None and value.split(",", 1)[0].strip() == secure_value:
            return "https"
    return "http"


def origin_is_allowed(origin: str | None, host: str | None, allowed: list[str], *,
                      scheme: str) -> bool:
    """True when a websocket handshake comes from a page we serve.

    The Origin's scheme must be the socket's own (`scheme`): an https page never talks to
    an http server, nor an http page to an https one. With an explicit allowlist the Origin
    must also be on it exactly. Without one, it must be the same host and port the socket
    was opened on. A missing Origin is refused either way: every browser sends one, and a
    socket without it is not one of our pages.
    """
    if not origin:
        return False
    origin = origin.rstrip("/").lower()
    parts = urlsplit(origin)
    if parts.scheme != scheme:
        return False
    if allowed:
        return origin in allowed
    if not parts.netloc or not host:
        return False
    return parts.netloc == host.lower()


def _client_peer(scope: dict[str, Any]) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


async def _refuse_too_many_opens(scope: dict[str, Any], receive: Any, send: Any,
                                 retry_after: float) -> None:
    """HTTP 429 with the error code where the server can answer a handshake with a
    response (uvicorn); a plain refusal (403) where it cannot (daphne)."""
    if "websocket.http.response" not in scope.get("extensions", {}):
        await WebsocketDenier()(scope, receive, send)
        return
    await receive()  # websocket.connect
    body = json.dumps(error_frame(ErrorCode.TOO_MANY_SOCKET_OPENS,
                                  retry_after=retry_after)).encode()
    await send({"type": "websocket.http.response.start", "status": 429, "headers": [
        (b"content-type", b"application/json"),
        (b"retry-after", str(math.ceil(retry_after)).encode()),
        (b"content-length", str(len(body)).encode())]})
    await send({"type": "websocket.http.response.body", "body": body})


class HandshakeGate:
    """ASGI middleware in front of every websocket: refuses, before the socket is accepted,
    a client over its socket-open limit (429), a Host not in ALLOWED_HOSTS and an Origin we
    did not allow (403)."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] != "websocket":
            return await self.application(scope, receive, send)
        # Counted first: refused handshakes are part of a flood too.
        wait = take_socket_open(_client_peer(scope))
        if wait:
            return await _refuse_too_many_opens(scope, receive, send, wait)
        host = _header(scope, b"host")
        if not host_is_allowed(host) or not origin_is_allowed(
                _header(scope, b"origin"), host, settings.ALLOWED_ORIGINS,
                scheme=websocket_scheme(scope)):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)


class AddressLimitMiddleware:
    """Answers a page visit over the new-session limit (chat.identity) with HTTP 429."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest,
                          exception: Exception) -> HttpResponse | None:
        if not (isinstance(exception, HearthError)
                and exception.code is ErrorCode.TOO_MANY_NEW_SESSIONS):
            return None
        retry_after: float = getattr(exception, "retry_after", 60.0)
        response = HttpResponse(f"{exception.detail}\n", status=429,
                                content_type="text/plain; charset=utf-8")
        response.headers["Retry-After"] = str(math.ceil(retry_after))
        response.headers["X-Hearth-Error"] = exception.code.value
        return response
