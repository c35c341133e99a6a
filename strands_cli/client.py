"""The REST API of a Strands Deploy server, one method per operation the CLI uses.

Everything the CLI knows about HTTP is here: the token header, JSON errors turned into
`ApiError`, one retry after a 429 or 503 that says when to come back (`Retry-After`), and the
event stream. Tests give it an `httpx.MockTransport`; a live test gives it a real server.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

from strands_cli import __version__
from strands_cli.sse import parse_events

RETRY_STATUSES = frozenset({429, 503})
LONGEST_WAIT_S = 120.0
"""A Retry-After longer than this is not waited for: the command fails and says when to retry."""
STREAM_SILENCE_S = 60.0
"""How long the event stream may stay silent before it is reopened (a proxy may drop it)."""


class ApiError(Exception):
    """The server answered with an error, or could not be reached (`status` 0)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        field: str | None = None,
        problems: list[dict[str, Any]] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.problems = problems or []
        self.retry_after = retry_after


class StreamUnavailable(Exception):
    """The server answered the event stream with something other than text/event-stream."""


def _segment(value: str) -> str:
    return quote(value, safe="")


class ApiClient:
    def __init__(
        self,
        url: str,
        token: str,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout_s: float = 30.0,
    ) -> None:
        self.url = url
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=url,
            transport=transport,
            timeout=timeout_s,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "User-Agent": f"strands-deploy-cli/{__version__}",
            },
        )

    def close(self) -> None:
        self._http.close()

    # --- operations ------------------------------------------------------------------------
    def projects(self) -> Any:
        return self._json("GET", "/api/projects")

    def project_file(self, project: str) -> str:
        response = self._send(self._http.build_request("GET", self._project(project) + "/file"))
        return response.text

    def preview_file(self, text: str, *, prune: bool) -> dict[str, Any]:
        return self._object("POST", "/api/files/preview", body={"text": text, "prune": prune})

    def apply_file(self, text: str, *, prune: bool) -> dict[str, Any]:
        return self._object("POST", "/api/files/apply", body={"text": text, "prune": prune})

    def start_run(self, project: str, stage: str, kind: str) -> dict[str, Any]:
        return self._object("POST", f"{self._stage(project, stage)}/{kind}")

    def run(self, run_id: int) -> dict[str, Any]:
        return self._object("GET", f"/api/runs/{run_id}")

    def run_plan(self, run_id: int) -> dict[str, Any]:
        return self._object("GET", f"/api/runs/{run_id}/plan")

    def cancel_run(self, run_id: int) -> dict[str, Any]:
        return self._object("POST", f"/api/runs/{run_id}/cancel")

    def events(self, run_id: int, *, after: int) -> dict[str, Any]:
        return self._object("GET", f"/api/runs/{run_id}/events", params={"after": after})

    def stream_events(self, run_id: int, *, after: int) -> Iterator[dict[str, Any]]:
        """The run's events after `after` as they happen; ends when the server closes the
        stream (the run is over, or the connection was dropped: ask `events` which)."""
        request = self._http.build_request(
            "GET",
            f"/api/runs/{run_id}/events",
            params={"after": after},
            headers={"Accept": "text/event-stream", "Last-Event-ID": str(after)},
            timeout=httpx.Timeout(self._http.timeout.connect, read=STREAM_SILENCE_S),
        )
        response = self._send(request, stream=True)
        try:
            if not response.headers.get("content-type", "").startswith("text/event-stream"):
                raise StreamUnavailable(response.headers.get("content-type", "no content type"))
            yield from parse_events(response.iter_lines())
        finally:
            response.close()

    def stage_status(self, project: str, stage: str) -> dict[str, Any]:
        return self._object("GET", f"{self._stage(project, stage)}/status")

    def runs(self, project: str, *, limit: int) -> dict[str, Any]:
        return self._object("GET", self._project(project) + "/runs", params={"limit": limit})

    # --- plumbing --------------------------------------------------------------------------
    @staticmethod
    def _project(project: str) -> str:
        return f"/api/projects/{_segment(project)}"

    def _stage(self, project: str, stage: str) -> str:
        return f"{self._project(project)}/stages/{_segment(stage)}"

    def _object(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        answer = self._json(method, path, body=body, params=params)
        if not isinstance(answer, dict):
            raise ApiError(200, f"{method} {path} answered {type(answer).__name__}, not an object")
        return answer

    def _json(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        request = self._http.build_request(method, path, json=body, params=params)
        response = self._send(request)
        try:
            return response.json()
        except ValueError as error:
            raise ApiError(
                response.status_code,
                f"{method} {path} answered something that is not JSON: is {self.url} a "
                "Strands Deploy server?",
            ) from error

    def _send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        """Sends once, and once more after a 429/503 whose Retry-After is short enough."""
        response = self._send_once(request, stream=stream)
        wait = _retry_after(response)
        if response.status_code in RETRY_STATUSES and wait is not None and wait <= LONGEST_WAIT_S:
            response.close()
            self._sleep(wait)
            response = self._send_once(request, stream=stream)
        if response.is_success:
            return response
        if stream:
            response.read()
        raise _error_from(response, request)

    def _send_once(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        try:
            return self._http.send(request, stream=stream)
        except httpx.TimeoutException as error:
            raise ApiError(0, f"{self.url} did not answer in time ({error})") from error
        except httpx.TransportError as error:
            raise ApiError(0, f"cannot reach {self.url}: {error}") from error


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _error_from(response: httpx.Response, request: httpx.Request) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    status = response.status_code
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        message = body["error"]
    elif status == 401:
        message = "the server refused the token"
    elif status == 404:
        message = f"not found: {request.url.path}"
    else:
        message = f"{request.method} {request.url.path} failed: HTTP {status}"
    field = body.get("field") if isinstance(body, dict) else None
    problems = body.get("problems") if isinstance(body, dict) else None
    return ApiError(
        status,
        message,
        field=field if isinstance(field, str) else None,
        problems=problems if isinstance(problems, list) else None,
        retry_after=_retry_after(response),
    )
