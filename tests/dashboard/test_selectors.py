"""Reads: who may see what, and a run whose worker died is failed when someone looks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from dashboard.access.models import Membership
from dashboard.projects import selectors as project_selectors
from dashboard.projects import services as project_services
from dashboard.projects.models import Project
from dashboard.runs import selectors as run_selectors
from dashboard.runs import services as run_services
from dashboard.runs.models import Deployment

pytestmark = pytest.mark.django_db


def test_a_stranger_gets_404_and_a_viewer_is_denied_a_deployer_page(
    acme: Project, bob: Any, staff: Any
) -> None:
    with pytest.raises(Http404):
        project_selectors.project_for_user(user=bob, name="acme")
    Membership.objects.create(project=acme, user=bob, role="viewer")

    assert project_selectors.project_for_user(user=bob, name="acme") == (acme, "viewer")
    with pytest.raises(PermissionDenied):
        project_selectors.project_for_user(user=bob, name="acme", min_role="deployer")
    assert project_selectors.project_for_user(user=staff, name="acme", min_role="owner")[0] == acme


def test_project_list_shows_only_the_users_projects(acme: Project, alice: Any, bob: Any) -> None:
    project_services.project_create(name="bobs", user=bob)

    assert [p.name for p in project_selectors.project_list_for_user(user=alice)] == ["acme"]


def test_a_stranger_cannot_see_a_deployment(acme: Project, alice: Any, bob: Any) -> None:
    deployment = run_services.deployment_start(
        stage=acme.stages.get(), kind="plan", user=alice, enqueue=False
    )

    with pytest.raises(Http404):
        run_selectors.deployment_for_user(user=bob, deployment_id=deployment.pk)
    assert run_selectors.deployment_for_user(user=alice, deployment_id=deployment.pk) == deployment


def test_a_run_without_heartbeat_for_90s_is_failed_on_page_load_and_frees_the_stage(
    acme: Project, alice: Any
) -> None:
    stage = acme.stages.get()
    deployment = run_services.deployment_start(
        stage=stage, kind="deploy", user=alice, enqueue=False
    )
    long_ago = timezone.now() - timedelta(seconds=91)
    Deployment.objects.filter(pk=deployment.pk).update(
        status="RUNNING", started_at=long_ago, heartbeat_at=long_ago
    )

    seen = run_selectors.deployment_for_user(user=alice, deployment_id=deployment.pk)

    assert (seen.status, seen.error) == ("FAILED", "interrupted: worker stopped")
    assert run_selectors.deployment_active(stage=stage) is None
    run_services.deployment_start(stage=stage, kind="deploy", user=alice, enqueue=False)


def test_a_run_with_a_recent_heartbeat_is_left_running(acme: Project, alice: Any) -> None:
    stage = acme.stages.get()
    deployment = run_services.deployment_start(
        stage=stage, kind="deploy", user=alice, enqueue=False
    )
    Deployment.objects.filter(pk=deployment.pk).update(
        status="RUNNING",
        started_at=timezone.now() - timedelta(hours=1),
        heartbeat_at=timezone.now(),
    )

    assert [d.status for d in run_selectors.deployment_list(project=acme)] == ["RUNNING"]
    with pytest.raises(run_services.StageBusy):
        run_services.deployment_start(stage=stage, kind="deploy", user=alice, enqueue=False)
