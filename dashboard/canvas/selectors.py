"""Reads behind the canvas: the whole picture as JSON, and what a node or link implies.

The engine is the only judge of what a blueprint creates and grants: the graph is built
from the same blueprint a deploy would snapshot, and its specs, link effects and
problems are handed to the browser as data. Nothing here is recomputed in JavaScript.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.urls import reverse

from dashboard.history import drift as drift_services
from dashboard.observe import reading as observe_reading
from dashboard.projects import secret_settings
from dashboard.projects import selectors as project_selectors
from dashboard.projects import services as project_services
from dashboard.projects.models import Agent, Component, Link, Project, Stage
from dashboard.runs import selectors as run_selectors
from dashboard.runs.models import DeployedResource, Deployment, DeploymentEvent
from provisioning import engine
from provisioning.model import links, schema

KIND_LABELS = {"agent": "Agent", **{k: str(label) for k, label in Component.Kind.choices}}
PALETTE = ["agent", *Component.Kind.values]
# What restores an agent (undo): every field the services take, except its place (given
# apart) and its secrets (sealed on the server; they never travel to the browser).
AGENT_DATA = sorted(project_services.AGENT_FIELDS - {"x", "y", "secret_environment"})
RECENT_EVENTS = 2000  # enough for the last runs of a big stage, bounded for the page


def stage_for(project: Project, name: str | None) -> Stage | None:
    stages = project.stages.all()
    return (stages.filter(name=name).first() if name else None) or stages.first()


def node_data(node: Agent | Component) -> dict[str, Any]:
    """What recreates or restores the node (the undo of a delete or an edit)."""
    if isinstance(node, Agent):
        return {field: getattr(node, field) for field in AGENT_DATA if hasattr(node, field)}
    model = schema.component_model(node.kind)
    return {"name": node.name, "settings": secret_settings.without(model, node.settings)}


def _summary(node: Agent | Component) -> str:
    if isinstance(node, Agent):
        # "global.anthropic.claude-sonnet-4-6" reads as "claude-sonnet-4-6" on a small node.
        return node.model_id.rsplit(".", 1)[-1] if node.model_id.strip() else "no model"
    settings = node.settings or {}
    if node.kind == Component.Kind.QUEUE:
        return "FIFO" if settings.get("fifo") else "standard"
    if node.kind == Component.Kind.TABLE:
        return f"key {settings.get('partition_key', 'pk')}"
    if node.kind == Component.Kind.BUCKET:
        return "versioned" if settings.get("versioning") else "S3"
    if node.kind == Component.Kind.TOPIC:
        return "FIFO" if settings.get("fifo") else "SNS"
    return "CORS " + ", ".join(settings.get("cors_origins") or []) if settings else "HTTP"


def _preview(stage: Stage) -> tuple[engine.Preview | None, str]:
    """The engine's preview of the stage; a blueprint the engine cannot read says why."""
    blueprint = project_selectors.blueprint_for_stage(stage=stage)
    try:
        return engine.preview(blueprint), ""
    except Exception as exc:
        return None, f"the engine cannot read this blueprint: {exc}"


def _canvas_warnings(
    agents: list[Agent], components: list[Component], link_rows: list[Link]
) -> list[tuple[str, str, str]]:
    """Incomplete, not wrong: a deploy still works, but the user probably meant more."""
    touched = {link.source for link in link_rows} | {link.target for link in link_rows}
    callers = {link.target for link in link_rows if not link.source.startswith("agent:")}
    found = [(a.key, "model_id", "no model chosen") for a in agents if not a.model_id.strip()]
    found += [
        (a.key, "", "nothing calls this agent yet: link an HTTP API, a queue or a topic to it")
        for a in agents
        if a.key not in callers
    ]
    found += [(c.key, "", "not linked to anything") for c in components if c.key not in touched]
    return found


def _problem(field: str, message: str, level: str) -> dict[str, str]:
    return {"field": field, "message": message, "level": level}


