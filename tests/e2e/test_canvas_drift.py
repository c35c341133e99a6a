"""A resource changed behind the project's back shows as a drifted node on the canvas."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from dashboard.history import drift as drift_services
from dashboard.projects import services as project_services
from dashboard.projects.models import Project
from dashboard.runs import execution
from dashboard.runs import services as run_services
from dashboard.runs.models import Deployment
from tests.dashboard.test_history_drift import change_memory_outside
from tests.e2e.test_canvas import node
from tests.e2e.test_journey import log_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def drifted(e2e_user: Any, sandbox: str) -> Project:
    """Deployed, then its function's memory changed out of band and a refresh run."""
    project = project_services.project_create(name="acme", user=e2e_user)
    project_services.agent_create(project=project, user=e2e_user, data={"name": "support"})
    stage = project.stages.get()
    run(run_services.deployment_start(stage=stage, kind="deploy", user=e2e_user, enqueue=False))
    change_memory_outside(sandbox, 512)  # the function of agent support
    run(drift_services.drift_refresh_start(stage=stage, user=e2e_user, enqueue=False))
    return project


def run(deployment: Deployment) -> None:
    done = execution.run_deployment(deployment.pk)
    assert done is not None and done.status == "SUCCEEDED", done and done.error


def test_a_drifted_agent_is_coloured_as_drifted(
    drifted: Project, e2e_user: Any, page: Page
) -> None:
    log_in(page, e2e_user.username)
    page.goto(f"/projects/{drifted.name}/")

    expect(node(page, "agent:support")).to_have_class(re.compile(r"\bst-drifted\b"), timeout=10_000)
