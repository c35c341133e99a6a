"""Every setting of the schema can be edited in the dashboard and reaches the engine.

The test walks `provisioning.model.schema`: for each field of each component, link, agent
and stage model it finds the form's input, posts a value other than the default through the
real view, and looks for that value in the saved row and in `blueprint_for_stage` (what a
deploy hands to the engine).
"""

from __future__ import annotations

import json
from typing import Any, Literal, get_args, get_origin

import pytest
from django import forms as django_forms
from django.test import Client
from django.urls import reverse

from dashboard.access import secrets
from dashboard.access.forms import StageForm
from dashboard.projects import schema_forms
from dashboard.projects import services as project_services
from dashboard.projects.blueprint import blueprint_for_stage
from dashboard.projects.forms import (
    COMPONENT_FORMS,
    LINK_FORMS,
    MANAGED_ON_THEIR_OWN_PAGE,
    AgentForm,
)
from dashboard.projects.models import Agent, Component, Link, Project
from provisioning.model import schema
from tests.dashboard.view_fixtures import (  # noqa: F401 (fixtures)
    owner_client_fixture,
    owner_fixture,
    project_fixture,
)

# Values the type alone cannot choose: names AWS accepts, patterns, related settings.
EXAMPLES: dict[str, Any] = {
    "partition_key": "id",
    "sort_key": "sk",
    "ttl_attribute": "expires_at",
    "kms_key_id": "alias/app-key",
    "kms_master_key_id": "alias/app-key",
    "secrets_kms_key_id": "alias/app-key",
    "display_name": "Alerts",
    "filter_policy": {"severity": ["high"]},
    "global_secondary_indexes": [
        {
            "name": "by-user",
            "partition_key": "user",
            "partition_key_type": "S",
            "sort_key": "",
            "sort_key_type": "S",
            "projection": "ALL",
        }
    ],
    "local_secondary_indexes": [
        {
            "name": "by-date",
            "partition_key": "pk",
            "partition_key_type": "S",
            "sort_key": "date",
            "sort_key_type": "S",
            "projection": "KEYS_ONLY",
        }
    ],
    "cors_origins": ["https://example.com"],
    "jwt_issuer": "https://auth.example.com/",
    "jwt_audience": ["my-app"],
    "api_key_hashes": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "egress_rules": [
        {
            "protocol": "tcp",
            "port": 5432,
            "from_port": None,
            "to_port": None,
            "cidr": "10.1.0.0/16",
            "prefix_list_id": None,
            "description": "orders database",
        }
    ],
    "cors_methods": ["GET"],
    "env_name": "MY_RESOURCE",
    "path": "/chat/{id}",
    "description": "Answers support questions",
    "model_id": "us.anthropic.claude-haiku-4-5",
    "system_prompt": "Be brief.",
    "tools": ["calculator"],
    "environment": {"LOG_LEVEL": "debug"},
    "model_provider": "bedrock",  # the others need an API key: see the agent settings tests
    "model_region": "eu-west-1",
    "tool_settings": {"note": "x"},
    "session_bucket": "sessions",
    "requirements": ["httpx>=0.27"],
    "layers": ["arn:aws:lambda:us-east-1:123456789012:layer:extra:3"],
    "extra_models": ["us.anthropic.claude-haiku-4-5"],
    "extra_statements": [{"actions": ["ssm:GetParameter"], "resources": ["table:orders"]}],
    "on_failure": "queue:failed",
    "strands_layer_arn": "arn:aws:lambda:us-east-1:123456789012:layer:strands:1",
    "cidr": "10.30.0.0/16",
    "ipam_pool_id": "ipam-pool-0123456789abcdef0",
    "endpoints": ["s3", "dynamodb"],
    "avoid_cidrs": ["10.99.0.0/16"],
}


