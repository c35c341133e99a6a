"""Reads of projects and stages on behalf of a user: the access rule for every page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import Http404

from dashboard.access.roles import ROLE_RANK, DeployTokenUser, User, require_role, role_for
from dashboard.projects.blueprint import blueprint_for_stage as _blueprint_for_stage
from dashboard.projects.models import Agent, Component, Project, Stage
from dashboard.runs.models import DeployedResource, Deployment, PendingOperation
from provisioning.model import links
from provisioning.model.blueprint import Blueprint


def project_list_for_user(*, user: User) -> QuerySet[Project]:
    if isinstance(user, DeployTokenUser):  # a project's deploy token sees that project only
        return Project.objects.filter(pk=user.api_token.project_id)
    if getattr(user, "is_staff", False):
        return Project.objects.all()
    if not user.is_authenticated:
        return Project.objects.none()
    return Project.objects.filter(memberships__user=user).distinct()


@dataclass(frozen=True)
class StageHealth:
    """What a list of projects shows per stage: its last run and what it holds in AWS."""

    stage: Stage
    last_run: Deployment | None
    resource_count: int


@dataclass(frozen=True)
class ProjectHealth:
    project: Project
    stages: list[StageHealth]


def project_list_health(*, user: User) -> list[ProjectHealth]:
    """The user's projects, each with its stages' last runs and resource counts, in 3 queries."""
    projects = list(project_list_for_user(user=user).order_by("name"))
    last_run = Deployment.objects.filter(stage=OuterRef("pk")).values("pk")[:1]
    stages = list(
        Stage.objects.filter(project__in=projects)
        .annotate(resource_count=Count("resources", distinct=True), last_run_id=Subquery(last_run))
        .order_by("project_id", "name")
    )
    runs = Deployment.objects.in_bulk([s.last_run_id for s in stages if s.last_run_id])
    by_project: dict[int, list[StageHealth]] = {p.pk: [] for p in projects}
    for stage in stages:
        by_project[stage.project_id].append(
            StageHealth(stage, runs.get(stage.last_run_id), stage.resource_count)
        )
    return [ProjectHealth(p, by_project[p.pk]) for p in projects]


def project_for_user(*, user: User, name: str, min_role: str = "viewer") -> tuple[Project, str]:
    project = Project.objects.filter(name=name).first()
    role = role_for(project=project, user=user) if project is not None else None
    if project is None or role is None:
        raise Http404(f"no project named {name!r}")
    if ROLE_RANK[role] < ROLE_RANK[min_role]:
        require_role(project=project, user=user, role=min_role)
    return project, role


def stage_resources(*, stage: Stage) -> QuerySet[DeployedResource]:
    return DeployedResource.objects.filter(stage=stage).order_by("node", "logical_id")


def resources_in_aws(*, stages: Iterable[Stage]) -> dict[Stage, int]:
    """Per stage, how many resources AWS may still hold: those recorded, and the creates a
    dead run left pending (they may have reached AWS). Stages holding none are left out."""
    stages = list(stages)
    counts: dict[int, int] = {}
    for model in (DeployedResource, PendingOperation):
        rows = model.objects.filter(stage__in=stages).values("stage").annotate(n=Count("pk"))
        for row in rows:
            counts[row["stage"]] = counts.get(row["stage"], 0) + row["n"]
    return {stage: counts[stage.pk] for stage in stages if counts.get(stage.pk)}


def blueprint_for_stage(*, stage: Stage) -> Blueprint:
    return _blueprint_for_stage(stage)


def node_by_key(*, project: Project, key: str) -> Agent | Component | None:
    """The agent or component a node key ("agent:support", "queue:jobs") names, if any."""
    kind, name = links.split_key(key)
    if kind == "agent":
        return Agent.objects.filter(project=project, name=name).first()
    return Component.objects.filter(project=project, kind=kind, name=name).first()
