"""Structured JSON logs, one object per line, each carrying the request's correlation id.

Only what is passed as ``fields`` is logged: callers pass identifiers that mean nothing outside
the system (patient_id, document_id, role), never an INS, a name or any content.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from typing import Any, TextIO

request_id: ContextVar[str] = ContextVar("request_id", default="-")

_logger = logging.getLogger("mes")


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "level": record.levelname,
            "message": record.getMessage(),
            "request_id": request_id.get(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info and record.exc_info[0] is not None:
            # The exception's type only: its text could quote the offending input. For AWS
            # errors, the service's error code and operation (no data) say what failed.
            error: Any = record.exc_info[1]  # botocore's errors carry response and operation_name
            entry["exception"] = record.exc_info[0].__name__
            if hasattr(error, "response") and hasattr(error, "operation_name"):
                entry["aws_error"] = error.response.get("Error", {}).get("Code")
                entry["aws_operation"] = error.operation_name
        return json.dumps(entry, default=str)


class _StdoutHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stdout is now (Lambda ships stdout to CloudWatch; tests capture it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def _configure() -> None:
    if not _logger.handlers:
        handler = _StdoutHandler()
        handler.setFormatter(_JsonFormatter())
        _logger.addHandler(handler)
        _logger.setLevel(logging.INFO)
        _logger.propagate = False  # Lambda's root handler would print every line twice


_configure()


def info(message: str, **fields: Any) -> None:
    _logger.info(message, extra={"fields": fields})


def warning(message: str, **fields: Any) -> None:
    _logger.warning(message, extra={"fields": fields})


def error(message: str, exc_info: bool = False, **fields: Any) -> None:
    _logger.error(message, exc_info=exc_info, extra={"fields": fields})
