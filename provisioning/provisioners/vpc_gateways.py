"""Internet gateways, Elastic IPs and the NAT gateways that use them.

ec2:internet-gateway properties: name: str, vpc_id: str (Ref; attached, re-attached on change)
outputs: physical_id (igw id), internet_gateway_id, arn

ec2:eip properties: name: str
outputs: physical_id (allocation id), allocation_id, public_ip, arn

ec2:nat-gateway properties:
  name: str, subnet_id: str (Ref to a public subnet), allocation_id: str (Ref to an ec2:eip)
outputs: physical_id (nat gateway id), nat_gateway_id, arn

A NAT gateway holds its address until it is fully deleted, so its destroy waits
for "deleted" and the address release retries while AWS still reports it in use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from provisioning.errors import aws_errors, retry_while
from provisioning.provisioners.base import Current, Provisioner
from provisioning.provisioners.ec2_common import (
    DEPENDENCY_TIMEOUT_S,
    Ec2Provisioner,
    code_in,
    name_of,
    tags_of,
    unless_already,
)
from provisioning.state import RecordedResource

_LIVE_NAT_STATES = ["pending", "available"]


def _address_in_use(exc: Exception) -> bool:
    return isinstance(exc, ClientError) and code_in(exc, "InvalidIPAddress.InUse", "AuthFailure")


class ElasticIpProvisioner(Ec2Provisioner):
    resource_type = "ec2:eip"
    noun, tag_type = "Elastic IP", "elastic-ip"
    id_key, list_key = "AllocationIds", "Addresses"
    not_found_codes = ("InvalidAllocationID.NotFound",)

    def describe(self, **kwargs: Any) -> Any:
        return self.ec2.describe_addresses(**kwargs)

    def _current(
        self, address: Mapping[str, Any], recorded: RecordedResource | None = None
    ) -> Current:
        allocation_id = address["AllocationId"]
        outputs = {
            **self.id_outputs("allocation_id", allocation_id),
            "public_ip": address.get("PublicIp", ""),
        }
        return Current({"name": tags_of(address).get("Name", "")}, outputs)

    def create_resource(
        self, ec2: Any, logical_id: str, properties: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        tags = self.tag_specs(logical_id, properties["name"])
        return dict(ec2.allocate_address(Domain="vpc", TagSpecifications=tags))

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        if current.properties["name"] != properties["name"]:
            self.rename(current.outputs["allocation_id"], properties["name"])
        return dict(current.outputs)

    def destroy(self, recorded: RecordedResource) -> None:
        with aws_errors("releasing", self.what(name_of(recorded, None))):
            if self._find("", recorded) is None:
                return
            retry_while(
                _address_in_use,
                lambda: self.ec2.release_address(AllocationId=recorded.physical_id),
                timeout_s=DEPENDENCY_TIMEOUT_S,
                sleep=self.aws.sleep,
                clock=self.aws.clock,
                first_delay_s=5.0,
                max_delay_s=30.0,
            )


class NatGatewayProvisioner(Ec2Provisioner):
    resource_type = "ec2:nat-gateway"
    noun, tag_type = "NAT gateway", "natgateway"
    id_key, list_key = "NatGatewayIds", "NatGateways"
    filter_key = "Filter"
    not_found_codes = ("NatGatewayNotFound", "InvalidNatGatewayID.NotFound")
    replace_on = {
        "subnet_id": "a NAT gateway cannot move to another subnet",
        "allocation_id": "a public NAT gateway keeps its primary Elastic IP",
    }

    def describe(self, **kwargs: Any) -> Any:
        return self.ec2.describe_nat_gateways(**kwargs)

    def find_filters(self, name: str) -> list[dict[str, Any]]:
        return [*self.name_filters(name), {"Name": "state", "Values": _LIVE_NAT_STATES}]

    def is_live(self, found: Mapping[str, Any]) -> bool:
        return found["State"] in _LIVE_NAT_STATES

    def _current(self, nat: Mapping[str, Any], recorded: RecordedResource | None = None) -> Current:
        nat_id = nat["NatGatewayId"]
        addresses = nat.get("NatGatewayAddresses", [])
        properties = {
            "name": tags_of(nat).get("Name", ""),
            "subnet_id": nat["SubnetId"],
            "allocation_id": addresses[0].get("AllocationId") if addresses else None,
        }
        return Current(properties, self.id_outputs("nat_gateway_id", nat_id))

    def create_resource(
        self, ec2: Any, logical_id: str, properties: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        made = ec2.create_nat_gateway(
            SubnetId=properties["subnet_id"],
            AllocationId=properties["allocation_id"],
            # AWS answers a repeat with the same token by the gateway it made; the sandbox
            # does not, which the lookup by tags covers.
            ClientToken=self.client_token(logical_id),
            TagSpecifications=self.tag_specs(logical_id, properties["name"]),
        )
        return dict(made["NatGateway"])

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        if current.properties["name"] != properties["name"]:
            self.rename(current.outputs["nat_gateway_id"], properties["name"])
        return dict(current.outputs)

    def wait_until_usable(
        self, logical_id: str, properties: Mapping[str, Any], outputs: dict[str, Any]
    ) -> dict[str, Any]:
        nat_id = outputs["nat_gateway_id"]
        with aws_errors("waiting for", self.what(properties["name"])):
            self.ec2.get_waiter("nat_gateway_available").wait(NatGatewayIds=[nat_id])
        return super().wait_until_usable(logical_id, properties, outputs)

    def destroy(self, recorded: RecordedResource) -> None:
        what = self.what(name_of(recorded, None))
        with aws_errors("deleting", what):
            if self._find("", recorded) is None:
                return
            self.ec2.delete_nat_gateway(NatGatewayId=recorded.physical_id)
            # Its Elastic IP and subnet stay busy until the gateway reaches "deleted".
            self.wait_for(lambda: self._find("", recorded) is None, f"deletion of {what}")


class InternetGatewayProvisioner(Ec2Provisioner):
    resource_type = "ec2:internet-gateway"
    noun, tag_type = "internet gateway", "internet-gateway"
    id_key = "InternetGatewayIds"
    list_key, not_found_codes = "InternetGateways", ("InvalidInternetGatewayID.NotFound",)

    def describe(self, **kwargs: Any) -> Any:
        return self.ec2.describe_internet_gateways(**kwargs)

    def _current(self, igw: Mapping[str, Any], recorded: RecordedResource | None = None) -> Current:
        attached = [a["VpcId"] for a in igw.get("Attachments", []) if a.get("State") != "detached"]
        igw_id = igw["InternetGatewayId"]
        properties = {
            "name": tags_of(igw).get("Name", ""),
            "vpc_id": attached[0] if attached else None,
        }
        return Current(properties, self.id_outputs("internet_gateway_id", igw_id))

    def create_resource(
        self, ec2: Any, logical_id: str, properties: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        tags = self.tag_specs(logical_id, properties["name"])
        return dict(ec2.create_internet_gateway(TagSpecifications=tags)["InternetGateway"])

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        igw_id, have_vpc = current.outputs["internet_gateway_id"], current.properties["vpc_id"]
        if have_vpc != properties["vpc_id"]:
            if have_vpc:
                self._detach(igw_id, have_vpc)
            self._attach(igw_id, properties["vpc_id"])
        if current.properties["name"] != properties["name"]:
            self.rename(igw_id, properties["name"])
        return dict(current.outputs)

    def _attach(self, igw_id: str, vpc_id: str) -> None:
        unless_already(
            lambda: self.ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id),
            "Resource.AlreadyAssociated",
            lambda: self._attached_vpc(igw_id) == vpc_id,
        )

    def _attached_vpc(self, igw_id: str) -> str | None:
        answer = self.ec2.describe_internet_gateways(InternetGatewayIds=[igw_id])
        vpc_id: str | None = self._current(answer["InternetGateways"][0]).properties["vpc_id"]
        return vpc_id

    def _detach(self, igw_id: str, vpc_id: str) -> None:
        # Refused with DependencyViolation while a NAT gateway's public address is still mapped.
        try:
            self.while_in_use(
                lambda: self.ec2.detach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
            )
        except ClientError as exc:
            if not code_in(exc, "Gateway.NotAttached", "InvalidInternetGatewayID.NotFound"):
                raise

    def destroy(self, recorded: RecordedResource) -> None:
        with aws_errors("deleting", self.what(name_of(recorded, None))):
            igw = self._find("", recorded)
            if igw is None:
                return
            vpc_id = self._current(igw).properties["vpc_id"]
            if vpc_id:
                self._detach(recorded.physical_id, vpc_id)
            self.while_in_use(
                lambda: self.ec2.delete_internet_gateway(InternetGatewayId=recorded.physical_id)
            )


PROVISIONERS: tuple[type[Provisioner], ...] = (
    ElasticIpProvisioner,
    NatGatewayProvisioner,
    InternetGatewayProvisioner,
)
