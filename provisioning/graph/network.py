"""A stage's network settings expanded into VPC resource specs.

settings: {"enabled": bool, "cidr": "10.20.0.0/16" | None, "ipam_pool_id": str | None,
           "ipam_netmask_length": int (16), "az_count": 1..6 (2),
           "nat": "none" | "single" | "per_az" ("single"),
           "endpoints": ["s3", "dynamodb", "bedrock-runtime", ...], "avoid_cidrs": [str]}

Private subnets hold the agents' Lambda ENIs. Public subnets, the internet gateway
and NAT gateways exist only when `nat` is not "none"; without NAT the agents reach
AWS through the VPC endpoints alone. S3 and DynamoDB get (free) gateway endpoints
on every private route table, any other service an interface endpoint with private
DNS behind the endpoints security group, which admits HTTPS from the agents' groups only.

Agents' security groups: no ingress, HTTPS out to anywhere. Agents without egress rules of
their own share the stage's agents group (`AGENTS_SG`); an agent with rules gets its own group
(`agent_group_id`) holding HTTPS out plus its rules, and the optimizer merges agents whose
rules are identical into one group.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from provisioning.model.cidr import carve_subnets, cidr_problems, subnet_prefix
from provisioning.model.naming import physical_name
from provisioning.model.security_rules import build_https_rule, normalise_rules
from provisioning.model.spec import Ref, ResourceSpec

VPC = "network/vpc"
IGW = "network/igw"
AGENTS_SG = "network/sg/agents"
AGENT_SG_PREFIX = "network/sg/agent/"
ENDPOINTS_SG = "network/sg/endpoints"
PUBLIC_ROUTES = "network/route-table/public"
NAT_MODES = ("none", "single", "per_az")
GATEWAY_SERVICES = frozenset({"s3", "dynamodb"})
NODE = "network"


def subnet_id(kind: str, index: int) -> str:
    return f"network/subnet/{kind}/{index}"


def agent_group_id(agent_name: str) -> str:
    """The logical id of the security group of an agent with egress rules of its own."""
    return f"{AGENT_SG_PREFIX}{agent_name}"


def agents_egress() -> list[dict[str, Any]]:
    """What every agent may send: HTTPS to AWS APIs and model providers, wherever they are."""
    return [build_https_rule(cidr="0.0.0.0/0")]


def _defaults(settings: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "az_count": 2,
        "nat": "single",
        "endpoints": [],
        "ipam_netmask_length": 16,
        **{k: v for k, v in settings.items() if v is not None},
    }


def validate_network(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, message) for each setting AWS would refuse or we cannot lay out."""
    s = _defaults(settings)
    if not s.get("enabled"):
        return []
    problems: list[tuple[str, str]] = []
    az_count = s["az_count"]
    if not isinstance(az_count, int) or not 1 <= az_count <= 6:
        problems.append(("az_count", "must be a whole number from 1 to 6"))
        az_count = 2
    if s["nat"] not in NAT_MODES:
        problems.append(("nat", f"must be one of {', '.join(NAT_MODES)}"))
    if s.get("ipam_pool_id"):
        length = s["ipam_netmask_length"]
        if not isinstance(length, int) or not 16 <= length <= 28:
            problems.append(("ipam_netmask_length", "must be from 16 to 28"))
        elif subnet_prefix(length, 2 * az_count) > 28:
            problems.append(("ipam_netmask_length", f"/{length} is too small for {az_count} AZs"))
    elif not s.get("cidr"):
        problems.append(("cidr", "give a CIDR (e.g. 10.20.0.0/16) or an IPAM pool id"))
    else:
        problems += [("cidr", message) for message in _cidr_problems(s["cidr"], az_count, s)]
    for service in s["endpoints"]:
        if not isinstance(service, str) or not service.replace("-", "").replace(".", "").isalnum():
            problems.append(("endpoints", f"{service!r} is not a service name"))
    return problems


