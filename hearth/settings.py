"""Hearth settings. Everything that differs between machines comes from the environment.

The defaults are the embedded mode: SQLite in WAL mode, the in-memory channel layer, no
services needed. Set DATABASE_URL and REDIS_URL for a multi-worker deployment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from hearth.env import (
    allowed_origins,
    env_bool,
    env_days,
    env_float,
    env_int,
    env_list,
    env_str,
    local_secret_key,
    trusted_proxies,
)
from hearth.log_format import logging_config

django_stubs_ext.monkeypatch()  # lets admin and querysets be subscripted for the type checker

BASE_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = Path(env_str("HEARTH_STATE_DIR", str(BASE_DIR / ".hearth")))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or local_secret_key(STATE_DIR)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
# Empty means "same origin only" (the Origin must match the Host the socket was opened on).
ALLOWED_ORIGINS = allowed_origins()

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "hearth",
    "rooms",
    "chat",
    "moderation",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "hearth.security.SecurityHeadersMiddleware",
    "hearth.security.AddressLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "chat.staff_middleware.StaffSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hearth.urls"
ASGI_APPLICATION = "hearth.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "chat.context_processors.current_member_context",
                "frontend.context_processors.site_links",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{STATE_DIR / 'hearth.sqlite3'}")
# Not kept between requests: under ASGI every page view runs on a thread of its own, and kept
# connections would pile up per thread. The sockets' own database thread keeps its one
# connection between calls (hearth/database_thread.py).
_database: dict[str, Any] = dict(dj_database_url.parse(
    DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 0, minimum=0), conn_health_checks=True))
if _database["ENGINE"] == "django.db.backends.sqlite3":
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    _database["OPTIONS"] = {
        # WAL lets readers go on while one writer commits; IMMEDIATE takes the write lock at
        # BEGIN so two processes never deadlock upgrading a read lock (sequence numbers).
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests use a file, not memory, so real server processes can share the test database.
    _database["TEST"] = {"NAME": str(STATE_DIR / "test-hearth.sqlite3")}
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer and cache ---------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
# redis-py caps a pool at 100 connections by default; a burst of connects needs more.
REDIS_MAX_CONNECTIONS = env_int("REDIS_MAX_CONNECTIONS", 2000, minimum=10)
# Longer than channels_redis's 5 s blocking receive (see CHANNEL_LAYERS below).
REDIS_SOCKET_TIMEOUT = 15.0
CHANNEL_PREFIX = env_str("HEARTH_CHANNEL_PREFIX", "hearth")

if REDIS_URL:
    CHANNEL_LAYERS: dict[str, Any] = {
        "default": {
            "BACKEND": "hearth.channel_layer.OutageTolerantRedisChannelLayer",
            "CONFIG": {
                # The layer waits on Redis with 5 s blocking pops; redis-py 8 also times reads
                # out after 5 s by default, which raised inside an idle socket and closed it
                # (1011). Reads must be allowed to outlast the blocking pop.
                "hosts": [{"address": REDIS_URL, "max_connections": REDIS_MAX_CONNECTIONS,
                           "socket_timeout": REDIS_SOCKET_TIMEOUT}],
                "prefix": CHANNEL_PREFIX,
                # Room broadcasts are at-most-once; clients detect gaps with head_seq and
                # fetch from the database, so capacity only bounds memory, not correctness.
                "capacity": env_int("CHANNEL_CAPACITY", 1000, minimum=10),
                "expiry": 60,
            },
        }
    }
    CHANNEL_LAYER_KIND = env_str("HEARTH_CHANNEL_LAYER", "pubsub")
    if CHANNEL_LAYER_KIND not in ("pubsub", "core"):
        raise ImproperlyConfigured("HEARTH_CHANNEL_LAYER must be pubsub or core")
    if CHANNEL_LAYER_KIND == "pubsub":
        # channels_redis's pub/sub layer: Redis pushes each room broadcast to the workers that
        # subscribed, where the core layer above has each worker poll its queue with several
        # commands per message. With two workers sharing a core it delivered all of s4 where
        # the core layer delivered 29 % (docs/benchmarks.md, "Room fan-out").
        CHANNEL_LAYERS["default"] = {
            "BACKEND": "hearth.channel_layer.OutageTolerantPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL, "max_connections": REDIS_MAX_CONNECTIONS,
                                  "socket_timeout": REDIS_SOCKET_TIMEOUT}],
                       "prefix": CHANNEL_PREFIX},
        }
    CACHES: dict[str, Any] = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CHANNEL_PREFIX,
            "OPTIONS": {"max_connections": REDIS_MAX_CONNECTIONS},
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "hearth.channel_layer.EmbeddedChannelLayer",
            "CONFIG": {"capacity": env_int("CHANNEL_CAPACITY", 1000, minimum=10), "expiry": 60},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Sessions and security ------------------------------------------------------------------
SESSION_COOKIE_NAME = "hearth_session"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 24 * 30, minimum=60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_TRUSTED_ORIGINS = ALLOWED_ORIGINS
SECURE_CONTENT_TYPE_NOSNIFF = True
# "same-origin", not "no-referrer": with no-referrer browsers send `Origin: null` on our own
# form posts and CSRF refuses every one. Other sites still never get a referrer.
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Proxies whose forwarded client address and scheme are believed (uvicorn's
# forwarded_allow_ips under `manage.py serve`). A request still coming from one of them after
# that carried no client address, and is not limited per address (hearth/address_limits.py).
HEARTH_TRUSTED_PROXIES = trusted_proxies()
# Per client address, in this worker's memory only (never stored, never logged): new member
# sessions (a first page visit makes one) and websocket opens. 0 turns a limit off.
HEARTH_NEW_SESSIONS_PER_ADDRESS = env_int("HEARTH_NEW_SESSIONS_PER_ADDRESS", 30, minimum=0)
HEARTH_NEW_SESSIONS_WINDOW_SECONDS = env_float("HEARTH_NEW_SESSIONS_WINDOW_SECONDS", 600.0,
                                               minimum=1.0)
HEARTH_SOCKET_OPENS_PER_ADDRESS = env_int("HEARTH_SOCKET_OPENS_PER_ADDRESS", 60, minimum=0)
HEARTH_SOCKET_OPENS_WINDOW_SECONDS = env_float("HEARTH_SOCKET_OPENS_WINDOW_SECONDS", 60.0,
                                               minimum=1.0)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Staff sign-in (chat/staff_login.py): wrong passwords allowed per username in a window, in the
# shared cache; the next try is refused, right password or not, until the window ends.
HEARTH_STAFF_LOGIN_ATTEMPTS = env_int("HEARTH_STAFF_LOGIN_ATTEMPTS", 5, minimum=1)
HEARTH_STAFF_LOGIN_WINDOW_SECONDS = env_float("HEARTH_STAFF_LOGIN_WINDOW_SECONDS", 60.0,
                                              minimum=1.0)
# A staff session ends after this long without a request or a dashboard frame; members'
# sessions keep SESSION_COOKIE_AGE.
HEARTH_STAFF_IDLE_SECONDS = env_int("HEARTH_STAFF_IDLE_SECONDS", 12 * 60 * 60, minimum=60)
# A second factor (an authenticator app, with recovery codes; chat/two_factor.py) is always
# asked of moderators and admins, and of peer supporters when this is on.
HEARTH_TWO_FACTOR_FOR_PEER_SUPPORTERS = env_bool("HEARTH_TWO_FACTOR_FOR_PEER_SUPPORTERS", False)
# The name an authenticator app shows beside the code.
OTP_TOTP_ISSUER = env_str("HEARTH_TWO_FACTOR_ISSUER", "Hearth")
# Accept only the step either side of now, and never learn a drift from a code at the edge:
# phones keep network time, and a learned drift would widen what is accepted.
OTP_TOTP_SYNC = False
LOGIN_URL = "frontend:staff-login"
LOGIN_REDIRECT_URL = "frontend:directory"
LOGOUT_REDIRECT_URL = "frontend:directory"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# In the embedded mode the app serves its own static files; behind nginx, nginx does.
SERVE_STATIC = env_bool("SERVE_STATIC", True)

# --- Chat limits (read through chat.limits, the one place that interprets them) ---------------
HEARTH_MAX_BODY_CHARS = env_int("HEARTH_MAX_BODY_CHARS", 2000, minimum=1)
HEARTH_MAX_FRAME_BYTES = env_int("HEARTH_MAX_FRAME_BYTES", 16384, minimum=1024)
HEARTH_SEND_BURST = env_int("HEARTH_SEND_BURST", 5, minimum=1)
HEARTH_SEND_PER_SECOND = env_float("HEARTH_SEND_PER_SECOND", 1.0, minimum=0.01)
HEARTH_READ_BURST = env_int("HEARTH_READ_BURST", 20, minimum=1)
HEARTH_READ_PER_SECOND = env_float("HEARTH_READ_PER_SECOND", 5.0, minimum=0.01)
HEARTH_MAX_SOCKETS_PER_SESSION = env_int("HEARTH_MAX_SOCKETS_PER_SESSION", 5, minimum=1)
HEARTH_HEARTBEAT_SECONDS = env_float("HEARTH_HEARTBEAT_SECONDS", 20.0, minimum=0.2)
HEARTH_RESUME_PAGE = env_int("HEARTH_RESUME_PAGE", 200, minimum=1)
HEARTH_PRESENCE_DEBOUNCE_SECONDS = env_float("HEARTH_PRESENCE_DEBOUNCE_SECONDS", 0.5)
# How long a worker trusts its copy of a room's policy, rules version and a member's
# sanctions before reading them again (hearth/hotcache.py); changes in the same worker apply
# at once, changes elsewhere usually at once (live event) and at the latest after this.
HEARTH_HOT_CACHE_SECONDS = env_float("HEARTH_HOT_CACHE_SECONDS", 2.0, minimum=0.0)
# Session reactions (heart, hug…) are cheap and never count against the message limit.
HEARTH_REACTION_BURST = env_int("HEARTH_REACTION_BURST", 10, minimum=1)
HEARTH_REACTION_PER_SECOND = env_float("HEARTH_REACTION_PER_SECOND", 2.0, minimum=0.01)

# --- The learned detector (moderation/model_reader.py; docs/screening.md) --------------------
# On by default: it reads every message after it is delivered and raises what the rules
# missed (on held-out chat it finds 0.95 of crisis messages, the rules alone 0.30). It still
# pages staff for a few everyday goodbyes (docs/screening.md, "Known failure modes"). "false"
# screens with the rules alone (a smaller install, a slower CPU).
HEARTH_SCREENING_MODEL = env_bool("HEARTH_SCREENING_MODEL", True)
# Where encoder.onnx, tokenizer.json, static.npy and heads.json are; the shipped model when
# empty. A directory that lacks them is reported at start-up and on /readyz, never fatal.
HEARTH_SCREENING_MODEL_DIR = env_str("HEARTH_SCREENING_MODEL_DIR", "")
# Messages waiting for the model beyond this are screened by the rules alone (and counted).
# A card that comes late still reaches someone; one never read does not: the default holds
# several seconds of a busy worker's messages (s1's 320 a second) before giving up on any.
HEARTH_SCREENING_MODEL_BACKLOG = env_int("HEARTH_SCREENING_MODEL_BACKLOG", 2048, minimum=1)
# Under sustained load the model thread keeps to this share of a core (it pauses between
# batches), so delivery never waits for it; 1.0 lets it run flat out.
HEARTH_SCREENING_MODEL_CPU_SHARE = env_float("HEARTH_SCREENING_MODEL_CPU_SHARE", 0.35,
                                             minimum=0.05)

# --- Crisis path (read through moderation.crisis_settings) ------------------------------------
# Seconds an escalation may wait for an acknowledgement before every staff socket and the
# fallback are alerted.
HEARTH_ESCALATION_ACK_SECONDS = env_float("HEARTH_ESCALATION_ACK_SECONDS", 60.0, minimum=1.0)
# After this long with nobody acknowledging, the member is told (once) the team is still
# being reached, with their helpline again.
HEARTH_ESCALATION_MEMBER_NOTICE_SECONDS = env_float(
    "HEARTH_ESCALATION_MEMBER_NOTICE_SECONDS", 120.0, minimum=1.0)
# How often each worker looks for overdue escalations, due fallback retries and stale shifts.
HEARTH_WATCH_SECONDS = env_float("HEARTH_WATCH_SECONDS", 5.0, minimum=0.1)
# A shift with no staff socket seen for this long no longer counts as on duty.
HEARTH_DUTY_STALE_SECONDS = env_float("HEARTH_DUTY_STALE_SECONDS", 90.0, minimum=1.0)
# The operator's on-call fallback: a webhook (JSON POST) and/or an email address.
HEARTH_FALLBACK_WEBHOOK_URL = env_str("HEARTH_FALLBACK_WEBHOOK_URL", "")
HEARTH_FALLBACK_EMAIL = env_str("HEARTH_FALLBACK_EMAIL", "")
HEARTH_FALLBACK_ATTEMPTS = env_int("HEARTH_FALLBACK_ATTEMPTS", 5, minimum=1)
# First retry after this many seconds, doubling each time.
HEARTH_FALLBACK_RETRY_SECONDS = env_float("HEARTH_FALLBACK_RETRY_SECONDS", 30.0, minimum=0.1)
# The dashboard link put in fallback alerts ("https://hearth.example.org").
HEARTH_PUBLIC_URL = env_str("HEARTH_PUBLIC_URL", "http://127.0.0.1:8000")
# Where the footer's "source code" link points (GNU AGPL 3.0 §13): your published repository if
# you changed Hearth; empty serves the running code itself at /source/.
HEARTH_SOURCE_URL = env_str("HEARTH_SOURCE_URL", "")
if HEARTH_SOURCE_URL and not HEARTH_SOURCE_URL.startswith(("https://", "http://", "/")):
    raise ImproperlyConfigured("HEARTH_SOURCE_URL must be an http(s) URL or a path starting "
                               "with /, or empty to serve the source at /source/")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "hearth@localhost")

# --- Retention (hearth/retention.py; docs/operations.md, "Retention") -------------------------
# Whole days, 1 to 3650; `manage.py purge` deletes what is older (daily, deploy/systemd).
# Room messages: a room's own setting (admin) wins over this site default.
HEARTH_RETENTION_MESSAGE_DAYS = env_days("HEARTH_RETENTION_MESSAGE_DAYS", 30)
# Resolved review items and escalations, reports and appeals, after they were settled.
HEARTH_RETENTION_REVIEW_DAYS = env_days("HEARTH_RETENTION_REVIEW_DAYS", 90)
# Take-aside (one-to-one) transcripts, after the conversation ended.
HEARTH_RETENTION_TRANSCRIPT_DAYS = env_days("HEARTH_RETENTION_TRANSCRIPT_DAYS", 30)
# Anonymous session feedback, after the session it is about.
HEARTH_RETENTION_FEEDBACK_DAYS = env_days("HEARTH_RETENTION_FEEDBACK_DAYS", 365)
# Sanctions, after they ended (a ban without an end stays).
HEARTH_RETENTION_SANCTION_DAYS = env_days("HEARTH_RETENTION_SANCTION_DAYS", 180)
# Audit rows; after the shorter identify period the member in them is an opaque id.
HEARTH_RETENTION_AUDIT_DAYS = env_days("HEARTH_RETENTION_AUDIT_DAYS", 730)
HEARTH_RETENTION_AUDIT_IDENTIFY_DAYS = env_days("HEARTH_RETENTION_AUDIT_IDENTIFY_DAYS", 90)
if HEARTH_RETENTION_AUDIT_IDENTIFY_DAYS > HEARTH_RETENTION_AUDIT_DAYS:
    raise ImproperlyConfigured(
        "HEARTH_RETENTION_AUDIT_IDENTIFY_DAYS must not be longer than HEARTH_RETENTION_AUDIT_DAYS "
        f"({HEARTH_RETENTION_AUDIT_IDENTIFY_DAYS} > {HEARTH_RETENTION_AUDIT_DAYS})")
# Anonymous members with nothing left (no messages, reports, sanctions, take-asides,
# escalations) and no unexpired session, this long after they were made.
HEARTH_RETENTION_IDLE_MEMBER_DAYS = env_days("HEARTH_RETENTION_IDLE_MEMBER_DAYS", 30)
# Rows deleted per transaction: a busy room waits for one batch at most.
HEARTH_RETENTION_BATCH_SIZE = env_int("HEARTH_RETENTION_BATCH_SIZE", 500, minimum=1)
# The embedded mode's own daily purge, run by each worker's watcher; off by default (the
# systemd timer deploy/systemd/hearth-purge.timer runs `manage.py purge` instead).
HEARTH_RETENTION_PURGE_IN_PROCESS = env_bool("HEARTH_RETENTION_PURGE_IN_PROCESS", False)

# --- Metrics (hearth/metrics.py; docs/operations.md, "Metrics") -----------------------------
# /metrics answers loopback clients that did not come through a proxy; anyone else needs
# `Authorization: Bearer <this token>`. Empty: loopback only.
HEARTH_METRICS_TOKEN = env_str("HEARTH_METRICS_TOKEN", "")

# --- Logging: never IP addresses, emails or message text --------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# "plain" (a line of text with key=value extras) or "json" (one object a line, for a log
# collector); both keep the extra fields (hearth/log_format.py).
HEARTH_LOG_FORMAT = env_str("HEARTH_LOG_FORMAT", "plain").strip().lower()
if HEARTH_LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("HEARTH_LOG_FORMAT must be plain or json")
LOGGING = logging_config(log_format=HEARTH_LOG_FORMAT, level=LOG_LEVEL)
