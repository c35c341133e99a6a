"""A project as a file: export its rows to a `ProjectFile`, and apply a file back.

Applying shows first what changes (`preview`), then writes everything in one transaction
through the same services the pages use, so a file is checked by the same rules as a form
and a refusal leaves the project as it was. Secret values never travel: the file names an
agent's secret variables and the dashboard keeps their sealed values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from dashboard.access.models import Membership
from dashboard.access.roles import EDIT_ROLE, User, require_role
from dashboard.audit import services as audit_log
from dashboard.errors import ServiceError
from dashboard.projects import blueprint, secret_settings, services
from dashboard.projects.aws_fields import clean_region
from dashboard.projects.models import Agent, Component, Link, Project, Stage
from provisioning.model import blueprint as bp
from provisioning.model import project_file as pf
from provisioning.model import project_file_text as pft
from provisioning.model import schema
from provisioning.model.links import allowed_kinds

AGENT_SETTINGS = tuple(schema.AgentSettings.model_fields)
STAGE_FIELDS = ("region", "target", "role_arn", "external_id", "protected", "drift_check_hours")


# --- export ------------------------------------------------------------------------------------
def export(project: Project) -> pf.ProjectFile:
    stages = [_stage_part(stage) for stage in Stage.objects.filter(project=project)]
    return pf.ProjectFile(
        version=pf.VERSION,
        project=pf.ProjectPart(name=project.name, description=project.description),
        stages=stages,
        agents=[_agent_part(agent) for agent in Agent.objects.filter(project=project)],
        components=[
            pf.ComponentPart(kind=c.kind, name=c.name, x=c.x, y=c.y, settings=_settings_of(c))
            for c in Component.objects.filter(project=project)
        ],
        links=[
            pf.LinkPart(
                source=link.source,
                target=link.target,
                kind=link.kind,
                settings=dict(link.settings or {}),
            )
            for link in Link.objects.filter(project=project)
        ],
    )


def export_text(project: Project, *, schema_url: str = "") -> str:
    return pft.dump(export(project), schema_url=schema_url)


def _stage_part(stage: Stage) -> pf.StagePart:
    settings = dict(stage.settings or {})
    if stage.permissions_boundary and "permissions_boundary" in schema.StageSettings.model_fields:
        settings["permissions_boundary"] = stage.permissions_boundary
    return pf.StagePart(
        name=stage.name,
        **{name: getattr(stage, name) for name in STAGE_FIELDS},
        settings=schema.StageSettings.model_validate(settings),
    )


def _agent_part(agent: Agent) -> pf.AgentPart:
    values = {name: agent.schema_value(name) for name in AGENT_SETTINGS}
    code = pf.CodePart(**agent.code) if agent.code else None
    return pf.AgentPart(
        name=agent.name,
        x=agent.x,
        y=agent.y,
        code=code,
        secrets=sorted(agent.secret_environment or {}),
        **values,
    )


def _settings_of(component: Component) -> dict[str, Any]:
    """What a file holds of a component's settings: all but its secrets."""
    model = schema.component_model(component.kind)
    return secret_settings.without(model, schema.clean(model, component.settings))


# --- preview and apply -------------------------------------------------------------------------
@dataclass
class Preview:
    project: str
    exists: bool
    changes: list[pft.Change]
    prune: bool
    kept: list[str] = field(default_factory=list)
    """Nodes and links the file lacks that stay because prune is off."""
    notes: list[str] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not self.changes


def preview(project_file: pf.ProjectFile, *, prune: bool) -> Preview:
    project = Project.objects.filter(name=project_file.project.name).first()
    current = export(project) if project else None
    changes = pft.diff(current, project_file)
    kept = [c.key for c in changes if c.action == "remove" and not prune]
    changes = [c for c in changes if not (c.action == "remove" and not prune)]
    kept = [key for key in kept if not key.startswith("stage:")]
    notes = _secret_notes(project, project_file)
    return Preview(project_file.project.name, project is not None, changes, prune, kept, notes)


def _secret_notes(project: Project | None, project_file: pf.ProjectFile) -> list[str]:
    stored: dict[str, set[str]] = {}
    if project is not None:
        for agent in Agent.objects.filter(project=project):
            stored[agent.name] = set(agent.secret_environment or {})
    notes = []
    for agent in project_file.agents:
        missing = sorted(set(agent.secrets) - stored.get(agent.name, set()))
        if missing:
            notes.append(
                f"agent {agent.name}: set the value of {', '.join(missing)} on the agent's page "
                "(a file never carries secret values)"
            )
    return notes


