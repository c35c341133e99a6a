"""An agent's own egress rules (`Agent.egress_rules`) as security group rules.

Each rule is cleaned by `schema.EgressRule`. A rule to the whole internet (0.0.0.0/0 or
::/0) is accepted only on port 443, the HTTPS every agent already has to reach AWS APIs and
model providers, until the user confirms it with `allow_broad_permissions`: anything else
to everywhere is how data leaves, so it is a choice to make on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioning.graph.custom_permissions import CONFIRM
from provisioning.model import schema
from provisioning.model.blueprint import Agent
from provisioning.model.security_rules import build_rule_from_port_range, internet_source

Problem = tuple[str, str]
FIELD = "egress_rules"
HTTPS = 443


def egress_rules(agent: Agent) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The agent's rules in security group form, and the problems of those it cannot have."""
    rules: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for number, given in enumerate(agent.egress_rules, start=1):
        where = f"rule {number}"
        try:
            cleaned = schema.clean(schema.EgressRule, given)
        except schema.SettingsError as exc:
            problems += [
                (FIELD, f"{where}: {_path(path)}{message}") for path, message in exc.problems
            ]
            continue
        rule = _as_group_rule(cleaned)
        broad = _broad(rule)
        if broad and not agent.allow_broad_permissions:
            problems.append((FIELD, f"{where}: {broad}; give a narrower CIDR, or {CONFIRM}"))
            continue
        rules.append(rule)
    return rules, problems


def _path(path: str) -> str:
    # A problem of the whole rule (no port, two destinations) has no field to name.
    return "" if path == "settings" else f"{path}: "


def _as_group_rule(cleaned: Mapping[str, Any]) -> dict[str, Any]:
    port = cleaned["port"]
    return build_rule_from_port_range(
        cleaned["from_port"] if port is None else port,
        cleaned["to_port"] if port is None else port,
        protocol=cleaned["protocol"],
        cidr=cleaned["cidr"],
        prefix_list_id=cleaned["prefix_list_id"],
        description=cleaned["description"],
    )


def _broad(rule: Mapping[str, Any]) -> str:
    """Why the rule reaches further than HTTPS to everywhere ("" when it does not)."""
    source = internet_source(rule)
    if source is None or rule["from_port"] == rule["to_port"] == HTTPS:
        return ""
    ports = (
        f"port {rule['from_port']}"
        if rule["from_port"] == rule["to_port"]
        else f"ports {rule['from_port']}-{rule['to_port']}"
    )
    return (
        f"{source} on {ports}/{rule['protocol']} lets the agent send to the whole internet; "
        f"to {source} only port {HTTPS} (HTTPS to AWS APIs and model providers) is allowed"
    )
