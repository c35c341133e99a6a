"""Drift in the sandbox: an out-of-band change shows on the project page; revert or accept it."""

from __future__ import annotations

import html
import re
from typing import Any

import boto3
import pytest
from django.test import Client
from django.urls import reverse

from dashboard import errors
from dashboard.access import services as access_services
from dashboard.history import drift as drift_services
from dashboard.projects import services as project_services
from dashboard.projects.models import Project
from dashboard.runs import execution
from dashboard.runs import services as run_services
from dashboard.runs.models import DeployedResource, Deployment
from provisioning.aws import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY
from provisioning.model.naming import physical_name

pytestmark = pytest.mark.django_db(transaction=True)


def text(response: Any) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def finish(run: Deployment) -> Deployment:
    done = execution.run_deployment(run.pk)
    assert done is not None and done.status == "SUCCEEDED", done and done.error
    return done


@pytest.fixture
def deployed(acme: Project, alice: Any, sandbox: str) -> Project:
    project_services.agent_create(
        project=acme, user=alice, data={"name": "support", "memory_mb": 1024}
    )
    stage = acme.stages.get()
    finish(run_services.deployment_start(stage=stage, kind="deploy", user=alice, enqueue=False))
    return acme


def change_memory_outside(sandbox: str, memory_mb: int) -> None:
    """Someone edits the function in the console."""
    boto3.client(
        "lambda",
        endpoint_url=sandbox,
        region_name="us-east-1",
        aws_access_key_id=SANDBOX_ACCESS_KEY,
        aws_secret_access_key=SANDBOX_SECRET_KEY,
    ).update_function_configuration(
        FunctionName=physical_name("acme", "dev", "support", kind="lambda"), MemorySize=memory_mb
    )


def refresh(project: Project, user: Any) -> Deployment:
    stage = project.stages.get()
    return finish(drift_services.drift_refresh_start(stage=stage, user=user, enqueue=False))


def test_an_out_of_band_change_shows_as_drift_and_revert_clears_it(
    deployed: Project, alice: Any, sandbox: str, client: Client
) -> None:
    client.force_login(alice)
    change_memory_outside(sandbox, 512)

    # when alice refreshes the stage
    response = client.post(reverse("stage_refresh", args=["acme", "dev"]))
    run = Deployment.objects.get(kind="refresh")
    assert response.url == reverse("deployment_detail", args=[run.pk])
    finish(run)

    # then the project page marks the drift and the drift page names the property
    assert "1 drifted" in text(client.get(reverse("project_detail", args=["acme"])))
    page = text(client.get(reverse("stage_drift", args=["acme", "dev"])))
    assert "agent/support/function lambda:function memory_mb 1024 512 Accept live value" in page
    assert "drifted" in text(client.get(reverse("deployment_detail", args=[run.pk])))

    # when she reverts (a deploy of the project), the function is back and the mark is gone
    client.post(reverse("stage_deploy", args=["acme", "dev"]))
    finish(Deployment.objects.get(kind="deploy", status="QUEUED"))
    assert "1 drifted" not in text(client.get(reverse("project_detail", args=["acme"])))
    again = refresh(deployed, alice)
    assert again.counts.get("drifted", 0) == 0 and again.counts["in_sync"] > 0


def test_accepting_the_live_memory_takes_it_into_the_project(
    deployed: Project, alice: Any, sandbox: str, client: Client
) -> None:
    change_memory_outside(sandbox, 512)
    refresh(deployed, alice)
    client.force_login(alice)

    client.post(
        reverse("drift_accept", args=["acme", "dev"]),
        {"logical_id": "agent/support/function", "property": "memory_mb"},
    )

    assert deployed.agents.get().memory_mb == 512
    assert not drift_services.stage_drift(stage=deployed.stages.get())
    plan = finish(
        run_services.deployment_start(
            stage=deployed.stages.get(), kind="plan", user=alice, enqueue=False
        )
    )
    assert plan.plan["summary"].get("UPDATE", 0) == 0


