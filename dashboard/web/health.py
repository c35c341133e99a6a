"""The health check containers and load balancers call: is this process serving, and does it
reach its database?"""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

log = logging.getLogger(__name__)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    # No login and no TLS redirect (settings.SECURE_REDIRECT_EXEMPT): the caller is a probe on
    # the container's own loopback, which speaks plain HTTP to daphne.
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        log.warning("health check: the database does not answer: %s", exc)
        return JsonResponse({"database": "unreachable"}, status=503)
    return JsonResponse({"database": "ok"})
