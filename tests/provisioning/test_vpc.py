"""VPC, subnet, gateways, route tables and endpoints against moto; IPAM with botocore's Stubber."""

from __future__ import annotations

import pytest
from botocore.stub import ANY, Stubber

from provisioning.aws import AwsContext
from provisioning.errors import ProvisioningError
from provisioning.model.cidr import carve_subnets, cidr_problems
from provisioning.provisioners.base import Action
from provisioning.provisioners.vpc import SubnetProvisioner, VpcProvisioner
from provisioning.provisioners.vpc_gateways import (
    ElasticIpProvisioner,
    InternetGatewayProvisioner,
    NatGatewayProvisioner,
)
from provisioning.provisioners.vpc_routing import RouteTableProvisioner, VpcEndpointProvisioner
from provisioning.state import RecordedResource
from tests.provisioning.ec2_helpers import FakeTime, apply, changed_names, lifecycle, plan, refuse

VPC_PROPS = {
    "name": "acme-dev-vpc",
    "cidr_block": "10.20.0.0/16",
    "enable_dns_hostnames": True,
    "enable_dns_support": True,
}


@pytest.fixture
def vpc(aws: AwsContext):
    return apply(VpcProvisioner(aws), "network/vpc", VPC_PROPS)


def _subnet(aws, vpc, index=0, public=False):
    props = {
        "name": f"acme-dev-subnet-{index}",
        "vpc_id": vpc.outputs["vpc_id"],
        "cidr_block": f"10.20.{index * 16}.0/20",
        "az_index": index,
        "map_public_ip_on_launch": public,
    }
    return apply(SubnetProvisioner(aws), f"network/subnet/{index}", props)


def _ours(aws, describe, key, logical_id):
    filters = [{"Name": "tag:strands-deploy:logical-id", "Values": [logical_id]}]
    return getattr(aws.client("ec2"), describe)(Filters=filters)[key]


def test_vpc_lifecycle(aws):
    ec2 = aws.client("ec2")

    def hostnames_back_on(record):
        ec2.modify_vpc_attribute(VpcId=record.physical_id, EnableDnsHostnames={"Value": True})

    lifecycle(
        VpcProvisioner(aws),
        "network/vpc",
        VPC_PROPS,
        mutate={"enable_dns_hostnames": False},
        drift=hostnames_back_on,
        drifted="enable_dns_hostnames",
    )


def test_vpc_create_twice_adopts_instead_of_making_a_twin(aws):
    p = VpcProvisioner(aws)
    first = p.provision("network/vpc", VPC_PROPS, None)
    second = p.provision("network/vpc", VPC_PROPS, None)  # a retry after a crash
    assert second["vpc_id"] == first["vpc_id"]
    assert len(_ours(aws, "describe_vpcs", "Vpcs", "network/vpc")) == 1
    assert first["arn"].endswith(f":vpc/{first['vpc_id']}")


def test_vpc_cidr_change_is_a_replacement(aws, vpc):
    change = plan(
        VpcProvisioner(aws), "network/vpc", {**VPC_PROPS, "cidr_block": "10.30.0.0/16"}, vpc
    )
    assert change.action == Action.REPLACE
    assert "CIDR" in change.reason


def test_vpc_refuses_a_cidr_overlapping_another_stage_of_the_project(aws, vpc):
    prod = AwsContext(target=aws.target, project="acme", stage="prod", sleep=aws.sleep)
    props = {**VPC_PROPS, "name": "acme-prod-vpc", "cidr_block": "10.20.128.0/17"}
    with pytest.raises(ProvisioningError, match=r"creating VPC acme-prod-vpc: .*overlaps 10\.20"):
        VpcProvisioner(prod).provision("network/vpc", props, None)


@pytest.mark.parametrize(
    ("cidr", "problem"),
    [("10.0.0.0/8", "between /16 and /28"), ("8.8.8.0/24", "private"), ("10.0.0.1/16", "valid")],
)
def test_cidr_size_and_range_checks(cidr, problem):
    assert problem in " ".join(cidr_problems(cidr))


def test_carve_subnets_gives_equal_non_overlapping_blocks():
    assert carve_subnets("10.20.0.0/16", 4) == [
        "10.20.0.0/18",
        "10.20.64.0/18",
        "10.20.128.0/18",
        "10.20.192.0/18",
    ]


