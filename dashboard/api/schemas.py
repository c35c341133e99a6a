"""What the API takes and answers, declared once per shape (ninja turns them into OpenAPI)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from ninja import Field, Schema

from dashboard.access import tokens
from dashboard.access.models import ApiToken, Membership
from dashboard.projects import secret_settings
from dashboard.projects.models import Agent, Component, Link, Project, Stage
from dashboard.runs.models import Deployment
from provisioning.model import schema


# --- bodies ------------------------------------------------------------------------------------
class ProjectIn(Schema):
    name: str = Field(..., max_length=32)
    description: str = ""


class NodeData(Schema):
    """An agent's fields (its settings schema names them: see the project file's JSON Schema)."""

    version: int | None = Field(None, description="The project version you saw (409 if stale).")
    data: dict[str, Any] = Field(default_factory=dict)


class ComponentIn(Schema):
    kind: str
    name: str
    settings: dict[str, Any] = Field(default_factory=dict)
    x: int = 0
    y: int = 0
    version: int | None = None


class ComponentPatch(Schema):
    name: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    version: int | None = None


class LinkIn(Schema):
    source: str = Field(..., description='A node key, e.g. "agent:support".')
    target: str
    kind: str = ""
    settings: dict[str, Any] = Field(default_factory=dict)
    version: int | None = None


class LinkPatch(Schema):
    settings: dict[str, Any] = Field(default_factory=dict)
    kind: str | None = None
    version: int | None = None


class Move(Schema):
    key: str = Field(..., description='A node key, e.g. "agent:support".')
    x: int
    y: int


class MovesIn(Schema):
    moves: list[Move] = Field(..., min_length=1, max_length=1000)
    version: int | None = None


class StagePatch(Schema):
    region: str | None = None
    target: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    protected: bool | None = None
    permissions_boundary: str | None = None
    access_key_id: str | None = Field(None, description="Write-only; give with its secret.")
    secret_access_key: str | None = Field(None, description="Write-only; never shown again.")
    clear_static_keys: bool | None = None
    drift_check_hours: int | None = Field(None, description="1-720; 0 turns the check off.")


class FileIn(Schema):
    text: str = Field(..., description="The project file (strands-deploy.yaml).")
    prune: bool = Field(False, description="Remove nodes and links the file does not list.")


class DriftAcceptIn(Schema):
    logical_id: str
    property: str


class OrphansIn(Schema):
    arns: list[str] = Field(default_factory=list)
    all: bool = Field(False, description="Every orphan that can be deleted from here.")


class MemberIn(Schema):
    username: str
    role: str = "viewer"


class RoleIn(Schema):
    role: str


class TokenIn(Schema):
    name: str
    expires_in_days: int = Field(..., ge=1, le=tokens.MAX_DAYS)
    role: str = Field("", description="Personal: the highest role it may use (empty: yours).")


class DeployTokenIn(Schema):
    name: str
    role: str = Field(..., description="viewer, deployer or owner, in this project only.")
    expires_in_days: int = Field(..., ge=1, le=tokens.MAX_DAYS)


# --- answers -----------------------------------------------------------------------------------
class ProjectOut(Schema):
    name: str
    description: str
    version: int
    created_at: datetime
    stages: list[str]


class StageOut(Schema):
    name: str
    region: str
    target: str
    role_arn: str
    protected: bool
    permissions_boundary: str
    has_static_keys: bool
    drift_check_hours: int | None
    settings: dict[str, Any]


class RunOut(Schema):
    id: int
    kind: str
    status: str
    project: str
    stage: str
    triggered_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str
    counts: dict[str, Any]
    url: str
    events_url: str


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(..., description="sdp_ and these characters start the token.")
    project: str | None
    role: str
    status: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(..., description="Shown this once: it is stored only as a hash.")


class MemberOut(Schema):
    username: str
    role: str


def project_out(project: Project) -> dict[str, Any]:
    return {
        "name": project.name,
        "description": project.description,
        "version": project.version,
        "created_at": project.created_at,
        "stages": [stage.name for stage in project.stages.all()],
    }


def stage_out(stage: Stage) -> dict[str, Any]:
    return {
        "name": stage.name,
        "region": stage.region,
        "target": stage.target,
        "role_arn": stage.role_arn,
        "protected": stage.protected,
        "permissions_boundary": stage.permissions_boundary,
        "has_static_keys": bool(stage.access_key_id_sealed),
        "drift_check_hours": stage.drift_check_hours,
        "settings": dict(stage.settings or {}),
    }


def run_out(run: Deployment) -> dict[str, Any]:
    return {
        "id": run.pk,
        "kind": run.kind,
        "status": run.status,
        "project": run.project_name,
        "stage": run.stage_name,
        "triggered_by": run.triggered_by_name,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "error": run.error,
        "counts": dict(run.counts or {}),
        "url": reverse("deployment_detail", args=[run.pk]),
        "events_url": reverse("api:run_events", args=[run.pk]),
    }


def token_out(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "project": token.project.name if token.project_id and token.project else None,
        "role": token.role,
        "status": tokens.token_status(token),
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "last_used_at": token.last_used_at,
    }


def member_out(membership: Membership) -> dict[str, Any]:
    return {"username": membership.user.get_username(), "role": membership.role}


AGENT_OUT_SKIPS = frozenset({"id", "project", "secret_environment"})


def agent_out(agent: Agent) -> dict[str, Any]:
    """Every field but the sealed secret values: their names only."""
    values = {
        field.name: field.value_from_object(agent)
        for field in Agent._meta.concrete_fields
        if field.name not in AGENT_OUT_SKIPS
    }
    values.pop("settings", None)  # its entries are listed by name, as the schema has them
    for name in schema.AgentSettings.model_fields:
        values.setdefault(name, agent.schema_value(name))
    values["key"] = agent.key
    values["secret_names"] = sorted(agent.secret_environment or {})
    return values


def component_out(component: Component) -> dict[str, Any]:
    return {
        "key": component.key,
        "kind": component.kind,
        "name": component.name,
        "settings": secret_settings.shown(
            schema.component_model(component.kind), component.settings or {}
        ),
        "x": component.x,
        "y": component.y,
    }


def link_out(link: Link) -> dict[str, Any]:
    return {
        "id": link.pk,
        "source": link.source,
        "target": link.target,
        "kind": link.kind,
        "settings": dict(getattr(link, "settings", None) or {}),
    }
