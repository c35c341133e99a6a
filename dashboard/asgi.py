"""The ASGI entry point daphne serves: HTTP through Django, websockets through Channels.

Embedded mode also starts the dramatiq worker threads and the scheduler's thread here, on
the first request, and every call records the running loop so worker threads can hand live
messages to it (see dashboard/runs/live.py).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
django_asgi_app = get_asgi_application()  # sets Django up before the imports below

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from dashboard.routing import websocket_urlpatterns  # noqa: E402
from dashboard.runs import live  # noqa: E402
from dashboard.runs.actors import start_embedded_worker  # noqa: E402
from dashboard.scheduling.scheduler import start_embedded_scheduler  # noqa: E402

Scope = dict[str, Any]


class EmbeddedRuntime:
    """Binds the serving loop for live messages; starts embedded workers on first use."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.started = False

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        live.bind_loop(asyncio.get_running_loop())
        if not self.started:
            self.started = True
            if settings.EMBEDDED and settings.EMBEDDED_WORKER_THREADS > 0:
                await asyncio.to_thread(_start_worker)
        await self.app(scope, receive, send)


def _start_worker() -> None:
    if start_embedded_worker() is not None:
        start_embedded_scheduler()  # its jobs need the workers just started


application = EmbeddedRuntime(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": AllowedHostsOriginValidator(
                AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
            ),
        }
    )
)
