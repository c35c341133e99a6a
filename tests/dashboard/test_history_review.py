"""Plan review against the sandbox: property diff, cost delta, deploy exactly the plan, redeploy."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from dashboard import errors
from dashboard.history import services as history_services
from dashboard.projects import services as project_services
from dashboard.projects.models import Project
from dashboard.runs import execution
from dashboard.runs import services as run_services
from dashboard.runs.models import DeployedResource, Deployment

pytestmark = pytest.mark.django_db(transaction=True)


def text(response: Any) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


@pytest.fixture
def deployed(acme: Project, alice: Any, sandbox: str) -> Project:
    """acme with agent "support" (1024 MB) behind an HTTP API, deployed to the sandbox."""
    project_services.agent_create(
        project=acme, user=alice, data={"name": "support", "memory_mb": 1024}
    )
    project_services.component_create(
        project=acme, user=alice, kind="http_api", name="public", settings={}
    )
    project_services.link_create(
        project=acme, user=alice, source="http_api:public", target="agent:support"
    )
    run(acme, alice, "deploy")
    return acme


def run(project: Project, user: Any, kind: str) -> Deployment:
    started = run_services.deployment_start(
        stage=project.stages.get(), kind=kind, user=user, enqueue=False
    )
    done = execution.run_deployment(started.pk)
    assert done is not None and done.status == "SUCCEEDED", done and done.error
    return done


def logged_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def test_plan_page_shows_the_memory_diff_and_what_a_nat_gateway_adds_a_month(
    deployed: Project, alice: Any, client: Client
) -> None:
    # given more memory for the agent and a network with one NAT gateway on the stage
    agent = deployed.agents.get()
    project_services.agent_update(agent=agent, user=alice, data={"memory_mb": 2048})
    stage = deployed.stages.get()
    stage.settings = {"network": {"enabled": True, "cidr": "10.20.0.0/16", "nat": "single"}}
    stage.save()

    # when alice plans and opens the plan
    plan = run(deployed, alice, "plan")
    page = text(logged_in(client, alice).get(reverse("deployment_detail", args=[plan.pk])))

    # then she sees the property change, the NAT gateway to create, and the cost change
    assert "memory_mb : 1024 → 2048" in page
    assert "network/nat/0 ec2:nat-gateway network CREATE" in page
    estimate = history_services.plan_cost(plan)
    nat = next(r for r in estimate.rows if r["logical_id"] == "network/nat/0")
    function = next(r for r in estimate.rows if r["logical_id"] == "agent/support/function")
    assert nat["before"] == 0 and nat["after"] == pytest.approx(730 * 0.045 + 10 * 0.045)
    assert function["delta"] == pytest.approx(100_000 * 10 * 1 * 0.0000166667)
    assert f"+${nat['delta']:.2f}" in page and f"+${estimate.delta:.2f}" in page
    assert "Monthly cost estimate" in page and "price table of 2025-06-01" in page

    # and the requests a month are hers to change: the agent's share scales with them
    partial = client.get(reverse("plan_cost", args=[plan.pk]), {"requests_per_month": 1000})
    assert f"+${function['delta'] / 100:.2f}" in text(partial)


def test_deploy_this_plan_deploys_the_reviewed_plan_and_names_it(
    deployed: Project, alice: Any, client: Client
) -> None:
    project_services.agent_update(agent=deployed.agents.get(), user=alice, data={"memory_mb": 2048})
    plan = run(deployed, alice, "plan")

    response = logged_in(client, alice).post(reverse("deploy_plan", args=[plan.pk]))

    deploy = Deployment.objects.get(kind="deploy", from_plan=plan)
    plan.refresh_from_db()
    assert response.url == reverse("deployment_detail", args=[deploy.pk])
    assert deploy.blueprint == plan.blueprint


def test_a_stale_plan_is_refused(deployed: Project, alice: Any, client: Client) -> None:
    # given a reviewed plan, then an edit to the project
    plan = run(deployed, alice, "plan")
    project_services.agent_update(agent=deployed.agents.get(), user=alice, data={"timeout_s": 30})

    # when alice presses "Deploy this plan"
    response = logged_in(client, alice).post(reverse("deploy_plan", args=[plan.pk]), follow=True)

    # then nothing is deployed and she is asked to plan again
    assert "the project or its deployed state changed since this plan: plan again" in text(response)
    assert not Deployment.objects.filter(kind="deploy", from_plan=plan).exists()


def test_deploy_this_plan_while_a_deploy_runs_sends_the_user_to_that_run(
    deployed: Project, alice: Any, client: Client
) -> None:
    # given a reviewed plan, and a deploy (from another tab) that has already moved the state
    plan = run(deployed, alice, "plan")
    other = run_services.deployment_start(
        stage=deployed.stages.get(), kind="deploy", user=alice, enqueue=False
    )
    DeployedResource.objects.filter(logical_id="agent/support/function").update(properties_hash="x")

    # when alice presses "Deploy this plan"
    response = logged_in(client, alice).post(reverse("deploy_plan", args=[plan.pk]), follow=True)

    # then she is told the stage is busy (not that her plan is stale) and shown that run
    assert response.redirect_chain[-1][0] == reverse("deployment_detail", args=[other.pk])
    assert f"already queued or running (#{other.pk})" in text(response)
    assert not Deployment.objects.filter(kind="deploy", from_plan=plan).exists()


def test_a_plan_is_stale_once_the_recorded_state_moves(deployed: Project, alice: Any) -> None:
    plan = run(deployed, alice, "plan")
    assert history_services.plan_is_current(plan)

    DeployedResource.objects.filter(logical_id="agent/support/function").update(properties_hash="x")

    with pytest.raises(errors.ServiceError, match="plan again"):
        history_services.deployment_deploy_plan(plan=plan, user=alice)


def test_redeploy_plans_the_past_snapshot_and_names_its_source(
    deployed: Project, alice: Any, client: Client
) -> None:
    first = Deployment.objects.get(kind="deploy")
    project_services.agent_update(agent=deployed.agents.get(), user=alice, data={"memory_mb": 2048})
    run(deployed, alice, "deploy")

    response = logged_in(client, alice).post(reverse("redeploy", args=[first.pk]))

    plan = Deployment.objects.get(kind="plan", source_deployment=first)
    assert response.url == reverse("deployment_detail", args=[plan.pk])
    done = execution.run_deployment(plan.pk)
    assert done is not None and done.status == "SUCCEEDED"
    changes = {c["logical_id"]: c for c in done.plan["changes"]}
    memory = changes["agent/support/function"]["changes"]
    assert [(c["name"], c["old"], c["new"]) for c in memory] == [("memory_mb", 2048, 1024)]
    redeploy = history_services.deployment_deploy_plan(plan=done, user=alice)
    redeploy.refresh_from_db()
    assert (redeploy.source_deployment_id, redeploy.blueprint) == (first.pk, first.blueprint)


def test_a_deploy_page_shows_the_snapshot_diff_and_the_timeline(
    deployed: Project, alice: Any, client: Client
) -> None:
    project_services.agent_update(
        agent=deployed.agents.get(), user=alice,
        data={"memory_mb": 2048, "system_prompt": "Be brief."},
    )  # fmt: skip
    second = run(deployed, alice, "deploy")

    page = text(logged_in(client, alice).get(reverse("deployment_detail", args=[second.pk])))

    assert "agent:support changed" in page
    assert "memory_mb : 1024 → 2048" in page
    assert "system_prompt : You are a helpful assistant. → Be brief." in page
    assert "Timeline" in page and "agent/support/function" in page
    assert "Redeploy this version" in page


# --- advice before deploy ---------------------------------------------------------------------
def _agent_behind_api(project: Project, user: Any, **data: Any) -> None:
    project_services.agent_create(project=project, user=user, data={"name": "support", **data})
    project_services.component_create(
        project=project, user=user, kind="http_api", name="public", settings={"auth": "none"}
    )
    project_services.link_create(
        project=project, user=user, source="http_api:public", target="agent:support"
    )


def test_the_plan_page_lists_advice_above_the_resources_and_still_deploys(
    acme: Project, alice: Any, client: Client, sandbox: str
) -> None:
    # given an agent of 128 MB behind a public route
    _agent_behind_api(acme, alice, memory_mb=128, timeout_s=30)

    # when alice plans and opens the plan
    plan = run(acme, alice, "plan")
    response = logged_in(client, alice).get(reverse("deployment_detail", args=[plan.pk]))
    page = text(response)

    # then the warnings, with their fixes, come before the resource table, and Deploy is open
    body = response.content.decode()
    assert body.index('id="findings"') < body.index('id="plan-table"')
    assert "warning agent:support memory_mb 128 MB is too little" in page
    assert "set memory_mb to 512" in page
    assert "public route: anyone with the URL can call POST /support" in page
    assert 'action="{}"'.format(reverse("deploy_plan", args=[plan.pk])) in body
    assert 'id="deploy-blocked"' not in body


def test_blocking_advice_disables_deploy_and_the_service_refuses_it(
    acme: Project, alice: Any, client: Client, sandbox: str
) -> None:
    # given a US inference profile called from Europe
    _agent_behind_api(
        acme, alice, model_id="us.amazon.nova-pro-v1:0", model_region="eu-west-1", timeout_s=30
    )

    # when alice plans and opens the plan
    plan = run(acme, alice, "plan")
    response = logged_in(client, alice).get(reverse("deployment_detail", args=[plan.pk]))
    page = text(response)

    # then the finding is blocking and the button is disabled with the reason
    assert "blocking agent:support model_id the inference profile us.amazon.nova-pro-v1:0" in page
    assert "does not exist in eu-west-1" in page
    assert "Deploy is disabled: 1 blocking finding above must be fixed first" in page
    assert (
        'action="{}"'.format(reverse("deploy_plan", args=[plan.pk]))
        not in response.content.decode()
    )

    # and a POST that skips the page (or the API, or the CLI) is refused all the same
    refused = logged_in(client, alice).post(reverse("deploy_plan", args=[plan.pk]), follow=True)
    assert "the project has blocking advice to fix before it deploys" in text(refused)
    with pytest.raises(run_services.BlockingAdvice, match="model_id: the inference profile"):
        run_services.deployment_start(
            stage=acme.stages.get(), kind="deploy", user=alice, enqueue=False
        )
    assert not Deployment.objects.filter(kind="deploy").exists()
