"""Blueprint -> ResourceGraph: every AWS resource the blueprint implies, with dependencies.

One agent becomes an execution role, a log group and a function; a component
becomes its AWS resource; a link becomes the wiring it implies (IAM statements,
environment variables, routes, subscriptions, triggers, permissions).
The graph itself, its ordering and `explain` live in resource_graph.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from provisioning.graph import (
    agent_egress,
    alarms,
    api_auth,
    checked_settings,
    custom_permissions,
    network,
    secret_params,
    variables,
)
from provisioning.graph import agent_needs as A
from provisioning.graph.components import component_specs
from provisioning.graph.resource_graph import Problem, ResourceGraph
from provisioning.graph.wiring import WIRING, LinkEffect
from provisioning.model import links as L
from provisioning.model.blueprint import Agent, Blueprint, Link
from provisioning.model.naming import AWS, physical_name, reserved_name_problem
from provisioning.model.policy_documents import (
    add_vpc_execution_permissions,
    log_statements,
    policy_document,
    trust_policy,
)
from provisioning.model.spec import Join, Ref, ResourceSpec
from provisioning.strands import packaging
from provisioning.strands.requirements import RequirementRefused
from provisioning.strands.tools_catalogue import ArnContext

ACCOUNT = Ref(AWS, "account_id")
REGION = Ref(AWS, "region")
PARTITION = Ref(AWS, "partition")
SAMPLE_ACCOUNT = "123456789012"
"""Stands in for the account id where a value's length is estimated before deploy."""


def function_arn(function_name: str) -> Join:
    """A function's ARN from its name, for policies: a role cannot wait for (`Ref`) the
    function that runs as it."""
    return Join(("arn:", PARTITION, ":lambda:", REGION, ":", ACCOUNT, f":function:{function_name}"))


@dataclass
class _AgentParts:
    agent: Agent
    statements: list[dict[str, Any]] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)


