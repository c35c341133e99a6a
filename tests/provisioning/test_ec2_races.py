"""EC2 writes racing someone else's change: what lands between our look and our write.

A create answered "duplicate" adopts only a resource tagged as ours, and an "already so"
answer to a follow-up write counts as done only when a fresh look shows our wish, not
someone else's (the lost-reply side of this is tests/provisioning/test_ec2_lost_replies.py).
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from provisioning.aws import AwsContext
from provisioning.errors import ProvisioningError
from provisioning.model.security_rules import build_https_rule
from provisioning.provisioners.security_group import SecurityGroupProvisioner
from provisioning.provisioners.vpc import (
    VpcProvisioner,
)
from provisioning.provisioners.vpc_gateways import InternetGatewayProvisioner
from provisioning.provisioners.vpc_routing import RouteTableProvisioner

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


def just_before(aws: AwsContext, action: str, write: Any) -> None:
    """`write(params)` once, just before the first `action` call of ours leaves: someone
    else's change landing between our look and our write. Hooked before the first client."""
    done: list[bool] = []

    def once(params: dict[str, Any], **_kwargs: Any) -> None:
        if not done:
            done.append(True)
            write(params)

    aws.client_hooks.append(
        lambda _service, client: client.meta.events.register(
            f"before-parameter-build.ec2.{action}", once
        )
    )


def test_a_gateway_attached_elsewhere_meanwhile_is_not_taken_as_attached(aws: AwsContext) -> None:
    # Given: just before ours is attached, the gateway is attached to another VPC
    late = boto3.client("ec2", region_name="us-east-1")
    other = late.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    just_before(
        aws,
        "AttachInternetGateway",
        lambda params: late.attach_internet_gateway(
            InternetGatewayId=params["InternetGatewayId"], VpcId=other
        ),
    )
    vpc_id = made_vpc(aws)

    # When the gateway is provisioned into ours: AWS answers Resource.AlreadyAssociated
    # Then that is reported, not taken for our own attach done already
    with pytest.raises(ProvisioningError, match=r"Resource\.AlreadyAssociated"):
        InternetGatewayProvisioner(aws).provision(
            "network/igw", {"name": "acme-dev-igw", "vpc_id": vpc_id}, None
        )
    attached = late.describe_internet_gateways()["InternetGateways"][0]["Attachments"]
    assert [a["VpcId"] for a in attached] == [other]


def test_a_route_made_elsewhere_meanwhile_is_pointed_at_ours(aws: AwsContext) -> None:
    # Given: just before our default route is created, one to another gateway appears
    late = boto3.client("ec2", region_name="us-east-1")
    theirs = late.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    just_before(
        aws,
        "CreateRoute",
        lambda params: late.create_route(
            RouteTableId=params["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", GatewayId=theirs
        ),
    )
    vpc_id = made_vpc(aws)
    ours = InternetGatewayProvisioner(aws).provision(
        "network/igw", {"name": "acme-dev-igw", "vpc_id": vpc_id}, None
    )["internet_gateway_id"]

    # When the table is provisioned: the create is answered RouteAlreadyExists
    tables = RouteTableProvisioner(aws)
    route = {"destination": "0.0.0.0/0", "gateway_id": ours}
    table = {"name": "acme-dev-route-table", "vpc_id": vpc_id, "routes": [route]}
    tables.provision("network/rt", table, None)

    # Then the route goes where ours wants it
    current = tables.get_current_state(table, None)
    assert current is not None and current.properties["routes"] == [route]


def test_a_rule_differing_from_ours_meanwhile_is_not_taken_as_ours(aws: AwsContext) -> None:
    # Given: just before our HTTPS rule is added, the same source and port is allowed
    # by hand under another description
    late = boto3.client("ec2", region_name="us-east-1")
    by_hand = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
    just_before(
        aws,
        "AuthorizeSecurityGroupIngress",
        lambda params: late.authorize_security_group_ingress(
            GroupId=params["GroupId"],
            IpPermissions=[
                {**by_hand, "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "by hand"}]}
            ],
        ),
    )
    vpc_id = made_vpc(aws)
    https = build_https_rule(cidr="10.0.0.0/8")

    # When the group is provisioned: AWS answers InvalidPermission.Duplicate
    # Then that is reported: the rule there is not the one asked for
    with pytest.raises(ProvisioningError, match=r"InvalidPermission\.Duplicate"):
        SecurityGroupProvisioner(aws).provision(
            "network/sg/agents", {**GROUP, "vpc_id": vpc_id, "ingress": [https]}, None
        )
