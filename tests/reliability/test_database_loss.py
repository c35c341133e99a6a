"""Scenario 5: the database connection is lost right after AWS made a resource.

In-process runs (`execution.run_deployment`). The save that records the K-th resource
made loses its connection: on PostgreSQL the run's own backend is terminated from
another connection (`pg_terminate_backend`), so the save fails as it would for real;
on the embedded SQLite the save raises the OperationalError a lost connection gives.
The run must end FAILED, the resource AWS made stays known by its intent, and the
next deploy adopts it: no twin, recorded == present per kind.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import OperationalError, connection

from dashboard.projects.models import Stage
from dashboard.runs import execution
from dashboard.runs import services as run_services
from dashboard.runs.models import Deployment
from dashboard.runs.store import DbStateStore
from provisioning.state import RecordedResource
from tests.reliability.dashboard_fixtures import make_project, pending, recorded_by_type
from tests.reliability.inventory import TYPE_TO_KIND, counts, duplicates, inventory, leftovers
from tests.support.faultproxy import FaultProxy

pytestmark = pytest.mark.django_db(transaction=True)
LOSE_AT_SAVE = [4, 15]
"""Of the deploy's ~22 saves: a log group / role early on, an API piece later."""


def lose_connection() -> None:
    """Cut this thread's database connection the way a network drop or a restart would."""
    if connection.vendor != "postgresql":
        raise OperationalError("server closed the connection unexpectedly (scenario 5)")
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    killer = connection.get_new_connection(connection.get_connection_params())
    try:
        killer.autocommit = True
        killer.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        killer.close()


@pytest.fixture
def lost_at(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """`lost_at["save"] = K`: the K-th save of resource state loses the connection."""
    plan: dict[str, Any] = {"save": None, "seen": 0, "lost": None}
    real_save = DbStateStore.save

    def save(self: DbStateStore, record: RecordedResource) -> None:
        plan["seen"] += 1
        if plan["seen"] == plan["save"]:
            plan["lost"] = record.logical_id
            lose_connection()
        real_save(self, record)

    monkeypatch.setattr(DbStateStore, "save", save)
    yield plan


def run(stage: Stage, kind: str = "deploy") -> Deployment:
    deployment = run_services.deployment_start(stage=stage, kind=kind, user=None, enqueue=False)
    done = execution.run_deployment(deployment.pk)
    assert done is not None
    return done


def no_orphans(sandbox: str, stage: Stage) -> None:
    found = counts(inventory(sandbox, "rely"))
    recorded = recorded_by_type(stage)
    assert {kind: found[kind] for kind in TYPE_TO_KIND.values()} == {
        kind: recorded.get(t, 0) for t, kind in TYPE_TO_KIND.items()
    }


def test_a_resource_made_when_the_database_connection_dropped_is_adopted_on_resume(
    sandbox: str, proxy: FaultProxy, lost_at: dict[str, Any]
) -> None:
    stage = make_project()
    trials = []
    for k in LOSE_AT_SAVE:
        lost_at.update(save=k, seen=0, lost=None)
        started = time.monotonic()

        failed = run(stage)

        assert failed.status == "FAILED", failed.error
        assert lost_at["lost"] is not None
        # AWS made it, the database does not have it, but it knows it was in flight
        assert lost_at["lost"] not in set(stage.resources.values_list("logical_id", flat=True)), (
            lost_at["lost"]
        )
        assert lost_at["lost"] in pending(stage)

        lost_at.update(save=None)
        resumed = run(stage)

        assert resumed.status == "SUCCEEDED", resumed.error
        assert duplicates(inventory(sandbox, "rely")) == {}, k
        no_orphans(sandbox, stage)
        assert pending(stage) == []
        assert stage.resources.filter(logical_id=lost_at["lost"]).exists()
        # found by its name ("found in AWS (made by an interrupted run)"), updated where it
        # differs from the spec (a function cut off before its configuration was done), or
        # by AWS's own idempotency (SNS Subscribe answers the same subscription): no twin
        how = [
            f"{e.action} {e.status} {e.message}".strip()
            for e in resumed.events.filter(resource=lost_at["lost"]).order_by("seq")
        ]
        took = round(time.monotonic() - started, 1)
        trials.append((k, lost_at["lost"], failed.error[:50], how[-1:], took))

        gone = run(stage, "destroy")  # a clean slate for the next trial
        assert gone.status == "SUCCEEDED", gone.error
        assert leftovers(inventory(sandbox, "rely")) == {}
    print(f"database connection lost ({connection.vendor}) at saves {trials}")
