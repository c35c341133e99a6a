"""Canvas writes that are more than one service call: add with a fresh name, move many,
restore a deleted node with its links (undo), and edit a node from plain JSON.

Each runs in one transaction and checks the version the user saw once, on the first
write; the calls after it carry no version because they follow the first one's bump.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from dashboard.access.roles import User
from dashboard.errors import ServiceError
from dashboard.projects import selectors as project_selectors
from dashboard.projects import services as project_services
from dashboard.projects.models import Agent, Component, Link, Project

NAME_PREFIX = {"agent": "agent", "http_api": "api"}


def free_name(*, project: Project, kind: str) -> str:
    """ "bucket-3": the prefix of the kind and the lowest number not taken by that kind."""
    prefix = NAME_PREFIX.get(kind, kind.replace("_", "-"))
    if kind == "agent":
        taken = set(Agent.objects.filter(project=project).values_list("name", flat=True))
    else:
        taken = set(
            Component.objects.filter(project=project, kind=kind).values_list("name", flat=True)
        )
    used = {int(m.group(1)) for n in taken if (m := re.fullmatch(rf"{prefix}-(\d+)", n))}
    number = next(n for n in range(1, len(used) + 2) if n not in used)
    return f"{prefix}-{number}"


@transaction.atomic
def node_add(
    *,
    project: Project,
    user: User | None,
    kind: str,
    x: int,
    y: int,
    version: int | None,
    data: dict[str, Any] | None = None,
) -> Agent | Component:
    """A new node at (x, y): with `data` (a restore) as given, else with defaults and a free name."""
    data = dict(data or {})
    if kind == "agent":
        fields = {"name": free_name(project=project, kind=kind), **data, "x": x, "y": y}
        return project_services.agent_create(
            project=project, user=user, data=fields, version=version
        )
    if kind not in Component.Kind.values:
        raise ServiceError(f"there is no kind of node called {kind!r}", field="kind")
    return project_services.component_create(
        project=project,
        user=user,
        kind=kind,
        name=str(data.get("name") or free_name(project=project, kind=kind)),
        settings=_settings(data),
        x=x,
        y=y,
        version=version,
    )


@transaction.atomic
def node_restore(
    *,
    project: Project,
    user: User | None,
    kind: str,
    x: int,
    y: int,
    data: dict[str, Any],
    links: list[dict[str, Any]],
    version: int | None,
) -> tuple[Agent | Component, list[Link]]:
    """Undo of a delete: the node as it was and the links it had, all or nothing."""
    node = node_add(project=project, user=user, kind=kind, x=x, y=y, version=version, data=data)
    made = [
        project_services.link_create(
            project=project,
            user=user,
            source=str(link["source"]),
            target=str(link["target"]),
            kind=str(link.get("kind") or ""),
            settings=link.get("settings") or None,
        )
        for link in links
    ]
    return node, made


@transaction.atomic
def nodes_move(
    *, project: Project, user: User | None, moves: list[dict[str, Any]], version: int | None
) -> None:
    """Several nodes placed at once (a drag of many, or an auto-layout): one undo step."""
    for index, move in enumerate(moves):
        project_services.node_move(
            project=project,
            user=user,
            key=str(move["key"]),
            x=coordinate(move.get("x")),
            y=coordinate(move.get("y")),
            version=version if index == 0 else None,
        )


def coordinate(value: Any) -> int:
    """A place on the canvas: rounded to whole points and kept within reach of the view."""
    try:
        number = round(float(value))
    except (TypeError, ValueError, OverflowError):
        raise ServiceError(f"{value!r} is not a position on the canvas") from None
    return max(-100_000, min(100_000, number))


@transaction.atomic
def node_update(
    *, project: Project, user: User | None, key: str, data: dict[str, Any], version: int | None
) -> Agent | Component:
    """An edit given as JSON (the undo of a side-panel edit restores the data it had)."""
    node = project_selectors.node_by_key(project=project, key=key)
    if node is None:
        raise ServiceError(f"{project.name} has no node {key!r}")
    if isinstance(node, Agent):
        return project_services.agent_update(agent=node, user=user, data=data, version=version)
    return project_services.component_update(
        component=node,
        user=user,
        name=str(data.get("name") or node.name),
        settings=_settings(data) or {},
        version=version,
    )


def _settings(data: dict[str, Any]) -> dict[str, Any] | None:
    settings = data.get("settings")
    if settings is not None and not isinstance(settings, dict):
        raise ServiceError("settings must be a JSON object of setting: value", field="settings")
    return settings


@transaction.atomic
def node_delete(*, project: Project, user: User | None, key: str, version: int | None) -> None:
    node = project_selectors.node_by_key(project=project, key=key)
    if node is None:
        raise ServiceError(f"{project.name} has no node {key!r}")
    if isinstance(node, Agent):
        project_services.agent_delete(agent=node, user=user, version=version)
    else:
        project_services.component_delete(component=node, user=user, version=version)
