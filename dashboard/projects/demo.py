"""Named sample data for `python manage.py loaddemo [NAME]`: add a function to FIXTURES."""

from __future__ import annotations

import os
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from dashboard.access.models import Membership
from dashboard.projects import services as project_services
from dashboard.projects.models import Project, Stage
from provisioning.model import examples, schema

DEMO_USER = "demo"
DEFAULT_PASSWORD = "demo-password-123"


def demo_user(lines: list[str]) -> AbstractBaseUser:
    users = get_user_model()
    user = users.objects.filter(username=DEMO_USER).first()
    if user is not None:
        lines.append(f"user {DEMO_USER!r} already exists: left as it is")
        return user
    password = os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD
    user = users.objects.create_user(username=DEMO_USER, password=password)
    lines.append(f"created user {DEMO_USER!r} with password {password!r}")
    return user


def _demo_project(user: AbstractBaseUser, lines: list[str]) -> None:
    if Project.objects.filter(name="demo").exists():
        lines.append("project 'demo' already exists: left as it is")
        return
    project = project_services.project_create(
        name="demo", description="One agent behind an HTTP API.", user=user
    )
    project_services.component_create(
        project=project, user=user, kind="http_api", name="public", settings={}, x=80, y=160
    )
    project_services.agent_create(
        project=project,
        user=user,
        data={
            "name": "assistant",
            "description": "Answers questions over HTTP.",
            "system_prompt": "You are a helpful assistant. Answer briefly.",
            "x": 360,
            "y": 160,
        },
    )
    project_services.link_create(
        project=project, user=user, source="http_api:public", target="agent:assistant"
    )
    lines.append(
        "created project 'demo': http_api:public -> agent:assistant, stage dev on the sandbox"
    )


def load_demo(lines: list[str]) -> None:
    user = demo_user(lines)
    _demo_project(user, lines)
    Membership.objects.get_or_create(
        project=Project.objects.get(name="demo"), user=user, defaults={"role": "owner"}
    )


def load_example(name: str, lines: list[str]) -> None:
    """A project made from one of the engine's example blueprints, owned by the demo user."""
    user = demo_user(lines)
    blueprint = examples.EXAMPLES[name]()
    if Project.objects.filter(name=blueprint.project).exists():
        lines.append(f"project {blueprint.project!r} already exists: left as it is")
        return
    project = project_services.project_create(name=blueprint.project, user=user)
    stage_settings = schema.clean(schema.StageSettings, blueprint.settings)
    stage_settings.pop("permissions_boundary", None)  # the stage's own column holds it
    Stage.objects.filter(project=project, name="dev").update(settings=stage_settings)
    for column, component in enumerate(blueprint.components):
        project_services.component_create(
            project=project,
            user=user,
            kind=component.kind,
            name=component.name,
            settings=dict(component.settings),
            x=560,
            y=60 + 110 * column,
        )
    for row, agent in enumerate(blueprint.agents):
        # Every setting the schema knows, as the agent form would save it.
        data = schema.clean(
            schema.AgentSettings,
            {f: getattr(agent, f) for f in schema.AgentSettings.model_fields},
        )
        data["name"] = agent.name
        project_services.agent_create(
            project=project, user=user, data={**data, "x": 300, "y": 100 + 160 * row}
        )
    for link in blueprint.links:
        project_services.link_create(
            project=project,
            user=user,
            source=link.source,
            target=link.target,
            kind=link.kind,
            settings=dict(link.settings),
        )
    lines.append(
        f"created project {blueprint.project!r}: {len(blueprint.agents)} agents, "
        f"{len(blueprint.components)} components, {len(blueprint.links)} links, stage dev on the sandbox"
    )


FIXTURES: dict[str, Callable[[list[str]], None]] = {
    "demo": load_demo,
    **{
        name: (lambda lines, name=name: load_example(name, lines))
        for name in examples.EXAMPLES
        if name != "demo"
    },
}


def load(name: str) -> list[str]:
    """Load the named fixture; returns what was done, one line each. Idempotent."""
    if name not in FIXTURES:
        raise KeyError(name)
    lines: list[str] = []
    with transaction.atomic():
        FIXTURES[name](lines)
    return lines
