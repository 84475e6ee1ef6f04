"""Both log formats (hearth/log_format.py, hearth/log_json.py) keep the `extra` fields a log
call gives, such as the escalation and the error of "fallback gave up", and drop objects that
could carry more than we mean to log."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator

import pytest

from hearth.log_format import PlainFormatter, logging_config
from hearth.log_json import HearthJsonFormatter
from moderation import fallback
from tests.moderation.test_escalations import crisis_escalation


class Request:
    """Stands for an object a library attaches to a record (Django's request)."""

    def __str__(self) -> str:
        return "203.0.113.9 someone@example.org"


def formatted(formatter: logging.Formatter, *, exc: bool = False) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("tests.log_format")
    logger.handlers, logger.propagate = [handler], False
    try:
        if exc:
            try:
                raise ValueError("boom")
            except ValueError:
                logger.exception("fallback gave up", extra={"escalation": 42, "error": "http_500"})
        else:
            logger.error("fallback gave up", extra={
                "escalation": 42, "error": "http_500", "attempt": 5, "request": Request(),
                "reason": "two words"})
    finally:
        logger.handlers, logger.propagate = [], True
    return stream.getvalue()


def test_plain_lines_carry_the_extra_fields():
    line = formatted(PlainFormatter()).strip()
    assert line.endswith("ERROR tests.log_format fallback gave up escalation=42 error=http_500 "
                         "attempt=5 reason='two words'")
    assert "203.0.113.9" not in line and "@" not in line


def test_plain_puts_the_fields_on_the_line_and_the_traceback_below():
    first, *rest = formatted(PlainFormatter(), exc=True).splitlines()
    assert first.endswith("fallback gave up escalation=42 error=http_500")
    assert rest[0].startswith("Traceback") and rest[-1] == "ValueError: boom"


def test_json_objects_carry_the_extra_fields():
    record = json.loads(formatted(HearthJsonFormatter()))
    assert record["message"] == "fallback gave up"
    assert record["level"] == "ERROR" and record["logger"] == "tests.log_format"
    assert record["time"]
    assert (record["escalation"], record["error"], record["attempt"]) == (42, "http_500", 5)
    assert "request" not in record
    assert "203.0.113.9" not in json.dumps(record)


def test_json_keeps_the_traceback_in_the_object():
    record = json.loads(formatted(HearthJsonFormatter(), exc=True))
    assert record["escalation"] == 42
    assert "ValueError: boom" in record["exc_info"]


@pytest.fixture
def configured(request) -> Iterator[io.StringIO]:
    """Hearth's LOGGING for one format, with the console handler writing to a buffer."""
    config = logging_config(log_format=request.param, level="INFO")
    logging.config.dictConfig(config)
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    yield stream
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@pytest.mark.django_db
@pytest.mark.parametrize("configured", ["plain", "json"], indirect=True)
def test_fallback_giving_up_is_logged_with_the_escalation_and_the_error(configured, settings):
    settings.HEARTH_FALLBACK_ATTEMPTS = 1
    escalation = crisis_escalation()
    fallback.record_result(fallback.FallbackJob(escalation_id=escalation.pk, attempt=1,
                                                payload={}), "http_503")
    line = next(line for line in configured.getvalue().splitlines() if "gave up" in line)
    if line.startswith("{"):
        record = json.loads(line)
        assert (record["escalation"], record["error"]) == (escalation.pk, "http_503")
    else:
        assert f"escalation={escalation.pk} error=http_503 attempt=1" in line


def test_settings_refuse_an_unknown_log_format(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=Path(__file__).resolve().parents[2],
        env={"DJANGO_SETTINGS_MODULE": "hearth.settings", "HEARTH_LOG_FORMAT": "xml",
             "HEARTH_STATE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert "HEARTH_LOG_FORMAT" in result.stderr