def _cidr_problems(cidr: str, az_count: int, settings: Mapping[str, Any]) -> list[str]:
    problems = cidr_problems(cidr)
    if problems:
        return problems
    prefix = ipaddress.ip_network(cidr).prefixlen
    if subnet_prefix(prefix, 2 * az_count) > 28:
        return [f"{cidr} is too small for {2 * az_count} subnets (public and private per AZ)"]
    for other in settings.get("avoid_cidrs", []):
        if ipaddress.ip_network(cidr).overlaps(ipaddress.ip_network(other, strict=False)):
            return [f"{cidr} overlaps {other}, which this stage must reach"]
    return []


def network_specs(
    project: str, stage: str, settings: Mapping[str, Any], agent_groups: Sequence[str] = ()
) -> list[ResourceSpec]:
    """The stage's network; `agent_groups`: the logical ids of the agents' own groups, which
    the interface endpoints admit beside the shared agents group."""
    s = _defaults(settings)
    if not s.get("enabled"):
        return []
    layout = _Layout(project, stage, s, agent_groups)
    return layout.build()


def agent_group_spec(
    project: str, stage: str, agent_name: str, rules: Iterable[Mapping[str, Any]]
) -> ResourceSpec:
    """The security group of an agent with egress rules of its own."""
    logical_id = agent_group_id(agent_name)
    return ResourceSpec(
        logical_id,
        "ec2:security-group",
        {
            "name": physical_name(project, stage, *logical_id.split("/")[1:], kind="ec2"),
            "description": f"Strands agent {agent_name} (Lambda): no ingress, HTTPS and its "
            "own egress rules out",
            "vpc_id": Ref(VPC, "vpc_id"),
            "ingress": [],
            "egress": normalise_rules([*agents_egress(), *rules]),
        },
        node=f"agent:{agent_name}",
    )


def lambda_vpc_config(settings: Mapping[str, Any], group_id: str = AGENTS_SG) -> dict[str, Any]:
    """What a Lambda function in this network needs: private subnets and its agent's group."""
    s = _defaults(settings)
    if not s.get("enabled"):
        return {}
    return {
        "subnet_ids": [Ref(subnet_id("private", i), "subnet_id") for i in range(s["az_count"])],
        "security_group_ids": [Ref(group_id, "group_id")],
    }