def test_vpc_delete_waits_while_something_still_depends_on_it(aws, vpc):
    # Given a subnet that goes away only after a while (Lambda letting go of its ENIs)
    subnet = _subnet(aws, vpc)
    ec2 = aws.client("ec2")
    time = FakeTime(on_sleep=lambda n: n == 3 and ec2.delete_subnet(SubnetId=subnet.physical_id))
    aws.sleep, aws.clock = time.sleep, time.clock
    # When the VPC is destroyed, then it is retried until AWS lets go
    VpcProvisioner(aws).destroy(vpc)
    assert time.sleeps == 3
    assert VpcProvisioner(aws).get_current_state(VPC_PROPS, vpc) is None


def test_vpc_delete_gives_up_after_a_bounded_wait_naming_the_vpc(aws, vpc):
    _subnet(aws, vpc)
    time = FakeTime()
    aws.sleep, aws.clock = time.sleep, time.clock
    with pytest.raises(ProvisioningError, match="deleting VPC acme-dev-vpc: DependencyViolation"):
        VpcProvisioner(aws).destroy(vpc)
    assert 40 * 60 <= time.now <= 46 * 60


def test_subnet_lifecycle(aws, vpc):
    ec2 = aws.client("ec2")

    def public_ip_off(record):
        ec2.modify_subnet_attribute(
            SubnetId=record.physical_id, MapPublicIpOnLaunch={"Value": False}
        )

    props = {
        "name": "acme-dev-subnet-private-0",
        "vpc_id": vpc.outputs["vpc_id"],
        "cidr_block": "10.20.0.0/20",
        "az_index": 1,
        "map_public_ip_on_launch": False,
    }
    lifecycle(
        SubnetProvisioner(aws),
        "network/subnet/private/0",
        props,
        mutate={"map_public_ip_on_launch": True},
        drift=public_ip_off,
        drifted="map_public_ip_on_launch",
    )


def test_subnet_lands_in_the_indexed_zone_and_deletion_outlasts_lambda_enis(aws, vpc):
    subnet = _subnet(aws, vpc, index=2)
    assert subnet.outputs["availability_zone"] == "us-east-1c"
    calls = refuse(aws, "DeleteSubnet", "DependencyViolation", times=2)
    SubnetProvisioner(aws).destroy(subnet)
    assert calls[0] == 3
    assert SubnetProvisioner(aws).get_current_state(None, subnet) is None


def test_internet_gateway_lifecycle(aws, vpc):
    ec2 = aws.client("ec2")

    def detached(record):
        ec2.detach_internet_gateway(InternetGatewayId=record.physical_id, VpcId=vpc.physical_id)

    props = {"name": "acme-dev-igw", "vpc_id": vpc.outputs["vpc_id"]}
    lifecycle(
        InternetGatewayProvisioner(aws),
        "network/igw",
        props,
        mutate={"name": "acme-dev-igw-renamed"},
        drift=detached,
        drifted="vpc_id",
    )


def _renamed_by_hand(aws):
    def rename(record):
        aws.client("ec2").create_tags(
            Resources=[record.physical_id], Tags=[{"Key": "Name", "Value": "by-hand"}]
        )

    return rename


def test_eip_lifecycle(aws):
    p = ElasticIpProvisioner(aws)
    props = {"name": "acme-dev-eip-0"}
    # The drift is a Name tag edited in the console: the recorded id still finds it.
    lifecycle(
        p,
        "network/eip/0",
        props,
        mutate={"name": "acme-dev-eip-zero"},
        drift=_renamed_by_hand(aws),
        drifted="name",
    )


def test_nat_gateway_lifecycle_and_eip_released_after_it(aws, vpc):
    subnet = _subnet(aws, vpc, public=True)
    igw = apply(
        InternetGatewayProvisioner(aws),
        "network/igw",
        {"name": "acme-dev-igw", "vpc_id": vpc.physical_id},
    )
    eip = apply(ElasticIpProvisioner(aws), "network/eip/0", {"name": "acme-dev-eip-0"})
    props = {
        "name": "acme-dev-nat-0",
        "subnet_id": subnet.physical_id,
        "allocation_id": eip.outputs["allocation_id"],
    }
    lifecycle(
        NatGatewayProvisioner(aws),
        "network/nat/0",
        props,
        mutate={"name": "acme-dev-nat-zero"},
        drift=_renamed_by_hand(aws),
        drifted="name",
    )
    # The address is released once the gateway has let go of it (AWS says InUse until then).
    calls = refuse(aws, "ReleaseAddress", "InvalidIPAddress.InUse", times=1)
    ElasticIpProvisioner(aws).destroy(eip)
    assert calls[0] == 2
    assert aws.client("ec2").describe_addresses()["Addresses"] == []
    InternetGatewayProvisioner(aws).destroy(igw)


