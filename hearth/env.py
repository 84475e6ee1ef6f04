"""Typed readers for environment settings, so every setting is parsed in one way."""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


# The longest retention period a setting or a room may ask for: ten years. Longer is almost
# certainly a typo (days for hours, an extra zero), and keeping members' words that long is
# not something to do by accident.
MAX_RETENTION_DAYS = 3650


def env_days(name: str, default: int) -> int:
    """A retention period in whole days: at least 1, at most MAX_RETENTION_DAYS."""
    value = env_int(name, default, minimum=1)
    if value > MAX_RETENTION_DAYS:
        raise ImproperlyConfigured(
            f"{name} must be at most {MAX_RETENTION_DAYS} days (ten years), got {value}")
    return value


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from exc
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def allowed_origins(name: str = "ALLOWED_ORIGINS") -> list[str]:
    """Explicit websocket origin allowlist; a wildcard would switch the check off, so refuse it."""
    origins = env_list(name, [])
    for origin in origins:
        if "*" in origin:
            raise ImproperlyConfigured(
                f"{name} must list exact origins such as https://chat.example.org; "
                "a wildcard would let any website open sockets as your members."
            )
        if not origin.startswith(("http://", "https://")):
            raise ImproperlyConfigured(
                f"{name} entries must start with http:// or https://, got {origin!r}"
            )
    return [origin.rstrip("/").lower() for origin in origins]


def trusted_proxies(name: str = "HEARTH_TRUSTED_PROXIES") -> list[str]:
    """Addresses or networks of proxies whose X-Forwarded-For and X-Forwarded-Proto are
    believed; loopback by default (uvicorn's own default). Empty: none."""
    entries = env_list(name, ["127.0.0.1", "::1"])
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{name} must list IP addresses or networks, got {entry!r}") from exc
    return entries


def local_secret_key(state_dir: Path) -> str:
    """A development key generated once and kept beside the project, never committed."""
    key_file = state_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    state_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key
