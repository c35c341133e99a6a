"""EC2 writes whose reply is lost: AWS did the call, the engine saw an error.

A networked agent is deployed through the fault proxy in front of a real sandbox
server; the first call of every EC2 create is forwarded to the sandbox and then
answered with a 500 or a dropped connection. The engine must adopt what AWS made rather
than make a twin (EC2 resources have no unique names: only their tags tell one of ours
apart). The writes that follow a create (attach, route, associate, authorize, revoke, ...)
are retried by botocore, and a retry of one AWS already did is answered "already so"
(RouteAlreadyExists, InvalidPermission.Duplicate, ...): the deploy must count it as done.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import boto3
import pytest

from provisioning import engine
from provisioning.aws import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, TAG_PROJECT, AwsContext, Target
from provisioning.events import EventStatus, ListSink
from provisioning.model.blueprint import Agent, Blueprint
from provisioning.model.naming import physical_name
from provisioning.model.security_rules import build_https_rule
from provisioning.provisioners.security_group import SecurityGroupProvisioner
from provisioning.provisioners.vpc import (
    SubnetProvisioner,
    VpcProvisioner,
)
from provisioning.provisioners.vpc_gateways import InternetGatewayProvisioner
from provisioning.provisioners.vpc_routing import RouteTableProvisioner
from provisioning.state import MemoryStateStore
from tests.support.faultproxy import FaultProxy, is_read

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
FOLLOW_UP_WRITES: dict[str, str | None] = {
    # the action: what AWS answers when the SDK sends it again after AWS did it
    "ec2:ModifyVpcAttribute": None,
    "ec2:AttachInternetGateway": "Resource.AlreadyAssociated",
    "ec2:CreateRoute": "RouteAlreadyExists",
    "ec2:AssociateRouteTable": "Resource.AlreadyAssociated",
    "ec2:AuthorizeSecurityGroupIngress": "InvalidPermission.Duplicate",
    "ec2:AuthorizeSecurityGroupEgress": "InvalidPermission.Duplicate",
    "ec2:RevokeSecurityGroupEgress": "InvalidPermission.NotFound",
    "ec2:CreateTags": None,
}
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


def engine_aws(proxy: FaultProxy) -> AwsContext:
    return AwsContext(target=Target(endpoint_url=proxy.endpoint_url), project=PROJECT, stage="dev")


def sandbox_ec2(upstream: str) -> Any:
    """A client on the sandbox itself, never through the proxy."""
    return boto3.client(
        "ec2",
        endpoint_url=upstream,
        region_name="us-east-1",
        aws_access_key_id=SANDBOX_ACCESS_KEY,
        aws_secret_access_key=SANDBOX_SECRET_KEY,
    )


def ec2_inventory(upstream: str) -> dict[str, list[str]]:
    """The `Name` tag of every live EC2 resource of the project, per kind, asked of the
    sandbox directly; a name listed twice is a twin."""
    ec2 = sandbox_ec2(upstream)
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


ONE_OF_EACH = {
    "vpcs": 1,
    "subnets": 4,
    "internet gateways": 1,
    "elastic ips": 1,
    "nat gateways": 1,
    "route tables": 3,
    "security groups": 2,
    "vpc endpoints": 2,
}


def net(logical_id: str) -> str:
    """The Name of a network resource, from its logical id ("network/vpc")."""
    return physical_name(PROJECT, "dev", *logical_id.split("/")[1:], kind="ec2")


WIRED = {
    "dns hostnames": {net("network/vpc"): True},
    "gateway attachments": {net("network/igw"): [net("network/vpc")]},
    "routes": {
        net("network/route-table/private/0"): [f"0.0.0.0/0 -> {net('network/nat/0')}"],
        net("network/route-table/private/1"): [f"0.0.0.0/0 -> {net('network/nat/0')}"],
        net("network/route-table/public"): [f"0.0.0.0/0 -> {net('network/igw')}"],
    },
    "associations": {
        net("network/route-table/private/0"): [net("network/subnet/private/0")],
        net("network/route-table/private/1"): [net("network/subnet/private/1")],
        net("network/route-table/public"): sorted(
            [net("network/subnet/public/0"), net("network/subnet/public/1")]
        ),
    },
    "rules": {
        net("network/sg/agents"): {"ingress": [], "egress": ["tcp/443 0.0.0.0/0"]},
        net("network/sg/endpoints"): {
            "ingress": [f"tcp/443 {net('network/sg/agents')}"],
            "egress": [],
        },
    },
}
"""How the networked agent's network is wired (ids spelled as the Name of what they are)."""


