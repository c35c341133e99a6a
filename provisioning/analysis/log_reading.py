"""Reading an agent's CloudWatch log lines: filtered, paged, with request id and level.

Lambda frames every invocation with `START RequestId: <id>`, `END RequestId: <id>` and
`REPORT RequestId: <id> Duration: ...` lines; the Python runtime's logger writes
`[LEVEL]\t<time>\t<id>\t<message>`, while a plain `print` carries no id at all. So the id
of a line is read from the line when it has one, else from the last START seen in the same
log stream (a stream runs one invocation at a time), which gives an agent's printed lines
the id of the request that printed them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from provisioning.aws import AwsContext
from provisioning.errors import aws_errors, found_or_none

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
MAX_LIMIT = 1000
MAX_PAGES = 20
"""A bound on the calls one read makes: a busy hour of a busy agent is many pages."""

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_FRAME = re.compile(rf"^(START|END|REPORT) RequestId: ({_UUID})", re.IGNORECASE)
_RUNTIME = re.compile(rf"^\[(\w+)\]\s+\S+\s+({_UUID})\s", re.IGNORECASE)
_ANY_ID = re.compile(_UUID, re.IGNORECASE)
_LEVEL_WORDS = {"WARN": "WARNING", "CRITICAL": "ERROR", "FATAL": "ERROR", "TRACE": "DEBUG"}
_ERROR_SIGNS = ("Traceback (most recent call last)", "Task timed out", "Runtime exited")


@dataclass(frozen=True)
class LogLine:
    at_ms: int
    """When CloudWatch says the line was written, in ms since the epoch."""
    stream: str
    message: str
    request_id: str
    level: str
    event_id: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LogPage:
    lines: list[LogLine]
    next_token: str | None
    """Where to go on reading (older pages were read first), None at the end."""
    missing: bool = False
    """The log group does not exist (yet): the function has never written a line."""


def level_of(message: str) -> str:
    """The line's level: the runtime's `[LEVEL]` prefix, a JSON log's `level`, an error's
    tell-tale text; INFO for everything else (prints, START/END/REPORT)."""
    text = message.lstrip()
    match = _RUNTIME.match(text) or re.match(r"^\[(\w+)\]", text)
    if match:
        return _level_word(match.group(1))
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("level"), str):
            return _level_word(data["level"])
    if any(sign in text for sign in _ERROR_SIGNS):
        return "ERROR"
    return "INFO"


def _level_word(word: str) -> str:
    upper = word.upper()
    upper = _LEVEL_WORDS.get(upper, upper)
    return upper if upper in LEVELS else "INFO"


def request_id_in(message: str) -> str:
    """The request id a line names itself (START/END/REPORT or a runtime log line)."""
    text = message.lstrip()
    match = _FRAME.match(text) or _RUNTIME.match(text)
    if match:
        return match.group(2).lower()
    if text.startswith("{"):  # a JSON log line of the runtime's structured logging
        found = _ANY_ID.search(text)
        return found.group(0).lower() if found and '"requestId"' in text else ""
    return ""


class _Framer:
    """Follows START/END per stream so that unframed lines get their request's id."""

    def __init__(self) -> None:
        self.open: dict[str, str] = {}

    def line(self, event: Mapping[str, Any]) -> LogLine:
        message = str(event.get("message", "")).rstrip("\n")
        stream = str(event.get("logStreamName", ""))
        named = request_id_in(message)
        frame = _FRAME.match(message.lstrip())
        if frame and frame.group(1).upper() == "START":
            self.open[stream] = named
        request_id = named or self.open.get(stream, "")
        if frame and frame.group(1).upper() in ("END", "REPORT"):
            self.open.pop(stream, None)
        return LogLine(
            at_ms=int(event.get("timestamp", 0)),
            stream=stream,
            message=message,
            request_id=request_id,
            level=level_of(message),
            event_id=str(event.get("eventId", "")),
        )


def filter_pattern(text: str) -> str:
    """A CloudWatch pattern that matches the text as typed: one quoted term (a quote
    inside cannot be escaped in a pattern, so it is left out)."""
    cleaned = text.replace('"', " ").strip()
    return f'"{cleaned}"' if cleaned else ""


def read_logs(
    aws: AwsContext,
    log_group: str,
    *,
    start: int,
    end: int | None = None,
    filter_text: str = "",
    level: str = "",
    limit: int = 200,
    next_token: str | None = None,
    newest: bool = True,
) -> LogPage:
    """Lines of `log_group` from `start` to `end` (ms since the epoch), oldest first.

    `newest` keeps the last `limit` lines of the range (what a log tab shows first);
    otherwise the first `limit` from `next_token` on, with the token to go on from.
    `level` keeps lines of that level only (CloudWatch cannot filter by a derived level).
    """
    limit = max(1, min(limit, MAX_LIMIT))
    wanted = level.upper()
    kept: list[LogLine] = []
    framer = _Framer()
    token = next_token
    pattern = filter_pattern(filter_text)
    try:
        # Reading forward, each call asks for no more than is still wanted, so that the
        # token it returns goes on exactly after the last line kept.
        size = None if newest else (lambda: limit - len(kept))
        for events, after in _pages(aws, log_group, start, end, pattern, next_token, size):
            token = after
            for event in events:
                line = framer.line(event)
                if not wanted or line.level == wanted:
                    kept.append(line)
            kept = kept[-limit:]
            if not newest and len(kept) >= limit:
                break
    except _GroupMissing:
        return LogPage([], None, missing=True)
    return LogPage(kept, token)


class _GroupMissing(Exception):
    pass


def _pages(
    aws: AwsContext,
    log_group: str,
    start: int,
    end: int | None,
    pattern: str,
    token: str | None,
    size: Callable[[], int] | None,
) -> Iterator[tuple[list[Mapping[str, Any]], str | None]]:
    client = aws.client("logs")
    for _ in range(MAX_PAGES):
        request: dict[str, Any] = {"logGroupName": log_group, "startTime": start}
        if size is not None:
            request["limit"] = max(1, size())
        if end is not None:
            request["endTime"] = end
        if pattern:
            request["filterPattern"] = pattern
        if token:
            request["nextToken"] = token
        with aws_errors("reading log lines", log_group):
            reply = found_or_none(client.filter_log_events, **request)
        if reply is None:
            raise _GroupMissing(log_group)
        token = reply.get("nextToken") or None
        events = sorted(reply.get("events", []), key=lambda e: int(e.get("timestamp", 0)))
        yield events, token
        if token is None:
            return
