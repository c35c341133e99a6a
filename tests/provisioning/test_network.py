"""A stage's network settings: validation, the specs they expand to, and a full deploy on moto."""

from __future__ import annotations

import pytest

from provisioning.graph.network import lambda_vpc_config, network_specs, validate_network
from provisioning.model.naming import physical_name
from provisioning.model.spec import Ref, resolve
from provisioning.provisioners import provisioner_for
from provisioning.provisioners.base import Action
from tests.provisioning.ec2_helpers import apply

SETTINGS = {
    "enabled": True,
    "cidr": "10.20.0.0/16",
    "az_count": 2,
    "nat": "single",
    "endpoints": ["s3", "dynamodb", "bedrock-runtime"],
}


def _by_id(specs):
    return {spec.logical_id: spec for spec in specs}


def test_valid_settings_have_no_problems():
    assert validate_network(SETTINGS) == []
    assert validate_network({"enabled": False, "cidr": "nonsense"}) == []


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"az_count": 7}, "az_count", "1 to 6"),
        ({"nat": "double"}, "nat", "none, single, per_az"),
        ({"cidr": "10.0.0.0/12"}, "cidr", "between /16 and /28"),
        ({"cidr": "10.20.0.0/27", "az_count": 3}, "cidr", "too small for 6 subnets"),
        ({"cidr": "52.0.0.0/16"}, "cidr", "private"),
        ({"avoid_cidrs": ["10.20.128.0/20"]}, "cidr", "overlaps 10.20.128.0/20"),
        ({"cidr": None}, "cidr", "IPAM pool"),
    ],
)
def test_invalid_settings_name_the_field(change, field, words):
    problems = validate_network({**SETTINGS, **change})
    assert [f for f, _ in problems] == [field]
    assert words in problems[0][1]


def test_specs_for_two_azs_with_one_nat():
    specs = _by_id(network_specs("acme", "dev", SETTINGS))
    assert set(specs) == {
        "network/vpc",
        "network/subnet/private/0",
        "network/subnet/private/1",
        "network/subnet/public/0",
        "network/subnet/public/1",
        "network/igw",
        "network/eip/0",
        "network/nat/0",
        "network/route-table/public",
        "network/route-table/private/0",
        "network/route-table/private/1",
        "network/sg/agents",
        "network/sg/endpoints",
        "network/endpoint/s3",
        "network/endpoint/dynamodb",
        "network/endpoint/bedrock-runtime",
    }
    assert specs["network/vpc"].properties["name"] == physical_name(
        "acme", "dev", "vpc", kind="ec2"
    )
    assert specs["network/subnet/private/1"].properties["cidr_block"] == "10.20.64.0/18"
    # Both private tables leave through the one NAT gateway.
    for i in range(2):
        routes = specs[f"network/route-table/private/{i}"].properties["routes"]
        assert routes == [
            {"destination": "0.0.0.0/0", "nat_gateway_id": Ref("network/nat/0", "nat_gateway_id")}
        ]
    assert specs["network/endpoint/s3"].properties["endpoint_type"] == "Gateway"
    bedrock = specs["network/endpoint/bedrock-runtime"].properties
    assert bedrock["endpoint_type"] == "Interface" and bedrock["private_dns_enabled"] is True
    assert network_specs("acme", "dev", SETTINGS) == list(specs.values())  # deterministic


def test_per_az_nat_and_no_nat():
    per_az = _by_id(network_specs("acme", "dev", {**SETTINGS, "nat": "per_az"}))
    assert {"network/nat/0", "network/nat/1"} <= set(per_az)
    route = per_az["network/route-table/private/1"].properties["routes"][0]
    assert route["nat_gateway_id"] == Ref("network/nat/1", "nat_gateway_id")
    private_only = _by_id(network_specs("acme", "dev", {**SETTINGS, "nat": "none"}))
    assert not [i for i in private_only if "public" in i or "nat" in i or "igw" in i]
    assert private_only["network/route-table/private/0"].properties["routes"] == []


