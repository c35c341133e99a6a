"""The migration that ties existing runs to project identities gives a recreated project
none of its namesake's old runs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("dashboard", "0005_project_created_by_optional")]
AFTER = [("dashboard", "0006_deployment_project_identity")]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def at_0005(transactional_db: None) -> Iterator[Any]:
    yield migrate(BEFORE)
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_old_runs_of_a_deleted_project_do_not_go_to_the_new_project_of_that_name(
    at_0005: Any,
) -> None:
    apps = at_0005
    Project = apps.get_model("dashboard", "Project")
    Stage = apps.get_model("dashboard", "Stage")
    runs = apps.get_model("dashboard", "Deployment")._base_manager

    def run(name: str, at: datetime, stage: Any = None) -> int:
        row = runs.create(project_name=name, stage=stage, stage_name="dev", kind="deploy")
        runs.filter(pk=row.pk).update(created_at=at)
        return int(row.pk)

    # Given: the first "acme" ran once and was deleted (its run kept, stage NULL); a
    # project "gone" likewise; then a new "acme" ran on its stage and on a stage since removed.
    first_acme = run("acme", T0)
    gone = run("gone", T0)
    acme = Project._base_manager.create(name="acme")
    Project._base_manager.filter(pk=acme.pk).update(created_at=T0 + timedelta(days=1))
    live_stage = run("acme", T0 + timedelta(days=2), Stage._base_manager.create(project=acme))
    removed_stage = run("acme", T0 + timedelta(days=3))

    apps = migrate(AFTER)

    Project = apps.get_model("dashboard", "Project")
    owner = dict(
        apps.get_model("dashboard", "Deployment")._base_manager.values_list("pk", "project")
    )
    assert owner[live_stage] == owner[removed_stage] == acme.pk
    assert owner[first_acme] != acme.pk
    tombstones = Project._base_manager.filter(deleted_at__isnull=False)
    assert sorted(tombstones.values_list("pk", "name")) == sorted(
        [(owner[first_acme], "acme"), (owner[gone], "gone")]
    )
    assert Project._base_manager.get(pk=owner[first_acme]).created_at == T0


def test_the_migration_reverses_keeping_every_run_by_name(at_0005: Any) -> None:
    runs = at_0005.get_model("dashboard", "Deployment")._base_manager
    kept = runs.create(project_name="acme", stage_name="dev", kind="deploy").pk
    migrate(AFTER)

    apps = migrate(BEFORE)

    run = apps.get_model("dashboard", "Deployment")._base_manager.get(pk=kept)
    assert (run.project_name, run.stage_id) == ("acme", None)
    assert not apps.get_model("dashboard", "Project")._base_manager.filter(name="acme").exists()
