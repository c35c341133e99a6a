"""Live progress of one deployment over a websocket: /ws/deployments/<id>/?after=<seq>.

On connect the consumer checks the session user may see the deployment (else it
accepts and closes with code 4403, so the browser can tell "forbidden" from "network"),
joins the group, replays every stored event with seq > after, then streams. Events
are de-duplicated by seq, so one racing the replay is not sent twice.

Messages (JSON text frames):
- an event: exactly the DESIGN.md event JSON, always with "seq":
  {"seq": 17, "deployment": 42, "at": "...Z", "resource": "agent/support/function" | null,
   "type": "lambda:function", "action": "CREATE", "status": "started|succeeded|failed|skipped|info",
   "message": "...", "elapsed_ms": 812}
  Deployment-level events have "resource": null and status "started" at the start and
  "succeeded" | "failed" | "cancelled" at the end. The engine's opening line of a deploy,
  destroy or sweep (status "info", "plan: 3 create, 1 no change") also has "total": the
  number of resources the run will touch (DeploymentEvent.as_message).
- the final message, sent once when the run has ended (also right after the replay if it
  had already ended); it has no "seq":
  {"type": "deployment", "deployment": 42, "kind": "deploy", "status": "SUCCEEDED" |
   "FAILED" | "CANCELLED", "counts": {"succeeded", "failed", "skipped", "unchanged",
   "total"}, "summary": {"CREATE": 2, ...} (the plan's), "error": "", "duration_s": 12.3,
   "finished_at": "...Z", "last_seq": 31}
  The server keeps the socket open after it; the client may close it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import PermissionDenied
from django.http import Http404

from dashboard.runs import live
from dashboard.runs import selectors as run_selectors
from dashboard.runs.models import Deployment, DeploymentEvent
from dashboard.runs.progress import final_message
from dashboard.runs.socket_access import AccessGuard

FORBIDDEN = 4403


@database_sync_to_async
def _load(user: Any, deployment_id: int) -> Deployment | None:
    try:
        return run_selectors.deployment_for_user(user=user, deployment_id=deployment_id)
    except (Http404, PermissionDenied):
        return None


@database_sync_to_async
def _replay(
    deployment: Deployment, after: int
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Status first, then events: an ended run's events are all committed before its status."""
    deployment.refresh_from_db()
    ended = not deployment.is_active
    events = run_selectors.deployment_events(deployment=deployment, after=after)
    if not ended:
        return events, None
    last = DeploymentEvent.objects.filter(deployment=deployment).order_by("-seq").first()
    return events, final_message(deployment, last.seq if last else 0)


def _after(query_string: bytes) -> int:
    values = parse_qs(query_string.decode("latin-1")).get("after", ["0"])
    try:
        return max(0, int(values[-1]))
    except ValueError:
        return 0


class DeploymentConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.group = ""
        self.last_seq = _after(self.scope.get("query_string", b""))
        self.final_sent = False
        user = self.scope.get("user")
        deployment_id = int(self.scope["url_route"]["kwargs"]["deployment_id"])
        deployment = await _load(user, deployment_id) if user is not None else None
        await self.accept()
        if deployment is None:
            await self.close(code=FORBIDDEN)
            return
        self.group = live.group_name(deployment.pk)
        self.guard = AccessGuard(self, deployment.pk)  # a removed member stops receiving
        await self.channel_layer.group_add(self.group, self.channel_name)
        events, final = await _replay(deployment, self.last_seq)
        for event in events:
            await self._send_event(event)
        if final is not None:
            await self._send_final(final)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "guard", None) is not None:
            self.guard.stop()
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def deployment_event(self, message: dict[str, Any]) -> None:
        await self._send_event(message["event"])

    async def deployment_finished(self, message: dict[str, Any]) -> None:
        await self._send_final(message["final"])

    async def _send_event(self, event: dict[str, Any]) -> None:
        if event["seq"] <= self.last_seq or not await self.guard.allowed():
            return
        self.last_seq = event["seq"]
        await self.send_json(event)

    async def _send_final(self, final: dict[str, Any]) -> None:
        if not self.final_sent and await self.guard.allowed():
            self.final_sent = True
            await self.send_json(final)