def test_nat_gateway_subnet_change_is_a_replacement(aws, vpc):
    subnet = _subnet(aws, vpc)
    eip = apply(ElasticIpProvisioner(aws), "network/eip/0", {"name": "acme-dev-eip-0"})
    props = {
        "name": "acme-dev-nat-0",
        "subnet_id": subnet.physical_id,
        "allocation_id": eip.physical_id,
    }
    nat = apply(NatGatewayProvisioner(aws), "network/nat/0", props)
    other = _subnet(aws, vpc, index=1)
    change = plan(
        NatGatewayProvisioner(aws), "network/nat/0", {**props, "subnet_id": other.physical_id}, nat
    )
    assert change.action == Action.REPLACE


def test_route_table_lifecycle_ignores_route_order_and_spelling(aws, vpc):
    ec2 = aws.client("ec2")
    igw = apply(
        InternetGatewayProvisioner(aws),
        "network/igw",
        {"name": "acme-dev-igw", "vpc_id": vpc.physical_id},
    )
    a, b = _subnet(aws, vpc, 0), _subnet(aws, vpc, 1)
    gw = igw.physical_id
    props = {
        "name": "acme-dev-route-table-public",
        "vpc_id": vpc.physical_id,
        "routes": [{"destination": "0.0.0.0/0", "gateway_id": gw}],
        "subnet_ids": [a.physical_id],
    }
    p = RouteTableProvisioner(aws)

    def route_deleted(record):
        ec2.delete_route(RouteTableId=record.physical_id, DestinationCidrBlock="192.168.0.0/16")

    lifecycle(
        p,
        "network/route-table/public",
        props,
        mutate={
            "routes": [
                {"destination": "192.168.0.1/16", "gateway_id": gw},
                {"destination": "0.0.0.0/0", "gateway_id": gw},
            ],
            "subnet_ids": [b.physical_id, a.physical_id],
        },
        drift=route_deleted,
        drifted="routes",
    )


def test_gateway_endpoint_lifecycle(aws, vpc):
    tables = [
        apply(
            RouteTableProvisioner(aws),
            f"network/route-table/private/{i}",
            {"name": f"acme-dev-rt-{i}", "vpc_id": vpc.physical_id, "routes": [], "subnet_ids": []},
        ).physical_id
        for i in range(2)
    ]
    props = {
        "name": "acme-dev-endpoint-s3",
        "vpc_id": vpc.physical_id,
        "service": "s3",
        "endpoint_type": "Gateway",
        "route_table_ids": tables[:1],
    }

    p = VpcEndpointProvisioner(aws)
    lifecycle(
        p,
        "network/endpoint/s3",
        props,
        mutate={"name": "acme-dev-endpoint-s3-renamed"},
        drift=_renamed_by_hand(aws),
        drifted="name",
    )


def test_gateway_endpoint_route_tables_change_in_place(aws, vpc):
    # (moto does not add prefix-list routes on modify, so this one is not destroyed)
    tables = [
        apply(
            RouteTableProvisioner(aws),
            f"network/route-table/private/{i}",
            {"name": f"acme-dev-rt-{i}", "vpc_id": vpc.physical_id, "routes": [], "subnet_ids": []},
        ).physical_id
        for i in range(2)
    ]
    props = {
        "name": "acme-dev-endpoint-s3",
        "vpc_id": vpc.physical_id,
        "service": "s3",
        "endpoint_type": "Gateway",
        "route_table_ids": tables[:1],
    }
    p = VpcEndpointProvisioner(aws)
    record = apply(p, "network/endpoint/s3", props)
    wider = {**props, "route_table_ids": list(reversed(tables))}
    change = plan(p, "network/endpoint/s3", wider, record)
    assert change.action == Action.UPDATE and changed_names(change) == {"route_table_ids"}
    record = apply(p, "network/endpoint/s3", wider, record)
    assert plan(p, "network/endpoint/s3", wider, record).action == Action.NO_CHANGE
    assert plan(p, "network/endpoint/s3", {**wider, "route_table_ids": tables}, record).action == (
        Action.NO_CHANGE
    )


