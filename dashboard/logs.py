"""Log lines an operator can search: time, level, logger, and the run and request they belong to.

Services mode writes one JSON object a line (for a log pipeline); embedded mode writes the
same fields as a readable line. `LOG_FORMAT=json|text` overrides the choice. The run id and
the request id travel in context variables set around a run (`run_context`) and a request
(`web.middleware.RequestIdMiddleware`); threads a run starts carry them by copying the context
(`in_this_context`). Secrets were already redacted when the record was made
(`access.secrets.install_log_redaction`), and only the fields below are written: whatever a
caller passes in `extra` stays out.
"""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
run_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("run_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s"


@contextmanager
def run_context(deployment_id: int) -> Iterator[None]:
    token = run_id.set(deployment_id)
    try:
        yield
    finally:
        run_id.reset(token)


def in_this_context[**P, T](fn: Callable[P, T]) -> Callable[P, T]:
    """`fn` run, on whichever thread, with the context variables of the caller's thread now:
    a new thread starts with none of them."""
    context = contextvars.copy_context()

    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        return context.copy().run(fn, *args, **kwargs)

    return call


class ContextFilter(logging.Filter):
    """Puts the run id and request id on every record (an `extra=` value wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        run = getattr(record, "run_id", None) or run_id.get()
        # Django logs a 4xx/5xx answer after the middleware has returned, with the request:
        # the id the middleware put on it stands in for the context's.
        request = (
            getattr(record, "request_id", None)
            or getattr(getattr(record, "request", None), "request_id", None)
            or request_id.get()
        )
        record.run_id, record.request_id = run, request
        parts = [f"run={run}"] if run is not None else []
        parts += [f"request={request}"] if request else []
        record.context = f" [{' '.join(parts)}]" if parts else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ms), level, logger, message, run_id, request_id,
    and the traceback as `exc` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ("run_id", "request_id"):
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            # exc_text holds the redacted traceback when the redaction changed it.
            entry["exc"] = record.exc_text or self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def text_formatter() -> logging.Formatter:
    return logging.Formatter(TEXT_FORMAT)


def logging_config(*, json_lines: bool, level: str) -> dict[str, Any]:
    """The LOGGING setting: one console handler, filtered for context, in either format."""
    formatter = {"()": JsonFormatter} if json_lines else {"()": text_formatter}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"default": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "filters": ["context"],
                "formatter": "default",
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"botocore": {"level": "WARNING"}, "werkzeug": {"level": "WARNING"}},
    }
