"""EC2 creates whose reply is lost: AWS made the resource, the engine saw an error.

A networked agent is deployed through the fault proxy in front of a real sandbox
server; the first call of every EC2 create is forwarded to the sandbox and then
answered with a 500 or a dropped connection. The engine must adopt what AWS made rather than make a twin
(EC2 resources have no unique names: only their tags tell one of ours apart).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from provisioning import engine, sandbox
from provisioning.aws import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, TAG_PROJECT, AwsContext, Target
from provisioning.blueprint import Agent, Blueprint
from provisioning.errors import ProvisioningError
from provisioning.events import EventStatus, ListSink
from provisioning.faultproxy import FaultProxy, is_read
from provisioning.provisioners.security_group import SecurityGroupProvisioner
from provisioning.provisioners.vpc import VpcProvisioner
from provisioning.state import MemoryStateStore

PROJECT = "netlost"
EC2_CREATES = (
    "ec2:CreateVpc",
    "ec2:CreateSubnet",
    "ec2:CreateInternetGateway",
    "ec2:AllocateAddress",
    "ec2:CreateNatGateway",
    "ec2:CreateRouteTable",
    "ec2:CreateSecurityGroup",
    "ec2:CreateVpcEndpoint",
)
KINDS = {
    "ec2:vpc": "vpcs",
    "ec2:subnet": "subnets",
    "ec2:internet-gateway": "internet gateways",
    "ec2:eip": "elastic ips",
    "ec2:nat-gateway": "nat gateways",
    "ec2:route-table": "route tables",
    "ec2:security-group": "security groups",
    "ec2:vpc-endpoint": "vpc endpoints",
}


def networked_agent() -> Blueprint:
    """One agent in a 2-AZ VPC with a NAT gateway, a gateway and an interface endpoint:
    every kind of EC2 resource the engine makes, two security groups among them."""
    return Blueprint(
        project=PROJECT,
        stage="dev",
        agents=(Agent("helper"),),
        settings={
            "dependencies": "none",  # no pip-built layer: this is about EC2
            "network": {
                "enabled": True,
                "cidr": "10.31.0.0/16",
                "az_count": 2,
                "nat": "single",
                "endpoints": ["s3", "bedrock-runtime"],
            },
        },
    )


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    box = sandbox.start()
    yield box.endpoint_url
    box.stop()


@pytest.fixture
def proxy(upstream: str) -> Iterator[FaultProxy]:
    sandbox.reset(upstream)
    with FaultProxy(upstream, {"seed": 5}) as running:
        yield running


def engine_aws(proxy: FaultProxy) -> AwsContext:
    return AwsContext(target=Target(endpoint_url=proxy.endpoint_url), project=PROJECT, stage="dev")


def ec2_inventory(upstream: str) -> dict[str, list[str]]:
    """The `Name` tag of every live EC2 resource of the project, per kind, asked of the
    sandbox directly (never through the proxy); a name listed twice is a twin."""
    ec2 = boto3.client(
        "ec2",
        endpoint_url=upstream,
        region_name="us-east-1",
        aws_access_key_id=SANDBOX_ACCESS_KEY,
        aws_secret_access_key=SANDBOX_SECRET_KEY,
    )
    mine = [{"Name": f"tag:{TAG_PROJECT}", "Values": [PROJECT]}]

    def names(call: str, key: str, live: Any = lambda _item: True, **kwargs: Any) -> list[str]:
        items = getattr(ec2, call)(**kwargs)[key]
        tagged = [i for i in items if {"Key": TAG_PROJECT, "Value": PROJECT} in i.get("Tags", [])]
        return sorted(
            next(t["Value"] for t in i["Tags"] if t["Key"] == "Name") for i in tagged if live(i)
        )

    return {
        "vpcs": names("describe_vpcs", "Vpcs", Filters=mine),
        "subnets": names("describe_subnets", "Subnets", Filters=mine),
        "internet gateways": names("describe_internet_gateways", "InternetGateways", Filters=mine),
        "elastic ips": names("describe_addresses", "Addresses", Filters=mine),
        "nat gateways": names(
            "describe_nat_gateways", "NatGateways", lambda n: n["State"] != "deleted"
        ),
        "route tables": names("describe_route_tables", "RouteTables", Filters=mine),
        "security groups": names("describe_security_groups", "SecurityGroups", Filters=mine),
        "vpc endpoints": names(
            "describe_vpc_endpoints", "VpcEndpoints", lambda e: e["State"].lower() != "deleted"
        ),
    }


def recorded(store: MemoryStateStore) -> dict[str, list[str]]:
    by_kind: dict[str, list[str]] = {kind: [] for kind in KINDS.values()}
    for record in store.load().values():
        if record.resource_type in KINDS:
            by_kind[KINDS[record.resource_type]].append(record.properties["name"])
    return {kind: sorted(names) for kind, names in by_kind.items()}


def twins(found: dict[str, list[str]]) -> dict[str, list[str]]:
    return {
        kind: [name for name, n in Counter(names).items() if n > 1]
        for kind, names in found.items()
        if len(set(names)) != len(names)
    }


@pytest.mark.parametrize("lost_by", ["server_error", "reset"])
def test_lost_replies_on_every_ec2_create_leave_exactly_one_of_each(
    upstream: str, proxy: FaultProxy, lost_by: str
) -> None:
    # Given: the first call of each EC2 create is done by AWS, but answered with a 500
    # or its connection dropped
    proxy.set_profile(
        {
            "faults": [
                {"action": action, "kind": lost_by, "after": True, "count": 1}
                for action in EC2_CREATES
            ]
        }
    )
    store, sink = MemoryStateStore(), ListSink()

    # When the networked agent is deployed
    result = engine.deploy(networked_agent(), store, sink, engine_aws(proxy))

    # Then the deploy goes through without a failed step, though every fault fired
    assert result.status == "SUCCEEDED", result.error
    assert not [e.message for e in sink.events if e.status is EventStatus.FAILED]
    assert {c.action for c in proxy.calls() if c.injected} == set(EC2_CREATES)
    # and the sandbox holds exactly what the state records: no twin, nothing untracked
    found = ec2_inventory(upstream)
    assert twins(found) == {}
    assert found == recorded(store)
    assert {kind: len(names) for kind, names in found.items()} == {
        "vpcs": 1,
        "subnets": 4,
        "internet gateways": 1,
        "elastic ips": 1,
        "nat gateways": 1,
        "route tables": 3,
        "security groups": 2,
        "vpc endpoints": 2,
    }

    # When deployed again with nothing failing
    proxy.set_profile({})
    proxy.reset()
    again = engine.deploy(networked_agent(), store, ListSink(), engine_aws(proxy))

    # Then nothing changes: every resource is found as recorded, and nothing is written
    assert again.status == "SUCCEEDED", again.error
    assert set(again.plan["summary"]) == {"NO_CHANGE"}
    assert [c.action for c in proxy.calls() if not is_read(c.action)] == []
    assert ec2_inventory(upstream) == found


GROUP = {
    "name": "acme-dev-sg-agents",
    "description": "agents",
    "ingress": [],
    "egress": [],
}


def made_vpc(aws: AwsContext) -> str:
    props = {"name": "acme-dev-vpc", "cidr_block": "10.20.0.0/16"}
    return str(VpcProvisioner(aws).provision("network/vpc", props, None)["vpc_id"])


def groups_named(aws: AwsContext, name: str) -> list[dict[str, Any]]:
    filters = [{"Name": "group-name", "Values": [name]}]
    return list(aws.client("ec2").describe_security_groups(Filters=filters)["SecurityGroups"])


def test_a_group_of_ours_that_appears_before_the_create_lands_is_adopted(
    aws: AwsContext,
) -> None:
    # Given: ours, tagged, shows up after the lookup and before our create reaches AWS
    # (an earlier attempt's request that AWS carried out late)
    p = SecurityGroupProvisioner(aws)
    late = boto3.client("ec2", region_name="us-east-1")
    tags = p.tag_specs("network/sg/agents", GROUP["name"])
    made: list[str] = []

    def earlier_attempt_lands(**_kwargs: Any) -> None:
        if not made:
            created = late.create_security_group(
                GroupName=GROUP["name"], Description="agents", VpcId=vpc_id, TagSpecifications=tags
            )
            made.append(created["GroupId"])

    aws.client_hooks.append(
        lambda service, client: client.meta.events.register(
            "before-call.ec2.CreateSecurityGroup", earlier_attempt_lands
        )
    )
    vpc_id = made_vpc(aws)

    # When the group is provisioned: its create is answered InvalidGroup.Duplicate
    outputs = p.provision("network/sg/agents", {**GROUP, "vpc_id": vpc_id}, None)

    # Then the one there is adopted, and it is the only one
    assert outputs["group_id"] == made[0]
    assert [g["GroupId"] for g in groups_named(aws, GROUP["name"])] == made


def test_someone_elses_group_holding_the_name_is_not_adopted(aws: AwsContext) -> None:
    # Given: a group of that name in the VPC, made by hand and not tagged as ours
    vpc_id = made_vpc(aws)
    theirs = aws.client("ec2").create_security_group(
        GroupName=GROUP["name"], Description="by hand", VpcId=vpc_id
    )["GroupId"]

    # When ours is provisioned, Then the name clash is reported, not papered over
    with pytest.raises(ProvisioningError, match=r"InvalidGroup\.Duplicate"):
        SecurityGroupProvisioner(aws).provision(
            "network/sg/agents", {**GROUP, "vpc_id": vpc_id}, None
        )
    assert [g["GroupId"] for g in groups_named(aws, GROUP["name"])] == [theirs]
