"""Graph rewrites that make fewer, shared resources where sharing is safe.

Each rewrite adds a plain-language decision that the plan shows.

Execution roles (`blueprint.settings["shared_role"]`):
  "identical" (default)  agents whose roles grant the same apart from each one's own log
                         group share one role. Its logs grant names each member's group on
                         a condition that the member's function is the writer
                         (lambda:SourceFunctionArn, which Lambda sets on the log calls it
                         makes for a function): each member still writes only its own
                         group, so sharing in this mode never gives any agent a permission
                         it did not have.
  "same_grants"          (opt-in) agents whose grants are the same apart from their own log
                         group share one role whose logs statement lists exactly the members'
                         log groups: each member can then write the others' logs, and the
                         plan says so.
  "all"                  (opt-in) one role for every agent with the merged policy: every
                         agent can do what any of them can; the plan warns.
  "none"                 one role per agent.
We compare grants as (action, resource) pairs, so two policies that group the same
permissions differently still count as identical; statements with conditions are
compared as written. A shared role is named `<project>-<stage>-exec-<hash of members>`
and replaces the members' roles: each function's `role_arn` and every other reference
to a member's role point at it.

Policies: every agent role's statements are merged and deduplicated, resources grouped
under identical action sets. IAM caps the *sum* of a role's inline policies at 10,240
characters (whitespace not counted), so more inline policies would not help: what does
not fit goes into customer-managed policies (6,144 characters each, attached to the
role, at most 10 by IAM's default quota); a role too large even for that is reported as
a problem on its agents before any AWS call. Sizes count each ARN at the longest it can
be once real (they are still `Ref`s here).

Network: see optimizer_network (one endpoint set per VPC for the services the agents
call; security groups with identical rules consolidated).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from provisioning.graph.builder import ACCOUNT, PARTITION, REGION, function_arn
from provisioning.graph.resource_graph import ResourceGraph
from provisioning.model.blueprint import Blueprint
from provisioning.model.naming import physical_name, short_hash
from provisioning.model.policy_documents import (
    INLINE_POLICY_LIMIT,
    MANAGED_POLICY_LIMIT,
    is_plain_allow,
    log_statements,
)
from provisioning.model.spec import Join, Ref, ResourceSpec, to_jsonable
from provisioning.optimize import network_sharing as net
from provisioning.optimize import policy_merging as P

Problem = tuple[str, str, str]
MAX_MANAGED_POLICIES = 10
"""IAM's default quota of managed policies attached to one role."""
MODES = ("identical", "same_grants", "all", "none")
SHARED_ROLE_PREFIX = "shared/role/"


@dataclass
class Optimized:
    graph: ResourceGraph
    decisions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _AgentRole:
    name: str
    role_id: str
    function_id: str
    function_name: str
    log_group: str
    grants: tuple[frozenset[P.Atom], frozenset[str]]


def optimize(graph: ResourceGraph, blueprint: Blueprint) -> Optimized:
    specs = dict(graph.specs)
    decisions: list[str] = []
    renames, owners, role_decisions = _share_roles(specs, blueprint)
    decisions += role_decisions
    policy_decisions, problems = _tidy_policies(specs, blueprint, owners)
    decisions += policy_decisions
    decisions += net.add_endpoints(specs, blueprint)
    group_renames, group_decisions = net.consolidate_groups(specs)
    renames.update(group_renames)
    decisions += group_decisions + net.agents_group_decision(specs)
    if renames:
        _point_references(specs, renames)
        net.without_duplicate_rules(specs)
    return Optimized(replace(graph, specs=specs, problems=[*graph.problems, *problems]), decisions)


# --- roles --------------------------------------------------------------------------------
def _mode(blueprint: Blueprint) -> str:
    mode = str(blueprint.settings.get("shared_role") or "identical")
    return mode if mode in MODES else "identical"


def _agent_roles(specs: Mapping[str, ResourceSpec]) -> list[_AgentRole]:
    """Agent roles used only as their own function's execution role."""
    found = []
    for agent in sorted({lid.split("/")[1] for lid in specs if lid.startswith("agent/")}):
        role_id, function_id = f"agent/{agent}/role", f"agent/{agent}/function"
        role, function = specs.get(role_id), specs.get(function_id)
        if role is None or function is None or role.resource_type != "iam:role":
            continue
        if function.properties.get("role_arn") != Ref(role_id, "arn"):
            continue
        log_group = specs.get(f"agent/{agent}/log-group")
        log_name = str(log_group.properties["name"]) if log_group else ""
        grants = P.grants(_documents(role.properties))
        name = str(function.properties["name"])
        found.append(_AgentRole(agent, role_id, function_id, name, log_name, grants))
    return found


