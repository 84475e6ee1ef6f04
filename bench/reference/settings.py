"""Settings of the reference chat: only what Channels needs.

The channel layer is the stock one: InMemoryChannelLayer, or channels_redis's
RedisChannelLayer on REFERENCE_REDIS_URL with its default capacity, expiry and connection pool.
Only the key prefix is set, so a shared Redis is never mixed with another run's keys.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

SECRET_KEY = os.environ.get("SECRET_KEY") or secrets.token_hex(32)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["channels"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.reference.urls"
ASGI_APPLICATION = "bench.reference.asgi.application"
DATABASES: dict[str, Any] = {}
USE_TZ = True

_REDIS_URL = os.environ.get("REFERENCE_REDIS_URL", "")
if _REDIS_URL:
    CHANNEL_LAYERS: dict[str, Any] = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [_REDIS_URL],
                       "prefix": os.environ.get("REFERENCE_CHANNEL_PREFIX", "asgi")},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
