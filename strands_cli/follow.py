"""Waiting for a run: its event stream while the server offers one, the JSON pages otherwise,
until the server says the run is over; Ctrl-C asks the server to cancel it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from strands_cli.client import ApiClient, ApiError, StreamUnavailable
from strands_cli.outcome import CliError, Exit
from strands_cli.progress import Display

POLL_INTERVAL_S = 1.0
ENDED = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
"""Any other status (QUEUED, RUNNING, whatever a newer server adds) is still going."""


class RunFollower:
    def __init__(
        self, client: ApiClient, display: Display, *, sleep: Callable[[float], None]
    ) -> None:
        self._client = client
        self._display = display
        self._sleep = sleep
        self._after = 0

    def follow(self, run: dict[str, Any]) -> dict[str, Any]:
        """The run as the server reports it once it is over."""
        run_id = int(run["id"])
        self._display.start(run)
        try:
            self._until_done(run_id)
        except KeyboardInterrupt:
            self._display.stop()
            raise CliError(self._cancel(run_id), Exit.INTERRUPTED) from None
        except BaseException:
            self._display.stop()
            raise
        self._display.stop()
        return self._client.run(run_id)

    def _until_done(self, run_id: int) -> None:
        streaming = True
        while True:
            heard = False
            if streaming:
                try:
                    for event in self._client.stream_events(run_id, after=self._after):
                        heard = self._see(event) or heard
                except StreamUnavailable:
                    streaming = False
                except (httpx.TransportError, ApiError):
                    pass  # dropped or silent too long: the JSON page says where things stand
            page = self._client.events(run_id, after=self._after)
            for event in page.get("events", []):
                heard = self._see(event) or heard
            if _is_done(page):
                return
            if not streaming or not heard:
                self._sleep(POLL_INTERVAL_S)

    def _see(self, event: dict[str, Any]) -> bool:
        seq = int(event.get("seq", 0))
        if seq and seq <= self._after:
            return False  # already shown: a reopened stream or a page repeats nothing
        self._after = max(self._after, seq)
        self._display.event(event)
        return True

    def _cancel(self, run_id: int) -> str:
        try:
            self._client.cancel_run(run_id)
        except ApiError as error:
            return f"interrupted; cancelling run #{run_id} failed: {error.message}"
        return f"interrupted: asked the server to cancel run #{run_id}"


def _is_done(page: dict[str, Any]) -> bool:
    """The page's `done`; a server that leaves it out gives the run's status instead."""
    if "done" in page:
        return bool(page["done"])
    return page.get("status") in ENDED
