"""Scenario 8: many deploy (and destroy) requests for one stage at the same moment.

Threads, each on its own database connection, call `deployment_start` together: the
stage lock (a partial unique constraint) lets exactly one through, and every other
caller is told which run holds the stage. Meaningful on PostgreSQL (DATABASE_URL set);
SQLite serialises writers on its file lock and is skipped.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection, connections

from dashboard.runs import services as run_services
from dashboard.runs.models import Deployment
from tests.reliability.dashboard_fixtures import make_project

pytestmark = pytest.mark.django_db(transaction=True)
REQUESTS = 10


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL) for real concurrent transactions")


def race(stage: Any, kinds: list[str]) -> list[tuple[str, str]]:
    """Start all at once (a barrier); each answers ("ok", kind) or ("busy", message)."""
    barrier = threading.Barrier(len(kinds))
    answers: list[tuple[str, str]] = []
    lock = threading.Lock()

    def request(kind: str) -> None:
        try:
            barrier.wait()
            try:
                run_services.deployment_start(stage=stage, kind=kind, user=None, enqueue=False)
                answer = ("ok", kind)
            except run_services.StageBusy as exc:
                answer = ("busy", exc.message)
            with lock:
                answers.append(answer)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=request, args=(k,)) for k in kinds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_ten_simultaneous_deploys_of_one_stage_start_exactly_one(sandbox: str) -> None:
    stage = make_project()

    answers = race(stage, ["deploy"] * REQUESTS)

    assert Counter(kind for kind, _ in answers) == {"ok": 1, "busy": REQUESTS - 1}
    (winner,) = Deployment.objects.filter(stage=stage)
    busy = [message for kind, message in answers if kind == "busy"]
    assert all(f"already queued or running (#{winner.pk})" in m for m in busy), busy


def test_deploy_and_destroy_racing_for_one_stage_start_exactly_one(sandbox: str) -> None:
    stage = make_project()

    answers = race(stage, ["deploy", "destroy"] * (REQUESTS // 2))

    assert Counter(kind for kind, _ in answers) == {"ok": 1, "busy": REQUESTS - 1}
    (winner,) = Deployment.objects.filter(stage=stage)
    assert all(f"a {winner.kind} of" in m for kind, m in answers if kind == "busy")
