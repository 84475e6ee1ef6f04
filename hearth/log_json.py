"""The JSON log formatter (HEARTH_LOG_FORMAT=json), apart from hearth/log_format.py so the
plain format never imports python-json-logger."""

from __future__ import annotations

import logging
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from hearth.log_format import LINE_FORMAT, SCALARS, STANDARD_ATTRIBUTES


class HearthJsonFormatter(JsonFormatter):
    """One JSON object a line: time, level, logger, message and the scalar extras."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", LINE_FORMAT)
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level",
                                                 "name": "logger"})
        super().__init__(*args, **kwargs)

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord,
                   message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        for key, value in list(log_data.items()):
            if key in record.__dict__ and key not in STANDARD_ATTRIBUTES and not (
                    value is None or isinstance(value, SCALARS)):
                del log_data[key]
