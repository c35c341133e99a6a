"""Graph rewrites that make fewer, shared resources where sharing is safe.

Each rewrite adds a plain-language decision that the plan shows. Role sharing,
security-group consolidation and shared VPC endpoints land here (issue 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from provisioning.blueprint import Blueprint
from provisioning.graph import ResourceGraph


@dataclass
class Optimized:
    graph: ResourceGraph
    decisions: list[str] = field(default_factory=list)


def optimize(graph: ResourceGraph, blueprint: Blueprint) -> Optimized:
    return Optimized(graph)