def test_interface_endpoint_with_private_dns_plans_no_change_once_made(aws, vpc):
    subnets = [_subnet(aws, vpc, i).physical_id for i in range(2)]
    group = aws.client("ec2").create_security_group(
        GroupName="endpoints", Description="x", VpcId=vpc.physical_id
    )["GroupId"]
    props = {
        "name": "acme-dev-endpoint-bedrock-runtime",
        "vpc_id": vpc.physical_id,
        "service": "bedrock-runtime",
        "endpoint_type": "Interface",
        "subnet_ids": list(reversed(subnets)),
        "security_group_ids": [group],
        "private_dns_enabled": True,
    }
    p = VpcEndpointProvisioner(aws)
    record = apply(p, "network/endpoint/bedrock-runtime", props)
    endpoint = aws.client("ec2").describe_vpc_endpoints(VpcEndpointIds=[record.physical_id])
    assert endpoint["VpcEndpoints"][0]["ServiceName"] == "com.amazonaws.us-east-1.bedrock-runtime"
    assert plan(p, "network/endpoint/bedrock-runtime", props, record).action == Action.NO_CHANGE
    change = plan(p, "network/endpoint/bedrock-runtime", {**props, "service": "logs"}, record)
    assert change.action == Action.REPLACE and changed_names(change) == {"service"}


# --- IPAM (moto has none): botocore's Stubber against the real EC2 model ---

POOL = "ipam-pool-0123456789abcdef0"
IPAM_PROPS = {
    "name": "acme-dev-vpc",
    "ipam_pool_id": POOL,
    "ipam_netmask_length": 20,
    "enable_dns_hostnames": True,
    "enable_dns_support": True,
    "subnet_layout": {"prefix_length": 22, "count": 4},
}
_VPC = {"VpcId": "vpc-0abc", "CidrBlock": "10.64.16.0/20", "State": "available", "OwnerId": "1"}


def _allocation(cidr="10.64.16.0/20", description="strands-deploy acme/dev acme-dev-vpc"):
    return {"Cidr": cidr, "IpamPoolAllocationId": "ipam-pool-alloc-1", "Description": description}


def test_ipam_allocation_is_taken_once_and_found_again_after_a_crash(aws):
    p = VpcProvisioner(aws)
    with Stubber(aws.client("ec2")) as stub:
        # First attempt: nothing allocated yet, so a /20 is taken from the pool.
        stub.add_response(
            "get_ipam_pool_allocations", {"IpamPoolAllocations": []}, {"IpamPoolId": POOL}
        )
        stub.add_response(
            "allocate_ipam_pool_cidr",
            {"IpamPoolAllocation": _allocation()},
            {
                "IpamPoolId": POOL,
                "NetmaskLength": 20,
                "ClientToken": ANY,
                "Description": "strands-deploy acme/dev acme-dev-vpc",
            },
        )
        # A retry finds its own allocation by description instead of taking another.
        other = _allocation("10.64.0.0/20", "someone else")
        stub.add_response(
            "get_ipam_pool_allocations",
            {"IpamPoolAllocations": [other, _allocation()]},
            {"IpamPoolId": POOL},
        )
        assert p._allocate_cidr(POOL, 20, "acme-dev-vpc") == ("10.64.16.0/20", "ipam-pool-alloc-1")
        assert p._allocate_cidr(POOL, 20, "acme-dev-vpc") == ("10.64.16.0/20", "ipam-pool-alloc-1")
        stub.assert_no_pending_responses()


def test_ipam_pool_exhausted_is_a_clear_error(aws):
    with Stubber(aws.client("ec2")) as stub:
        stub.add_response("get_ipam_pool_allocations", {"IpamPoolAllocations": []})
        stub.add_client_error(
            "allocate_ipam_pool_cidr", "InsufficientCidrBlocks", "The pool has no free /20"
        )
        with pytest.raises(ProvisioningError) as raised:
            VpcProvisioner(aws)._allocate_cidr(POOL, 20, "acme-dev-vpc")
    assert str(raised.value).startswith(
        f"allocating a CIDR for VPC acme-dev-vpc from IPAM pool {POOL}: InsufficientCidrBlocks"
    )


