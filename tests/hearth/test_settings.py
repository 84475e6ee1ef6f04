import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from hearth.env import allowed_origins, env_bool, env_int, local_secret_key
from hearth.security import origin_is_allowed

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("value", ["*", "https://*.example.org", "example.org"])
def test_allowed_origins_refuses_wildcards_and_bare_hosts(monkeypatch, value):
    monkeypatch.setenv("ALLOWED_ORIGINS", value)
    with pytest.raises(ImproperlyConfigured):
        allowed_origins()


def test_allowed_origins_parses_an_explicit_list(monkeypatch):
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://Chat.Example.org/, http://127.0.0.1:8000")
    assert allowed_origins() == ["https://chat.example.org", "http://127.0.0.1:8000"]


def test_settings_refuse_to_load_with_a_wildcard_origin(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "hearth.settings", "ALLOWED_ORIGINS": "*",
             "HEARTH_STATE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert "ALLOWED_ORIGINS" in result.stderr


def test_origin_check():
    allowed = ["https://chat.example.org"]
    assert origin_is_allowed("https://chat.example.org", "anything", allowed, scheme="https")
    assert not origin_is_allowed("https://evil.example", "chat.example.org", allowed,
                                 scheme="https")
    assert not origin_is_allowed(None, "chat.example.org", allowed, scheme="https")
    # Without a list: same origin only.
    assert origin_is_allowed("http://127.0.0.1:8000", "127.0.0.1:8000", [], scheme="http")
    assert not origin_is_allowed("http://127.0.0.1:9000", "127.0.0.1:8000", [], scheme="http")
    assert not origin_is_allowed("null", "127.0.0.1:8000", [], scheme="http")
    assert not origin_is_allowed("", "127.0.0.1:8000", [], scheme="http")


def test_origin_scheme_must_be_the_sockets_own():
    # An https page on an http server, and an http page on an https one: both refused, with
    # or without an allowlist.
    assert not origin_is_allowed("https://127.0.0.1:8000", "127.0.0.1:8000", [], scheme="http")
    assert not origin_is_allowed("http://chat.example.org", "chat.example.org", [],
                                 scheme="https")
    assert not origin_is_allowed("https://chat.example.org", "chat.example.org",
                                 ["https://chat.example.org"], scheme="http")
    assert origin_is_allowed("https://chat.example.org", "chat.example.org", [],
                             scheme="https")


def test_typed_env_readers(monkeypatch):
    monkeypatch.setenv("X_BOOL", "yes")
    assert env_bool("X_BOOL", False) is True
    monkeypatch.setenv("X_BOOL", "maybe")
    with pytest.raises(ImproperlyConfigured):
        env_bool("X_BOOL", False)
    monkeypatch.setenv("X_INT", "-3")
    with pytest.raises(ImproperlyConfigured):
        env_int("X_INT", 5, minimum=0)
    monkeypatch.setenv("X_INT", "five")
    with pytest.raises(ImproperlyConfigured):
        env_int("X_INT", 5)


def test_local_secret_key_is_made_once_and_kept_private(tmp_path):
    key = local_secret_key(tmp_path)
    assert len(key) > 40 and local_secret_key(tmp_path) == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_redis_settings_size_the_pool_for_bursts(tmp_path):
    code = ("from django.conf import settings as s; "
            "print(s.CHANNEL_LAYERS['default']['CONFIG']['hosts'][0]['max_connections']); "
            "print(s.CACHES['default']['BACKEND'])")
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "hearth.settings", "REDIS_URL": "redis://127.0.0.1:1/0",
             "HEARTH_STATE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, check=True)
    pool, backend = result.stdout.split()
    assert int(pool) >= 1000
    assert backend == "django.core.cache.backends.redis.RedisCache"


def test_embedded_sqlite_uses_wal(tmp_path):
    code = ("from django.db import connection; c = connection.cursor(); "
            "c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])")
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "hearth.settings", "HEARTH_STATE_DIR": str(tmp_path),
             "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "wal"


def _layer_backend(tmp_path: Path, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import "
         "settings; print(settings.CHANNEL_LAYERS['default']['BACKEND'])"], cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "hearth.settings", "HEARTH_STATE_DIR": str(tmp_path),
             "PATH": "/usr/bin:/bin", **env},
        capture_output=True, text=True, timeout=60, check=True)
    return result.stdout.strip()


def test_the_channel_layer_follows_the_environment(tmp_path):
    redis = {"REDIS_URL": "redis://127.0.0.1:1/0"}  # never connected to here
    assert _layer_backend(tmp_path) == "hearth.channel_layer.EmbeddedChannelLayer"
    assert _layer_backend(tmp_path, **redis) == (
        "hearth.channel_layer.OutageTolerantPubSubChannelLayer")
    assert _layer_backend(tmp_path, HEARTH_CHANNEL_LAYER="core", **redis) == (
        "hearth.channel_layer.OutageTolerantRedisChannelLayer")
    # Without Redis there is only the embedded layer, whatever is asked for.
    assert _layer_backend(tmp_path, HEARTH_CHANNEL_LAYER="pubsub") == (
        "hearth.channel_layer.EmbeddedChannelLayer")


def test_an_unknown_channel_layer_is_refused_at_start(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "hearth.settings", "HEARTH_STATE_DIR": str(tmp_path),
             "REDIS_URL": "redis://127.0.0.1:1/0", "HEARTH_CHANNEL_LAYER": "rabbit",
             "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert "HEARTH_CHANNEL_LAYER must be pubsub or core" in result.stderr

