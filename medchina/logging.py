"""Structured logging: one JSON object a line, tagged with the request id.

Health data must never reach a log. We log paths, status codes, ids and references —
never request bodies, form values or file names — and exceptions keep only their type
and traceback frames (Django's own request logger does not include POST data).
"""

from __future__ import annotations

import contextvars
import json
import logging
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    # Attributes every LogRecord has; anything else was passed through ``extra=``.
    _standard = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}
    # ``extra`` keys that may carry request objects or bodies are dropped, not logged.
    _dropped = {"request", "server_time"}

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key, value in vars(record).items():
            if key in self._standard or key in self._dropped or key.startswith("_"):
                continue
            entry[key] = (
                value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
            )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