def test_a_property_the_project_does_not_own_is_refused_with_a_reason(
    deployed: Project, alice: Any
) -> None:
    stage = deployed.stages.get()
    DeployedResource.objects.filter(logical_id="agent/support/function").update(
        drift=[{"name": "handler", "recorded": "handler.handler", "live": "x.y"}]
    )

    with pytest.raises(errors.ServiceError, match="not a setting you own: revert it instead"):
        drift_services.drift_accept(
            stage=stage, logical_id="agent/support/function", name="handler", user=alice
        )


def test_a_drift_check_every_n_hours_is_off_by_default_and_due_once_set(
    deployed: Project, alice: Any
) -> None:
    stage = deployed.stages.get()
    assert drift_services.stages_due() == []

    drift_services.drift_schedule(stage=stage, hours=6, user=alice)
    started = drift_services.drift_check_due(enqueue=False)

    assert [r.kind for r in started] == ["refresh"]
    assert started[0].triggered_by_name == "scheduler (every 6 h)"
    assert drift_services.stages_due() == []  # the refresh just queued counts as the last one


def test_a_drifted_resource_marks_its_node_on_the_canvas(
    deployed: Project, alice: Any, sandbox: str, client: Client
) -> None:
    client.force_login(alice)
    state = client.get(reverse("canvas_state", args=["acme"])).json()
    assert {n["key"]: n["drifted"] for n in state["nodes"]} == {"agent:support": False}

    change_memory_outside(sandbox, 512)
    refresh(deployed, alice)

    state = client.get(reverse("canvas_state", args=["acme"])).json()
    assert {n["key"]: n["drifted"] for n in state["nodes"]} == {"agent:support": True}


def sandbox_sqs(sandbox: str) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=sandbox,
        region_name="us-east-1",
        aws_access_key_id=SANDBOX_ACCESS_KEY,
        aws_secret_access_key=SANDBOX_SECRET_KEY,
    )


def test_deleting_an_orphan_is_a_sweep_run_in_the_history_with_its_events(
    deployed: Project, alice: Any, sandbox: str
) -> None:
    # given a queue tagged as acme's that the state does not know, found by a refresh
    sqs = sandbox_sqs(sandbox)
    url = sqs.create_queue(QueueName="acme-dev-stray", tags={"strands-deploy:project": "acme"})[
        "QueueUrl"
    ]
    refresh(deployed, alice)
    stage = deployed.stages.get()
    stray = next(
        o for o in drift_services.stage_orphans(stage=stage) if o["name"] == "acme-dev-stray"
    )
    client = Client()
    client.force_login(alice)

    # when the owner deletes it from the drift page
    response = client.post(reverse("orphan_delete", args=["acme", "dev"]), {"arn": stray["arn"]})

    # then a sweep run is started and shown; once run, the queue is gone, the history
    # lists the sweep with an event naming the ARN, and the drift page no longer lists it
    sweep = Deployment.objects.get(kind=Deployment.Kind.SWEEP)
    assert response.status_code == 302
    assert response["Location"] == reverse("deployment_detail", args=[sweep.pk])
    finish(sweep)
    assert url not in sqs.list_queues().get("QueueUrls", [])
    events = list(sweep.events.values_list("status", "message"))
    assert ("succeeded", stray["arn"]) in events
    history = text(client.get(reverse("deployment_history", args=["acme"])))
    assert "Orphan sweep" in history
    assert stray["arn"] not in text(client.get(reverse("stage_drift", args=["acme", "dev"])))


def test_a_deployer_cannot_sweep_and_an_unlisted_arn_is_refused(
    deployed: Project, alice: Any, bob: Any, sandbox: str
) -> None:

    access_services.member_invite(project=deployed, user=alice, username="bob", role="deployer")
    stage = deployed.stages.get()

    with pytest.raises(errors.ServiceError):
        drift_services.orphans_sweep(stage=stage, arns=["arn:aws:sqs:x"], user=bob)
    with pytest.raises(errors.ServiceError, match="not among the orphans"):
        drift_services.orphans_sweep(stage=stage, arns=["arn:aws:sqs:x"], user=alice)
    assert not Deployment.objects.filter(kind=Deployment.Kind.SWEEP).exists()
