"""Hand channel-layer messages from synchronous threads to an event loop that owns the layer.

Inside daphne (embedded mode) the in-memory layer lives on daphne's loop: a send from a
worker thread through `async_to_sync` would run on another loop, arrive late and race.
So `dashboard.asgi` records daphne's loop (`bind_loop`) and sends go there with
`run_coroutine_threadsafe`. Anywhere else (a `rundramatiq` worker, the CLI) one private
loop thread per process is started, so channels_redis reuses one connection pool
instead of opening a connection per message.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from channels.layers import get_channel_layer

log = logging.getLogger(__name__)
SEND_TIMEOUT_S = 5.0
_bound: asyncio.AbstractEventLoop | None = None
_private: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()


def bind_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Called from the ASGI app: sends go to the loop the consumers listen on."""
    global _bound
    _bound = loop


def group_name(deployment_id: int) -> str:
    return f"deployment.{deployment_id}"


def _private_loop() -> asyncio.AbstractEventLoop:
    global _private
    with _lock:
        if _private is None or _private.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(
                target=loop.run_forever, name="channel-layer-loop", daemon=True
            ).start()
            _private = loop
        return _private


def _target_loop() -> asyncio.AbstractEventLoop:
    bound = _bound
    if bound is not None and bound.is_running() and not bound.is_closed():
        return bound
    return _private_loop()


def group_send(group: str, message: dict[str, Any]) -> None:
    """Deliver `message` to `group`; never raises (live updates are best effort: rows are truth)."""
    layer = get_channel_layer()
    if layer is None:
        return
    loop = _target_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        loop.create_task(layer.group_send(group, message))
        return
    future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
    try:
        future.result(timeout=SEND_TIMEOUT_S)
    except Exception:  # the browser catches up from the rows on reconnect
        log.warning("live update to %s not delivered", group, exc_info=True)
