"""Models -> `provisioning.blueprint.Blueprint`: the only place the two shapes meet."""

from __future__ import annotations

from typing import Any

from dashboard.projects.models import Agent, Component, Link, Stage
from provisioning.model import blueprint as bp
from provisioning.model import schema


def agent_to_blueprint(agent: Agent) -> bp.Agent:
    return bp.Agent(
        name=agent.name,
        model_id=agent.model_id,
        description=agent.description,
        system_prompt=agent.system_prompt,
        tools=tuple(str(t) for t in agent.tools or ()),
        runtime=agent.runtime,
        architecture=agent.architecture,
        memory_mb=agent.memory_mb,
        timeout_s=agent.timeout_s,
        environment={str(k): str(v) for k, v in (agent.environment or {}).items()},
        # Sealed tokens, never values: the worker opens each only to hand it to SSM.
        secrets={str(k): str(v) for k, v in (agent.secret_environment or {}).items()},
        reserved_concurrency=agent.reserved_concurrency,
        tracing=agent.tracing,
        model_provider=agent.model_provider,
        model_region=agent.model_region,
        max_tokens=agent.max_tokens,
        temperature=agent.temperature,
        tool_settings={str(k): str(v) for k, v in (agent.tool_settings or {}).items()},
        session_bucket=agent.session_bucket,
        code={str(k): str(v) for k, v in (agent.code or {}).items()},
        requirements=tuple(str(r) for r in agent.requirements or ()),
        layers=tuple(str(arn) for arn in agent.layers or ()),
        extra_models=tuple(str(m) for m in agent.extra_models or ()),
        extra_statements=tuple(dict(s) for s in agent.extra_statements or ()),
        allow_broad_permissions=agent.allow_broad_permissions,
        on_failure=agent.on_failure,
        **_without_column(agent),
    )


def _without_column(agent: Agent) -> dict[str, Any]:
    """The schema's agent settings that live in `Agent.settings`, as the engine takes them."""
    values: dict[str, Any] = {}
    for name in schema.AgentSettings.model_fields:
        if not Agent.has_column(name):
            value = agent.schema_value(name)
            values[name] = tuple(value) if isinstance(value, list) else value
    return values


def component_to_blueprint(component: Component) -> bp.Component:
    return bp.Component(kind=component.kind, name=component.name, settings=dict(component.settings))


def link_to_blueprint(link: Link) -> bp.Link:
    return bp.Link(
        source=link.source, target=link.target, kind=link.kind, settings=dict(link.settings or {})
    )


def blueprint_for_stage(stage: Stage) -> bp.Blueprint:
    """What the project's canvas asks for, as deployed to `stage`."""
    project = stage.project
    return bp.Blueprint(
        project=project.name,
        stage=stage.name,
        region=stage.region,
        agents=tuple(agent_to_blueprint(a) for a in Agent.objects.filter(project=project)),
        components=tuple(
            component_to_blueprint(c) for c in Component.objects.filter(project=project)
        ),
        links=tuple(
            link_to_blueprint(link)
            for link in Link.objects.filter(project=project).order_by("source", "target")
        ),
        settings=_stage_settings(stage),
    )


def _stage_settings(stage: Stage) -> dict[str, object]:
    settings = dict(stage.settings or {})
    if stage.permissions_boundary:
        settings["permissions_boundary"] = stage.permissions_boundary
    return settings
