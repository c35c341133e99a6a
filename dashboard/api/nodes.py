"""A project's blueprint: its agents, components and the links between them.

Edits may carry the project `version` the caller last saw: a change made since is then
refused with 409 instead of being overwritten (without it, the edit applies to whatever is
there now, as a script usually wants).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Status

from dashboard.access.roles import ROLE_RANK, role_for
from dashboard.api.core import note_change, project_for, user_of
from dashboard.api.schemas import (
    ComponentIn,
    ComponentPatch,
    LinkIn,
    LinkPatch,
    MovesIn,
    NodeData,
    agent_out,
    component_out,
    link_out,
)
from dashboard.canvas import selectors as canvas_selectors
from dashboard.canvas import services as canvas_services
from dashboard.projects import selectors as project_selectors
from dashboard.projects import services as project_services
from dashboard.projects.models import Project, Stage

router = Router(tags=["blueprint"])
EDIT = "deployer"


def _versioned(project: Project, answer: dict[str, Any]) -> dict[str, Any]:
    project.refresh_from_db(fields=["version"])
    return {**answer, "version": project.version}


# --- agents ------------------------------------------------------------------------------------
@router.get("/projects/{name}/agents")
def agent_list(request: HttpRequest, name: str) -> list[dict[str, Any]]:
    return [agent_out(agent) for agent in project_for(request, name).agents.all()]


@router.post("/projects/{name}/agents", response={201: dict[str, Any]})
def agent_create(request: HttpRequest, name: str, payload: NodeData) -> Status[dict[str, Any]]:
    project = project_for(request, name, min_role=EDIT)
    agent = project_services.agent_create(
        project=project, user=user_of(request), data=payload.data, version=payload.version
    )
    note_change(request, f"agent {project.name}/{agent.name} created")
    return Status(201, _versioned(project, agent_out(agent)))


@router.get("/projects/{name}/agents/{agent}")
def agent_detail(request: HttpRequest, name: str, agent: str) -> dict[str, Any]:
    return agent_out(get_object_or_404(project_for(request, name).agents, name=agent))


@router.patch("/projects/{name}/agents/{agent}")
def agent_update(request: HttpRequest, name: str, agent: str, payload: NodeData) -> dict[str, Any]:
    project = project_for(request, name, min_role=EDIT)
    instance = get_object_or_404(project.agents, name=agent)
    updated = project_services.agent_update(
        agent=instance, user=user_of(request), data=payload.data, version=payload.version
    )
    note_change(request, f"agent {project.name}/{agent} changed")
    return _versioned(project, agent_out(updated))


@router.delete("/projects/{name}/agents/{agent}", response={204: None})
def agent_delete(
    request: HttpRequest, name: str, agent: str, version: int | None = None
) -> Status[None]:
    project = project_for(request, name, min_role=EDIT)
    instance = get_object_or_404(project.agents, name=agent)
    project_services.agent_delete(agent=instance, user=user_of(request), version=version)
    note_change(request, f"agent {project.name}/{agent} deleted")
    return Status(204, None)


# --- components --------------------------------------------------------------------------------
@router.get("/projects/{name}/components")
def component_list(request: HttpRequest, name: str) -> list[dict[str, Any]]:
    return [component_out(c) for c in project_for(request, name).components.all()]


@router.post("/projects/{name}/components", response={201: dict[str, Any]})
def component_create(
    request: HttpRequest, name: str, payload: ComponentIn
) -> Status[dict[str, Any]]:
    project = project_for(request, name, min_role=EDIT)
    component = project_services.component_create(
        project=project,
        user=user_of(request),
        kind=payload.kind,
        name=payload.name,
        settings=payload.settings,
        x=payload.x,
        y=payload.y,
        version=payload.version,
    )
    note_change(request, f"{component.key} of {project.name} created")
    return Status(201, _versioned(project, component_out(component)))


@router.get("/projects/{name}/components/{kind}/{component}")
def component_detail(request: HttpRequest, name: str, kind: str, component: str) -> dict[str, Any]:
    project = project_for(request, name)
    return component_out(get_object_or_404(project.components, kind=kind, name=component))


@router.patch("/projects/{name}/components/{kind}/{component}")
def component_update(
    request: HttpRequest, name: str, kind: str, component: str, payload: ComponentPatch
) -> dict[str, Any]:
    """Settings not given keep their values; `name` renames (links follow)."""
    project = project_for(request, name, min_role=EDIT)
    instance = get_object_or_404(project.components, kind=kind, name=component)
    updated = project_services.component_update(
        component=instance,
        user=user_of(request),
        name=payload.name or instance.name,
        settings=payload.settings,
        version=payload.version,
    )
    note_change(request, f"{kind}:{component} of {project.name} changed")
    return _versioned(project, component_out(updated))


@router.delete("/projects/{name}/components/{kind}/{component}", response={204: None})
def component_delete(
    request: HttpRequest, name: str, kind: str, component: str, version: int | None = None
) -> Status[None]:
    project = project_for(request, name, min_role=EDIT)
    instance = get_object_or_404(project.components, kind=kind, name=component)
    project_services.component_delete(component=instance, user=user_of(request), version=version)
    note_change(request, f"{kind}:{component} of {project.name} deleted")
    return Status(204, None)


# --- links -------------------------------------------------------------------------------------
@router.get("/projects/{name}/links")
def link_list(request: HttpRequest, name: str) -> list[dict[str, Any]]:
    return [link_out(link) for link in project_for(request, name).links.all()]


@router.post("/projects/{name}/links", response={201: dict[str, Any]})
def link_create(request: HttpRequest, name: str, payload: LinkIn) -> Status[dict[str, Any]]:
    project = project_for(request, name, min_role=EDIT)
    link = project_services.link_create(
        project=project,
        user=user_of(request),
        source=payload.source,
        target=payload.target,
        kind=payload.kind,
        settings=payload.settings,
        version=payload.version,
    )
    note_change(request, f"link {link.source} -> {link.target} of {project.name} created")
    return Status(201, _versioned(project, link_out(link)))


@router.patch("/projects/{name}/links/{link_id}")
def link_update(
    request: HttpRequest, name: str, link_id: int, payload: LinkPatch
) -> dict[str, Any]:
    """A link's settings (merged over what it has) and, where several fit, its kind."""
    project = project_for(request, name, min_role=EDIT)
    link = get_object_or_404(project.links, pk=link_id)
    updated = project_services.link_update(
        link=link,
        user=user_of(request),
        settings=payload.settings,
        kind=payload.kind,
        version=payload.version,
    )
    note_change(request, f"link {link.source} -> {link.target} of {project.name} changed")
    return _versioned(project, link_out(updated))


