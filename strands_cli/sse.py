"""Server-Sent Events read from lines of text: the run's events, one JSON object each."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any


def parse_events(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The JSON `data` of each message event; comments (keep-alives) and other event types are
    skipped. A message's `id:` is its sequence number, used when the data carries none."""
    data: list[str] = []
    event_id = ""
    kind = "message"
    for line in lines:
        line = line.rstrip("\r\n")
        if not line:
            if data and kind == "message":
                yield _decode("\n".join(data), event_id)
            data, event_id, kind = [], "", "message"
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "id":
            event_id = value
        elif name == "event":
            kind = value or "message"
    if data and kind == "message":
        yield _decode("\n".join(data), event_id)


def _decode(data: str, event_id: str) -> dict[str, Any]:
    event = json.loads(data)
    if not isinstance(event, dict):
        raise ValueError(f"an event that is not a JSON object: {data[:80]}")
    if "seq" not in event and event_id.isdigit():
        event["seq"] = int(event_id)
    return event
