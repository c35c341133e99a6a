"""Writes to a project's blueprint: the project, its agents, components and links, and canvas moves.

Every edit takes the project's row lock and bumps its version, so two tabs editing at once
get a clear refusal instead of a silent overwrite.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import CASCADE, Q
from django.utils import timezone

from dashboard.access.models import Membership
from dashboard.access.roles import User, require_role
from dashboard.access.services import clean_secret_environment
from dashboard.audit import services as audit_log
from dashboard.errors import ServiceError
from dashboard.projects import secret_settings
from dashboard.projects import selectors as project_selectors
from dashboard.projects.agent_code import CodeError, clean_code
from dashboard.projects.editing import edit as _edit
from dashboard.projects.editing import save as _save
from dashboard.projects.models import Agent, Component, Link, Project, Stage
from dashboard.projects.validation import (
    RuleError,
    clean_component_extras,
    clean_environment,
    clean_link_kind,
    clean_model,
    clean_node_name,
    clean_requirements,
    clean_settings,
    clean_tools,
    clean_variable_names,
)
from dashboard.runs.models import Deployment
from dashboard.runs.services import StageBusy
from provisioning.model import links as link_table
from provisioning.model import schema

AGENT_FIELDS = frozenset(
    {
        "name", "description", "model_id", "system_prompt", "tools", "runtime", "architecture",
        "memory_mb", "timeout_s", "environment", "reserved_concurrency", "tracing", "x", "y",
        "secret_environment",
        "model_provider", "model_region", "max_tokens", "temperature", "tool_settings",
        "session_bucket", "code", "requirements", "layers",
        *schema.AgentSettings.model_fields,
    }
)  # fmt: skip


def _rule(exc: RuleError) -> ServiceError:
    return ServiceError(exc.message, field=exc.field)


# --- projects --------------------------------------------------------------------------------
@transaction.atomic
def project_create(*, name: str, description: str = "", user: User | None) -> Project:
    owner = user if user is not None and user.is_authenticated else None
    if user is not None and owner is None:
        raise PermissionDenied("log in to create a project")
    if Project.objects.filter(name=name).exists():
        raise ServiceError(f"a project named {name!r} already exists", field="name")
    project = Project(name=name, description=description, created_by=owner)
    _save(project)
    Stage.objects.create(
        project=project,
        name="dev",
        region="us-east-1",
        target=Stage.Target.SANDBOX,
        settings=default_stage_settings(),
    )
    if owner is not None:
        Membership.objects.create(project=project, user=owner, role=Membership.Role.OWNER)
    audit_log.entry_for_row(action="project.create", row=project, user=user)
    return project


def default_stage_settings() -> dict[str, Any]:
    """A new stage's engine settings: the schema's defaults, stored as every save stores them
    (the permissions boundary has a column of its own)."""
    settings = schema.clean(schema.StageSettings, {})
    settings.pop("permissions_boundary", None)
    return settings


class LiveResources(ServiceError):
    """A stage still holds resources in AWS: deleting it would forget what to destroy."""


@transaction.atomic
def project_delete(*, project: Project, user: User | None) -> None:
    require_role(project=project, user=user, role=Membership.Role.OWNER)
    # Locked so that no run can start on a stage between the checks and the delete.
    stages = list(Stage.objects.select_for_update().filter(project=project))
    busy = Deployment.objects.filter(stage__project=project, status__in=Deployment.ACTIVE).first()
    if busy is not None:
        raise StageBusy(f"{project.name} has a {busy.kind} in progress (#{busy.pk}): wait for it")
    require_destroyed(stages=stages)
    audit_log.entry_for_row(action="project.delete", row=project, user=user)
    _delete_contents(project)
    project.deleted_at = timezone.now()
    project.save(update_fields=["deleted_at"])


def require_destroyed(*, stages: Iterable[Stage]) -> None:
    """Refuse to delete stages whose resources AWS still holds: once their records go, nothing
    would know what to destroy (the foreign keys PROTECT them for callers that skip this)."""
    for stage, count in project_selectors.resources_in_aws(stages=stages).items():
        things = "1 resource is" if count == 1 else f"{count} resources are"
        raise LiveResources(f"destroy {stage.name} first: {things} still in AWS")


def _delete_contents(project: Project) -> None:
    """Everything that belongs to the project goes (stages, members, canvas); the row stays
    as the tombstone its runs point at, so its name is free and its id is never reused."""
    for relation in Project._meta.related_objects:
        if relation.on_delete is CASCADE:
            rows = relation.related_model._base_manager.filter(**{relation.field.name: project})
            rows.delete()


# --- agents ----------------------------------------------------------------------------------
def _apply_agent_data(agent: Agent, data: dict[str, Any]) -> None:
    unknown = sorted(set(data) - AGENT_FIELDS)
    if unknown:
        raise ServiceError(f"an agent has no field {unknown[0]!r}", field=unknown[0])
    try:
        if "name" in data:
            data = {**data, "name": clean_node_name(data["name"])}
        if "environment" in data:
            data = {**data, "environment": clean_environment(data["environment"])}
        if "tools" in data:
            data = {**data, "tools": clean_tools(data["tools"])}
        if data.keys() & {"model_provider", "model_id", "model_region"}:
            clean_model(
                provider=data.get("model_provider", agent.model_provider),
                model_id=data.get("model_id", agent.model_id),
                model_region=data.get("model_region", agent.model_region),
            )
        if "requirements" in data:  # checked on every save: pip must never see an option
            data = {**data, "requirements": clean_requirements(data["requirements"])}
        data = {**data, **_schema_checked(data)}
    except RuleError as exc:
        raise _rule(exc) from None
    if "code" in data:  # custom code only from under AGENT_CODE_ROOT, whoever calls
        try:
            data = {**data, "code": clean_code(data["code"] or {})}
        except CodeError as exc:
            raise ServiceError(exc.message, field=exc.field) from None
    if "secret_environment" in data:  # sealed here: values never reach the row in clear
        plain = data.get("environment", agent.environment) or {}
        sealed = clean_secret_environment(
            data["secret_environment"], agent.secret_environment or {}, plain
        )
        data = {**data, "secret_environment": sealed}
    extras = dict(agent.settings or {})
    for name, value in data.items():
        if Agent.has_column(name):
            setattr(agent, name, value)
        else:
            extras[name] = value
    agent.settings = extras


def _schema_checked(data: dict[str, Any]) -> dict[str, Any]:
    """The given agent settings after the schema's check; every setting has a valid default,
    so the ones not given cannot fail it."""
    given = {k: v for k, v in data.items() if k in schema.AgentSettings.model_fields}
    cleaned = clean_settings(schema.AgentSettings, given, noun="an agent")
    return {k: cleaned[k] for k in given}


def _check_variables(project: Project, agent: Agent, field: str) -> None:
    """Every variable of the agent is set once: its environment, secrets and links."""
    rows = Link.objects.filter(Q(source=agent.key) | Q(target=agent.key), project=project)
    try:
        clean_variable_names(
            agent=agent.key,
            environment=agent.environment or {},
            secret_names=list(agent.secret_environment or {}),
            link_rows=[(r.source, r.target, r.kind, r.settings) for r in rows],
            field=field,
        )
    except RuleError as exc:
        raise _rule(exc) from None


@transaction.atomic
def agent_create(
    *, project: Project, user: User | None, data: dict[str, Any], version: int | None = None
) -> Agent:
    _edit(project, user, version)
    agent = Agent(project=project)
    _apply_agent_data(agent, data)
    _save(agent)
    audit_log.entry_for_row(action="node.create", row=agent, user=user)
    _check_variables(project, agent, field="environment")
    return agent


@transaction.atomic
def agent_update(
    *, agent: Agent, user: User | None, data: dict[str, Any], version: int | None = None
) -> Agent:
    _edit(agent.project, user, version)
    old_key = agent.key
    _apply_agent_data(agent, data)
    audit_log.entry_for_row(action="node.update", row=agent, user=user)
    _save(agent)
    _rename_links(agent.project, old_key, agent.key)
    _check_variables(agent.project, agent, field="environment")
    return agent


@transaction.atomic
def agent_delete(*, agent: Agent, user: User | None, version: int | None = None) -> None:
    _edit(agent.project, user, version)
    audit_log.entry_for_row(action="node.delete", row=agent, user=user)
    _delete_links_of(agent.project, agent.key)
    agent.delete()


# --- components ------------------------------------------------------------------------------
def _component_settings(
    kind: str, settings: dict[str, Any] | None, *, stored: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`settings` over what is `stored`, checked by the kind's schema, its secrets sealed."""
    if kind not in schema.COMPONENTS:
        raise RuleError("kind", f"unknown component kind {kind!r}")
    model = schema.COMPONENTS[kind]
    given = secret_settings.sealed(model, settings or {}, stored or {})
    merged = {**(stored or {}), **given}
    cleaned = clean_settings(model, merged, noun=f"a {kind.replace('_', ' ')}")
    clean_component_extras(kind, cleaned)
    return cleaned


