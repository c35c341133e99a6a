"""Telling the audit log where a change comes from: a page (web), the API (api), a dramatiq
worker (worker); anything else is a management command (cli, the default)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dramatiq
from django.http import HttpRequest, HttpResponse

from dashboard.audit import context


class AuditOriginMiddleware:
    """The request's source and client address (REMOTE_ADDR: see LoginRateLimitMiddleware
    on proxies) for the entries written while answering it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where = context.API if request.path.startswith("/api/") else context.WEB
        with context.origin(where=where, client_address=request.META.get("REMOTE_ADDR") or ""):
            return self.get_response(request)


class AuditWorkerMiddleware(dramatiq.Middleware):
    """Changes a worker makes (a scheduled drift check starting a refresh) say "worker"."""

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        context.source.set(context.WORKER)
