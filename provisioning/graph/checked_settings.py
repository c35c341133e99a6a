"""Every setting of a blueprint through its schema (provisioning/model/schema.py).

Each node's settings are cleaned by its model: defaults filled in, values normalised, and
each refusal reported as (node, dotted field path, message). The graph is still built from
what is left once the refused values are dropped, so the canvas can show what a blueprint
implies while its problems are being fixed; a deploy stops on the problems.
"""

from __future__ import annotations

from collections.abc import Mapping
from copy import deepcopy
from dataclasses import replace
from typing import Any

from provisioning.graph.components import component_problems
from provisioning.model import links as L
from provisioning.model import schema
from provisioning.model.blueprint import Blueprint, Component, Link

Problem = tuple[str, str, str]
STAGE = "stage"
"""The node stage-wide problems are reported on (the canvas shows them for the project)."""

_MAX_ROUNDS = 8


def cleaned(
    node: str, model: type[schema.Settings], given: Mapping[str, Any] | None
) -> tuple[dict[str, Any], list[Problem]]:
    """The settings as the schema cleans them, and what it refused (values then dropped)."""
    try:
        return schema.clean(model, given), []
    except schema.SettingsError as exc:
        problems = [(node, path, message) for path, message in exc.problems]
        refused = [path for path, _ in exc.problems]
    remaining: Any = deepcopy(dict(given or {}))
    for _ in range(_MAX_ROUNDS):
        for path in refused:
            _drop(remaining, path.split("."))
        try:
            return schema.clean(model, remaining), problems
        except schema.SettingsError as exc:
            refused = [path for path, _ in exc.problems]
    return schema.clean(model, {}), problems


def _drop(data: Any, path: list[str]) -> None:
    """Remove the value at `path`; where the path ends in something missing (a required
    field), the innermost existing element that holds it goes instead."""
    if not path:
        return
    head, rest = path[0], path[1:]
    if isinstance(data, dict) and head in data:
        if rest and isinstance(data[head], dict | list) and _has(data[head], rest[0]):
            _drop(data[head], rest)
        else:
            del data[head]
    elif isinstance(data, list) and head.isdigit() and int(head) < len(data):
        if rest and isinstance(data[int(head)], dict | list) and _has(data[int(head)], rest[0]):
            _drop(data[int(head)], rest)
        else:
            del data[int(head)]


def _has(data: Any, key: str) -> bool:
    if isinstance(data, dict):
        return key in data
    return key.isdigit() and int(key) < len(data)


def component(c: Component) -> tuple[Component | None, list[Problem]]:
    """The component with cleaned settings; None for a kind the engine does not know."""
    try:
        model = schema.component_model(c.kind)
    except schema.SettingsError as exc:
        return None, [(c.key, path, message) for path, message in exc.problems]
    settings, problems = cleaned(c.key, model, c.settings)
    return replace(c, settings=settings), problems


def link(given: Link) -> tuple[Link, list[Problem]]:
    model = schema.link_model(L.node_kind(given.source), L.node_kind(given.target))
    settings, problems = cleaned(given.key, model, given.settings)
    return replace(given, settings=settings), problems


def stage(blueprint: Blueprint) -> tuple[dict[str, Any], list[Problem]]:
    return cleaned(STAGE, schema.StageSettings, blueprint.settings)


def checked(blueprint: Blueprint) -> tuple[Blueprint, list[Problem]]:
    """The blueprint with every component, link and stage setting cleaned by its schema,
    and every problem found; a component of a kind the engine does not know is left out."""
    problems: list[Problem] = []
    components = []
    for given in blueprint.components:
        found, refused = component(given)
        problems += refused
        if found is not None:
            problems += [(found.key, f, m) for f, m in component_problems(found)]
            components.append(found)
    links = []
    for given_link in blueprint.links:
        cleaned_link, refused = link(given_link)
        problems += refused
        links.append(cleaned_link)
    settings, refused = stage(blueprint)
    problems += refused
    return (
        replace(blueprint, components=tuple(components), links=tuple(links), settings=settings),
        problems,
    )
