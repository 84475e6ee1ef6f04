"""deploy/backup: an encrypted backup of a real database, restored into a fresh one.

A database made by migrate and the demo seed, with members and messages posted through the
real services, is backed up by deploy/backup/hearth-backup to a throwaway OpenPGP key,
restored by deploy/backup/hearth-restore into a new database, and every table's row count
compared. PostgreSQL only (the PostgreSQL pass runs it); the keys live in a keyring made
here, whose agent is stopped at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail
from tests.system.servers import PROJECT_ROOT, Servers, run_servers, scratch_database

pytestmark = [
    pytest.mark.system,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith(("postgres://",
                                                                          "postgresql://")),
                       reason="backups are of PostgreSQL; the PostgreSQL pass runs this"),
]

BACKUP = PROJECT_ROOT / "deploy" / "backup" / "hearth-backup"
RESTORE = PROJECT_ROOT / "deploy" / "backup" / "hearth-restore"
# Posted through the real services; never found in a backup file's bytes.
SAID = "Walking the dog helped today, thanks for the idea"
POST_MESSAGES = f"""
from chat.services import create_anonymous_member, post_message
from moderation.rules import accept_rules, rules_version
from rooms.models import Room
room = Room.objects.get(slug="the-lounge")
for n in range(3):
    member = create_anonymous_member()
    accept_rules(member_id=member.pk, room_id=room.pk, version=rules_version(room_id=room.pk))
    post_message(member=member, room=room, client_id=f"backup-{{n}}", body={SAID!r})
