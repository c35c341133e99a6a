"""The kitchen-sink project: every resource type, deployed, re-planned and destroyed on moto."""

from __future__ import annotations

from provisioning import engine
from provisioning.aws import TAG_PROJECT, AwsContext
from provisioning.events import ListSink
from provisioning.model.examples import kitchen_sink
from provisioning.model.naming import physical_name
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