@transaction.atomic
def component_create(
    *,
    project: Project,
    user: User | None,
    kind: str,
    name: str,
    settings: dict[str, Any] | None = None,
    x: int = 0,
    y: int = 0,
    version: int | None = None,
) -> Component:
    _edit(project, user, version)
    try:
        clean_node_name(name)
        cleaned = _component_settings(kind, settings)
    except RuleError as exc:
        raise _rule(exc) from None
    component = Component(project=project, kind=kind, name=name, settings=cleaned, x=x, y=y)
    _save(component)
    audit_log.entry_for_row(action="node.create", row=component, user=user)
    return component


@transaction.atomic
def component_update(
    *,
    component: Component,
    user: User | None,
    name: str,
    settings: dict[str, Any],
    version: int | None = None,
) -> Component:
    _edit(component.project, user, version)
    try:
        clean_node_name(name)
        cleaned = _component_settings(component.kind, settings, stored=component.settings)
    except RuleError as exc:
        raise _rule(exc) from None
    old_key = component.key
    component.name = name
    component.settings = cleaned
    audit_log.entry_for_row(action="node.update", row=component, user=user)
    _save(component)
    _rename_links(component.project, old_key, component.key)
    for agent in _linked_agents(component.project, component.key):  # a rename renames defaults
        _check_variables(component.project, agent, field="name")
    return component


