"""Log set-up for long-running processes: text lines, or one JSON object per line
(`AMC_LOG_FORMAT=json`) carrying the execution id, instance and user where known.

What a line is about is bound once with `bound(execution_id=..., ...)` around a step (a context
variable, so every line logged inside, by any module, and in tasks started inside, carries
it); nothing needs passing to the logging calls themselves.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_context: ContextVar[dict[str, str] | None] = ContextVar("amc_log_context", default=None)
# Attributes every LogRecord has; anything else on a record came through `extra=`.
# (uvicorn's `color_message` is its message again, with terminal colours.)
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


@contextmanager
def bound(**fields: str | None) -> Iterator[None]:
    """Lines logged inside carry these fields (None values are left out)."""
    merged = {**(_context.get() or {}), **{k: v for k, v in fields.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


def context() -> dict[str, str]:
    """The fields bound where the caller runs."""
    return dict(_context.get() or {})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the bound
    fields, any `extra=` fields, and the traceback as text when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(context())
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(log_format: str = "text", level: int = logging.INFO) -> None:
    """Our lines on stderr in `log_format` (`text` or `json`), replacing the root's handlers.

    httpx's line per request stays off: the audit log records every AMC call already, and a
    formatted line per status check is a worker's largest CPU cost after the calls themselves.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for chatty in ("httpx", "httpcore", "alembic"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
