"""Where the change being made comes from: set once per request (or command) and read when an
audit entry is written, so the services need not pass the request down."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

WEB, API, CLI, WORKER = "web", "api", "cli", "worker"

# Outside a request the change comes from a management command (a worker says so itself).
source: contextvars.ContextVar[str] = contextvars.ContextVar("audit_source", default=CLI)
address: contextvars.ContextVar[str] = contextvars.ContextVar("audit_address", default="")


@contextmanager
def origin(*, where: str, client_address: str = "") -> Iterator[None]:
    """Entries written inside this block say they came from `where` (and that address)."""
    source_token = source.set(where)
    address_token = address.set(client_address)
    try:
        yield
    finally:
        source.reset(source_token)
        address.reset(address_token)