"""


@dataclass
class Keyring:
    home: Path
    fingerprint: str

    def env(self, **values: str) -> dict[str, str]:
        return {**os.environ, "GNUPGHOME": str(self.home), **values}


@pytest.fixture(scope="module")
def keyring(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keyring]:
    for tool in ("gpg", "gpgconf", "pg_dump", "pg_restore", "psql"):
        if shutil.which(tool) is None:
            skip_or_fail(f"{tool} is not installed (Debian: gnupg, postgresql-client)")
    # Short path: gpg-agent's socket path has a length limit.
    home = tmp_path_factory.mktemp("gpg")
    home.chmod(0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    subprocess.run(["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
                    "--quick-gen-key", "Hearth backup test", "default", "default", "never"],
                   env=env, check=True, capture_output=True, timeout=60)
    listing = subprocess.run(["gpg", "--batch", "--with-colons", "--list-keys"], env=env,
                             check=True, capture_output=True, text=True).stdout
    fingerprint = next(line.split(":")[9] for line in listing.splitlines()
                       if line.startswith("fpr:"))
    try:
        yield Keyring(home=home, fingerprint=fingerprint)
    finally:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, check=False, timeout=30)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    # One source for the module: no test here changes it (one checks that).
    with run_servers(tmp_path_factory.mktemp("source"), workers=0) as servers:
        servers.shell(POST_MESSAGES)
        yield servers


def _run(command: list[str | Path], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(part) for part in command], env=env, capture_output=True,
                          text=True, timeout=180, check=False)


def _row_counts(database_url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
        return {table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # type: ignore[index]
                for table in tables}


def _backup(keyring: Keyring, source: Servers, directory: Path,
            **values: str) -> subprocess.CompletedProcess[str]:
    settings = {"DATABASE_URL": source.env["DATABASE_URL"],
                "HEARTH_BACKUP_RECIPIENT": keyring.fingerprint,
                "HEARTH_BACKUP_DIR": str(directory)}
    return _run([BACKUP], keyring.env(**{**settings, **values}))


def test_a_backup_restores_into_a_fresh_database_with_every_row(
        keyring: Keyring, source: Servers, tmp_path: Path) -> None:
    directory = tmp_path / "backups"
    made = _backup(keyring, source, directory)
    assert made.returncode == 0, made.stderr
    [backup] = directory.iterdir()
    assert backup.name.startswith("hearth-") and backup.name.endswith(".dump.gpg")
    assert backup.stat().st_mode & 0o777 == 0o600
    assert SAID.encode() not in backup.read_bytes()  # encrypted, not merely compressed

    before = _row_counts(source.env["DATABASE_URL"])
    assert before["chat_message"] == 3
    with scratch_database(tmp_path) as target:
        restored = _run([RESTORE, backup, target], keyring.env())
        assert restored.returncode == 0, restored.stderr
        assert _row_counts(target) == before


def test_restore_refuses_a_database_that_has_tables_and_changes_nothing(
        keyring: Keyring, source: Servers, tmp_path: Path) -> None:
    directory = tmp_path / "backups"
    assert _backup(keyring, source, directory).returncode == 0
    [backup] = directory.iterdir()
    before = _row_counts(source.env["DATABASE_URL"])
    refused = _run([RESTORE, backup, source.env["DATABASE_URL"]], keyring.env())
    assert refused.returncode == 2
    assert "restore into a new, empty database" in refused.stderr
    assert _row_counts(source.env["DATABASE_URL"]) == before


def test_a_damaged_backup_leaves_the_target_empty(
        keyring: Keyring, source: Servers, tmp_path: Path) -> None:
    directory = tmp_path / "backups"
    assert _backup(keyring, source, directory).returncode == 0
    [backup] = directory.iterdir()
    data = bytearray(backup.read_bytes())
    damaged = tmp_path / "damaged.dump.gpg"
    damaged.write_bytes(bytes(data[: len(data) * 2 // 3]))
    with scratch_database(tmp_path) as target:
        failed = _run([RESTORE, damaged, target], keyring.env())
        assert failed.returncode != 0
        assert _row_counts(target) == {}


@pytest.mark.parametrize(("values", "says"), [
    ({"HEARTH_BACKUP_RECIPIENT": ""}, "HEARTH_BACKUP_RECIPIENT is not set"),
    ({"HEARTH_BACKUP_RECIPIENT": "0" * 40}, "no public key"),
    ({"HEARTH_BACKUP_KEEP_DAYS": "0"}, "HEARTH_BACKUP_KEEP_DAYS must be a whole number"),
    ({"HEARTH_BACKUP_KEEP_DAYS": "a week"}, "HEARTH_BACKUP_KEEP_DAYS must be a whole number"),
    ({"DATABASE_URL": "sqlite:///hearth.sqlite3"}, "not a PostgreSQL URL"),
])
def test_a_backup_that_cannot_run_says_why_and_leaves_no_file(
        keyring: Keyring, source: Servers, tmp_path: Path, values: dict[str, str],
        says: str) -> None:
    directory = tmp_path / "backups"
    refused = _backup(keyring, source, directory, **values)
    assert refused.returncode == 2
    assert says in refused.stderr
    assert not directory.exists() or list(directory.iterdir()) == []


def test_a_failed_dump_leaves_no_partial_file(keyring: Keyring, source: Servers,
                                              tmp_path: Path) -> None:
    directory = tmp_path / "backups"
    missing = source.env["DATABASE_URL"].rsplit("/", 1)[0] + "/hearth_no_such_database"
    failed = _backup(keyring, source, directory, DATABASE_URL=missing)
    assert failed.returncode != 0
    assert list(directory.iterdir()) == []


def test_backups_past_their_keep_are_removed_and_others_kept(
        keyring: Keyring, source: Servers, tmp_path: Path) -> None:
    directory = tmp_path / "backups"
    directory.mkdir()
    day = 24 * 3600
    old = directory / "hearth-20200101T000000Z.dump.gpg"
    recent = directory / "hearth-20200102T000000Z.dump.gpg"
    unrelated = directory / "notes.txt"
    for path, age_days in ((old, 8), (recent, 6), (unrelated, 30)):
        path.write_bytes(b"x")
        stamp = time.time() - age_days * day
        os.utime(path, (stamp, stamp))
    made = _backup(keyring, source, directory, HEARTH_BACKUP_KEEP_DAYS="7")
    assert made.returncode == 0, made.stderr
    assert "removed 1 older than 7 days" in made.stdout
    left = sorted(path.name for path in directory.iterdir())
    assert old.name not in left
    assert recent.name in left and unrelated.name in left and len(left) == 3
