"""The running code offered to everyone who uses the site (GNU AGPL 3.0 §13): frontend/source.py
and the /source/ view, and the footer link to it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from django.conf import settings

from frontend.source import source_archive

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _names(archive: bytes | Path) -> set[str]:
    data = archive.read_bytes() if isinstance(archive, Path) else archive
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return set(tar.getnames())


def _tree(root: Path) -> None:
    """A site as an operator might leave it: code beside secrets and state."""
    for relative, text in {
        "LICENSE": "licence", "pyproject.toml": "[project]", "manage.py": "# manage",
        "chat/models.py": "# models", "deploy/hearth.env.example": "SECRET_KEY=change-me",
        "deploy/.env": "SECRET_KEY=real-secret", ".hearth/hearth.sqlite3": "db",
        "chat/hearth.sqlite3-wal": "wal", "chat/__pycache__/models.cpython-311.pyc": "pyc",
        "hearth.egg-info/PKG-INFO": "pkg", "deploy/nginx/site.key": "key",
        ".venv/bin/python": "python", "notes/plans.md": "not a source directory",
        "deploy/backup/hearth-20260101T000000Z.dump.gpg": "backup",
        "package.json": "{}", "node_modules/typescript/package.json": "{}",
    }.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "chat" / "passwords").symlink_to("/etc/passwd")


def test_the_archive_holds_the_code_and_nothing_an_operator_keeps_beside_it(tmp_path):
    root = tmp_path / "site"
    _tree(root)
    archive = source_archive(root=root, cache_dir=tmp_path / "cache")
    assert _names(archive) == {"hearth/LICENSE", "hearth/pyproject.toml", "hearth/manage.py",
                               "hearth/chat/models.py", "hearth/deploy/hearth.env.example",
                               "hearth/package.json"}
    with tarfile.open(archive, "r:gz") as tar:
        assert {(member.uid, member.uname) for member in tar.getmembers()} == {(0, "")}


def test_the_archive_is_built_once_per_version_of_the_code(tmp_path):
    root = tmp_path / "site"
    _tree(root)
    cache = tmp_path / "cache"
    first = source_archive(root=root, cache_dir=cache)
    built_at = first.stat().st_mtime_ns
    assert source_archive(root=root, cache_dir=cache) == first
    assert first.stat().st_mtime_ns == built_at

    changed = root / "chat" / "models.py"
    changed.write_text("# models, changed")
    os.utime(changed, ns=(built_at + 10**9, built_at + 10**9))
    second = source_archive(root=root, cache_dir=cache)
    assert second != first and second.exists()
    assert not first.exists()  # the old version's archive is not kept
    assert sorted(path.name for path in cache.iterdir()) == [second.name]


def test_source_serves_the_running_code_as_a_download(client, tmp_path, settings):
    settings.STATE_DIR = tmp_path
    response = client.get("/source/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/gzip"
    assert 'filename="hearth-source.tar.gz"' in response["Content-Disposition"]
    names = _names(b"".join(response.streaming_content))
    assert {"hearth/LICENSE", "hearth/pyproject.toml", "hearth/chat/models.py",
            "hearth/frontend/source.py"} <= names
    assert not [name for name in names
                if "/." in name or "__pycache__" in name or "sqlite3" in name]
    assert client.post("/source/").status_code == 405


def test_every_page_links_to_the_source(client, settings):
    assert 'href="/source/">get the source code</a>' in client.get("/").content.decode()
    settings.HEARTH_SOURCE_URL = "https://code.example.org/our-hearth"
    page = client.get("/me/").content.decode()
    assert 'href="https://code.example.org/our-hearth">get the source code</a>' in page


@pytest.mark.parametrize("value", ["javascript:alert(1)", "code.example.org/hearth"])
def test_a_source_url_that_is_not_a_link_is_refused_at_start(tmp_path, value):
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "hearth.settings", "HEARTH_STATE_DIR": str(tmp_path),
             "HEARTH_SOURCE_URL": value, "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert "HEARTH_SOURCE_URL must be an http(s) URL" in result.stderr


def test_the_shipped_tree_has_its_licence() -> None:
    assert (Path(settings.BASE_DIR) / "LICENSE").read_text().startswith(
        "                    GNU AFFERO GENERAL PUBLIC LICENSE")