def network_wiring(upstream: str) -> dict[str, Any]:
    """What the follow-up writes made, asked of the sandbox directly: the VPC's DNS, the
    gateway's VPC, each table's routes and subnets, each group's rules (all of them, not
    only those the engine manages, so a leftover default rule shows)."""
    ec2 = sandbox_ec2(upstream)
    mine = [{"Name": f"tag:{TAG_PROJECT}", "Values": [PROJECT]}]
    found = {
        id_key: getattr(ec2, call)(Filters=mine)[list_key]
        for call, list_key, id_key in (
            ("describe_vpcs", "Vpcs", "VpcId"),
            ("describe_subnets", "Subnets", "SubnetId"),
            ("describe_internet_gateways", "InternetGateways", "InternetGatewayId"),
            ("describe_nat_gateways", "NatGateways", "NatGatewayId"),
            ("describe_route_tables", "RouteTables", "RouteTableId"),
            ("describe_security_groups", "SecurityGroups", "GroupId"),
        )
    }
    name = {
        item[id_key]: tag["Value"]
        for id_key, items in found.items()
        for item in items
        for tag in item.get("Tags", [])
        if tag["Key"] == "Name"
    }

    def dns_hostnames(vpc_id: str) -> bool:
        answer = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")
        return bool(answer["EnableDnsHostnames"]["Value"])

    def routes(table: dict[str, Any]) -> list[str]:
        return sorted(
            f"{r['DestinationCidrBlock']} -> {name[r.get('NatGatewayId') or r['GatewayId']]}"
            for r in table["Routes"]
            if "DestinationCidrBlock" in r and r.get("GatewayId") != "local"
        )

    def rules(permissions: list[dict[str, Any]]) -> list[str]:
        spelled = []
        for p in permissions:
            ports = "all" if p["IpProtocol"] == "-1" else f"{p['IpProtocol']}/{p['FromPort']}"
            spelled += [f"{ports} {r['CidrIp']}" for r in p.get("IpRanges", [])]
            spelled += [f"{ports} {name[r['GroupId']]}" for r in p.get("UserIdGroupPairs", [])]
        return sorted(spelled)

    tables = found["RouteTableId"]
    return {
        "dns hostnames": {name[v["VpcId"]]: dns_hostnames(v["VpcId"]) for v in found["VpcId"]},
        "gateway attachments": {
            name[g["InternetGatewayId"]]: sorted(name[a["VpcId"]] for a in g["Attachments"])
            for g in found["InternetGatewayId"]
        },
        "routes": {name[t["RouteTableId"]]: routes(t) for t in tables},
        "associations": {
            name[t["RouteTableId"]]: sorted(
                name[a["SubnetId"]] for a in t["Associations"] if a.get("SubnetId")
            )
            for t in tables
        },
        "rules": {
            g["GroupName"]: {
                "ingress": rules(g["IpPermissions"]),
                "egress": rules(g["IpPermissionsEgress"]),
            }
            for g in found["GroupId"]
        },
    }


def deploy_cleanly(upstream: str, proxy: FaultProxy, store: MemoryStateStore) -> None:
    """Deploy the networked agent: it must go through without a failed step and leave
    exactly one of each resource, recorded and wired as wanted."""
    sink = ListSink()
    result = engine.deploy(networked_agent(), store, sink, engine_aws(proxy))
    assert result.status == "SUCCEEDED", result.error
    assert not [e.message for e in sink.events if e.status is EventStatus.FAILED]
    found = ec2_inventory(upstream)
    assert twins(found) == {}
    assert found == recorded(store)
    assert {kind: len(names) for kind, names in found.items()} == ONE_OF_EACH
    assert network_wiring(upstream) == WIRED


def redeploy_changes_nothing(upstream: str, proxy: FaultProxy, store: MemoryStateStore) -> None:
    """Deployed again with nothing failing: every resource is found as recorded, the plan
    is all NO_CHANGE, and nothing is written."""
    before = ec2_inventory(upstream), network_wiring(upstream)
    proxy.set_profile({})
    proxy.reset()
    again = engine.deploy(networked_agent(), store, ListSink(), engine_aws(proxy))
    assert again.status == "SUCCEEDED", again.error
    assert set(again.plan["summary"]) == {"NO_CHANGE"}
    assert [c.action for c in proxy.calls() if not is_read(c.action)] == []
    assert (ec2_inventory(upstream), network_wiring(upstream)) == before


