"""The retention purge as a whole (hearth/retention.py and `manage.py purge`), with the clock
moved forward: every kind past its period is gone, newer records stay, a dry run changes
nothing, the purge audits its counts without content, and bad settings stop start-up."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.utils import timezone

from chat.identity import SESSION_MEMBER_KEY
from chat.models import Member, Message
from hearth.env import env_days
from hearth.retention import KINDS, DailyPurge, purge
from moderation import asides
from moderation import services as moderation
from moderation.models import AsideMessage, AuditAction, AuditEntry, SanctionKind, TakeAside
from rooms.models import SessionFeedback
from tests.factories import make_member, make_room, make_staff, post_in_room
from tests.moderation.support import Clock
from tests.moderation.test_asides import open_aside
from tests.rooms.test_feedback import AFTER, give, make_session

ROOT = Path(__file__).resolve().parents[2]
SECRET_WORDS = "my secret words about last night"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    fake.now = AFTER  # the evening of the feedback tests' session
    monkeypatch.setattr(timezone, "now", fake)
    return fake


def a_month_of_activity() -> dict[str, Any]:
    """One of everything the purge looks after, made through the real services."""
    room = make_room()
    writer, lurker, staff = make_member(), make_member(), make_staff()
    message = post_in_room(member=writer, room=room, client_id="w1", body=SECRET_WORDS).message
    store = SessionStore()
    store[SESSION_MEMBER_KEY] = lurker.pk
    store.create()
    aside, aside_staff, aside_member = open_aside()
    asides.send(author=aside_member, aside_id=aside.pk, client_id="a1", body=SECRET_WORDS)
    asides.leave(person=aside_staff, aside_id=aside.pk)
    feedback = give(make_session(), mood_before=2, mood_after=4, comment=SECRET_WORDS)
    moderation.sanction_member(moderator=staff, member_id=writer.pk, kind=SanctionKind.WARNING,
                               rule="respect", reason="Name-calling", room_id=None)
    return {"room": room, "message": message, "lurker": lurker, "writer": writer,
            "aside": aside, "feedback": feedback, "session": store.session_key,
            # The aside's crisis message: its review item is still open.
            "under_review": aside.escalation.message_id if aside.escalation else None}


@pytest.mark.django_db
def test_everything_past_its_period_is_gone_and_newer_records_stay(clock: Clock, settings):
    settings.SESSION_COOKIE_AGE = 60 * 60 * 24 * 30
    old = a_month_of_activity()
    clock.advance(timedelta(days=366))
    newer = post_in_room(member=make_member(), room=old["room"], client_id="n1",
                         body="good morning").message

    report = purge()

    assert not report.dry_run and list(report.counts) == list(KINDS)
    assert report.counts["messages"] == 1 and report.counts["transcripts"] == 1
    assert report.counts["feedback"] == 1 and report.counts["sanctions"] == 1
    assert report.counts["sessions"] >= 1 and report.counts["members"] >= 2
    assert report.counts["audit_rows_reduced"] >= 2
    # What a moderator still has to look at stays however old; newer messages stay.
    assert set(Message.objects.values_list("pk", flat=True)) == {newer.pk, old["under_review"]}
    assert not TakeAside.objects.exists() and not AsideMessage.objects.exists()
    assert not SessionFeedback.objects.exists()
    assert not Session.objects.filter(session_key=old["session"]).exists()
    members = set(Member.objects.values_list("pk", flat=True))
    assert old["lurker"].pk not in members and old["writer"].pk not in members
    assert newer.author_id in members
    # The purge's own audit row: counts per kind, no words.
    entry = AuditEntry.objects.get(action=AuditAction.PURGE)
    assert entry.reason.startswith("messages 1, ") and SECRET_WORDS not in entry.reason
    assert not AuditEntry.objects.filter(target_member_id_ref__isnull=False).exists()
    # Nothing was left to do.
    assert purge().total == 0
    assert AuditEntry.objects.filter(action=AuditAction.PURGE).count() == 1


def counts_of_everything() -> dict[str, int]:
    from django.apps import apps

    return {model._meta.label: model._base_manager.count()
            for app in ("chat", "rooms", "moderation", "sessions")
            for model in apps.get_app_config(app).get_models()}


def audit_values() -> list[tuple[object, ...]]:
    return list(AuditEntry.objects.order_by("pk").values_list())


@pytest.mark.django_db
def test_purge_dry_run_prints_counts_per_kind_and_changes_nothing(clock: Clock, settings):
    settings.SESSION_COOKIE_AGE = 60 * 60 * 24 * 30
    a_month_of_activity()
    clock.advance(timedelta(days=366))
    before, audit_before = counts_of_everything(), audit_values()
    out = io.StringIO()
    call_command("purge", "--dry-run", stdout=out)
    assert counts_of_everything() == before and audit_values() == audit_before
    lines = out.getvalue().splitlines()
    assert lines[0] == "Dry run, nothing changed. Would purge:"
    printed = dict(line.strip().split(": ") for line in lines[1:])
    assert list(printed) == [*KINDS, "total"]
    assert printed["messages"] == "1" and printed["transcripts"] == "1"
    assert printed["feedback"] == "1" and printed["sanctions"] == "1"
    # The real run deletes what the dry run said it would.
    out = io.StringIO()
    call_command("purge", stdout=out)
    deleted = dict(line.strip().split(": ") for line in out.getvalue().splitlines()[1:])
    # Members this very run leaves with nothing (the writer, whose message and warning went)
    # go too; the dry run could only count those idle already.
    assert int(deleted.pop("members")) == int(printed.pop("members")) + 1
    assert int(deleted.pop("total")) == int(printed.pop("total")) + 1
    assert deleted == printed


@pytest.mark.django_db
def test_nothing_recent_is_purged(clock: Clock):
    a_month_of_activity()
    clock.advance(timedelta(days=1))
    before = counts_of_everything()
    assert purge().total == 0
    assert counts_of_everything() == before


# --- settings -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "says"), [
    ("0", "must be at least 1, got 0"), ("-3", "must be at least 1, got -3"),
    ("30d", "must be an integer, got '30d'"), ("3651", "must be at most 3650 days")])
def test_a_bad_period_is_refused_with_a_clear_error(monkeypatch, raw, says):
    monkeypatch.setenv("HEARTH_RETENTION_MESSAGE_DAYS", raw)
    with pytest.raises(ImproperlyConfigured, match="HEARTH_RETENTION_MESSAGE_DAYS") as refused:
        env_days("HEARTH_RETENTION_MESSAGE_DAYS", 30)
    assert says in str(refused.value)


def test_a_good_period_or_none_is_read(monkeypatch):
    monkeypatch.setenv("HEARTH_RETENTION_MESSAGE_DAYS", " 14 ")
    assert env_days("HEARTH_RETENTION_MESSAGE_DAYS", 30) == 14
    monkeypatch.setenv("HEARTH_RETENTION_MESSAGE_DAYS", "")
    assert env_days("HEARTH_RETENTION_MESSAGE_DAYS", 30) == 30


def settings_load(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "hearth.settings", "HEARTH_STATE_DIR": str(tmp_path),
             "PATH": "/usr/bin:/bin", **env},
        capture_output=True, text=True, timeout=60, check=False)


def test_start_up_stops_on_a_bad_period(tmp_path):
    result = settings_load(tmp_path, HEARTH_RETENTION_TRANSCRIPT_DAYS="-1")
    assert result.returncode != 0
    assert "HEARTH_RETENTION_TRANSCRIPT_DAYS must be at least 1, got -1" in result.stderr


def test_start_up_stops_when_the_identify_period_outlasts_the_audit(tmp_path):
    result = settings_load(tmp_path, HEARTH_RETENTION_AUDIT_DAYS="60",
                           HEARTH_RETENTION_AUDIT_IDENTIFY_DAYS="90")
    assert result.returncode != 0
    assert "HEARTH_RETENTION_AUDIT_IDENTIFY_DAYS must not be longer" in result.stderr


# --- the in-process schedule ----------------------------------------------------------------------

@pytest.mark.django_db
def test_the_daily_schedule_is_off_unless_asked_for_then_runs_once_a_day(settings, clock):
    schedule = DailyPurge()
    settings.HEARTH_RETENTION_PURGE_IN_PROCESS = False
    assert not schedule.due(now=clock.now)
    settings.HEARTH_RETENTION_PURGE_IN_PROCESS = True
    assert schedule.due(now=clock.now)
    assert schedule.run(now=clock.now).total == 0
    assert not schedule.due(now=clock.now + timedelta(hours=23))
    assert schedule.due(now=clock.now + timedelta(days=1))