def _documents(properties: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list((properties.get("inline_policies") or {}).values())


def _identity(role: ResourceSpec) -> str:
    """What else must match for two roles to be one: trust, managed policies, boundary."""
    p = role.properties
    return json.dumps(
        to_jsonable(
            [
                p.get("assume_role_policy"),
                sorted(p.get("managed_policy_arns") or []),
                p.get("permissions_boundary"),
            ]
        ),
        sort_keys=True,
    )


def _own_logs(member: _AgentRole) -> frozenset[P.Atom]:
    marker = f":log-group:{member.log_group}"
    return frozenset(
        (action, resource)
        for action, resource in member.grants[0]
        if action.startswith("logs:")
        and member.log_group
        and (resource.endswith(marker) or marker + ":" in resource)
    )


def _group_key(member: _AgentRole, role: ResourceSpec, mode: str) -> str:
    if mode == "all":
        return _identity(role)
    atoms, other = member.grants
    atoms = atoms - _own_logs(member)
    return repr((sorted(atoms), sorted(other), _identity(role)))


def _share_roles(
    specs: dict[str, ResourceSpec], blueprint: Blueprint
) -> tuple[dict[str, str], dict[str, list[str]], list[str]]:
    """Returns the renames (member role -> shared role), each shared role's agent nodes,
    and the decisions."""
    mode = _mode(blueprint)
    if mode == "none":
        return {}, {}, []
    groups: dict[str, list[_AgentRole]] = {}
    for member in _agent_roles(specs):
        key = _group_key(member, specs[member.role_id], mode)
        groups.setdefault(key, []).append(member)
    renames: dict[str, str] = {}
    owners: dict[str, list[str]] = {}
    decisions = []
    for members in groups.values():
        if len(members) < 2:
            continue
        shared_id, name = _add_shared_role(specs, blueprint, members, mode)
        owners[shared_id] = [f"agent:{m.name}" for m in members]
        for member in members:
            renames[member.role_id] = shared_id
            del specs[member.role_id]
        decisions.append(_role_decision(members, name, mode))
    return renames, owners, decisions


def _add_shared_role(
    specs: dict[str, ResourceSpec], blueprint: Blueprint, members: list[_AgentRole], mode: str
) -> tuple[str, str]:
    joined = ",".join(m.name for m in members)
    digest = next(
        d
        for d in (short_hash(joined, n) for n in range(4, 65))
        if f"{SHARED_ROLE_PREFIX}{d}" not in specs
    )
    name = physical_name(blueprint.project, blueprint.stage, "exec", digest, kind="iam_role")
    first = specs[members[0].role_id].properties
    documents = [doc for m in members for doc in _documents(specs[m.role_id].properties)]
    if mode == "identical":
        own = frozenset().union(*(_own_logs(m) for m in members))
        documents = [P.without(doc, own) for doc in documents]
        documents.append({"Statement": [s for m in members for s in _own_logs_only(m)]})
    policy = P.merge(documents)
    shared_id = f"{SHARED_ROLE_PREFIX}{digest}"
    properties = {
        **first,
        "name": name,
        "description": "Execution role shared by agents " + ", ".join(m.name for m in members),
        "inline_policies": {"agent": policy},
    }
    specs[shared_id] = ResourceSpec(shared_id, "iam:role", properties, node=None)
    return shared_id, name


def _own_logs_only(member: _AgentRole) -> list[dict[str, Any]]:
    """The member's log statements, valid only for the log calls made for its function."""
    if not member.log_group:
        return []
    writer = {"ArnEquals": {"lambda:SourceFunctionArn": function_arn(member.function_name)}}
    found = log_statements(member.log_group, region=REGION, account=ACCOUNT, partition=PARTITION)
    return [{**statement, "Condition": writer} for statement in found]


def _role_decision(members: list[_AgentRole], name: str, mode: str) -> str:
    who = f"{len(members)} agents share role {name}"
    listed = ", ".join(m.name for m in members)
    if mode == "identical":
        return (
            f"{who}: identical permissions apart from their own log groups ({listed}); "
            "each still writes only its own logs"
        )
    if mode == "same_grants":
        return (
            f"{who}: identical permissions apart from their own log groups ({listed}); "
            "each of them can write the others' logs"
        )
    return (
        f"WARNING: {who} (shared_role = all): the merged policy lets every agent do what "
        f"any of them can, which widens permissions ({listed})"
    )


# --- policies -----------------------------------------------------------------------------
def _tidy_policies(
    specs: dict[str, ResourceSpec], blueprint: Blueprint, owners: Mapping[str, list[str]]
) -> tuple[list[str], list[Problem]]:
    """Merge each agent role's statements; move what IAM's inline cap cannot hold into
    managed policies; report a role too large even for those."""
    decisions: list[str] = []
    problems: list[Problem] = []
    lengths = P.Lengths(
        {lid: (s.resource_type, str(s.properties.get("name", ""))) for lid, s in specs.items()},
        blueprint.region,
    )
    for lid, spec in list(specs.items()):
        if spec.resource_type != "iam:role" or not _is_agent_role(lid):
            continue
        policies = spec.properties.get("inline_policies") or {}
        if len(policies) > 1 or (policies and _mergeable(policies)):
            policies = {"agent": P.merge(policies.values())}
            specs[lid] = replace(spec, properties={**spec.properties, "inline_policies": policies})
        total = sum(P.size_bound(doc, lengths) for doc in policies.values())
        if total > INLINE_POLICY_LIMIT:
            total = sum(P.size(doc, lengths) for doc in policies.values())
        if total <= INLINE_POLICY_LIMIT:
            continue
        inline, managed = P.pack(
            P.merge(policies.values()), lengths, INLINE_POLICY_LIMIT, MANAGED_POLICY_LIMIT
        )
        if len(managed) > MAX_MANAGED_POLICIES:
            problems += _too_large(owners.get(lid) or [spec.node or lid], total)
            continue
        _overflow(specs, lid, inline, managed)
        decisions.append(
            f"role {spec.properties['name']}: its policy (about {total} characters) is over "
            f"IAM's {INLINE_POLICY_LIMIT}-character inline limit for a role, so it is split "
            f"into {len(managed)} managed {'policy' if len(managed) == 1 else 'policies'} "
            "beside the inline one"
        )
    return decisions, problems


def _overflow(
    specs: dict[str, ResourceSpec],
    role_id: str,
    inline: dict[str, Any],
    managed: list[dict[str, Any]],
) -> None:
    role = specs[role_id]
    name = str(role.properties["name"])
    arns = list(role.properties.get("managed_policy_arns") or [])
    for i, document in enumerate(managed, start=2):
        policy_id = f"{role_id}/policy/{i}"
        specs[policy_id] = ResourceSpec(
            policy_id,
            "iam:policy",
            {
                "name": f"{name}-{i}",
                "description": f"Part {i} of the permissions of role {name}",
                "document": document,
            },
            node=role.node,
        )
        arns.append(Ref(policy_id, "arn"))
    properties = {
        **role.properties,
        "inline_policies": {"agent": inline},
        "managed_policy_arns": arns,
    }
    specs[role_id] = replace(role, properties=properties)


def _too_large(agents: list[str], total: int) -> list[Problem]:
    message = (
        f"its execution role needs about {total} characters of IAM policy, more than a "
        f"role can hold ({INLINE_POLICY_LIMIT} inline plus {MAX_MANAGED_POLICIES} managed "
        f"policies of {MANAGED_POLICY_LIMIT}): link fewer resources to it"
    )
    return [(agent, "links", message) for agent in agents]


def _is_agent_role(logical_id: str) -> bool:
    return logical_id.startswith(SHARED_ROLE_PREFIX) or (
        logical_id.startswith("agent/") and logical_id.endswith("/role")
    )


def _mergeable(policies: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether a lone document has statements that merging would combine or drop."""
    (document,) = policies.values()
    seen: set[tuple[str, ...]] = set()
    for statement in P.statements(document):
        if not is_plain_allow(statement):
            continue
        actions = statement["Action"]
        key = tuple(sorted(actions if isinstance(actions, list | tuple) else [actions]))
        if key in seen:
            return True
        seen.add(key)
    return False


# --- references ---------------------------------------------------------------------------
def _point_references(specs: dict[str, ResourceSpec], renames: Mapping[str, str]) -> None:
    """Every Ref and ordering dependency on a removed resource now names its replacement."""
    gone = renames.keys()
    for lid, spec in list(specs.items()):
        if not (spec.dependencies() & gone):
            continue
        specs[lid] = replace(
            spec,
            properties=_renamed(spec.properties, renames),
            depends_on=tuple(dict.fromkeys(renames.get(d, d) for d in spec.depends_on)),
        )


def _renamed(value: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(value, Ref):
        return Ref(renames.get(value.logical_id, value.logical_id), value.attribute)
    if isinstance(value, Join):
        return Join(tuple(_renamed(part, renames) for part in value.parts))
    if isinstance(value, Mapping):
        return {key: _renamed(item, renames) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed(item, renames) for item in value]
    if isinstance(value, tuple):
        return tuple(_renamed(item, renames) for item in value)
    return value