class _Layout:
    def __init__(
        self,
        project: str,
        stage: str,
        settings: Mapping[str, Any],
        agent_groups: Sequence[str],
    ) -> None:
        self.project, self.stage, self.s = project, stage, settings
        self.agent_groups = [AGENTS_SG, *sorted(set(agent_groups) - {AGENTS_SG})]
        self.azs = range(int(settings["az_count"]))
        self.nat = settings["nat"]
        self.public = self.nat != "none"
        self.specs: list[ResourceSpec] = []

    def name(self, logical_id: str) -> str:
        return physical_name(self.project, self.stage, *logical_id.split("/")[1:], kind="ec2")

    def add(self, logical_id: str, resource_type: str, **properties: Any) -> None:
        properties = {"name": self.name(logical_id), **properties}
        self.specs.append(ResourceSpec(logical_id, resource_type, properties, node=NODE))

    def build(self) -> list[ResourceSpec]:
        cidrs = self._vpc()
        self._subnets(cidrs)
        if self.public:
            self.add(IGW, "ec2:internet-gateway", vpc_id=Ref(VPC, "vpc_id"))
            self._nat_gateways()
        self._route_tables()
        self._security_groups()
        self._endpoints()
        return self.specs

    def _vpc(self) -> list[Any]:
        count = 2 * len(self.azs)
        dns = {"enable_dns_hostnames": True, "enable_dns_support": True}
        if self.s.get("ipam_pool_id"):
            length = int(self.s["ipam_netmask_length"])
            layout = {"prefix_length": subnet_prefix(length, count), "count": count}
            self.add(
                VPC,
                "ec2:vpc",
                ipam_pool_id=self.s["ipam_pool_id"],
                ipam_netmask_length=length,
                subnet_layout=layout,
                **dns,
            )
            return [Ref(VPC, f"subnet_cidr_{i}") for i in range(count)]
        self.add(VPC, "ec2:vpc", cidr_block=self.s["cidr"], **dns)
        return list(carve_subnets(self.s["cidr"], count))

    def _subnets(self, cidrs: list[Any]) -> None:
        # Private subnets take the first slots, so a layout without NAT never shifts them.
        n = len(self.azs)
        kinds = [("private", cidrs[:n])] + ([("public", cidrs[n:])] if self.public else [])
        for kind, blocks in kinds:
            for i in self.azs:
                self.add(
                    subnet_id(kind, i),
                    "ec2:subnet",
                    vpc_id=Ref(VPC, "vpc_id"),
                    cidr_block=blocks[i],
                    az_index=i,
                    map_public_ip_on_launch=False,
                )

    def _nat_indexes(self) -> list[int]:
        return {"none": [], "single": [0], "per_az": list(self.azs)}[self.nat]

    def _nat_gateways(self) -> None:
        for i in self._nat_indexes():
            self.add(f"network/eip/{i}", "ec2:eip")
            self.add(
                f"network/nat/{i}",
                "ec2:nat-gateway",
                subnet_id=Ref(subnet_id("public", i), "subnet_id"),
                allocation_id=Ref(f"network/eip/{i}", "allocation_id"),
            )

    def _route_tables(self) -> None:
        if self.public:
            self.add(
                PUBLIC_ROUTES,
                "ec2:route-table",
                vpc_id=Ref(VPC, "vpc_id"),
                routes=[
                    {"destination": "0.0.0.0/0", "gateway_id": Ref(IGW, "internet_gateway_id")}
                ],
                subnet_ids=[Ref(subnet_id("public", i), "subnet_id") for i in self.azs],
            )
        nats = self._nat_indexes()
        for i in self.azs:
            routes = []
            if nats:
                nat = f"network/nat/{i if i in nats else nats[0]}"
                routes = [
                    {"destination": "0.0.0.0/0", "nat_gateway_id": Ref(nat, "nat_gateway_id")}
                ]
            self.add(
                f"network/route-table/private/{i}",
                "ec2:route-table",
                vpc_id=Ref(VPC, "vpc_id"),
                routes=routes,
                subnet_ids=[Ref(subnet_id("private", i), "subnet_id")],
            )

    def _interface_services(self) -> list[str]:
        return sorted(set(self.s["endpoints"]) - GATEWAY_SERVICES)

    def _security_groups(self) -> None:
        self.add(
            AGENTS_SG,
            "ec2:security-group",
            description="Strands agents (Lambda): no ingress, HTTPS out",
            vpc_id=Ref(VPC, "vpc_id"),
            ingress=[],
            egress=agents_egress(),
        )
        if self._interface_services():
            self.add(
                ENDPOINTS_SG,
                "ec2:security-group",
                description="VPC interface endpoints: HTTPS from the agents only",
                vpc_id=Ref(VPC, "vpc_id"),
                ingress=[
                    build_https_rule(source_group_id=Ref(group, "group_id"))
                    for group in self.agent_groups
                ],
                egress=[],
            )

    def _endpoints(self) -> None:
        private_tables = [
            Ref(f"network/route-table/private/{i}", "route_table_id") for i in self.azs
        ]
        for service in sorted(set(self.s["endpoints"])):
            common = {"vpc_id": Ref(VPC, "vpc_id"), "service": service}
            logical_id = f"network/endpoint/{service}"
            if service in GATEWAY_SERVICES:
                self.add(
                    logical_id,
                    "ec2:vpc-endpoint",
                    **common,
                    endpoint_type="Gateway",
                    route_table_ids=private_tables,
                )
            else:
                self.add(
                    logical_id,
                    "ec2:vpc-endpoint",
                    **common,
                    endpoint_type="Interface",
                    subnet_ids=[Ref(subnet_id("private", i), "subnet_id") for i in self.azs],
                    security_group_ids=[Ref(ENDPOINTS_SG, "group_id")],
                    private_dns_enabled=True,
                )
