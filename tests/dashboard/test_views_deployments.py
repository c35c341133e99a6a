"""Plan, deploy and destroy buttons, the live deployment page and the history."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import pytest
from django.test import Client
from django.urls import reverse

from dashboard.projects.models import Project
from dashboard.runs.models import Deployment, DeploymentEvent
from tests.dashboard.view_fixtures import (  # noqa: F401 (fixtures)
    htmx,
    owner_client_fixture,
    owner_fixture,
    project_fixture,
    stranger_client_fixture,
    viewer_client_fixture,
)

pytestmark = pytest.mark.django_db

PLAN = {
    "changes": [
        {
            "logical_id": "agent/support/function",
            "resource_type": "lambda:function",
            "node": "agent:support",
            "action": "UPDATE",
            "reason": "",
            "changes": [{"name": "MemorySize", "old": 1024, "new": 2048, "replacement_reason": ""}],
        },
        {
            "logical_id": "bucket/docs/bucket",
            "resource_type": "s3:bucket",
            "node": "bucket:docs",
            "action": "CREATE",
            "reason": "does not exist yet",
            "changes": [],
        },
    ],
    "summary": {"CREATE": 1, "UPDATE": 1},
    "decisions": ["agents share one execution role"],
    "problems": [],
}


def visible_text(response: Any) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def _run(project: Project, kind: str, status: str = "SUCCEEDED", **fields: Any) -> Deployment:
    return Deployment.objects.create(
        stage=project.stages.get(name="dev"),
        project_name=project.name,
        stage_name="dev",
        kind=kind,
        status=status,
        triggered_by_name="olivia",
        **fields,
    )


def _event(
    deployment: Deployment, seq: int, resource: str | None, status: str, message: str = ""
) -> None:
    DeploymentEvent.objects.create(
        deployment=deployment,
        seq=seq,
        at=datetime(2026, 11, 27, 15, 2, seq, tzinfo=UTC),
        resource=resource,
        type="lambda:function" if resource else "",
        action="CREATE" if resource else "",
        status=status,
        message=message,
        elapsed_ms=800 if status == "succeeded" else None,
    )


def test_plan_starts_a_plan_run_and_opens_its_page(owner_client: Client, project: Project) -> None:
    response = owner_client.post(reverse("stage_plan", args=["acme", "dev"]), follow=True)

    run = Deployment.objects.get()
    assert run.kind == "plan" and run.triggered_by_name == "olivia"
    assert response.redirect_chain[-1][0] == reverse("deployment_detail", args=[run.id])
    assert "Planning" in visible_text(response)


def test_a_finished_plan_shows_every_resource_with_its_action_and_changes(
    owner_client: Client, project: Project
) -> None:
    run = _run(project, "plan", plan=PLAN)

    page = visible_text(owner_client.get(reverse("deployment_detail", args=[run.id])))

    assert "agent/support/function lambda:function agent:support UPDATE" in page
    assert "MemorySize : 1024 → 2048" in page
    assert "bucket/docs/bucket s3:bucket bucket:docs CREATE does not exist yet" in page
    assert "agents share one execution role" in page
    assert "Deploy this plan" in page


def test_deploy_opens_the_live_deployment_page(owner_client: Client, project: Project) -> None:
    response = owner_client.post(reverse("stage_deploy", args=["acme", "dev"]), follow=True)

    run = Deployment.objects.get()
    assert run.kind == "deploy"
    body = response.content.decode()
    assert f'data-ws-path="/ws/deployments/{run.id}/"' in body
    assert 'data-last-seq="0"' in body
    assert "js/deployment.js" in body


def test_a_second_deploy_while_one_runs_is_told_why_on_the_running_runs_page(
    owner_client: Client, project: Project
) -> None:
    running = _run(project, "deploy", status="RUNNING", started_at=datetime.now(UTC))

    response = owner_client.post(reverse("stage_deploy", args=["acme", "dev"]), follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("deployment_detail", args=[running.id])
    assert f"already queued or running (#{running.id})" in visible_text(response)
    assert Deployment.objects.count() == 1


def test_destroy_needs_the_project_name_typed_exactly(
    owner_client: Client, project: Project
) -> None:
    url = reverse("stage_destroy", args=["acme", "dev"])
    assert "Type acme to confirm" in visible_text(owner_client.get(url))

    refused = owner_client.post(url, {"confirm_name": "acm"})

    assert refused.status_code == 400
    assert 'Type "acme" exactly to confirm.' in visible_text(refused)
    assert not Deployment.objects.exists()


def test_destroy_confirmed_starts_a_destroy_run(owner_client: Client, project: Project) -> None:
    response = owner_client.post(
        reverse("stage_destroy", args=["acme", "dev"]), {"confirm_name": "acme"}
    )

    run = Deployment.objects.get()
    assert run.kind == "destroy"
    assert response["Location"] == reverse("deployment_detail", args=[run.id])


def test_a_viewer_cannot_deploy_or_reach_the_destroy_page(viewer_client: Client) -> None:
    assert viewer_client.post(reverse("stage_deploy", args=["acme", "dev"])).status_code == 403
    assert viewer_client.get(reverse("stage_destroy", args=["acme", "dev"])).status_code == 403
    assert not Deployment.objects.exists()


def test_the_page_renders_events_so_far_and_starts_the_socket_after_the_last(
    owner_client: Client, project: Project
) -> None:
    run = _run(project, "deploy", status="RUNNING", started_at=datetime.now(UTC))
    _event(run, 1, None, "started", "deploying 2 resources")
    _event(run, 2, "agent/support/role", "started")
    _event(run, 3, "agent/support/role", "succeeded", "created acme-dev-support")
    _event(run, 4, "agent/support/function", "started")

    response = owner_client.get(reverse("deployment_detail", args=[run.id]))

    body = response.content.decode()
    assert 'data-last-seq="4"' in body
    assert body.count('<tr data-resource="') == 2  # one row per resource, at its latest status
    text = visible_text(response)
    assert (
        "agent/support/role lambda:function CREATE succeeded 800 ms created acme-dev-support"
        in text
    )
    assert "1 of 2 done" in text
    assert "deploying 2 resources" in text


def test_mid_deploy_the_counter_counts_against_the_plan_not_the_rows_seen(
    owner_client: Client, project: Project
) -> None:
    # Given a deploy whose plan touches 5 resources, 2 of them seen so far, one done
    run = _run(project, "deploy", status="RUNNING", started_at=datetime.now(UTC))
    _event(run, 1, None, "started")
    _event(run, 2, None, "info", "plan: 3 create, 1 no change, 2 update")
    _event(run, 3, "agent/support/role", "started")
    _event(run, 4, "agent/support/role", "succeeded")
    _event(run, 5, "agent/support/function", "started")
    # And a late note about the finished resource
    _event(run, 6, "agent/support/role", "info", "waiting for IAM to settle")

    # When the page is opened (first load, or a reload after a dropped connection)
    text = visible_text(owner_client.get(reverse("deployment_detail", args=[run.id])))

    # Then it counts against the plan, and the noted resource is still done
    assert "1 of 5 done" in text
    assert "agent/support/role lambda:function CREATE succeeded" in text


def test_before_the_plan_is_made_the_counter_waits_for_it(
    owner_client: Client, project: Project
) -> None:
    run = _run(project, "destroy", status="RUNNING", started_at=datetime.now(UTC))
    _event(run, 1, None, "started")

    text = visible_text(owner_client.get(reverse("deployment_detail", args=[run.id])))

    assert "waiting for the plan…" in text
    assert "0 of 0 done" not in text


def test_htmx_asks_for_the_summary_only_when_a_run_ends(
    owner_client: Client, project: Project
) -> None:
    run = _run(
        project,
        "deploy",
        counts={"succeeded": 5, "failed": 0, "skipped": 0, "unchanged": 2, "total": 7},
        started_at=datetime.now(UTC) - timedelta(seconds=42),
        finished_at=datetime.now(UTC),
    )

    response = owner_client.get(reverse("deployment_detail", args=[run.id]), **htmx())

    body = response.content.decode()
    assert body.lstrip().startswith('<section id="summary"')
    assert 'data-status="SUCCEEDED"' in body
    text = visible_text(response)
    assert "Succeeded 5" in text and "Unchanged 2" in text and "42.0 s" in text


def test_someone_outside_the_project_cannot_see_its_runs(
    project: Project, stranger_client: Client
) -> None:
    run = _run(project, "deploy")

    assert stranger_client.get(reverse("deployment_detail", args=[run.id])).status_code == 404
    assert stranger_client.get(reverse("deployment_history", args=["acme"])).status_code == 404


def test_history_lists_who_ran_what_and_how_it_went(owner_client: Client, project: Project) -> None:
    _run(project, "deploy", counts={"succeeded": 3, "failed": 1, "skipped": 2, "unchanged": 0})
    _run(project, "plan", plan=PLAN)

    text = visible_text(owner_client.get(reverse("deployment_history", args=["acme"])))

    assert "Plan dev Succeeded olivia" in text
    assert "1 create, 1 update" in text
    assert "Deploy dev Succeeded olivia" in text
    assert "3 done · 1 failed · 2 skipped" in text


def test_history_is_paged_newest_first(owner_client: Client, project: Project) -> None:
    runs = [_run(project, "plan") for _ in range(23)]
    url = reverse("deployment_history", args=["acme"])

    first = owner_client.get(url).content.decode()
    older = re.search(r'href="[^"]*older=([^"&]+)"', first)
    assert older is not None
    second = owner_client.get(url, {"older": unquote(html.unescape(older.group(1)))}, **htmx())
    second_page = second.content.decode()

    assert first.count("data-deployment=") == 20 and f'data-deployment="{runs[-1].id}"' in first
    assert second_page.count("data-deployment=") == 3
    assert f'data-deployment="{runs[0].id}"' in second_page
    assert "<html" not in second_page and "newer=" in second_page


def test_an_empty_history_says_nothing_has_run_yet(owner_client: Client, project: Project) -> None:
    assert "Nothing has run yet." in visible_text(
        owner_client.get(reverse("deployment_history", args=["acme"]))
    )


def test_an_empty_history_offers_a_plan_to_those_who_may_plan(
    owner_client: Client, viewer_client: Client, project: Project
) -> None:
    plan_url = reverse("stage_plan", args=["acme", "dev"])
    history = reverse("deployment_history", args=["acme"])

    owners = owner_client.get(history).content.decode()
    viewers = viewer_client.get(history).content.decode()
    filtered = owner_client.get(history + "?kind=deploy").content.decode()

    assert f'action="{plan_url}"' in owners and "Plan dev</button>" in owners
    assert plan_url not in viewers and "Nothing has run yet." in viewers
    assert plan_url not in filtered  # "no runs match" is not a first step
