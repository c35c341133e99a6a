"""Keeps an open websocket honest: its user must still be logged in and still see the run.

The consumer checks access once on connect; `AccessGuard` checks again every
WEBSOCKET_ACCESS_RECHECK_S seconds (and before sending when the last check is older),
so a member who logs out or is removed stops receiving within that time: the socket is
closed with 4403. The session is read afresh from its store each time, so a logout in
another tab (which deletes the session) is seen.
"""

from __future__ import annotations

import asyncio
import time
from importlib import import_module
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404

from dashboard.runs import selectors as run_selectors

FORBIDDEN = 4403


def recheck_s() -> float:
    return float(getattr(settings, "WEBSOCKET_ACCESS_RECHECK_S", 30))


def session_user(scope: dict[str, Any]) -> Any | None:
    """The socket's user, read afresh, while their session still stands (sync: ORM)."""
    user = scope.get("user")
    session = scope.get("session")
    if user is None or not user.is_authenticated or session is None or not session.session_key:
        return None
    store = import_module(settings.SESSION_ENGINE).SessionStore(session.session_key)
    if str(store.get(SESSION_KEY, "")) != str(user.pk):
        return None  # logged out (the session is gone) or someone else logged in
    return get_user_model().objects.filter(pk=user.pk, is_active=True).first()


@database_sync_to_async
def still_allowed(scope: dict[str, Any], deployment_id: int) -> bool:
    fresh = session_user(scope)
    if fresh is None:
        return False
    try:
        run_selectors.deployment_for_user(user=fresh, deployment_id=deployment_id)
    except (Http404, PermissionDenied):
        return False
    return True


class AccessGuard:
    def __init__(self, consumer: Any, deployment_id: int) -> None:
        self.consumer = consumer
        self.deployment_id = deployment_id
        self.ok = True
        self.checked_at = time.monotonic()
        self.task = asyncio.ensure_future(self._watch())

    async def _watch(self) -> None:
        while self.ok:
            await asyncio.sleep(recheck_s())
            await self.recheck()

    async def recheck(self) -> bool:
        self.ok = await still_allowed(self.consumer.scope, self.deployment_id)
        self.checked_at = time.monotonic()
        if not self.ok:
            await self.consumer.close(code=FORBIDDEN)
        return self.ok

    async def allowed(self) -> bool:
        if self.ok and time.monotonic() - self.checked_at >= recheck_s():
            return await self.recheck()
        return self.ok

    def stop(self) -> None:
        self.task.cancel()
