"""Every read the dashboard makes on behalf of a user; access rules live here and in services.

Not being a member answers 404 (a project's existence is not revealed); being a member
with too low a role answers PermissionDenied. Staff see everything.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from dashboard import runner
from dashboard.blueprint import blueprint_for_stage as _blueprint_for_stage
from dashboard.models import DeployedResource, Deployment, DeploymentEvent, Project, Stage
from dashboard.services import ROLE_RANK, User, require_role, role_for
from provisioning.blueprint import Blueprint


def project_list_for_user(*, user: User) -> QuerySet[Project]:
    if getattr(user, "is_staff", False):
        return Project.objects.all()
    if not user.is_authenticated:
        return Project.objects.none()
    return Project.objects.filter(memberships__user=user).distinct()


def project_for_user(*, user: User, name: str, min_role: str = "viewer") -> tuple[Project, str]:
    project = Project.objects.filter(name=name).first()
    role = role_for(project=project, user=user) if project is not None else None
    if project is None or role is None:
        raise Http404(f"no project named {name!r}")
    if ROLE_RANK[role] < ROLE_RANK[min_role]:
        require_role(project=project, user=user, role=min_role)
    return project, role


def deployment_list(
    *, project: Project, limit: int = 50, offset: int = 0, stage: Stage | None = None
) -> list[Deployment]:
    """Newest first. Looking also fails runs whose worker died (their heartbeat stopped)."""
    runner.fail_stale_runs()
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
    if running and deployment.stage is not None and runner.fail_stale_runs(stage=deployment.stage):
        deployment.refresh_from_db()
    return deployment


def deployment_events(*, deployment: Deployment, after: int = 0) -> list[dict[str, Any]]:
    """The DESIGN.md event JSON of every event with seq > after, in order."""
    rows = DeploymentEvent.objects.filter(deployment=deployment, seq__gt=after).order_by("seq")
    return [row.as_message() for row in rows]


def deployment_active(*, stage: Stage) -> Deployment | None:
    """The deploy or destroy holding the stage lock, if any."""
    runner.fail_stale_runs(stage=stage)
    return Deployment.objects.filter(
        stage=stage, status__in=Deployment.ACTIVE, kind__in=["deploy", "destroy"]
    ).first()


def stage_resources(*, stage: Stage) -> QuerySet[DeployedResource]:
    return DeployedResource.objects.filter(stage=stage).order_by("node", "logical_id")


def blueprint_for_stage(*, stage: Stage) -> Blueprint:
    return _blueprint_for_stage(stage)
