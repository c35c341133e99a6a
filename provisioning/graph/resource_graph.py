"""The resource graph: specs with their dependencies, ordered for planning and applying,
and what each link added (for the editor's inspector)."""

from __future__ import annotations

import graphlib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from provisioning.graph.wiring import LinkEffect
from provisioning.model.spec import ResourceSpec, to_jsonable

Problem = tuple[str, str, str]
"""(node key or "stage", field, message)."""


@dataclass
class ResourceGraph:
    specs: dict[str, ResourceSpec]
    problems: list[Problem] = field(default_factory=list)
    effects: dict[str, LinkEffect] = field(default_factory=dict)

    def order(self) -> list[str]:
        """Logical ids in dependency order (dependencies first); stable for equal graphs."""
        return topological_order({k: s.dependencies() for k, s in self.specs.items()})

    def levels(self) -> list[list[str]]:
        """Groups that depend only on earlier groups: each group can be read in parallel."""
        return topological_levels({k: s.dependencies() for k, s in self.specs.items()})


def topological_levels(deps: Mapping[str, frozenset[str] | set[str]]) -> list[list[str]]:
    """Groups that depend only on earlier groups, each sorted so equal graphs order alike."""
    sorter = graphlib.TopologicalSorter({k: [d for d in v if d in deps] for k, v in deps.items()})
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        raise ValueError(f"dependency cycle: {' -> '.join(exc.args[1])}") from None
    levels: list[list[str]] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        sorter.done(*ready)
        levels.append(ready)
    return levels


def topological_order(deps: Mapping[str, frozenset[str] | set[str]]) -> list[str]:
    return [key for level in topological_levels(deps) for key in level]


def explain(graph: ResourceGraph, link_key: str) -> dict[str, Any]:
    """What a link adds, as plain JSON for the editor's inspector."""
    effect = graph.effects.get(link_key, LinkEffect())
    return {
        "resources": [
            {"logical_id": rid, "type": graph.specs[rid].resource_type} for rid in effect.resources
        ],
        "statements": to_jsonable(effect.statements),
        "environment": to_jsonable(effect.environment),
        "variables": sorted(effect.environment),
    }


def nodes_by_resource(graph: ResourceGraph) -> dict[str, list[str]]:
    by_node: dict[str, list[str]] = defaultdict(list)
    for spec in graph.specs.values():
        if spec.node:
            by_node[spec.node].append(spec.logical_id)
    return dict(by_node)
