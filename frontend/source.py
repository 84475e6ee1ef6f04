"""The source code of the running site, offered to everyone who uses it (GNU AGPL 3.0 §13).

The archive is built from the installed tree on first request and kept in the state
directory under a name derived from the files' paths, sizes and times, so a deploy of changed
code builds a new one. Only source is taken: the project's own directories and top-level
files, never dotfiles (.env, .venv, the .hearth state directory), databases or keys.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
import uuid
from pathlib import Path
from typing import Final

SOURCE_DIRECTORIES: Final = ("bench", "bin", "chat", "deploy", "docs", "frontend", "hearth",
                             "moderation", "rooms", "tests")
SOURCE_FILES: Final = ("CHANGELOG.md", "LICENSE", "README.md", "SECURITY.md", "manage.py",
                       "pyproject.toml", "package.json", "package-lock.json")
# Secrets and state an operator may have left beside the code.
_NEVER: Final = (".pyc", ".sqlite3", ".db", ".env", ".pem", ".key", ".crt", ".log", ".gpg")


def is_source(relative: Path) -> bool:
    if any(part.startswith(".") or part == "__pycache__" or part.endswith(".egg-info")
           for part in relative.parts):
        return False
    name = relative.name
    return not (name.endswith((*_NEVER, ".partial")) or ".sqlite3-" in name)


def source_files(root: Path) -> list[Path]:
    """The files the archive holds, relative to `root`, sorted."""
    found = [Path(name) for name in SOURCE_FILES if (root / name).is_file()]
    for directory in SOURCE_DIRECTORIES:
        top = root / directory
        if not top.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            here = Path(dirpath).relative_to(root)
            dirnames[:] = sorted(name for name in dirnames if is_source(here / name))
            found.extend(here / name for name in filenames
                         if is_source(here / name) and not (Path(dirpath) / name).is_symlink())
    return sorted(found)


def _fingerprint(root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for relative in files:
        stat = (root / relative).stat()
        digest.update(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _anonymous(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # Nothing about the server's accounts goes out with the code.
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def source_archive(*, root: Path, cache_dir: Path) -> Path:
    """A .tar.gz of the source under `root`, built once per version of the files."""
    files = source_files(root)
    archive = cache_dir / f"hearth-source-{_fingerprint(root, files)}.tar.gz"
    if archive.exists():
        return archive
    cache_dir.mkdir(parents=True, exist_ok=True)
    for stale in cache_dir.glob("hearth-source-*.tar.gz"):
        stale.unlink(missing_ok=True)
    building = cache_dir / f".hearth-source-{uuid.uuid4().hex}.partial"
    try:
        # Level 1: the model's weights barely compress, and a download should not wait on it.
        with tarfile.open(building, "w:gz", compresslevel=1) as tar:
            for relative in files:
                tar.add(root / relative, arcname=str(Path("hearth") / relative),
                        recursive=False, filter=_anonymous)
        os.replace(building, archive)  # two first requests at once: the last one wins, whole
    finally:
        building.unlink(missing_ok=True)
    return archive
