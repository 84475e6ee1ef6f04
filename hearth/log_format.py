"""Log formatters: plain lines for a terminal, JSON lines for a log collector
(HEARTH_LOG_FORMAT). Both keep the `extra` fields a log call adds ("fallback gave up" says
which escalation and why).

Only scalar extras are written (numbers, short codes, booleans): objects such as the request
Django's loggers attach could carry more than we mean to keep. Callers never pass addresses,
emails, handles or message text as extras (docs/operations.md, "Privacy").
"""

from __future__ import annotations

import logging
from typing import Any, Final

# Attributes every LogRecord has; anything else on a record came from `extra`.
STANDARD_ATTRIBUTES: Final = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message", "asctime", "taskName"}
SCALARS: Final = (str, int, float, bool)
# The fields of every line, in both formats.
LINE_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s %(message)s"


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The record's `extra` fields that are safe to write, in the order they were given."""
    return {key: value for key, value in record.__dict__.items()
            if key not in STANDARD_ATTRIBUTES and not key.startswith("_")
            and (value is None or isinstance(value, SCALARS))}


class PlainFormatter(logging.Formatter):
    """`time LEVEL logger message key=value …`."""

    def __init__(self, fmt: str = LINE_FORMAT, **kwargs: Any) -> None:
        super().__init__(fmt, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = extra_fields(record)
        if not extras:
            return line
        pairs = " ".join(f"{key}={_plain(value)}" for key, value in extras.items())
        head, newline, rest = line.partition("\n")  # a traceback stays below the line
        return f"{head} {pairs}{newline}{rest}"


def _plain(value: object) -> str:
    text = str(value)
    return repr(text) if (not text or any(c.isspace() or c in "=\"'" for c in text)) else text


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """Django's LOGGING for HEARTH_LOG_FORMAT ("plain" or "json")."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"()": "hearth.log_format.PlainFormatter"},
            "json": {"()": "hearth.log_json.HearthJsonFormatter"},
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": log_format}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's request logger prints the path of failing requests; paths carry no text.
            "django.request": {"level": "ERROR"},
            "daphne": {"level": "WARNING"},
        },
    }