@transaction.atomic
def apply(*, project_file: pf.ProjectFile, user: User | None, prune: bool) -> Project:
    """Create or update the project so that it is what the file says; all or nothing."""
    wanted = project_file
    project = Project.objects.filter(name=wanted.project.name).first()
    if project is None:
        project = services.project_create(
            name=wanted.project.name, description=wanted.project.description, user=user
        )
    else:
        require_role(project=project, user=user, role=EDIT_ROLE)
        if project.description != wanted.project.description:
            Project.objects.filter(pk=project.pk).update(description=wanted.project.description)
    _apply_stages(project, wanted, user)
    if prune:
        _prune(project, wanted, user)
    _apply_agents(project, wanted, user)
    _apply_components(project, wanted, user)
    _apply_links(project, wanted, user, prune)
    audit_log.entry_record(
        action="file.apply",
        user=user,
        project=project,
        target=project.name,
        changes={"prune": prune},
    )
    project.refresh_from_db()
    return project


def _apply_stages(project: Project, wanted: pf.ProjectFile, user: User | None) -> None:
    for part in wanted.stages:
        stage = Stage.objects.filter(project=project, name=part.name).first()
        values = {name: getattr(part, name) for name in STAGE_FIELDS}
        settings = part.settings.model_dump(mode="json")
        boundary = settings.pop("permissions_boundary", None)
        if stage is not None and _stage_unchanged(stage, values, settings, boundary):
            continue
        require_role(project=project, user=user, role=Membership.Role.OWNER)
        try:
            values["region"] = clean_region(values["region"])
        except ValueError as exc:
            raise ServiceError(f"stage {part.name}: {exc}", field="region") from None
        stage = stage or Stage(project=project, name=part.name)
        for name, value in values.items():
            setattr(stage, name, value)
        stage.settings = settings
        if boundary is not None:
            stage.permissions_boundary = boundary
        audit_log.entry_for_stage(stage=stage, user=user)
        stage.save()


def _stage_unchanged(
    stage: Stage, values: dict[str, Any], settings: dict[str, Any], boundary: str | None
) -> bool:
    same = all(getattr(stage, name) == value for name, value in values.items())
    current = schema.StageSettings.model_validate(dict(stage.settings or {})).model_dump(
        mode="json"
    )
    current.pop("permissions_boundary", None)
    return (
        same
        and current == settings
        and (boundary is None or boundary == stage.permissions_boundary)
    )


def _agent_data(part: pf.AgentPart) -> dict[str, Any]:
    data = {name: getattr(part, name) for name in AGENT_SETTINGS}
    data["extra_statements"] = [s.model_dump(mode="json") for s in part.extra_statements]
    data.update(name=part.name, x=part.x, y=part.y)
    data["code"] = part.code.model_dump(mode="json") if part.code else {}
    return data


def _apply_agents(project: Project, wanted: pf.ProjectFile, user: User | None) -> None:
    current = {a.name: a for a in Agent.objects.filter(project=project)}
    exported = {a.name: a for a in export(project).agents}
    for part in wanted.agents:
        data = _agent_data(part)
        if part.name not in current:
            _at(f"agent:{part.name}", services.agent_create, project=project, user=user, data=data)
        elif _agent_data(exported[part.name]) != data:
            _at(f"agent:{part.name}", services.agent_update, agent=current[part.name],
                user=user, data=data)  # fmt: skip


def _apply_components(project: Project, wanted: pf.ProjectFile, user: User | None) -> None:
    current = {c.key: c for c in Component.objects.filter(project=project)}
    for part in wanted.components:
        key = f"{part.kind}:{part.name}"
        component = current.get(key)
        if component is None:
            _at(key, services.component_create, project=project, user=user, kind=part.kind,
                name=part.name, settings=part.settings, x=part.x, y=part.y)  # fmt: skip
            continue
        wanted = secret_settings.without(schema.component_model(part.kind), part.settings)
        if _settings_of(component) != wanted:
            _at(key, services.component_update, component=component, user=user,
                name=part.name, settings=wanted)  # fmt: skip
        if (component.x, component.y) != (part.x, part.y):
            services.node_move(project=project, user=user, key=key, x=part.x, y=part.y)


