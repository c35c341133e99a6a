"""A run's events: as a JSON list after a sequence number, or as Server-Sent Events.

The stream sends every event after `after` (or the `Last-Event-ID` a reconnecting client
sends), then polls the events table and sends new ones as they commit, one `data:` line of
JSON each with `id:` = seq, and closes once the run has ended and its last event is out.
It is an async iterator, so daphne serves it without holding a thread between polls.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, StreamingHttpResponse
from ninja import Router

from dashboard.api.core import run_for
from dashboard.runs import selectors as run_selectors
from dashboard.runs.models import Deployment

router = Router(tags=["runs"])
POLL_S = 0.5
KEEPALIVE_S = 15.0
SSE = "text/event-stream"


@router.get(
    "/runs/{run_id}/events",
    url_name="run_events",
    openapi_extra={
        "responses": {
            200: {
                "description": "The events after `after`: JSON, or with `Accept: "
                "text/event-stream` a stream that closes when the run ends.",
                "content": {"application/json": {}, SSE: {}},
            }
        }
    },
)
def run_events(request: HttpRequest, run_id: int, after: int = 0) -> Any:
    run = run_for(request, run_id)
    if SSE not in request.headers.get("Accept", ""):
        events = run_selectors.deployment_events(deployment=run, after=after)
        done = run.status not in Deployment.ACTIVE  # read first: no event can follow these
        return {"id": run.pk, "status": run.status, "done": done, "events": events}
    resume = request.headers.get("Last-Event-ID", "")
    start = int(resume) if resume.isdigit() else after
    response = StreamingHttpResponse(stream(run.pk, start), content_type=SSE)
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # a proxy in front must not hold events back
    return response


def frame(event: dict[str, Any]) -> str:
    return f"id: {event['seq']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n"


def _read(run_id: int, after: int) -> tuple[list[dict[str, Any]], bool]:
    """Events after `after`, and whether the run had ended before they were read (so none
    can follow them: a run's status and its final event commit together)."""
    run = Deployment.objects.get(pk=run_id)
    ended = run.status not in Deployment.ACTIVE
    return run_selectors.deployment_events(deployment=run, after=after), ended


async def stream(run_id: int, after: int) -> AsyncIterator[str]:
    read = sync_to_async(_read)
    quiet_s = 0.0
    yield "retry: 2000\n\n"
    while True:
        events, ended = await read(run_id, after)
        for event in events:
            after = int(event["seq"])
            yield frame(event)
        if ended:
            return
        if events:
            quiet_s = 0.0
        elif quiet_s >= KEEPALIVE_S:
            quiet_s = 0.0
            yield ": still running\n\n"
        await asyncio.sleep(POLL_S)
        quiet_s += POLL_S