class _Builder:
    def __init__(self, blueprint: Blueprint) -> None:
        self.specs: dict[str, ResourceSpec] = {}
        self.bp, problems = checked_settings.checked(blueprint)
        self.problems: list[Problem] = problems
        self.effects: dict[str, LinkEffect] = {}
        self.agents = {a.key: _AgentParts(a) for a in self.bp.agents}
        self.components = {c.key: c for c in self.bp.components}
        self.queue_topics: dict[str, list[Ref]] = {}
        self.session_buckets: dict[str, str] = {}
        """agent key -> logical id of the bucket holding its conversations."""
        self.routes: dict[tuple[str, str], str] = {}
        self.variables = variables.Variables()
        self.agent_groups: dict[str, str] = {}
        """agent key -> logical id of its own security group (agents with egress rules)."""

    def name(self, *parts: str, kind: str, lowercase: bool = False) -> str:
        return physical_name(self.bp.project, self.bp.stage, *parts, kind=kind, lowercase=lowercase)

    def add(self, spec: ResourceSpec) -> None:
        self.specs[spec.logical_id] = spec

    def build(self) -> ResourceGraph:
        self._check_names()
        self._agent_groups()
        self._network()
        for component in self.bp.components:
            for spec in component_specs(component, self.name):
                self.add(spec)
            for spec in api_auth.auth_specs(
                component,
                self.name,
                self.bp.settings,
                project=self.bp.project,
                stage_name=self.bp.stage,
                arn={"region": REGION, "account": ACCOUNT, "partition": PARTITION},
            ):
                self.add(spec)
        for link in self.bp.links:
            self._wire(link)
        for parts in self.agents.values():
            self._agent(parts)
        self._check_triggers()
        for spec in alarms.alarm_specs(self.bp, self.specs, self.name):
            self.add(spec)
        self.problems.extend(self.variables.problems())
        confirmed = custom_permissions.confirmed_wildcards(self.bp.agents)
        self.problems.extend(secret_params.policy_problems(self.specs, confirmed))
        return ResourceGraph(self.specs, self.problems, self.effects)

    @property
    def network(self) -> Mapping[str, Any]:
        return self.bp.settings.get("network") or {}

    def _network(self) -> None:
        if not self.network.get("enabled"):
            return
        self.problems.extend(
            (network.NODE, f, m) for f, m in network.validate_network(self.network)
        )
        for spec in network.network_specs(
            self.bp.project, self.bp.stage, self.network, list(self.agent_groups.values())
        ):
            self.add(spec)

    def _agent_groups(self) -> None:
        """Each agent's egress rules checked; with the network on, a group for each agent
        that has rules of its own (the others share the network's agents group)."""
        for agent in self.bp.agents:
            rules, problems = agent_egress.egress_rules(agent)
            self.problems.extend((agent.key, f, m) for f, m in problems)
            if rules and self.network.get("enabled"):
                spec = network.agent_group_spec(self.bp.project, self.bp.stage, agent.name, rules)
                self.add(spec)
                self.agent_groups[agent.key] = spec.logical_id

    def _check_names(self) -> None:
        seen: set[str] = set()
        nodes = [(a.key, a.name) for a in self.bp.agents]
        nodes += [(c.key, c.name) for c in self.bp.components]
        for key, name in nodes:
            if key in seen:
                self.problems.append((key, "name", "two nodes of the same kind share this name"))
            seen.add(key)
            reserved = reserved_name_problem(name)
            if reserved:
                self.problems.append((key, "name", reserved))

    # --- agents ---------------------------------------------------------------------------
    def _agent(self, parts: _AgentParts) -> None:
        agent = parts.agent
        base = f"agent/{agent.name}"
        function_name = self.name(agent.name, kind="lambda")
        log_group = f"/aws/lambda/{function_name}"
        secret_specs, secret_statements, secret_env, secret_problems = secret_params.secret_specs(
            self.bp, agent, region=REGION, account=ACCOUNT, partition=PARTITION
        )
        for spec in secret_specs:
            self.add(spec)
        self.problems.extend(secret_problems)
        parts.environment.update(secret_env)
        needs = self._needs(agent)
        parts.environment.update(needs.environment)
        self.variables.agent_own(agent)
        for name, value in needs.environment.items():
            self.variables.set(agent.key, name, variables.SESSIONS, value)
        statements = (
            needs.statements
            + log_statements(log_group, region=REGION, account=ACCOUNT, partition=PARTITION)
            + parts.statements
            + secret_statements
            + self._custom_statements(agent)
            + self._on_failure(agent, base)
        )
        self.add(
            ResourceSpec(
                f"{base}/role",
                "iam:role",
                {
                    "name": self.name(agent.name, kind="iam_role"),
                    "description": f"Execution role of agent {agent.name}",
                    "assume_role_policy": trust_policy("lambda.amazonaws.com"),
                    "inline_policies": {"agent": self._policy(statements)},
                    "managed_policy_arns": [],
                    "permissions_boundary": self.bp.settings["permissions_boundary"] or None,
                },
                node=agent.key,
            )
        )
        self.add(
            ResourceSpec(
                f"{base}/log-group",
                "logs:log-group",
                {
                    "name": log_group,
                    "retention_days": int(self.bp.settings.get("log_retention_days", 14)),
                },
                node=agent.key,
            )
        )
        self.add(self._function(agent, base, function_name, parts.environment, needs))

    def function_arn(self, agent_name: str) -> Join:
        return function_arn(self.name(agent_name, kind="lambda"))

    def _custom_statements(self, agent: Agent) -> list[dict[str, Any]]:
        granted = custom_permissions.extra_statements(
            agent, nodes=self.agents.keys() | self.components.keys(), function_arn=self.function_arn
        )
        self.problems.extend((agent.key, f, m) for f, m in granted.problems)
        return granted.statements

    def _on_failure(self, agent: Agent, base: str) -> list[dict[str, Any]]:
        """The role's grant on the destination, and the function's asynchronous invocation
        config that sends failed events there."""
        grant, problems = custom_permissions.on_failure_destination(agent, self.components)
        self.problems.extend((agent.key, f, m) for f, m in problems)
        if grant is None:
            return []
        self.add(
            ResourceSpec(
                f"{base}/on-failure",
                "lambda:event-invoke-config",
                {
                    "function_name": Ref(f"{base}/function", "name"),
                    "on_failure_arn": custom_permissions.component_arn(agent.on_failure),
                },
                node=agent.key,
                # Lambda checks that the role may deliver to the destination.
                depends_on=(f"{base}/role",),
            )
        )
        return [grant]

    def _needs(self, agent: Agent) -> A.AgentNeeds:
        bucket = self.session_buckets.get(agent.key)
        if agent.session_bucket:
            bucket = f"bucket/{agent.session_bucket}"
            if f"bucket:{agent.session_bucket}" not in self.components:
                self.problems.append((agent.key, "session_bucket", "no such bucket"))
                bucket = None
        needs = A.agent_needs(
            agent,
            arn=ArnContext(partition=PARTITION, region=REGION, account=ACCOUNT),
            session_bucket=bucket,
            dependencies=self.dependencies,
        )
        self.problems.extend((agent.key, f, m) for f, m in needs.problems)
        return needs

    @property
    def dependencies(self) -> str:
        """One of: "layer" (pip-built, the default), "official" (the SDK from the stage's
        strands_layer_arn) or "none" (the agent's own layers only)."""
        return str(self.bp.settings.get("dependencies") or "layer")

    def _layers(self, agent: Agent, recipe: dict[str, Any], requirements: list[str]) -> list[Any]:
        official = self.bp.settings.get("strands_layer_arn")
        if self.dependencies == "official" and not official:
            self.problems.append((agent.key, "layers", "the stage sets no strands_layer_arn"))
        if agent.code:
            try:
                requirements = sorted({*requirements, *A.code_requirements(agent, recipe)})
            except RequirementRefused as exc:
                self.problems.append((agent.key, "requirements", str(exc)))
        layers: list[Any] = [official] if self.dependencies == "official" and official else []
        if requirements and self.dependencies != "none":
            layer = A.layer_spec(agent, requirements, self.name, Ref(A.ARTIFACTS, "name"))
            self.specs.setdefault(layer.logical_id, layer)
            self._artifacts_bucket()
            layers.append(Ref(layer.logical_id, "arn"))
        return layers + list(agent.layers)

    def _artifacts_bucket(self) -> Ref:
        if A.ARTIFACTS not in self.specs:
            self.add(A.artifacts_bucket_spec(self.name))
        return Ref(A.ARTIFACTS, "name")

    def _policy(self, statements: list[dict[str, Any]]) -> dict[str, Any]:
        document = policy_document(statements)
        if self.network.get("enabled"):
            # Only agents that run in the VPC get the ENI permissions Lambda needs there.
            document = add_vpc_execution_permissions(document)
        return document

    def _function(
        self,
        agent: Agent,
        base: str,
        function_name: str,
        link_env: dict[str, Any],
        needs: A.AgentNeeds,
    ) -> ResourceSpec:
        environment = {**dict(agent.environment), **link_env}
        estimated = {name: self._estimated(value) for name, value in environment.items()}
        self.problems.extend((agent.key, f, m) for f, m in A.environment_problems(agent, estimated))
        recipe = A.agent_recipe(
            agent, region=self.bp.region, project=self.bp.project, stage=self.bp.stage
        )
        try:
            zip_bytes = packaging.package_code(recipe)
        except packaging.PackagingError as exc:
            self.problems.append((agent.key, "code", str(exc)))
            zip_bytes = b""
        layers = self._layers(agent, recipe, needs.requirements)
        sizing: dict[str, Any] = {
            "layer_sizes": [
                Ref(layer.logical_id, "unzipped_size") for layer in layers if isinstance(layer, Ref)
            ]
        }
        if len(zip_bytes) > packaging.DIRECT_UPLOAD_LIMIT:
            sizing["artifacts_bucket"] = self._artifacts_bucket()
        return ResourceSpec(
            f"{base}/function",
            "lambda:function",
            {
                "name": function_name,
                "role_arn": Ref(f"{base}/role", "arn"),
                "runtime": agent.runtime,
                "handler": A.handler_entry(agent),
                "architecture": agent.architecture,
                "memory_mb": agent.memory_mb,
                "timeout_s": agent.timeout_s,
                "environment": environment,
                "reserved_concurrency": agent.reserved_concurrency,
                "tracing": "Active" if agent.tracing else "PassThrough",
                "layers": layers,
                "code": recipe,
                "code_sha256": packaging.code_sha256(zip_bytes),
                **sizing,
                "vpc": network.lambda_vpc_config(
                    self.network, self.agent_groups.get(agent.key, network.AGENTS_SG)
                )
                or None,
            },
            node=agent.key,
            depends_on=(f"{base}/log-group",),
        )

    def _estimated(self, value: Any) -> str:
        """A value as long as it will be once its producer exists: names are known now, URLs
        and ARNs are built around them."""
        if isinstance(value, Join):
            return "".join(self._estimated(part) for part in value.parts)
        if not isinstance(value, Ref):
            return str(value)
        if value.logical_id == AWS:
            pseudo = {"account_id": SAMPLE_ACCOUNT, "region": self.bp.region, "partition": "aws"}
            return pseudo.get(value.attribute, SAMPLE_ACCOUNT)
        spec = self.specs.get(value.logical_id)
        name = self._estimated(spec.properties.get("name") or "") if spec else ""
        if value.attribute == "name" and name:
            return name
        service = spec.resource_type.split(":", 1)[0] if spec else "aws"
        region = self.bp.region
        if value.attribute == "url":
            return f"https://{service}.{region}.amazonaws.com/{SAMPLE_ACCOUNT}/{name}"
        return f"arn:aws:{service}:{region}:{SAMPLE_ACCOUNT}:{name or value.logical_id}"

    # --- links ----------------------------------------------------------------------------
    def _wire(self, link: Link) -> None:
        keys = self.agents.keys() | self.components.keys()
        missing = [k for k in (link.source, link.target) if k not in keys]
        if missing:
            self.problems.append(
                (link.key, "target", f"links to {missing[0]}, which does not exist")
            )
            return
        problem = L.link_problem(link.source, link.target, link.kind)
        if problem:
            self.problems.append((link.key, "kind", problem))
            return
        kind = link.kind or L.allowed_kinds(link.source, link.target)[0]
        effect = LinkEffect()
        self.effects[link.key] = effect
        pair = (L.node_kind(link.source), L.node_kind(link.target))
        wiring = WIRING[pair]
        wiring(self, link, kind, effect)

    def grant(self, agent_key: str, effect: LinkEffect, stmt: dict[str, Any]) -> None:
        self.agents[agent_key].statements.append(stmt)
        effect.statements.append(stmt)

    def env(self, link: Link, agent_key: str, effect: LinkEffect, name: str, value: Any) -> None:
        self.agents[agent_key].environment[name] = value
        effect.environment[name] = value
        self.variables.set(agent_key, name, variables.link_source(agent_key, link), value)

    def problem(self, link: Link, field: str, message: str) -> None:
        self.problems.append((link.key, field, message))

    def add_for_link(self, effect: LinkEffect, spec: ResourceSpec) -> None:
        self.add(spec)
        effect.resources.append(spec.logical_id)

    def _check_triggers(self) -> None:
        for link in self.bp.links:
            if (L.node_kind(link.source), L.node_kind(link.target)) != ("queue", "agent"):
                continue
            queue, parts = self.components.get(link.source), self.agents.get(link.target)
            if queue is None or parts is None:
                continue
            visibility = int(queue.settings.get("visibility_timeout_s", 30))
            if visibility < parts.agent.timeout_s:
                self.problems.append(
                    (
                        queue.key,
                        "visibility_timeout_s",
                        f"must be at least the timeout of agent {parts.agent.name} "
                        f"({parts.agent.timeout_s} s); AWS refuses the trigger otherwise "
                        f"(6x the timeout is recommended)",
                    )
                )


def agent_recipe(agent: Agent, *, region: str) -> dict[str, Any]:
    """The packaging recipe of an agent's code (provisioning/graph/agent_needs.py)."""
    return A.agent_recipe(agent, region=region)


def build(blueprint: Blueprint) -> ResourceGraph:
    return _Builder(blueprint).build()
