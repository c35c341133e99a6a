"""The scenarios' project in the database, and waiting for runs to end."""

from __future__ import annotations

import time
from collections import Counter

from django.contrib.auth import get_user_model

from dashboard.projects import services as project_services
from dashboard.projects.models import Stage
from dashboard.runs.models import DeployedResource, Deployment, PendingOperation
from tests.reliability.conftest import PROJECT

RUN_TIMEOUT_S = 180


def make_project(name: str = PROJECT) -> Stage:
    """The same 21 resources as conftest.blueprint(), made through the services by ops."""
    ops, _ = get_user_model().objects.get_or_create(username="ops", defaults={"is_staff": True})
    project = project_services.project_create(name=name, user=ops)
    for agent in ("support", "billing"):
        project_services.agent_create(project=project, user=ops, data={"name": agent})
    components = [
        ("http_api", "public", {}),
        ("bucket", "docs", {}),
        ("queue", "jobs", {"visibility_timeout_s": 720}),
        ("table", "notes", {}),
        ("topic", "alerts", {}),
    ]
    for kind, component, settings in components:
        project_services.component_create(
            project=project, user=ops, kind=kind, name=component, settings=settings
        )
    links = [
        ("http_api:public", "agent:support", ""),
        ("http_api:public", "agent:billing", ""),
        ("agent:support", "bucket:docs", "read"),
        ("queue:jobs", "agent:billing", ""),
        ("agent:billing", "table:notes", ""),
        ("topic:alerts", "queue:jobs", ""),
    ]
    for source, target, kind in links:
        project_services.link_create(
            project=project, user=ops, source=source, target=target, kind=kind
        )
    stage = project.stages.get()
    stage.settings = {**(stage.settings or {}), "dependencies": "none"}
    stage.save(update_fields=["settings"])
    return stage


def wait_end(deployment: Deployment, timeout_s: float = RUN_TIMEOUT_S) -> Deployment:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        deployment.refresh_from_db()
        if not deployment.is_active:
            return deployment
        time.sleep(0.2)
    raise AssertionError(f"#{deployment.pk} still {deployment.status} after {timeout_s}s")


def recorded_by_type(stage: Stage) -> Counter[str]:
    return Counter(DeployedResource.objects.filter(stage=stage).values_list("type", flat=True))


def pending(stage: Stage) -> list[str]:
    return list(PendingOperation.objects.filter(stage=stage).values_list("logical_id", flat=True))