@router.delete("/projects/{name}/links/{link_id}", response={204: None})
def link_delete(
    request: HttpRequest, name: str, link_id: int, version: int | None = None
) -> Status[None]:
    project = project_for(request, name, min_role=EDIT)
    link = get_object_or_404(project.links, pk=link_id)
    project_services.link_delete(link=link, user=user_of(request), version=version)
    note_change(request, f"link {link.source} -> {link.target} of {project.name} deleted")
    return Status(204, None)


# --- the canvas ----------------------------------------------------------------------------------
def _stage_for(project: Project, name: str | None) -> Stage:
    stage = canvas_selectors.stage_for(project, name)
    if stage is None:
        raise Http404("this project has no stage")
    return stage


@router.get("/projects/{name}/canvas")
def canvas_state(request: HttpRequest, name: str, stage: str | None = None) -> dict[str, Any]:
    """The canvas as the dashboard draws it: nodes, links, problems, the stage's last run."""
    project = project_for(request, name)
    role = role_for(project=project, user=user_of(request)) or "viewer"
    return canvas_selectors.canvas_state(
        project=project,
        stage=_stage_for(project, stage),
        role=role,
        can_edit=ROLE_RANK[role] >= ROLE_RANK[EDIT],
    )


@router.post("/projects/{name}/canvas/move")
def nodes_move(request: HttpRequest, name: str, payload: MovesIn) -> dict[str, Any]:
    """Place several nodes at once (one version check for all)."""
    project = project_for(request, name, min_role=EDIT)
    moves = [move.dict() for move in payload.moves]
    canvas_services.nodes_move(
        project=project, user=user_of(request), moves=moves, version=payload.version
    )
    note_change(request, f"{len(moves)} node(s) of {project.name} moved")
    return _versioned(project, {})


@router.get("/projects/{name}/nodes/{key}/explain")
def node_explain(
    request: HttpRequest, name: str, key: str, stage: str | None = None
) -> dict[str, Any]:
    """What a node becomes in AWS on a stage: its resources, policies and settings."""
    project = project_for(request, name)
    node = project_selectors.node_by_key(project=project, key=key)
    if node is None:
        raise Http404(f"{project.name} has no node {key!r}")
    return canvas_selectors.node_explain(stage=_stage_for(project, stage), node=node)


@router.get("/projects/{name}/links/{link_id}/explain")
def link_explain(
    request: HttpRequest, name: str, link_id: int, stage: str | None = None
) -> dict[str, Any]:
    """What a link grants and wires on a stage."""
    project = project_for(request, name)
    link = get_object_or_404(project.links, pk=link_id)
    return canvas_selectors.link_explain(stage=_stage_for(project, stage), link=link)