def _other_value(spec: schema.FieldSpec) -> Any:
    """A valid value that is not the field's default."""
    if spec.name in EXAMPLES:
        return EXAMPLES[spec.name]
    annotation, _optional = schema_forms._strip(spec.annotation)
    if annotation is bool:
        return not spec.default
    choices = get_args(annotation) if get_origin(annotation) is Literal else ()
    if choices:
        return next(c for c in choices if c != spec.default)
    if annotation in (int, float):
        if spec.default is None:
            return 0.5 if annotation is float else int(spec.low or 0) + 3
        step = 1 if spec.high is None or spec.default + 1 <= spec.high else -1
        return spec.default + step
    raise AssertionError(f"no example value for {spec.name}: add one to EXAMPLES")


def _lines(value: Any) -> str:
    if isinstance(value, dict):
        return "\n".join(f"{k}={v}" for k, v in value.items())
    return "\n".join(value)


# The agent's hand-written text inputs for lists and mappings.
AGENT_TEXT = {"tools": ", ".join, "environment": _lines, "tool_settings": _lines,
              "requirements": _lines}  # fmt: skip


def _posted(field: django_forms.Field, value: Any, name: str = "") -> Any:
    """What a browser sends for `value` in this input (None: the field is left out)."""
    if name in AGENT_TEXT and not isinstance(field, schema_forms.LinesField):
        return AGENT_TEXT[name](value)
    if isinstance(field, django_forms.BooleanField):
        return "on" if value else None
    if isinstance(field, schema_forms.LinesField):
        return "\n".join(value)
    if isinstance(field, schema_forms.KeyValueField):
        return "\n".join(f"{k}={v}" for k, v in value.items())
    if isinstance(field, schema_forms.SchemaJSONField):
        return json.dumps(value)
    if isinstance(field, django_forms.MultipleChoiceField):
        return list(value)
    return str(value)


def _post_data(form_class: type[django_forms.Form], name: str, value: Any) -> dict[str, Any]:
    posted = _posted(form_class.base_fields[name], value, name)
    return {} if posted is None else {name: posted}


def _json(value: Any) -> Any:
    """Tuples and mappings of the blueprint compared as the JSON they are stored as."""
    return json.loads(json.dumps(value, default=dict))


def _cases(models: dict[Any, type[schema.Settings]]) -> list[tuple[Any, str]]:
    # An HTTP API's key labels are written by its keys page, next to the sealed hashes.
    return [
        (key, spec.name)
        for key, model in models.items()
        for spec in schema.fields(model)
        if spec.name not in MANAGED_ON_THEIR_OWN_PAGE
    ]


@pytest.fixture(name="stage")
def stage_fixture(project: Project) -> Any:
    return project.stages.get(name="dev")


