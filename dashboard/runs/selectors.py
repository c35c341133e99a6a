"""Reads of runs on behalf of a user: lists, one run, its events, a stage's active run, and
the endpoints a stage's deploys left callable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404

from dashboard.access.roles import User, role_for
from dashboard.projects.models import Project, Stage
from dashboard.runs import lifecycle
from dashboard.runs.models import Deployment, DeploymentEvent
from dashboard.runs.store import DbStateStore
from provisioning import engine
from provisioning.engine import Endpoint


def deployment_list(
    *, project: Project, limit: int = 50, offset: int = 0, stage: Stage | None = None
) -> list[Deployment]:
    """Newest first. Looking also fails runs whose worker died (their heartbeat stopped)."""
    lifecycle.fail_stale_runs()
    runs = Deployment.objects.filter(project=project).select_related("stage")
    if stage is not None:
        runs = runs.filter(stage=stage)
    return list(runs[offset : offset + limit])


def deployment_for_user(*, user: User, deployment_id: int) -> Deployment:
    """The run if the user may see its project, by identity: a run of a deleted project is
    staff-only, whoever now owns a project of the same name."""
    deployment = (
        Deployment.objects.select_related("stage__project", "project")
        .filter(pk=deployment_id)
        .first()
    )
    if deployment is None:
        raise Http404("no such deployment")
    project = deployment.project
    if project.is_deleted:
        if not getattr(user, "is_staff", False):
            raise Http404("no such deployment")
    elif role_for(project=project, user=user) is None:
        raise Http404("no such deployment")
    running = deployment.status == Deployment.Status.RUNNING
    if (
        running
        and deployment.stage is not None
        and lifecycle.fail_stale_runs(stage=deployment.stage)
    ):
        deployment.refresh_from_db()
    return deployment


def deployment_events(*, deployment: Deployment, after: int = 0) -> list[dict[str, Any]]:
    """The DESIGN.md event JSON of every event with seq > after, in order."""
    rows = DeploymentEvent.objects.filter(deployment=deployment, seq__gt=after).order_by("seq")
    return [row.as_message() for row in rows]


def deployment_active(*, stage: Stage) -> Deployment | None:
    """The deploy or destroy holding the stage lock, if any."""
    lifecycle.fail_stale_runs(stage=stage)
    return Deployment.objects.filter(
        stage=stage, status__in=Deployment.ACTIVE, kind__in=["deploy", "destroy"]
    ).first()


TERMINAL_RESOURCE_STATUSES = ("succeeded", "failed", "skipped")


@dataclass(frozen=True)
class RunProgress:
    """What the run page's Resources card shows: a row per resource, and done of total."""

    rows: list[dict[str, Any]]
    done: int
    total: int


def deployment_progress(*, deployment: Deployment, events: list[dict[str, Any]]) -> RunProgress:
    rows = resource_rows(events)
    done = sum(1 for row in rows if row["status"] in TERMINAL_RESOURCE_STATUSES)
    return RunProgress(rows, done, max(_expected_total(deployment, events), len(rows)))


def resource_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each resource's latest event, in the order resources first appeared.

    A note (status "info") that lands after a resource finished keeps its final status,
    so a done resource is never counted as not done again.
    """
    latest: dict[str, dict[str, Any]] = {}
    for event in events:
        resource = event.get("resource")
        if not resource:
            continue
        earlier = latest.get(resource)
        if earlier is not None and event["status"] == "info":
            event = {**event, "status": earlier["status"]}
        latest[resource] = event
    return list(latest.values())


def _expected_total(deployment: Deployment, events: list[dict[str, Any]]) -> int:
    """The plan's count: the finished run's plan, else the engine's opening line, else counts."""
    changes = (deployment.plan or {}).get("changes") or []
    planned = sum(1 for c in changes if c.get("action") != "NO_CHANGE")
    announced = next((e["total"] for e in reversed(events) if "total" in e), 0)
    return planned or announced or int((deployment.counts or {}).get("total") or 0)


def deployment_endpoints(*, deployment: Deployment) -> list[Endpoint]:
    """The endpoints a finished deploy left, while it is the stage's latest deploy or destroy:
    an older run's page must not show addresses a later run changed or removed."""
    if deployment.kind != "deploy" or deployment.is_active or deployment.stage is None:
        return []
    latest = deployment.stage.deployments.filter(kind__in=["deploy", "destroy"]).first()
    if latest is None or latest.pk != deployment.pk:
        return []
    return stage_endpoints(stage=deployment.stage)


def stage_endpoints(*, stage: Stage) -> list[Endpoint]:
    """Every route of the stage's deployed HTTP APIs (method, URL, auth, a curl example), read
    from what the stage recorded: no AWS call, so a page can show it on every load."""
    return engine.endpoints(DbStateStore(stage).load())
