"""Network rewrites: one set of VPC endpoints per VPC, and shared security groups.

Endpoints: the agents in a VPC get an endpoint for every AWS service they call,
so they work without NAT and their traffic stays off the internet: Bedrock
always (an interface endpoint), S3 and DynamoDB when they link buckets or
tables (gateway endpoints: free, so preferred wherever AWS offers one), SQS
and SNS when they send or publish (interface endpoints). A queue that triggers
an agent needs none: Lambda's poller reads the queue from outside the VPC.

Security groups: groups with the same rules in the same VPC become one, so agents whose
egress rules are identical share a group. A group the network lays out for every agent
(the agents' group) outlives an agent's own group of the same rules, so agents whose rules
add nothing keep the group, and the name, they had before.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import replace
from typing import Any

from provisioning.graph import network
from provisioning.model import links as L
from provisioning.model.blueprint import Blueprint
from provisioning.model.security_rules import consolidate_security_groups, normalise_rules
from provisioning.model.spec import ResourceSpec

_SERVICE_BY_TARGET = {"bucket": "s3", "table": "dynamodb", "queue": "sqs", "topic": "sns"}
_WHY = {
    "bedrock-runtime": "agents call Bedrock",
    "s3": "agents use buckets",
    "dynamodb": "agents use tables",
    "sqs": "agents send to queues",
    "sns": "agents publish to topics",
}


def services_called(blueprint: Blueprint) -> set[str]:
    """Endpoint services the agents in the stage's VPC call (empty without a VPC)."""
    if not blueprint.agents:
        return set()
    agents = {a.key for a in blueprint.agents}
    called = {"bedrock-runtime"}
    for link in blueprint.links:
        target = L.node_kind(link.target)
        if link.source in agents and target in _SERVICE_BY_TARGET:
            called.add(_SERVICE_BY_TARGET[target])
    return called


def add_endpoints(specs: MutableMapping[str, ResourceSpec], blueprint: Blueprint) -> list[str]:
    """Endpoint specs (and the endpoints' group) for services the agents call but the
    stage's network settings do not list; returns the decisions."""
    settings: Mapping[str, Any] = blueprint.settings.get("network") or {}
    if not settings.get("enabled") or network.VPC not in specs:
        return []
    listed = set(settings.get("endpoints") or [])
    missing = services_called(blueprint) - listed
    if not missing:
        return []
    wanted = {**settings, "endpoints": sorted(listed | missing)}
    agent_groups = [lid for lid in specs if lid.startswith(network.AGENT_SG_PREFIX)]
    added = []
    for spec in network.network_specs(blueprint.project, blueprint.stage, wanted, agent_groups):
        if spec.logical_id in specs:
            continue
        if spec.resource_type == "ec2:vpc-endpoint" or spec.logical_id == network.ENDPOINTS_SG:
            specs[spec.logical_id] = spec
            if spec.resource_type == "ec2:vpc-endpoint":
                added.append(spec)
    return [_endpoint_decision(spec) for spec in sorted(added, key=lambda s: s.logical_id)]


def _endpoint_decision(spec: ResourceSpec) -> str:
    service = spec.properties["service"]
    kind = spec.properties["endpoint_type"].lower()
    cost = ", free" if kind == "gateway" else ""
    return (
        f"VPC endpoint {service} added to {network.VPC} ({kind}{cost}): "
        f"{_WHY.get(service, 'agents call it')}"
    )


def consolidate_groups(
    specs: MutableMapping[str, ResourceSpec],
) -> tuple[dict[str, str], list[str]]:
    """Security groups with identical requirements become one.

    Returns the renames (dropped group -> kept group) for the caller to apply to
    every reference, and the decisions.
    """
    groups = {lid: s for lid, s in specs.items() if s.resource_type == "ec2:security-group"}
    if len(groups) < 2:
        return {}, []
    needs = {lid: dict(s.properties) for lid, s in groups.items()}
    renames: dict[str, str] = {}
    decisions = []
    for shared in consolidate_security_groups(needs):
        if len(shared.members) < 2:
            continue
        keep, *drop = sorted(
            shared.members, key=lambda lid: (groups[lid].node != network.NODE, lid)
        )
        for lid in drop:
            renames[lid] = keep
            del specs[lid]
        decisions.append(
            f"{len(shared.members)} security groups share {groups[keep].properties['name']}: "
            f"identical rules ({', '.join(shared.members)})"
        )
    return renames, decisions


def without_duplicate_rules(specs: MutableMapping[str, ResourceSpec]) -> None:
    """Once merged groups are renamed, a group admitting each of them (the endpoints' group)
    holds the same rule twice: keep one."""
    for lid, spec in list(specs.items()):
        if spec.resource_type != "ec2:security-group":
            continue
        rules = {key: spec.properties.get(key) or [] for key in ("ingress", "egress")}
        tidy = {key: normalise_rules(given) for key, given in rules.items()}
        if any(len(tidy[key]) < len(rules[key]) for key in rules):
            specs[lid] = replace(spec, properties={**spec.properties, **tidy})


def agents_group_decision(specs: Mapping[str, ResourceSpec]) -> list[str]:
    """Say that the agents in the VPC share one group, when several do."""
    group = specs.get(network.AGENTS_SG)
    if group is None:
        return []
    users = [
        s
        for s in specs.values()
        if s.resource_type == "lambda:function" and network.AGENTS_SG in s.dependencies()
    ]
    if len(users) < 2:
        return []
    return [
        f"{len(users)} agents share security group {group.properties['name']}: "
        "identical requirements (no ingress, HTTPS out)"
    ]