def test_ipam_settings_take_subnet_cidrs_from_the_vpc():
    settings = {**SETTINGS, "cidr": None, "ipam_pool_id": "ipam-pool-1", "ipam_netmask_length": 20}
    specs = _by_id(network_specs("acme", "dev", settings))
    vpc = specs["network/vpc"].properties
    assert "cidr_block" not in vpc and vpc["subnet_layout"] == {"prefix_length": 22, "count": 4}
    assert specs["network/subnet/private/0"].properties["cidr_block"] == Ref(
        "network/vpc", "subnet_cidr_0"
    )


def test_lambda_vpc_config_points_at_private_subnets_and_the_agents_group():
    assert lambda_vpc_config(SETTINGS) == {
        "subnet_ids": [
            Ref("network/subnet/private/0", "subnet_id"),
            Ref("network/subnet/private/1", "subnet_id"),
        ],
        "security_group_ids": [Ref("network/sg/agents", "group_id")],
    }
    assert lambda_vpc_config({"enabled": False}) == {}


def _in_dependency_order(specs):
    done, ordered, pending = set(), [], list(specs)
    while pending:
        ready = [s for s in pending if s.dependencies() <= done]
        assert ready, "cycle in network specs"
        for spec in ready:
            ordered.append(spec)
            done.add(spec.logical_id)
            pending.remove(spec)
    return ordered


def _tagged_leftovers(ec2):
    project = [{"Name": "tag:strands-deploy:project", "Values": ["acme"]}]
    tag = {"Key": "strands-deploy:project", "Value": "acme"}

    def mine(items):
        return [i for i in items if tag in i.get("Tags", [])]

    return {
        "vpcs": ec2.describe_vpcs(Filters=project)["Vpcs"],
        "subnets": ec2.describe_subnets(Filters=project)["Subnets"],
        "igws": ec2.describe_internet_gateways(Filters=project)["InternetGateways"],
        "tables": ec2.describe_route_tables(Filters=project)["RouteTables"],
        "groups": ec2.describe_security_groups(Filters=project)["SecurityGroups"],
        "addresses": ec2.describe_addresses(Filters=project)["Addresses"],
        "nats": [
            n for n in mine(ec2.describe_nat_gateways()["NatGateways"]) if n["State"] != "deleted"
        ],
        "endpoints": [
            e
            for e in mine(ec2.describe_vpc_endpoints()["VpcEndpoints"])
            if e["State"].lower() != "deleted"
        ],
    }


def test_full_network_deploys_in_dependency_order_and_destroys_to_nothing(aws):
    # Given the specs of a 2-AZ network with one NAT and three endpoints
    specs = _in_dependency_order(network_specs("acme", "dev", SETTINGS))
    records, outputs = {}, {}
    # When each is provisioned once its dependencies exist
    for spec in specs:
        p = provisioner_for(spec.resource_type)(aws)
        record = apply(p, spec.logical_id, resolve(spec.properties, outputs))
        records[spec.logical_id], outputs[spec.logical_id] = record, record.outputs
    ec2 = aws.client("ec2")
    # Then the private subnets leave through the NAT and reach S3 without it
    private = records["network/route-table/private/1"].physical_id
    routes = ec2.describe_route_tables(RouteTableIds=[private])["RouteTables"][0]["Routes"]
    assert {r.get("NatGatewayId") for r in routes} >= {records["network/nat/0"].physical_id}
    assert any(r.get("GatewayId") == records["network/endpoint/s3"].physical_id for r in routes)
    vpc_id = records["network/vpc"].physical_id
    hostnames = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")
    assert hostnames["EnableDnsHostnames"]["Value"] is True
    # And a second plan finds nothing to do
    for spec in specs:
        p = provisioner_for(spec.resource_type)(aws)
        props = resolve(spec.properties, outputs)
        record = records[spec.logical_id]
        change = p.plan(spec.logical_id, props, record, p.get_current_state(props, record))
        assert change.action == Action.NO_CHANGE, (spec.logical_id, change.changes)
    # When destroyed in reverse order, nothing tagged for the project is left
    for spec in reversed(specs):
        provisioner_for(spec.resource_type)(aws).destroy(records[spec.logical_id])
    assert _tagged_leftovers(ec2) == {k: [] for k in _tagged_leftovers(ec2)}
