"""An agent's own IAM statements (`Agent.extra_statements`) and its on-failure destination.

Custom statements go onto the agent's role as given, except that a resource naming a
project node ("table:orders") becomes that resource's ARN. Anything that reaches beyond
the project — an action `*` or `service:*` (or any wildcard action), a resource `*`, a literal ARN — is refused
until the user confirms it with `allow_broad_permissions`: the plan then shows it like
any other grant.

The on-failure destination is a standard queue or topic of the project; the role gets
exactly the permission Lambda needs to deliver there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from provisioning.model import links as L
from provisioning.model import schema
from provisioning.model.blueprint import Agent, Component
from provisioning.model.policy_documents import statement
from provisioning.model.spec import Join, Ref

Problem = tuple[str, str]
FunctionArn = Callable[[str], Join]
"""An agent's name -> its function's ARN, built from the function's known name."""

CONFIRM = (
    "turn on 'Allow broad permissions' (allow_broad_permissions) in the agent's advanced "
    "settings to confirm"
)
DESTINATION_ACTIONS = {"queue": "sqs:SendMessage", "topic": "sns:Publish"}


@dataclass
class Granted:
    statements: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def component_arn(key: str) -> Ref:
    kind, name = L.split_key(key)
    return Ref(f"{kind}/{name}", "arn")


def node_resources(key: str, function_arn: FunctionArn) -> list[Any]:
    """What a node key stands for in a statement's resources."""
    kind, name = L.split_key(key)
    if kind == "agent":
        # Built from the name, not a Ref: an agent may name itself or an agent that names it
        # back, and its role would wait for a function that waits for the role.
        return [function_arn(name)]
    if kind == "bucket":
        return [component_arn(key), Join((component_arn(key), "/*"))]
    return [component_arn(key)]


NAMEABLE = ("agent", "bucket", "table", "queue", "topic")


def extra_statements(agent: Agent, *, nodes: Iterable[str], function_arn: FunctionArn) -> Granted:
    """The role statements of `agent.extra_statements`, or the problems that stop them.

    `nodes`: the keys of every agent and component of the project."""
    known = set(nodes)
    granted = Granted()
    for number, given in enumerate(agent.extra_statements, start=1):
        where = f"statement {number}"
        try:
            cleaned = schema.clean(schema.IamStatement, given)
        except schema.SettingsError as exc:
            granted.problems += [
                ("extra_statements", f"{where}: {p}: {m}") for p, m in exc.problems
            ]
            continue
        resources, problems, widening = _resources(cleaned["resources"], known, function_arn)
        widening = _broad_actions(cleaned["actions"]) + widening
        if widening and not agent.allow_broad_permissions:
            problems.append(
                f"widens the agent's permissions beyond this project ({'; '.join(widening)}): "
                + CONFIRM
            )
        granted.problems += [("extra_statements", f"{where}: {p}") for p in problems]
        if not problems:
            granted.statements.append(statement(cleaned["actions"], resources))
    return granted


def _broad_actions(actions: Iterable[str]) -> list[str]:
    found = []
    for action in actions:
        service = action.partition(":")[0]
        if action == "*":
            found.append("action * allows every action of every service")
        elif action.endswith(":*"):
            found.append(f"action {action} allows every action of {service}")
        elif "*" in action:
            found.append(f"action {action} allows every {service} action it matches")
    return found


def confirmed_wildcards(agents: Iterable[Agent]) -> frozenset[str]:
    """The wildcard actions users confirmed (`allow_broad_permissions`): the engine's last
    check lets exactly these through (secret_params.policy_problems)."""
    return frozenset(
        str(action)
        for agent in agents
        if agent.allow_broad_permissions
        for given in agent.extra_statements
        for action in (given.get("actions") or [])
        if "*" in str(action)
    )


def _resources(
    given: Iterable[str], known: set[str], function_arn: FunctionArn
) -> tuple[list[Any], list[str], list[str]]:
    """(resources, problems, what widens) for a statement's resources."""
    resources: list[Any] = []
    problems: list[str] = []
    widening: list[str] = []
    for resource in given:
        kind, name = L.split_key(resource)
        if resource == "*":
            widening.append("resource * is every resource of the account")
            resources.append(resource)
        elif resource.startswith("arn:"):
            widening.append(f"{resource} is not a node of this project")
            resources.append(resource)
        elif kind in NAMEABLE and name:
            if resource in known:
                resources += node_resources(resource, function_arn)
            else:
                problems.append(f"{resource} names no {kind} of this project")
        else:
            problems.append(
                f"{resource!r} is neither an ARN nor a project node such as table:orders "
                f"({', '.join(NAMEABLE)})"
            )
    return resources, problems, widening


def on_failure_destination(
    agent: Agent, components: Mapping[str, Component]
) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The role statement for the agent's on-failure destination, or the problem with it."""
    if not agent.on_failure:
        return None, []
    kind, _ = L.split_key(agent.on_failure)
    component = components.get(agent.on_failure)
    if kind not in DESTINATION_ACTIONS or component is None:
        return None, [("on_failure", f"{agent.on_failure} is not a queue or topic of this project")]
    if component.settings.get("fifo"):
        return None, [
            (
                "on_failure",
                f"{agent.on_failure} is FIFO; Lambda delivers failed invocations only to a "
                f"standard {kind}",
            )
        ]
    arn = component_arn(agent.on_failure)
    return statement([DESTINATION_ACTIONS[kind]], [arn]), []
