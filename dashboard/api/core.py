"""The API object, its token authentication, its errors and the lookups every operation shares.

Only `Authorization: Bearer sdp_...` authenticates (no session, so no CSRF). Errors are JSON
`{"error": message, "field": name-or-null}` with the services' own words: ServiceError 400,
StaleWrite 409, PermissionDenied 403, not found (or not visible to the token) 404, a broken
token 401, too many requests 429 with Retry-After, the task queue down 503.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as RequestInvalid
from ninja.security import HttpBearer

from dashboard.access import tokens
from dashboard.access.roles import acting_name, acting_token
from dashboard.errors import ServiceError, StaleWrite
from dashboard.projects import selectors as project_selectors
from dashboard.projects.models import Project, Stage
from dashboard.runs import selectors as run_selectors
from dashboard.runs.models import Deployment
from dashboard.runs.queue import QueueUnavailable

log = logging.getLogger("dashboard.api")
NO_TOKEN = "send an API token: Authorization: Bearer sdp_..."


class RateLimited(Exception):
    def __init__(self, wait_s: int) -> None:
        super().__init__(f"too many requests with this token: wait {wait_s} s")
        self.wait_s = wait_s


class TokenAuth(HttpBearer):
    """The bearer token, checked and counted; the services then see `tokens.acting_user`."""

    openapi_bearerFormat = "sdp_ and 40 characters"

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = tokens.token_authenticate(token.strip())
        wait = tokens.rate_limit_wait(found)
        if wait:
            raise RateLimited(wait)
        user = tokens.acting_user(found)
        return user


class Api(NinjaAPI):
    def get_openapi_operation_id(self, operation: Any) -> str:
        # The function's name: stable, readable ids (`project_list`) the parity test maps to.
        return str(operation.view_func.__name__)


api = Api(
    title="Strands Deploy API",
    version="1",
    description=(
        "Everything the dashboard does, for scripts and CI. Authenticate with a personal or "
        "deploy token: `Authorization: Bearer sdp_...` (make one under Tokens in the user menu, "
        "or a deploy token on a project's Members page)."
    ),
    auth=TokenAuth(),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _error(request: HttpRequest, status: int, message: str, **extra: Any) -> HttpResponse:
    return api.create_response(request, {"error": message, **extra}, status=status)


@api.exception_handler(tokens.TokenRefused)
def _token_refused(request: HttpRequest, exc: tokens.TokenRefused) -> HttpResponse:
    response = _error(request, 401, exc.message)
    response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


@api.exception_handler(AuthenticationError)
def _no_token(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(request, 401, NO_TOKEN)
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = _error(request, 429, str(exc))
    response["Retry-After"] = str(exc.wait_s)
    return response


@api.exception_handler(StaleWrite)
def _stale(request: HttpRequest, exc: StaleWrite) -> HttpResponse:
    return _error(request, 409, exc.message, field=exc.field)


@api.exception_handler(ServiceError)
def _refused(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    problems = getattr(exc, "problems", None)
    extra = {"problems": problems} if isinstance(problems, list) else {}
    return _error(request, 400, exc.message, field=exc.field, **extra)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, str(exc) or "your role does not allow this", field=None)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, str(exc) or "not found", field=None)


@api.exception_handler(QueueUnavailable)
def _queue_down(request: HttpRequest, exc: QueueUnavailable) -> HttpResponse:
    response = _error(request, 503, exc.message, deployment=exc.deployment_id)
    response["Retry-After"] = "30"
    return response


@api.exception_handler(RequestInvalid)
def _invalid(request: HttpRequest, exc: RequestInvalid) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    where = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    where = [part for part in where if part != "payload"]
    field = where[0] if where else None
    message = str(first.get("msg", "the request is not valid"))
    return _error(request, 400, f"{'.'.join(where)}: {message}" if where else message, field=field)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, str(exc), field=None)


# --- lookups -------------------------------------------------------------------------------------
def user_of(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


def project_for(request: HttpRequest, name: str, min_role: str = "viewer") -> Project:
    """The project if the token may see it (404 otherwise: its existence is not told), and
    403 when it may see it but its role is too low."""
    project, _role = project_selectors.project_for_user(
        user=user_of(request), name=name, min_role=min_role
    )
    return project


def stage_of(project: Project, name: str) -> Stage:
    return get_object_or_404(project.stages, name=name)


def run_for(request: HttpRequest, run_id: int) -> Deployment:
    return run_selectors.deployment_for_user(user=user_of(request), deployment_id=run_id)


def note_change(request: HttpRequest, what: str) -> None:
    """Every change made through a token is logged with who and which token (never the token)."""
    user = user_of(request)
    token = acting_token(user)
    log.info(
        "%s by %s [token #%s sdp_%s…]",
        what,
        acting_name(user),
        token.pk if token else "-",
        token.prefix if token else "",
    )
