"""Writes: what a user is told when an edit or a run is refused, and what changes when not."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from dashboard import errors
from dashboard.access.models import Membership
from dashboard.projects import services as project_services
from dashboard.projects.models import Agent, Component, Link, Project
from dashboard.runs import services as run_services
from dashboard.runs.models import Deployment, DeploymentEvent

pytestmark = pytest.mark.django_db


def test_a_new_project_has_a_sandbox_dev_stage_and_its_creator_as_owner(alice: Any) -> None:
    project = project_services.project_create(name="acme", description="bots", user=alice)

    stage = project.stages.get()
    assert (stage.name, stage.target, stage.region) == ("dev", "sandbox", "us-east-1")
    assert project.memberships.get().user == alice
    assert project.memberships.get().role == "owner"


def test_project_names_must_fit_aws_names_and_be_unique(alice: Any) -> None:
    project_services.project_create(name="acme", user=alice)

    with pytest.raises(errors.ServiceError) as taken:
        project_services.project_create(name="acme", user=alice)
    with pytest.raises(errors.ServiceError) as bad:
        project_services.project_create(name="Acme_Bots", user=alice)

    assert taken.value.field == "name" and "already exists" in taken.value.message
    assert bad.value.field == "name" and "lowercase" in bad.value.message


def test_a_node_may_not_take_a_name_the_stage_itself_uses(acme: Project, alice: Any) -> None:
    # Given a project with a bucket called docs
    docs = project_services.component_create(project=acme, user=alice, kind="bucket", name="docs")

    # When a bucket or an agent is created as, or renamed to, the stage's artifacts bucket
    attempts = [
        lambda: project_services.component_create(
            project=acme, user=alice, kind="bucket", name="artifacts"
        ),
        lambda: project_services.component_update(
            component=docs, user=alice, name="artifacts", settings={}
        ),
        lambda: project_services.agent_create(project=acme, user=alice, data={"name": "artifacts"}),
    ]
    refusals = []
    for attempt in attempts:
        with pytest.raises(errors.ServiceError) as refused:
            attempt()
        refusals.append(refused.value)

    # Then each is refused on its name, saying why, and nothing changed
    assert [r.field for r in refusals] == ["name", "name", "name"]
    assert all("reserved for the stage's artifacts bucket" in r.message for r in refusals)
    docs.refresh_from_db()
    assert docs.name == "docs"
    assert not Agent.objects.filter(project=acme).exists()
    assert Component.objects.filter(project=acme).count() == 1


def test_component_settings_get_defaults_and_bad_values_name_the_setting(
    acme: Project, alice: Any
) -> None:
    queue = project_services.component_create(
        project=acme, user=alice, kind="queue", name="jobs", settings={}
    )

    with pytest.raises(errors.ServiceError) as bad:
        project_services.component_create(
            project=acme, user=alice, kind="queue", name="slow",
            settings={"visibility_timeout_s": 99999},
        )  # fmt: skip
    with pytest.raises(errors.ServiceError) as unknown:
        project_services.component_create(
            project=acme, user=alice, kind="bucket", name="docs", settings={"colour": "red"}
        )

    defaults = {"fifo": False, "visibility_timeout_s": 720, "dead_letter": True, "batch_size": 10}
    assert {k: queue.settings[k] for k in defaults} == defaults
    assert bad.value.field == "visibility_timeout_s"
    assert "from 0 to 43200" in bad.value.message
    assert unknown.value.message == "a bucket has no setting 'colour'"


def test_agent_environment_refuses_names_lambda_reserves(acme: Project, alice: Any) -> None:
    with pytest.raises(errors.ServiceError) as refused:
        project_services.agent_create(
            project=acme, user=alice, data={"name": "support", "environment": {"AWS_REGION": "x"}}
        )

    assert refused.value.field == "environment"
    assert "reserved" in refused.value.message
    assert not acme.agents.exists()


def test_links_follow_the_rules_and_default_to_read_write(acme: Project, alice: Any) -> None:
    project_services.agent_create(project=acme, user=alice, data={"name": "support"})
    project_services.component_create(
        project=acme, user=alice, kind="bucket", name="docs", settings={}
    )

    link = project_services.link_create(
        project=acme, user=alice, source="agent:support", target="bucket:docs"
    )
    with pytest.raises(errors.ServiceError) as backwards:
        project_services.link_create(
            project=acme, user=alice, source="bucket:docs", target="agent:support"
        )
    with pytest.raises(errors.ServiceError) as missing:
        project_services.link_create(
            project=acme, user=alice, source="agent:support", target="table:nope"
        )

    assert link.kind == "read_write"
    assert backwards.value.message == "a bucket cannot be linked to an agent"
    assert "no node 'table:nope'" in missing.value.message


def test_renaming_a_node_keeps_its_links_and_deleting_it_removes_them(
    acme: Project, alice: Any
) -> None:
    agent = project_services.agent_create(project=acme, user=alice, data={"name": "support"})
    project_services.component_create(
        project=acme, user=alice, kind="http_api", name="public", settings={}
    )
    project_services.link_create(
        project=acme, user=alice, source="http_api:public", target="agent:support"
    )

    project_services.agent_update(agent=agent, user=alice, data={"name": "helpdesk"})
    assert list(Link.objects.values_list("source", "target")) == [
        ("http_api:public", "agent:helpdesk")
    ]

    project_services.agent_delete(agent=agent, user=alice)
    assert not Link.objects.exists()


def test_every_edit_bumps_the_version_and_a_stale_one_is_refused(acme: Project, alice: Any) -> None:
    seen = acme.version
    agent = project_services.agent_create(project=acme, user=alice, data={"name": "support"})
    project_services.node_move(project=acme, user=alice, key="agent:support", x=10, y=20)
    acme.refresh_from_db()
    assert acme.version == seen + 2

    with pytest.raises(errors.StaleWrite) as stale:
        project_services.agent_update(
            agent=agent, user=alice, data={"memory_mb": 2048}, version=seen
        )

    agent.refresh_from_db()
    assert agent.memory_mb == 1024
    assert "changed by someone else" in stale.value.message


def test_a_viewer_cannot_edit_or_deploy(acme: Project, bob: Any) -> None:
    Membership.objects.create(project=acme, user=bob, role="viewer")

    with pytest.raises(PermissionDenied):
        project_services.agent_create(project=acme, user=bob, data={"name": "support"})
    with pytest.raises(PermissionDenied):
        run_services.deployment_start(stage=acme.stages.get(), kind="deploy", user=bob)


def test_a_second_deploy_of_a_stage_is_refused_with_the_running_one_named(
    acme: Project, alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    stage = acme.stages.get()
    with django_capture_on_commit_callbacks() as enqueued:
        first = run_services.deployment_start(stage=stage, kind="deploy", user=alice, enqueue=False)

    with pytest.raises(run_services.StageBusy) as busy:
        run_services.deployment_start(stage=stage, kind="destroy", user=alice)
    plan = run_services.deployment_start(stage=stage, kind="plan", user=alice, enqueue=False)

    assert str(busy.value) == f"a deploy of acme/dev is already queued or running (#{first.pk})"
    assert plan.status == "QUEUED"  # plans never take the lock
    assert enqueued == []  # enqueue=False: the CLI runs it itself
    assert first.blueprint["project"] == "acme" and first.triggered_by_name == "alice"


def test_starting_a_run_enqueues_it_only_when_the_transaction_commits(
    acme: Project, alice: Any, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    sent: list[int] = []
    monkeypatch.setattr("dashboard.runs.queue.enqueue", lambda d: sent.append(d.pk))

    with django_capture_on_commit_callbacks(execute=True):
        deployment = run_services.deployment_start(stage=acme.stages.get(), kind="plan", user=alice)
        assert sent == []

    assert sent == [deployment.pk]


def test_cancelling_a_queued_run_ends_it_at_once(acme: Project, alice: Any) -> None:
    deployment = run_services.deployment_start(
        stage=acme.stages.get(), kind="deploy", user=alice, enqueue=False
    )

    run_services.deployment_cancel(deployment=deployment, user=alice)

    assert deployment.status == Deployment.Status.CANCELLED
    assert "cancelled by alice" in deployment.error
    last = DeploymentEvent.objects.filter(deployment=deployment).last()
    assert last is not None and (last.resource, last.status) == (None, "cancelled")
    # the stage lock is free again
    run_services.deployment_start(stage=acme.stages.get(), kind="deploy", user=alice, enqueue=False)


def test_cancelling_a_running_run_asks_the_engine_to_stop(acme: Project, alice: Any) -> None:
    deployment = run_services.deployment_start(
        stage=acme.stages.get(), kind="deploy", user=alice, enqueue=False
    )
    Deployment.objects.filter(pk=deployment.pk).update(status="RUNNING")

    run_services.deployment_cancel(deployment=deployment, user=alice)

    assert deployment.cancel_requested and deployment.status == "RUNNING"