def lost_reply(action: str, lost_by: str) -> dict[str, Any]:
    """The first call of `action` is done by AWS, then answered as `lost_by` says: a 500,
    a dropped connection, or straight away with what AWS answers the SDK's retry (the
    sandbox repeats AssociateRouteTable silently where AWS refuses it as a conflict)."""
    fault = {"action": action, "kind": "server_error", "after": True, "count": 1}
    if lost_by == "retry_answer":
        code = FOLLOW_UP_WRITES[action]
        return {**fault, "status": 400, "code": code, "message": f"{code} (AWS did it before)"}
    return {**fault, "kind": lost_by}


@pytest.mark.parametrize("lost_by", ["server_error", "reset"])
def test_lost_replies_on_every_ec2_create_leave_exactly_one_of_each(
    upstream: str, proxy: FaultProxy, lost_by: str
) -> None:
    # Given: the first call of each EC2 create is done by AWS, but answered with a 500
    # or its connection dropped
    proxy.set_profile({"faults": [lost_reply(action, lost_by) for action in EC2_CREATES]})
    store = MemoryStateStore()

    # When the networked agent is deployed, Then it goes through, every fault fired,
    # and the sandbox holds exactly what the state records: no twin, nothing untracked
    deploy_cleanly(upstream, proxy, store)
    assert {c.action for c in proxy.calls() if c.injected} == set(EC2_CREATES)

    # and deployed again it changes nothing
    redeploy_changes_nothing(upstream, proxy, store)


@pytest.mark.parametrize("lost_by", ["server_error", "reset", "retry_answer"])
def test_lost_replies_on_follow_up_writes_count_as_done(
    upstream: str, proxy: FaultProxy, lost_by: str
) -> None:
    # Given: the first call of each write after a create (attach, route, associate,
    # authorize, revoke, ...) is done by AWS, but answered with an error
    actions = [a for a, code in FOLLOW_UP_WRITES.items() if code or lost_by != "retry_answer"]
    proxy.set_profile({"faults": [lost_reply(action, lost_by) for action in actions]})
    store = MemoryStateStore()

    # When the networked agent is deployed, Then it goes through though every fault
    # fired: the gateway attached once, each route, association and rule there once
    deploy_cleanly(upstream, proxy, store)
    assert {c.action for c in proxy.calls() if c.injected} == set(actions)

    # and deployed again it changes nothing
    redeploy_changes_nothing(upstream, proxy, store)


def test_lost_replies_on_removals_count_as_done(upstream: str, proxy: FaultProxy) -> None:
    # Given: a route table with a route and a subnet, and a group with an ingress rule
    aws = engine_aws(proxy)
    vpc_id = VpcProvisioner(aws).provision(
        "network/vpc", {"name": "netlost-dev-vpc", "cidr_block": "10.32.0.0/16"}, None
    )["vpc_id"]
    igw_id = InternetGatewayProvisioner(aws).provision(
        "network/igw", {"name": "netlost-dev-igw", "vpc_id": vpc_id}, None
    )["internet_gateway_id"]
    subnet = {"name": "netlost-dev-subnet", "vpc_id": vpc_id, "cidr_block": "10.32.0.0/24"}
    subnets = SubnetProvisioner(aws)
    subnet_id = subnets.provision("network/subnet", {**subnet, "az_index": 0}, None)["subnet_id"]
    tables, groups = RouteTableProvisioner(aws), SecurityGroupProvisioner(aws)
    table = {"name": "netlost-dev-route-table", "vpc_id": vpc_id}
    route = {"destination": "0.0.0.0/0", "gateway_id": igw_id}
    tables.provision("network/rt", {**table, "routes": [route], "subnet_ids": [subnet_id]}, None)
    group = {"name": "netlost-dev-sg", "description": "agents", "vpc_id": vpc_id}
    groups.provision(
        "network/sg", {**group, "ingress": [build_https_rule(cidr="10.0.0.0/8")]}, None
    )
    # and the first call of each removal is done by AWS, but answered with a 500
    removals = ("ec2:DeleteRoute", "ec2:DisassociateRouteTable", "ec2:RevokeSecurityGroupIngress")
    proxy.set_profile({"faults": [lost_reply(action, "server_error") for action in removals]})

    # When the route, the subnet and the rule are removed
    bare_table, bare_group = {**table, "routes": [], "subnet_ids": []}, {**group, "ingress": []}
    tables.provision("network/rt", bare_table, tables.get_current_state(bare_table, None))
    groups.provision("network/sg", bare_group, groups.get_current_state(bare_group, None))

    # Then both go through though every fault fired, and they are gone
    assert {c.action for c in proxy.calls() if c.injected} == set(removals)
    left = tables.get_current_state(bare_table, None)
    assert left is not None and left.properties["routes"] == left.properties["subnet_ids"] == []
    rules = groups.get_current_state(bare_group, None)
    assert rules is not None and rules.properties["ingress"] == []