def canvas_state(*, project: Project, stage: Stage, role: str, can_edit: bool) -> dict[str, Any]:
    agents = list(project.agents.all())
    components = list(project.components.all())
    link_rows = list(project.links.all().order_by("id"))
    preview, fatal = _preview(stage)
    errors = preview.problems if preview else []
    problems: dict[str, list[dict[str, str]]] = defaultdict(list)
    for key, field, message in errors:
        problems[key].append(_problem(field, message, "error"))
    for key, field, message in _canvas_warnings(agents, components, link_rows):
        problems[key].append(_problem(field, message, "warning"))
    advice = _advice_by_node(stage)
    resources = preview.resources_by_node() if preview else {}
    deployed = defaultdict(int)
    for node in DeployedResource.objects.filter(stage=stage).values_list("node", flat=True):
        deployed[node] += 1
    drifted = drift_services.drifted_nodes(stage=stage)
    alarms = observe_reading.alarms_by_node(stage=stage)
    return {
        "project": project.name,
        "version": project.version,
        "role": role,
        "can_edit": can_edit,
        "stage": stage.name,
        "stages": [s.name for s in project.stages.all()],
        "palette": [{"kind": kind, "label": KIND_LABELS[kind]} for kind in PALETTE],
        "rules": {f"{s}>{t}": list(kinds) for (s, t), kinds in links.ALLOWED.items()},
        "nodes": [
            {
                **_node_json(
                    node, problems.get(node.key, []), resources.get(node.key, []), deployed
                ),
                "drifted": node.key in drifted,
                "alarms": [
                    {"name": a["name"], "state": a["state"]} for a in alarms.get(node.key, [])
                ],
                "advice": advice.get(node.key, []),
            }
            for node in [*agents, *components]
        ],
        "links": [
            _link_json(link, problems.get(f"{link.source}->{link.target}", []))
            for link in link_rows
        ],
        "problems": [_problem("", fatal, "error")] if fatal else _project_problems(problems),
        "resources": {rid: key for key, rids in resources.items() for rid in rids},
        "advice": advice.get("stage", []),
        "deployment": _deployment_json(stage),
    }


def _advice_by_node(stage: Stage) -> dict[str, list[dict[str, str]]]:
    """The engine's advice before deploy, per node key ("stage" for the stage's own)."""
    try:
        found = engine.advise(project_selectors.blueprint_for_stage(stage=stage))
    except Exception:  # a blueprint the engine cannot read is reported by `_preview`
        return {}
    by_node: dict[str, list[dict[str, str]]] = defaultdict(list)
    for advice in found:
        by_node[advice.node].append(advice.as_dict())
    return by_node


def _project_problems(problems: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    # Problems of the stage's network (and anything else not on a node) belong to the canvas.
    return [p for key, found in problems.items() if ":" not in key for p in found]


def _node_json(
    node: Agent | Component,
    problems: list[dict[str, str]],
    resources: list[str],
    deployed: dict[str, int],
) -> dict[str, Any]:
    kind = "agent" if isinstance(node, Agent) else node.kind
    return {
        "key": node.key,
        "kind": kind,
        "label": KIND_LABELS[kind],
        "name": node.name,
        "x": node.x,
        "y": node.y,
        "summary": _summary(node),
        "problems": problems,
        "resources": resources,
        "deployed": deployed.get(node.key, 0),
        "data": node_data(node),
    }


def _link_json(link: Link, problems: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "id": link.pk,
        "key": f"{link.source}->{link.target}",
        "source": link.source,
        "target": link.target,
        "kind": link.kind or next(iter(links.allowed_kinds(link.source, link.target)), ""),
        "settings": link.settings or {},
        "problems": problems,
    }


def _deployment_json(stage: Stage) -> dict[str, Any] | None:
    """The stage's deploy or destroy in progress, else its last one: what the colours show."""
    run = run_selectors.deployment_active(stage=stage) or (
        stage.deployments.filter(kind__in=[Deployment.Kind.DEPLOY, Deployment.Kind.DESTROY])
        .order_by("-created_at", "-id")
        .first()
    )
    if run is None:
        return None
    return {
        "id": run.pk,
        "kind": run.kind,
        "status": run.status,
        "ws": f"/ws/deployments/{run.pk}/",
        "url": reverse("deployment_detail", args=[run.pk]),
    }


# --- the inspector -------------------------------------------------------------------------------
def node_explain(*, stage: Stage, node: Agent | Component) -> dict[str, Any]:
    """What a node creates, grants and sets, and what of it exists in the stage now."""
    preview, fatal = _preview(stage)
    explained = (
        preview.node(node.key) if preview else {"creates": [], "statements": [], "environment": {}}
    )
    return {
        "key": node.key,
        "error": fatal,
        **explained,
        "deployed": deployed_resources(stage=stage, node_key=node.key),
    }


def link_explain(*, stage: Stage, link: Link) -> dict[str, Any]:
    preview, fatal = _preview(stage)
    key = f"{link.source}->{link.target}"
    explained = preview.link(key) if preview else {}
    return {"key": key, "id": link.pk, "kind": link.kind, "error": fatal, **explained}


def deployed_resources(*, stage: Stage, node_key: str) -> list[dict[str, Any]]:
    """The stage's recorded resources of one node, each with its latest event."""
    rows = list(DeployedResource.objects.filter(stage=stage, node=node_key).order_by("logical_id"))
    ids = [row.logical_id for row in rows]
    latest: dict[str, dict[str, Any]] = {}
    events = DeploymentEvent.objects.filter(deployment__stage=stage, resource__in=ids).order_by(
        "-deployment_id", "-seq"
    )[:RECENT_EVENTS]
    for event in events:
        latest.setdefault(event.resource or "", event.as_message())
    return [
        {
            "logical_id": row.logical_id,
            "type": row.type,
            "physical_id": row.physical_id,
            "arn": row.arn,
            "updated_at": row.updated_at.isoformat(),
            "last_event": latest.get(row.logical_id),
        }
        for row in rows
    ]
