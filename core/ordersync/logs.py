"""Logging for ordersync's commands: text or JSON lines on stderr, every record scrubbed of secrets.

:func:`setup_logging` puts one handler on the root logger, so that records of every logger (ours,
the plugins', uvicorn's, httpx's) pass the same :class:`RedactSecrets` filter: the resolved
credential values of the configuration (``Settings.scrub``) are masked as ``***`` in the message,
its arguments, the traceback and any extra field before anything is written.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

LogFormat = Literal["text", "json"]
Scrub = Callable[[str], str]

#: Attributes every ``LogRecord`` has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "color_message",
}
#: Loggers that say too much at INFO for a daemon (httpx logs every request line, alembic
#: its context on every start).
_QUIET = ("httpx", "httpcore", "uvicorn.access", "alembic")


class RedactSecrets(logging.Filter):
    """Masks secret values in a record: message and arguments, traceback, stack, extra fields."""

    def __init__(self, scrub: Scrub) -> None:
        super().__init__()
        self.scrub = scrub

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad %-format must not lose the record, nor leak its arguments
            message = f"{record.msg!s} (unformattable arguments)"
        record.msg = self.scrub(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, self.scrub(value))
        return True


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(logging.Formatter):
    """``2026-11-20T10:00:00.000Z INFO ordersync.daemon: message key=value ...``."""

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        extras = " ".join(f"{key}={value}" for key, value in _extras(record).items())
        line = f"{_timestamp(record)} {record.levelname} {record.name}: {record.getMessage()}"
        if extras:
            line += f" [{extras}]"
        if record.exc_text:
            line += "\n" + record.exc_text
        if record.stack_info:
            line += "\n" + record.stack_info
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message``, extra fields,
    and ``exception`` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        data: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_extras(record),
        }
        if record.exc_text:
            data["exception"] = record.exc_text
        if record.stack_info:
            data["stack"] = record.stack_info
        return json.dumps(data, default=str, ensure_ascii=False)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in vars(record).items()
            if key not in _STANDARD and not key.startswith("_")}


class _OrdersyncHandler(logging.StreamHandler[TextIO]):
    """The handler :func:`setup_logging` installs (found again and replaced on a second call)."""


def setup_logging(
    log_format: LogFormat = "text", scrub: Scrub | None = None, *, level: str | int = "INFO",
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) as text or JSON lines, secrets masked.

    Calling it again replaces the handler it installed before (the format or the secrets may
    have changed); handlers others installed are left alone.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _OrdersyncHandler)]:
        root.removeHandler(old)
    handler = _OrdersyncHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(RedactSecrets(scrub or (lambda text: text)))
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    return handler
