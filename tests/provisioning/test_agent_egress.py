"""An agent's own egress rules: checked before any AWS call, a security group of its own in
the stage's VPC, shared with agents whose rules are the same, and admitted by the endpoints."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from provisioning import engine
from provisioning.aws import AwsContext
from provisioning.events import ListSink
from provisioning.graph.builder import build
from provisioning.model.blueprint import Agent, Blueprint
from provisioning.model.naming import physical_name
from provisioning.model.spec import ResourceSpec
from provisioning.optimize.optimizer import Optimized, optimize
from provisioning.state import MemoryStateStore

NETWORK = {"enabled": True, "cidr": "10.20.0.0/16", "nat": "none"}
DATABASE = {"protocol": "tcp", "port": 5432, "cidr": "10.1.0.0/16", "description": "orders db"}
HTTPS_OUT = {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_ipv4": "0.0.0.0/0"}
DATABASE_OUT = {
    "protocol": "tcp",
    "from_port": 5432,
    "to_port": 5432,
    "cidr_ipv4": "10.1.0.0/16",
    "description": "orders db",
}


def stage(*agents: Agent, network: dict[str, Any] | None = None) -> Blueprint:
    return Blueprint(
        project="acme",
        stage="dev",
        agents=agents,
        settings={"network": NETWORK if network is None else network},
    )


def optimized(bp: Blueprint) -> Optimized:
    return optimize(build(bp), bp)


def group_of(result: Optimized, agent: str) -> ResourceSpec:
    vpc = result.graph.specs[f"agent/{agent}/function"].properties["vpc"]
    (group,) = vpc["security_group_ids"]
    return result.graph.specs[group.logical_id]


def groups(result: Optimized) -> dict[str, ResourceSpec]:
    specs = result.graph.specs.items()
    return {lid: s for lid, s in specs if s.resource_type == "ec2:security-group"}


def admitted(result: Optimized) -> list[str]:
    """The groups the interface endpoints admit HTTPS from."""
    ingress = result.graph.specs["network/sg/endpoints"].properties["ingress"]
    assert all(rule["from_port"] == rule["to_port"] == 443 for rule in ingress)
    return [rule["source_group_id"].logical_id for rule in ingress]


def without_description(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in rule.items() if k != "description"} for rule in rules]


# --- where each agent's traffic may go ---------------------------------------------------
def test_two_agents_without_rules_share_the_stage_agents_group_as_before() -> None:
    result = optimized(stage(Agent("support"), Agent("sales")))

    assert group_of(result, "support") is group_of(result, "sales")
    shared = group_of(result, "support")
    assert shared.logical_id == "network/sg/agents"
    assert shared.properties["name"] == physical_name("acme", "dev", "sg", "agents", kind="ec2")
    assert without_description(shared.properties["egress"]) == [HTTPS_OUT]
    assert set(groups(result)) == {"network/sg/agents", "network/sg/endpoints"}
    assert admitted(result) == ["network/sg/agents"]


def test_an_agent_reaching_a_database_gets_its_own_group_that_its_function_uses() -> None:
    result = optimized(stage(Agent("orders", egress_rules=(DATABASE,)), Agent("support")))

    own = group_of(result, "orders")
    assert own.logical_id == "network/sg/agent/orders"
    assert own.properties["name"] == physical_name(
        "acme", "dev", "sg", "agent", "orders", kind="ec2"
    )
    assert own.properties["ingress"] == []
    assert without_description(own.properties["egress"]) == without_description(
        [HTTPS_OUT, DATABASE_OUT]
    )
    assert DATABASE_OUT in own.properties["egress"]
    assert group_of(result, "support").logical_id == "network/sg/agents"
    assert sorted(admitted(result)) == ["network/sg/agent/orders", "network/sg/agents"]


def test_agents_with_the_same_rules_share_one_group_and_the_plan_says_so() -> None:
    same_rule_spelled_as_a_range = {
        "protocol": "tcp",
        "from_port": 5432,
        "to_port": 5432,
        "cidr": "10.1.0.0/16",
        "description": "orders db",
    }
    bp = stage(
        Agent("billing", egress_rules=(same_rule_spelled_as_a_range,)),
        Agent("orders", egress_rules=(DATABASE,)),
        Agent("support"),
    )

    result = optimized(bp)

    assert group_of(result, "billing") is group_of(result, "orders")
    assert group_of(result, "billing").logical_id == "network/sg/agent/billing"
    assert "network/sg/agent/orders" not in result.graph.specs
    assert group_of(result, "support").logical_id == "network/sg/agents"
    assert sorted(admitted(result)) == ["network/sg/agent/billing", "network/sg/agents"]
    name = physical_name("acme", "dev", "sg", "agent", "billing", kind="ec2")
    assert any(d.startswith(f"2 security groups share {name}") for d in result.decisions)
    result.graph.order()


def test_rules_that_add_nothing_to_https_keep_the_agent_in_the_shared_group() -> None:
    https = {"port": 443, "cidr": "0.0.0.0/0", "description": "HTTPS"}

    result = optimized(stage(Agent("support", egress_rules=(https,)), Agent("sales")))

    assert group_of(result, "support").logical_id == "network/sg/agents"
    assert set(groups(result)) == {"network/sg/agents", "network/sg/endpoints"}


def test_without_the_network_rules_make_no_group_and_no_problem() -> None:
    bp = stage(Agent("orders", egress_rules=(DATABASE,)), network={"enabled": False})

    result = optimized(bp)

    assert groups(result) == {}
    assert result.graph.specs["agent/orders/function"].properties["vpc"] is None
    assert engine.validate(bp) == []


# --- what is refused ---------------------------------------------------------------------
@pytest.mark.parametrize("everywhere", ["0.0.0.0/0", "::/0"])
def test_the_whole_internet_on_a_database_port_is_a_problem_until_confirmed(
    everywhere: str,
) -> None:
    rule = {"port": 5432, "cidr": everywhere}
    agent = Agent("orders", egress_rules=(rule,))

    problems = engine.validate(stage(agent))

    assert [(node, field) for node, field, _ in problems] == [("agent:orders", "egress_rules")]
    message = problems[0][2]
    assert message.startswith(f"rule 1: {everywhere} on port 5432/tcp")
    assert "only port 443 (HTTPS to AWS APIs and model providers)" in message
    assert "allow_broad_permissions" in message

    confirmed = replace(agent, allow_broad_permissions=True)
    assert engine.validate(stage(confirmed)) == []
    egress = group_of(optimized(stage(confirmed)), "orders").properties["egress"]
    assert any(r["from_port"] == 5432 and everywhere in r.values() for r in egress)


def test_https_to_the_whole_internet_needs_no_confirmation() -> None:
    rule = {"protocol": "udp", "port": 443, "cidr": "0.0.0.0/0"}

    assert engine.validate(stage(Agent("caller", egress_rules=(rule,)))) == []


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ({"port": 5432, "cidr": "10.1.0.1/16"}, "cidr: 10.1.0.1/16 has host bits set"),
        ({"port": 5432, "cidr": "ten.one/16"}, "is not a CIDR"),
        ({"cidr": "10.1.0.0/16"}, "give either port or both from_port and to_port"),
        ({"from_port": 6000, "to_port": 5000, "cidr": "10.1.0.0/16"}, "above to_port"),
        ({"port": 5432}, "give either cidr or prefix_list_id"),
        ({"port": 70000, "cidr": "10.1.0.0/16"}, "port: Input should be less than"),
        ({"protocol": "icmp", "port": 1, "cidr": "10.1.0.0/16"}, "protocol:"),
    ],
)
def test_a_rule_aws_would_refuse_is_a_problem_naming_the_rule(
    rule: dict[str, Any], words: str
) -> None:
    problems = engine.validate(stage(Agent("orders", egress_rules=(DATABASE, rule))))

    assert [(node, field) for node, field, _ in problems] == [("agent:orders", "egress_rules")]
    assert problems[0][2].startswith("rule 2: ")
    assert words in problems[0][2]


# --- on AWS (moto) -----------------------------------------------------------------------
def test_deployed_the_function_runs_in_its_own_group_which_the_endpoints_admit(
    aws: AwsContext,
) -> None:
    bp = stage(Agent("orders", egress_rules=(DATABASE,)), Agent("support"))

    result = engine.deploy(bp, MemoryStateStore(), ListSink(), aws)

    assert result.status == "SUCCEEDED", result.error
    ec2, lam = aws.client("ec2"), aws.client("lambda")
    by_name = {g["GroupName"]: g for g in ec2.describe_security_groups()["SecurityGroups"]}
    own = by_name[physical_name("acme", "dev", "sg", "agent", "orders", kind="ec2")]
    shared = by_name[physical_name("acme", "dev", "sg", "agents", kind="ec2")]
    endpoints = by_name[physical_name("acme", "dev", "sg", "endpoints", kind="ec2")]
    config = lam.get_function_configuration(
        FunctionName=physical_name("acme", "dev", "orders", kind="lambda")
    )
    assert config["VpcConfig"]["SecurityGroupIds"] == [own["GroupId"]]
    out = {(p["FromPort"], r["CidrIp"]) for p in own["IpPermissionsEgress"] for r in p["IpRanges"]}
    assert out == {(443, "0.0.0.0/0"), (5432, "10.1.0.0/16")}
    admits = {pair["GroupId"] for p in endpoints["IpPermissions"] for pair in p["UserIdGroupPairs"]}
    assert admits == {own["GroupId"], shared["GroupId"]}