@pytest.mark.parametrize(("kind", "name"), _cases(schema.COMPONENTS))
def test_every_component_setting_is_a_form_field_that_reaches_the_blueprint(
    owner_client: Client, project: Project, stage: Any, kind: str, name: str
) -> None:
    form_class = COMPONENT_FORMS[kind]
    spec = next(s for s in schema.fields(schema.COMPONENTS[kind]) if s.name == name)
    value = _other_value(spec)
    assert name in form_class.base_fields

    response = owner_client.post(
        reverse("component_create", args=["acme", kind]),
        {"name": "store", **_post_data(form_class, name, value)},
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    stored = Component.objects.get(kind=kind, name="store").settings[name]
    (component,) = blueprint_for_stage(stage).components
    if spec.secret:  # sealed at rest; the engine receives the sealed reference and opens it
        assert stored != value and secrets.open_(stored) == value
        assert component.settings[name] == stored
        return
    assert stored == value
    assert _json(component.settings[name]) == value


def _link_nodes(project: Project, owner: Any, source: str, target: str) -> Link:
    for key in (source, target):
        kind, node = key.split(":")
        if kind == "agent":
            project_services.agent_create(project=project, user=owner, data={"name": node})
        else:
            project_services.component_create(project=project, user=owner, kind=kind, name=node)
    return project_services.link_create(project=project, user=owner, source=source, target=target)


@pytest.mark.parametrize(("pair", "name"), _cases(schema.LINKS))
def test_every_link_setting_is_a_form_field_that_reaches_the_blueprint(
    owner_client: Client, project: Project, owner: Any, stage: Any, pair: Any, name: str
) -> None:
    source, target = (f"{kind}:{kind.replace('_', '')}1" for kind in pair)
    link = _link_nodes(project, owner, source, target)
    form_class = LINK_FORMS[pair]
    spec = next(s for s in schema.fields(schema.LINKS[pair]) if s.name == name)
    value = _other_value(spec)
    assert name in form_class.base_fields
    form = owner_client.get(reverse("link_edit", args=["acme", link.pk])).content.decode()
    assert f'name="{name}"' in form
    project.refresh_from_db()

    response = owner_client.post(
        reverse("link_edit", args=["acme", link.pk]),
        {"version": project.version, "kind": link.kind, **_post_data(form_class, name, value)},
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    link.refresh_from_db()
    assert link.settings[name] == value
    (blueprint_link,) = blueprint_for_stage(stage).links
    assert _json(blueprint_link.settings[name]) == value


AGENT_FORM_DEFAULTS = {
    "name": "bot",
    "model_id": "global.anthropic.claude-sonnet-4-6",
    "system_prompt": "You are a helpful assistant.",
    "runtime": "python3.12",
    "architecture": "x86_64",
    "memory_mb": "1024",
    "timeout_s": "120",
    "model_provider": "bedrock",
}


@pytest.mark.parametrize("name", [spec.name for spec in schema.fields(schema.AgentSettings)])
def test_every_agent_setting_is_a_form_field_that_reaches_the_blueprint(
    owner_client: Client, project: Project, owner: Any, stage: Any, name: str
) -> None:
    for needed in ("sessions", "failed"):  # what the examples name
        kind = "bucket" if needed == "sessions" else "queue"
        project_services.component_create(project=project, user=owner, kind=kind, name=needed)
    spec = next(s for s in schema.fields(schema.AgentSettings) if s.name == name)
    value = _other_value(spec)
    assert name in AgentForm.base_fields

    data = {**AGENT_FORM_DEFAULTS, **_post_data(AgentForm, name, value)}
    response = owner_client.post(reverse("agent_create", args=["acme"]), data)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert _json(Agent.objects.get(name="bot").schema_value(name)) == value
    (agent,) = blueprint_for_stage(stage).agents
    assert _json(getattr(agent, name)) == value


def _stage_cases() -> list[str]:
    return list(StageForm.settings_names)


@pytest.mark.parametrize("name", sorted(StageForm.base_fields.keys() & _stage_cases()))
def test_every_stage_setting_is_a_form_field_that_reaches_the_blueprint(
    owner_client: Client, stage: Any, name: str
) -> None:
    head, _sep, tail = name.partition(schema_forms.NESTED)
    model = schema.NetworkSettings if tail else schema.StageSettings
    spec = next(s for s in schema.fields(model) if s.name == (tail or head))
    value = _other_value(spec)
    base = {"target": "sandbox", "region": "us-east-1", "network__cidr": "10.20.0.0/16"}

    response = owner_client.post(
        reverse("stage_settings", args=["acme", "dev"]),
        {**base, **_post_data(StageForm, name, value)},
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    stage.refresh_from_db()
    saved = stage.settings[head][tail] if tail else stage.settings[head]
    assert saved == value
    settings = blueprint_for_stage(stage).settings
    assert (settings[head][tail] if tail else settings[head]) == value


def test_the_stage_form_covers_every_stage_setting() -> None:
    expected = {
        f"network{schema_forms.NESTED}{spec.name}" for spec in schema.fields(schema.NetworkSettings)
    } | {spec.name for spec in schema.fields(schema.StageSettings) if spec.name != "network"}
    assert expected <= StageForm.base_fields.keys()
