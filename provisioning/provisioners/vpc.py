"""VPC networking: VPC, subnets, internet and NAT gateways, route tables, VPC endpoints.

Every EC2 resource here carries a `name` (its `Name` tag; the only mutable
property some have) and the strands-deploy tags it is found by.

ec2:vpc properties:
  name: str
  cidr_block: str                       given by hand ("10.20.0.0/16", /16 to /28), or
  ipam_pool_id: str, ipam_netmask_length: int   the CIDR comes from an IPAM pool (write-only)
  enable_dns_hostnames: bool, enable_dns_support: bool   (both needed for private DNS)
  subnet_layout: {"prefix_length": int, "count": int} | absent   (write-only) carve the
      CIDR into equal subnets, published as outputs subnet_cidr_0..count-1 (the IPAM path,
      where subnet CIDRs are only known once the pool has answered)
outputs: physical_id (vpc id), vpc_id, arn, cidr_block, subnet_cidr_<i>,
  ipam_pool_id / ipam_allocation_id (IPAM path: released after the VPC is deleted)

ec2:subnet properties:
  name: str, vpc_id: str (Ref), cidr_block: str (may be a Ref to subnet_cidr_<i>),
  az_index: int (0-based index into the region's available zones, sorted by name),
  map_public_ip_on_launch: bool
outputs: physical_id (subnet id), subnet_id, arn, availability_zone

ec2:internet-gateway, ec2:eip, ec2:nat-gateway: see vpc_gateways.py;
ec2:route-table, ec2:vpc-endpoint: see vpc_routing.py.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from provisioning.aws import TAG_PROJECT
from provisioning.errors import ProvisioningError, aws_errors, delete_if_present
from provisioning.model.cidr import MIN_PREFIX, carve_subnets, cidr_problems
from provisioning.model.naming import short_hash
from provisioning.provisioners.base import Current, Provisioner
from provisioning.provisioners.ec2_common import Ec2Provisioner, name_of, tags_of
from provisioning.state import RecordedResource

"""AWS accepts VPC CIDRs from /16 to /28."""


def overlaps(a: str, b: str) -> bool:
    return ipaddress.ip_network(a).overlaps(ipaddress.ip_network(b))


class VpcProvisioner(Ec2Provisioner):
    resource_type = "ec2:vpc"
    noun, tag_type = "VPC", "vpc"
    id_key, list_key = "VpcIds", "Vpcs"
    not_found_codes = ("InvalidVpcID.NotFound",)
    replace_on = {
        "cidr_block": "a VPC's primary CIDR cannot change",
        "ipam_pool_id": "a VPC's primary CIDR cannot change",
        "ipam_netmask_length": "a VPC's primary CIDR cannot change",
    }
    write_only = frozenset({"ipam_pool_id", "ipam_netmask_length", "subnet_layout"})

    def describe(self, **kwargs: Any) -> Any:
        return self.ec2.describe_vpcs(**kwargs)

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        # Its own, not Ec2Provisioner's: the subnet CIDR outputs follow the layout wanted
        # now, which may differ from the recorded one.
        name = name_of(recorded, properties)
        with aws_errors("reading", self.what(name)):
            vpc = self._find(name, recorded)
        layout = (properties or {}).get("subnet_layout")
        return None if vpc is None else self.with_tags(self._current(vpc, recorded, layout), vpc)

    def _current(
        self,
        vpc: Mapping[str, Any],
        recorded: RecordedResource | None = None,
        layout: Mapping[str, Any] | None = None,
    ) -> Current:
        layout = layout or (recorded.properties.get("subnet_layout") if recorded else None)
        ipam = {k: v for k, v in (recorded.outputs if recorded else {}).items() if "ipam" in k}
        return Current(self._properties(vpc), self._outputs(vpc, layout, ipam))

    def _properties(self, vpc: Mapping[str, Any]) -> dict[str, Any]:
        vpc_id = vpc["VpcId"]
        return {
            "name": tags_of(vpc).get("Name", ""),
            "cidr_block": vpc["CidrBlock"],
            "enable_dns_hostnames": self._attribute(vpc_id, "enableDnsHostnames"),
            "enable_dns_support": self._attribute(vpc_id, "enableDnsSupport"),
        }

    def _attribute(self, vpc_id: str, attribute: str) -> bool:
        answer = self.ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)
        key = attribute[0].upper() + attribute[1:]
        return bool(answer[key]["Value"])

    def _outputs(
        self, vpc: Mapping[str, Any], layout: Mapping[str, Any] | None, ipam: Mapping[str, Any]
    ) -> dict[str, Any]:
        vpc_id, cidr = vpc["VpcId"], vpc["CidrBlock"]
        outputs: dict[str, Any] = {
            **self.id_outputs("vpc_id", vpc_id),
            "cidr_block": cidr,
            **ipam,
        }
        if layout:
            cidrs = carve_subnets(cidr, int(layout["count"]), int(layout["prefix_length"]))
            outputs.update({f"subnet_cidr_{i}": c for i, c in enumerate(cidrs)})
        return outputs

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        # The CIDR comes first from the IPAM pool where one is named; the allocation is
        # recorded with the VPC so that destroy releases it.
        wanted, ipam = dict(properties), {}
        if properties.get("ipam_pool_id"):
            pool = str(properties["ipam_pool_id"])
            length = int(properties.get("ipam_netmask_length") or MIN_PREFIX)
            wanted["cidr_block"], allocation_id = self._allocate_cidr(pool, length, wanted["name"])
            ipam = {"ipam_pool_id": pool, "ipam_allocation_id": allocation_id}
        made = self.create_resource(self.aws.client_once("ec2"), logical_id, wanted)
        current = self.with_tags(self._current(made), made)
        return self.update(
            logical_id, properties, replace(current, outputs={**current.outputs, **ipam})
        )

    def create_resource(
        self, ec2: Any, logical_id: str, properties: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        cidr = str(properties["cidr_block"])
        self._check_cidr(cidr, properties["name"])
        tags = self.tag_specs(logical_id, properties["name"])
        vpc = ec2.create_vpc(CidrBlock=cidr, TagSpecifications=tags)["Vpc"]
        self.ec2.get_waiter("vpc_available").wait(VpcIds=[vpc["VpcId"]])
        return dict(vpc)

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        ipam = {k: v for k, v in current.outputs.items() if "ipam" in k}
        vpc_id = current.outputs["vpc_id"]
        self._update(vpc_id, properties, current.properties)
        vpc = self.ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
        return self._outputs(vpc, properties.get("subnet_layout"), ipam)

    def _allocate_cidr(self, pool_id: str, netmask_length: int, name: str) -> tuple[str, str]:
        """Take a CIDR from an IPAM pool, or find the one a crashed attempt already took.

        A manual allocation (rather than create_vpc's own) makes the CIDR known before the
        VPC exists and findable by its description afterwards, so retries never leak one.
        """
        marker = f"strands-deploy {self.aws.project}/{self.aws.stage} {name}"
        with aws_errors("allocating a CIDR for", f"{self.what(name)} from IPAM pool {pool_id}"):
            pages = self.ec2.get_paginator("get_ipam_pool_allocations").paginate(IpamPoolId=pool_id)
            for page in pages:
                for allocation in page.get("IpamPoolAllocations", []):
                    if allocation.get("Description") == marker:
                        return allocation["Cidr"], allocation["IpamPoolAllocationId"]
            allocation = self.ec2.allocate_ipam_pool_cidr(
                IpamPoolId=pool_id,
                NetmaskLength=netmask_length,
                Description=marker,
                ClientToken=short_hash(marker, 32),
            )["IpamPoolAllocation"]
        return allocation["Cidr"], allocation["IpamPoolAllocationId"]

    def _check_cidr(self, cidr: str, name: str) -> None:
        problems = cidr_problems(cidr)
        if problems:
            raise ProvisioningError("creating", self.what(name), "; ".join(problems))
        filters = [{"Name": f"tag:{TAG_PROJECT}", "Values": [self.aws.project]}]
        for other in self.ec2.describe_vpcs(Filters=filters)["Vpcs"]:
            if tags_of(other).get("Name") != name and overlaps(cidr, other["CidrBlock"]):
                raise ProvisioningError(
                    "creating",
                    self.what(name),
                    f"{cidr} overlaps {other['CidrBlock']} of {other['VpcId']} "
                    f"({tags_of(other).get('Name', '')}) in the same project; choose another range",
                )

    def _update(self, vpc_id: str, wanted: Mapping[str, Any], have: Mapping[str, Any]) -> None:
        # DNS hostnames needs DNS support, so support goes on first and off last.
        for attribute in ("enable_dns_support", "enable_dns_hostnames"):
            value = wanted.get(attribute)
            if value is not None and bool(value) != have.get(attribute):
                key = "EnableDnsSupport" if attribute.endswith("support") else "EnableDnsHostnames"
                self.ec2.modify_vpc_attribute(VpcId=vpc_id, **{key: {"Value": bool(value)}})
        if have.get("name") != wanted["name"]:
            self.rename(vpc_id, wanted["name"])

    def destroy(self, recorded: RecordedResource) -> None:
        name = name_of(recorded, None)
        with aws_errors("deleting", self.what(name)):
            if self._find(name, recorded) is not None:
                self.while_in_use(lambda: self.ec2.delete_vpc(VpcId=recorded.physical_id))
            self._release_cidr(recorded)

    def _release_cidr(self, recorded: RecordedResource) -> None:
        pool, allocation = (recorded.outputs.get(k) for k in ("ipam_pool_id", "ipam_allocation_id"))
        if not (pool and allocation):
            return
        delete_if_present(
            self.ec2.release_ipam_pool_allocation,
            "InvalidIpamPoolAllocationId.NotFound",
            IpamPoolId=pool,
            IpamPoolAllocationId=allocation,
            Cidr=recorded.outputs["cidr_block"],
        )


class SubnetProvisioner(Ec2Provisioner):
    resource_type = "ec2:subnet"
    noun, tag_type = "subnet", "subnet"
    id_key, list_key = "SubnetIds", "Subnets"
    not_found_codes = ("InvalidSubnetID.NotFound",)
    replace_on = {
        "vpc_id": "a subnet cannot move to another VPC",
        "cidr_block": "a subnet's CIDR cannot change",
        "az_index": "a subnet cannot move to another availability zone",
    }

    def describe(self, **kwargs: Any) -> Any:
        return self.ec2.describe_subnets(**kwargs)

    def zones(self) -> list[str]:
        answer = self.ec2.describe_availability_zones(
            Filters=[
                {"Name": "state", "Values": ["available"]},
                {"Name": "zone-type", "Values": ["availability-zone"]},
            ]
        )
        return sorted(z["ZoneName"] for z in answer["AvailabilityZones"])

    def _current(
        self, subnet: Mapping[str, Any], recorded: RecordedResource | None = None
    ) -> Current:
        zone = subnet["AvailabilityZone"]
        properties = {
            "name": tags_of(subnet).get("Name", ""),
            "vpc_id": subnet["VpcId"],
            "cidr_block": subnet["CidrBlock"],
            "az_index": self._az_index(zone, recorded),
            "map_public_ip_on_launch": bool(subnet.get("MapPublicIpOnLaunch", False)),
        }
        subnet_id = subnet["SubnetId"]
        arn = subnet.get("SubnetArn") or self.arn("subnet", subnet_id)
        outputs = {
            "physical_id": subnet_id,
            "subnet_id": subnet_id,
            "arn": arn,
            "availability_zone": zone,
        }
        return Current(properties, outputs)

    def _az_index(self, zone: str, recorded: RecordedResource | None) -> int:
        """The zone's index; a subnet still in its recorded zone keeps its recorded index,
        which saves a DescribeAvailabilityZones per subnet on every read."""
        if recorded and recorded.outputs.get("availability_zone") == zone:
            index = recorded.properties.get("az_index")
            if isinstance(index, int):
                return index
        zones = self.zones()
        return zones.index(zone) if zone in zones else -1

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        name = properties["name"]
        subnet_id = current.outputs["subnet_id"]
        public = bool(properties.get("map_public_ip_on_launch", False))
        if current.properties["map_public_ip_on_launch"] != public:
            self.ec2.modify_subnet_attribute(
                SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": public}
            )
        if current.properties["name"] != name:
            self.rename(subnet_id, name)
        return dict(current.outputs)

    def create_resource(
        self, ec2: Any, logical_id: str, properties: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        zones, index = self.zones(), int(properties["az_index"])
        if index >= len(zones):
            raise ProvisioningError(
                "creating",
                self.what(properties["name"]),
                f"availability zone #{index + 1} wanted but {self.aws.region} offers {len(zones)}",
            )
        subnet = ec2.create_subnet(
            VpcId=properties["vpc_id"],
            CidrBlock=properties["cidr_block"],
            AvailabilityZone=zones[index],
            TagSpecifications=self.tag_specs(logical_id, properties["name"]),
        )["Subnet"]
        self.ec2.get_waiter("subnet_available").wait(SubnetIds=[subnet["SubnetId"]])
        return dict(subnet)

    def destroy(self, recorded: RecordedResource) -> None:
        with aws_errors("deleting", self.what(name_of(recorded, None))):
            if self._find("", recorded) is not None:
                self.while_in_use(lambda: self.ec2.delete_subnet(SubnetId=recorded.physical_id))


PROVISIONERS: tuple[type[Provisioner], ...] = (VpcProvisioner, SubnetProvisioner)