@transaction.atomic
def component_delete(
    *, component: Component, user: User | None, version: int | None = None
) -> None:
    _edit(component.project, user, version)
    audit_log.entry_for_row(action="node.delete", row=component, user=user)
    _delete_links_of(component.project, component.key)
    component.delete()


# --- links and the canvas --------------------------------------------------------------------
def _rename_links(project: Project, old: str, new: str) -> None:
    if old != new:
        Link.objects.filter(project=project, source=old).update(source=new)
        Link.objects.filter(project=project, target=old).update(target=new)


def _delete_links_of(project: Project, key: str) -> None:
    Link.objects.filter(Q(source=key) | Q(target=key), project=project).delete()


def _link_settings(source: str, target: str, settings: dict[str, Any] | None) -> dict[str, Any]:
    model = schema.link_model(link_table.node_kind(source), link_table.node_kind(target))
    try:
        return clean_settings(model, settings, noun="this link")
    except RuleError as exc:
        raise _rule(exc) from None


def _linked_agents(project: Project, *keys: str) -> list[Agent]:
    names = [link_table.node_name(k) for k in keys if link_table.node_kind(k) == "agent"]
    others = Link.objects.filter(Q(source__in=keys) | Q(target__in=keys), project=project)
    for row in others:
        names += [
            link_table.node_name(k) for k in (row.source, row.target) if k.startswith("agent:")
        ]
    return list(Agent.objects.filter(project=project, name__in=set(names)))


def _check_link_variables(link: Link) -> None:
    for agent in _linked_agents(link.project, link.source, link.target):
        if agent.key in (link.source, link.target):
            _check_variables(link.project, agent, field="env_name")


@transaction.atomic
def link_create(
    *,
    project: Project,
    user: User | None,
    source: str,
    target: str,
    kind: str = "",
    settings: dict[str, Any] | None = None,
    version: int | None = None,
) -> Link:
    _edit(project, user, version)
    for field, key in (("source", source), ("target", target)):
        if project_selectors.node_by_key(project=project, key=key) is None:
            raise ServiceError(f"{project.name} has no node {key!r}", field=field)
    try:
        kind = clean_link_kind(source, target, kind)
    except RuleError as exc:
        raise _rule(exc) from None
    cleaned = _link_settings(source, target, settings)
    if Link.objects.filter(project=project, source=source, target=target).exists():
        raise ServiceError(f"{source} is already linked to {target}", field="target")
    if source.startswith("queue:") and Link.objects.filter(project=project, source=source).exists():
        raise ServiceError(f"{source} already triggers an agent: a queue feeds one", field="target")
    link = Link(project=project, source=source, target=target, kind=kind, settings=cleaned)
    _save(link)
    audit_log.entry_for_row(action="link.create", row=link, user=user)
    _check_link_variables(link)
    return link


@transaction.atomic
def link_update(
    *,
    link: Link,
    user: User | None,
    settings: dict[str, Any],
    kind: str | None = None,
    version: int | None = None,
) -> Link:
    """A link's settings (merged over what it has) and, where several fit, its kind."""
    _edit(link.project, user, version)
    if kind is not None:
        try:
            link.kind = clean_link_kind(link.source, link.target, kind)
        except RuleError as exc:
            raise _rule(exc) from None
    link.settings = _link_settings(link.source, link.target, {**link.settings, **settings})
    audit_log.entry_for_row(action="link.update", row=link, user=user)
    _save(link)
    _check_link_variables(link)
    return link


@transaction.atomic
def link_delete(*, link: Link, user: User | None, version: int | None = None) -> None:
    _edit(link.project, user, version)
    audit_log.entry_for_row(action="link.delete", row=link, user=user)
    link.delete()


@transaction.atomic
def node_move(
    *, project: Project, user: User | None, key: str, x: int, y: int, version: int | None = None
) -> None:
    _edit(project, user, version)
    node = project_selectors.node_by_key(project=project, key=key)
    if node is None:
        raise ServiceError(f"{project.name} has no node {key!r}")
    type(node).objects.filter(pk=node.pk).update(x=int(x), y=int(y))
