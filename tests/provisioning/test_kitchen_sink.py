"""The kitchen-sink project: every resource type, deployed, re-planned and destroyed on moto."""

from __future__ import annotations

from dataclasses import replace

from provisioning import engine
from provisioning.aws import TAG_PROJECT, AwsContext
from provisioning.events import ListSink
from provisioning.model.examples import kitchen_sink
from provisioning.model.naming import physical_name
from provisioning.provisioners.base import Action
from provisioning.state import MemoryStateStore

BLUEPRINT = kitchen_sink(project="acme")


def tagged(aws: AwsContext) -> list[str]:
    pages = (
        aws.client("resourcegroupstaggingapi")
        .get_paginator("get_resources")
        .paginate(TagFilters=[{"Key": TAG_PROJECT, "Values": ["acme"]}])
    )
    arns = [r["ResourceARN"] for page in pages for r in page["ResourceTagMappingList"]]
    # AWS keeps a deleted NAT gateway visible (state "deleted") for about an hour.
    deleted = {
        n["NatGatewayId"]
        for n in aws.client("ec2").describe_nat_gateways()["NatGateways"]
        if n["State"] == "deleted"
    }
    return [arn for arn in arns if arn.rsplit("/", 1)[-1] not in deleted]


def untagged_leftovers(aws: AwsContext) -> dict[str, list[str]]:
    """What the tagging API does not return in moto, listed per service."""
    ec2 = aws.client("ec2")
    mine = [{"Name": f"tag:{TAG_PROJECT}", "Values": ["acme"]}]
    return {
        "eips": [a["AllocationId"] for a in ec2.describe_addresses(Filters=mine)["Addresses"]],
        "endpoints": [
            e["VpcEndpointId"]
            for e in ec2.describe_vpc_endpoints(Filters=mine)["VpcEndpoints"]
            if e["State"] not in ("deleted", "deleting")
        ],
        "vpcs": [v["VpcId"] for v in ec2.describe_vpcs(Filters=mine)["Vpcs"]],
        "roles": [
            r["RoleName"]
            for r in aws.client("iam").list_roles()["Roles"]
            if r["RoleName"].startswith("acme-")
        ],
        "apis": [a["Name"] for a in aws.client("apigatewayv2").get_apis()["Items"]],
        "functions": [
            f["FunctionName"] for f in aws.client("lambda").list_functions()["Functions"]
        ],
    }


def test_the_kitchen_sink_deploys_replans_unchanged_and_destroys_to_nothing(
    aws: AwsContext,
) -> None:
    store = MemoryStateStore()
    assert engine.validate(BLUEPRINT) == []

    result = engine.deploy(BLUEPRINT, store, ListSink(), aws)

    assert result.status == "SUCCEEDED", result.error
    types = {r.resource_type for r in store.load().values()}
    assert {"ec2:vpc", "ec2:nat-gateway", "ec2:vpc-endpoint", "sns:subscription"} <= types
    function = aws.client("lambda").get_function_configuration(
        FunctionName=physical_name("acme", "dev", "worker", kind="lambda")
    )
    assert len(function["VpcConfig"]["SubnetIds"]) == 2
    groups = {
        tuple(
            aws.client("lambda").get_function_configuration(
                FunctionName=physical_name("acme", "dev", a, kind="lambda")
            )["VpcConfig"]["SecurityGroupIds"]
        )
        for a in ("worker", "researcher")
    }
    assert len(groups) == 1  # both agents share one consolidated group

    again = engine.plan(BLUEPRINT, store, aws)
    assert [(c.logical_id, c.changes) for c in again.changes if c.action != "NO_CHANGE"] == []

    destroyed = engine.destroy(store, ListSink(), aws)

    assert destroyed.status == "SUCCEEDED", destroyed.error
    assert tagged(aws) == []
    leftovers = untagged_leftovers(aws)
    assert all(not found for found in leftovers.values()), leftovers


def test_a_stage_deployed_with_one_agents_group_keeps_it_when_one_agent_gains_a_rule(
    aws: AwsContext,
) -> None:
    store = MemoryStateStore()
    assert engine.deploy(BLUEPRINT, store, ListSink(), aws).status == "SUCCEEDED"
    recorded = {
        lid: record.outputs.get("group_id")
        for lid, record in store.load().items()
        if record.resource_type == "ec2:security-group"
    }
    # The layout before agents had rules of their own: one group for every agent.
    assert set(recorded) == {"network/sg/agents", "network/sg/endpoints"}
    database = {"port": 5432, "cidr": "10.1.0.0/16", "description": "orders db"}
    agents = tuple(
        replace(a, egress_rules=(database,)) if a.name == "worker" else a for a in BLUEPRINT.agents
    )
    with_rule = replace(BLUEPRINT, agents=agents)

    planned = engine.plan(with_rule, store, aws)

    changed = {c.logical_id: c.action for c in planned.changes if c.action != Action.NO_CHANGE}
    assert changed == {
        "network/sg/agent/worker": Action.CREATE,
        "agent/worker/function": Action.UPDATE,
        "network/sg/endpoints": Action.UPDATE,
    }
    assert engine.deploy(with_rule, store, ListSink(), aws).status == "SUCCEEDED"
    researcher = aws.client("lambda").get_function_configuration(
        FunctionName=physical_name("acme", "dev", "researcher", kind="lambda")
    )
    assert researcher["VpcConfig"]["SecurityGroupIds"] == [recorded["network/sg/agents"]]
    again = engine.plan(with_rule, store, aws)
    assert [c.logical_id for c in again.changes if c.action != Action.NO_CHANGE] == []
    back = engine.plan(BLUEPRINT, store, aws)
    assert {c.logical_id: c.action for c in back.changes if c.action != Action.NO_CHANGE} == {
        "network/sg/agent/worker": Action.DELETE,
        "agent/worker/function": Action.UPDATE,
        "network/sg/endpoints": Action.UPDATE,
    }
    assert engine.destroy(store, ListSink(), aws).status == "SUCCEEDED"
    assert tagged(aws) == []
