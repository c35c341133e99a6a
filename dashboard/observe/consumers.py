"""Follow an agent's log live: /ws/logs/<project>/<stage>/<agent>/?after=<ms>&filter=&level=.

On connect the consumer checks the session user may see the project (viewers may), accepts,
and closes with 4403 when not, or 4404 when the agent is not deployed to the stage. Then it
polls CloudWatch Logs every LOG_FOLLOW_POLL_S seconds from `after` (the newest line the page
already shows) and sends what is new, oldest first:
  {"type": "lines", "lines": [{"at_ms", "stream", "message", "request_id", "level",
                               "event_id"}, ...]}
  {"type": "error", "message": "..."}   a read failed; the next poll tries again
The user's access is checked again before each send: a removed member stops receiving.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404

from dashboard.observe import reading
from dashboard.observe.follow import Follower
from dashboard.projects import selectors as project_selectors
from dashboard.runs.socket_access import FORBIDDEN, session_user

NOT_DEPLOYED = 4404


def poll_s() -> float:
    return float(settings.LOG_FOLLOW_POLL_S)


def _query(scope: dict[str, Any]) -> dict[str, str]:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return {key: items[-1] for key, items in values.items()}


def _allowed_user(scope: dict[str, Any], project: str) -> Any | None:
    user = session_user(scope)
    if user is None:
        return None
    try:
        project_selectors.project_for_user(user=user, name=project)
    except (Http404, PermissionDenied):
        return None
    return user


@database_sync_to_async
def _follower(scope: dict[str, Any], kwargs: dict[str, str]) -> Follower | int:
    """The follower of the asked agent's log, or the close code that refuses it."""
    user = _allowed_user(scope, kwargs["project"])
    if user is None:
        return FORBIDDEN
    project, _role = project_selectors.project_for_user(user=user, name=kwargs["project"])
    stage = project.stages.filter(name=kwargs["stage"]).first()
    if stage is None:
        return NOT_DEPLOYED
    function = reading.agent_function(stage=stage, agent=kwargs["agent"])
    if function is None:
        return NOT_DEPLOYED
    query = _query(scope)
    try:
        after = max(0, int(query.get("after", "0")))
    except ValueError:
        after = 0
    return Follower(
        aws=reading.stage_reader(stage, who=user.get_username()),
        function=function,
        after_ms=after,
        filter_text=query.get("filter", "")[:200],
        level=query.get("level", "").upper(),
    )


@database_sync_to_async
def _still_allowed(scope: dict[str, Any], project: str) -> bool:
    return _allowed_user(scope, project) is not None


class LogFollowConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.task: asyncio.Task[None] | None = None
        self.kwargs = dict(self.scope["url_route"]["kwargs"])
        follower = await _follower(self.scope, self.kwargs)
        await self.accept()
        if isinstance(follower, int):
            await self.close(code=follower)
            return
        self.task = asyncio.ensure_future(self._follow(follower))

    async def disconnect(self, code: int) -> None:
        if self.task is not None:
            self.task.cancel()

    async def _follow(self, follower: Follower) -> None:
        # Off the event loop and off the ORM's thread: a CloudWatch call can take seconds.
        poll = sync_to_async(follower.poll, thread_sensitive=False)
        while True:
            lines = await poll()
            if not await _still_allowed(self.scope, self.kwargs["project"]):
                await self.close(code=FORBIDDEN)
                return
            if follower.error:
                await self.send_json({"type": "error", "message": follower.error})
            elif lines:
                await self.send_json({"type": "lines", "lines": lines})
            await asyncio.sleep(poll_s())
