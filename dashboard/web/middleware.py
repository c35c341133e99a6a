"""Web-surface guards Django does not ship: a request id for the logs, login rate limiting, a
few headers, the answer when the task queue refuses a run, and no control characters in
addresses, queries or (NUL) form fields.

Failed logins are counted in the cache per (username, client address) and per address,
in one-minute windows; over the limit, the login form answers 429 with a clear message
before any password is checked. The client address is REMOTE_ADDR: behind a proxy,
have it set the real address (daphne --proxy-headers) rather than trusting a header here.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html

from dashboard import logs
from dashboard.json_input import name_problem, text_problem
from dashboard.runs.queue import QueueUnavailable

WINDOW_S = 60
TOO_MANY = (
    "Too many failed log-in attempts for this account from your address. "
    "Wait a minute, then try again."
)


def _limits() -> tuple[int, int]:
    return (
        int(getattr(settings, "LOGIN_ATTEMPTS_PER_MINUTE", 5)),
        int(getattr(settings, "LOGIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS", 30)),
    )


def _address(request: HttpRequest | None) -> str:
    return str((request.META.get("REMOTE_ADDR") if request is not None else "") or "unknown")


def _keys(username: str, address: str) -> tuple[str, str]:
    who = hashlib.sha256(f"{username.strip().lower()}|{address}".encode()).hexdigest()[:32]
    return f"login-failures:user:{who}", f"login-failures:addr:{address}"


def _bump(key: str) -> None:
    cache.add(key, 0, WINDOW_S)  # starts the window; later failures do not extend it
    try:
        cache.incr(key)
    except ValueError:  # the window closed between add and incr
        cache.set(key, 1, WINDOW_S)


def blocked(username: str, address: str) -> bool:
    per_user, per_address = _limits()
    user_key, address_key = _keys(username, address)
    return (
        int(cache.get(user_key) or 0) >= per_user or int(cache.get(address_key) or 0) >= per_address
    )


@receiver(user_login_failed)
def _count_failure(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any
) -> None:
    for key in _keys(str(credentials.get("username", "")), _address(request)):
        _bump(key)


@receiver(user_logged_in)
def _forget_failures(sender: Any, request: HttpRequest | None, user: Any, **_: Any) -> None:
    cache.delete(_keys(user.get_username(), _address(request))[0])


# A proxy's id (X-Request-ID) is kept so its access log and ours match; anything else that
# arrives in that header is replaced, never copied into a log line.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class RequestIdMiddleware:
    """Every request gets an id: on the log lines made while answering it and in the answer's
    X-Request-ID header, so a user's report leads to the lines."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = logs.request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            logs.request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class LoginRateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path == reverse("login"):
            username = str(request.POST.get("username", ""))[:150]
            if blocked(username, _address(request)):
                messages.error(request, TOO_MANY)
                form = AuthenticationForm(request, initial={"username": username})
                context = {"form": form, "next": request.POST.get("next", "")}
                return render(request, "registration/login.html", context, status=429)
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Headers SecurityMiddleware does not set: no powerful browser features, no caching
    of pages that show a team's infrastructure, resources only for this origin."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            response.headers.setdefault("Cache-Control", "no-store")
        return response


class QueueUnavailableMiddleware:
    """Every way of starting a run ends in `queue.enqueue`; when the broker refuses the
    message there (Redis down) the run is already FAILED with the reason and its stage free.
    Here, once for every page and JSON endpoint, the user is told so with a 503: JSON for
    callers that ask for it (the canvas), a page for a browser."""

    RETRY_AFTER_S = 30

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, QueueUnavailable):
            return None
        response: HttpResponse
        if _wants_json(request):
            response = JsonResponse(
                {"error": exception.message, "deployment": exception.deployment_id}, status=503
            )
        else:
            context = {"message": exception.message, "deployment_id": exception.deployment_id}
            response = render(request, "deployments/queue_unavailable.html", context, status=503)
        response["Retry-After"] = str(self.RETRY_AFTER_S)
        return response


def _wants_json(request: HttpRequest) -> bool:
    if request.content_type == "application/json":
        return True
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RefuseControlCharactersMiddleware:
    """A URL or query with a control character, or a form field with NUL, is refused with
    400 before any view runs. No page needs them, and PostgreSQL cannot even compare text
    holding NUL: a lookup by such a name would otherwise end in a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = _request_problem(request)
        if problem:
            return _bad_request(request, problem)
        return self.get_response(request)


def _request_problem(request: HttpRequest) -> str | None:
    if name_problem(request.path_info):
        return "the address may not contain control characters"
    for key, value in request.GET.lists():
        if name_problem(key) or any(name_problem(v) for v in value):
            return f"the query parameter {key!r} may not contain control characters"
    if request.method == "POST" and request.content_type in FORM_TYPES:
        for key, value in request.POST.lists():
            if text_problem(key) or any(text_problem(v) for v in value):
                return f"the form field {key!r} may not contain NUL characters"
    return None


def _bad_request(request: HttpRequest, problem: str) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"error": problem, "field": None}, status=400)
    page = format_html('<!doctype html><title>Bad request</title><p role="alert">{}</p>', problem)
    return HttpResponse(page, status=400)