def _apply_links(project: Project, wanted: pf.ProjectFile, user: User | None, prune: bool) -> None:
    current = {(link.source, link.target): link for link in Link.objects.filter(project=project)}
    for part in wanted.links:
        link = current.get((part.source, part.target))
        if link is not None:
            same_kind = not part.kind or link.kind == part.kind
            if same_kind and dict(link.settings or {}) == part.settings:
                continue
            services.link_delete(link=link, user=user)
        _at(f"link {part.source}->{part.target}", services.link_create, project=project,
            user=user, source=part.source, target=part.target, kind=part.kind,
            settings=part.settings)  # fmt: skip


def _prune(project: Project, wanted: pf.ProjectFile, user: User | None) -> None:
    keys = {f"agent:{a.name}" for a in wanted.agents}
    keys |= {f"{c.kind}:{c.name}" for c in wanted.components}
    pairs = {(link.source, link.target) for link in wanted.links}
    for link in Link.objects.filter(project=project):
        if (link.source, link.target) not in pairs:
            services.link_delete(link=link, user=user)
    for agent in Agent.objects.filter(project=project):
        if agent.key not in keys:
            services.agent_delete(agent=agent, user=user)
    for component in Component.objects.filter(project=project):
        if component.key not in keys:
            services.component_delete(component=component, user=user)


def _at(where: str, service: Any, **kwargs: Any) -> Any:
    """A service's refusal, named by the node it concerns (a file has many)."""
    try:
        return service(**kwargs)
    except ServiceError as exc:
        field = f".{exc.field}" if exc.field else ""
        raise ServiceError(f"{where}{field}: {exc.message}", field=exc.field) from None


# --- planning a file without applying it ---------------------------------------------------------
def blueprint_of(project_file: pf.ProjectFile, stage: Stage) -> bp.Blueprint:
    """What deploying the file to `stage` would ask for, leaving the project untouched: the
    file's nodes as unsaved rows (so the one translation in blueprint.py applies), with the
    secret values the dashboard holds for agents of the same name."""
    stored = {a.name: a for a in Agent.objects.filter(project=stage.project)}
    agents = []
    for part in project_file.agents:
        agent = Agent(project=stage.project)
        for name, value in _agent_data(part).items():
            if Agent.has_column(name):
                setattr(agent, name, value)
            else:
                agent.settings = {**agent.settings, name: value}
        known = stored.get(part.name)
        secrets = (known.secret_environment or {}) if known else {}
        agent.secret_environment = {k: v for k, v in secrets.items() if k in part.secrets}
        agents.append(blueprint.agent_to_blueprint(agent))
    stored_components = {c.key: c for c in Component.objects.filter(project=stage.project)}
    components = []
    for part in project_file.components:
        known_component = stored_components.get(f"{part.kind}:{part.name}")
        model = schema.component_model(part.kind)
        sealed = {k: v for k, v in (known_component.settings if known_component else {}).items()
                  if k in schema.secret_names(model)}  # fmt: skip
        component = Component(kind=part.kind, name=part.name, settings={**part.settings, **sealed})
        components.append(blueprint.component_to_blueprint(component))
    links = [
        blueprint.link_to_blueprint(
            Link(
                source=link.source,
                target=link.target,
                kind=_link_kind(link),
                settings=link.settings,
            )
        )
        for link in sorted(project_file.links, key=lambda link: (link.source, link.target))
    ]
    part = next((s for s in project_file.stages if s.name == stage.name), None)
    settings = part.settings.model_dump(mode="json") if part else dict(stage.settings or {})
    boundary = settings.pop("permissions_boundary", "") or stage.permissions_boundary
    if boundary:
        settings["permissions_boundary"] = boundary
    return bp.Blueprint(
        project=project_file.project.name,
        stage=stage.name,
        region=part.region if part else stage.region,
        agents=tuple(sorted(agents, key=lambda a: a.name)),
        components=tuple(sorted(components, key=lambda c: (c.kind, c.name))),
        links=tuple(links),
        settings=settings,
    )


def _link_kind(link: pf.LinkPart) -> str:
    kinds = allowed_kinds(link.source, link.target)
    return link.kind or (kinds[0] if kinds else "")