def test_vpc_from_ipam_publishes_subnet_cidrs_and_releases_the_allocation(aws):
    aws._account_id = "123456789012"
    p = VpcProvisioner(aws)
    dns_on = {"Value": True}
    # The create goes out on the client without retries; everything else on the shared one.
    with Stubber(aws.client("ec2")) as stub, Stubber(aws.client_once("ec2")) as once:
        stub.add_response("describe_vpcs", {"Vpcs": []})  # nothing made by an earlier attempt
        stub.add_response("get_ipam_pool_allocations", {"IpamPoolAllocations": []})
        stub.add_response("allocate_ipam_pool_cidr", {"IpamPoolAllocation": _allocation()})
        stub.add_response("describe_vpcs", {"Vpcs": []})  # overlap check
        once.add_response(
            "create_vpc",
            {"Vpc": {**_VPC, "State": "pending"}},
            {"CidrBlock": "10.64.16.0/20", "TagSpecifications": ANY},
        )
        stub.add_response("describe_vpcs", {"Vpcs": [_VPC]})  # vpc_available waiter
        stub.add_response("describe_vpc_attribute", {"EnableDnsHostnames": dns_on})
        stub.add_response("describe_vpc_attribute", {"EnableDnsSupport": dns_on})
        stub.add_response("create_tags", {})
        stub.add_response("describe_vpcs", {"Vpcs": [_VPC]})
        outputs = p.provision("network/vpc", IPAM_PROPS, None)

        stub.add_response("describe_vpcs", {"Vpcs": [_VPC]})
        stub.add_response("delete_vpc", {}, {"VpcId": "vpc-0abc"})
        stub.add_response(
            "release_ipam_pool_allocation",
            {"Success": True},
            {
                "IpamPoolId": POOL,
                "IpamPoolAllocationId": "ipam-pool-alloc-1",
                "Cidr": "10.64.16.0/20",
            },
        )
        p.destroy(
            RecordedResource(
                "network/vpc", "ec2:vpc", "vpc-0abc", outputs=outputs, properties=IPAM_PROPS
            )
        )
        stub.assert_no_pending_responses()
        once.assert_no_pending_responses()
    assert outputs["cidr_block"] == "10.64.16.0/20"
    assert [outputs[f"subnet_cidr_{i}"] for i in range(4)] == [
        "10.64.16.0/22",
        "10.64.20.0/22",
        "10.64.24.0/22",
        "10.64.28.0/22",
    ]
    assert outputs["ipam_allocation_id"] == "ipam-pool-alloc-1"


def _ipam_vpc_record() -> RecordedResource:
    outputs = {
        "physical_id": "vpc-0abc",
        "vpc_id": "vpc-0abc",
        "cidr_block": "10.64.16.0/20",
        "ipam_pool_id": POOL,
        "ipam_allocation_id": "ipam-pool-alloc-1",
    }
    return RecordedResource("network/vpc", "ec2:vpc", "vpc-0abc", outputs=outputs)


def test_destroying_an_ipam_vpc_again_after_everything_is_gone_is_done(aws):
    # A run that died after deleting the VPC and releasing its CIDR is destroyed again.
    with Stubber(aws.client("ec2")) as stub:
        stub.add_client_error("describe_vpcs", "InvalidVpcID.NotFound", "no such VPC")
        stub.add_client_error(
            "release_ipam_pool_allocation", "InvalidIpamPoolAllocationId.NotFound", "released"
        )
        VpcProvisioner(aws).destroy(_ipam_vpc_record())
        stub.assert_no_pending_responses()


def test_a_refused_cidr_release_is_an_error_naming_the_vpc(aws):
    with Stubber(aws.client("ec2")) as stub:
        stub.add_client_error("describe_vpcs", "InvalidVpcID.NotFound", "no such VPC")
        stub.add_client_error("release_ipam_pool_allocation", "UnauthorizedOperation", "denied")
        with pytest.raises(ProvisioningError, match="deleting VPC vpc-0abc: UnauthorizedOperation"):
            VpcProvisioner(aws).destroy(_ipam_vpc_record())
