"""Security groups with minimal, validated ingress.

ec2:security-group properties:
  name: str (the GroupName), description: str, vpc_id: str (Ref)
  ingress: [rule], egress: [rule]   ([] removes AWS's default allow-all egress)
rule (one source per rule; order and spelling never show as a change):
  {"protocol": "tcp" | "udp" | "icmp" | "-1" (all; also "all", "TCP", "6", ...),
   "from_port": int, "to_port": int          (or "port": int; none for "-1")
   one of "cidr_ipv4" | "cidr_ipv6" | "cidr" (either family) | "source_group_id" (a Ref, a
   group id, or "self") | "prefix_list_id",
   "description": str (optional)}
outputs: physical_id (group id), group_id, arn

Ingress open to the internet (0.0.0.0/0 or ::/0) on an administrative or database
port is refused before anything is sent to AWS. `consolidate_security_groups`
lets resources with identical requirements share one group.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from provisioning.errors import ProvisioningError, aws_errors
from provisioning.model.security_rules import (
    build_rule_from_port,
    internet_source,
    normalise_rule,
    normalise_rules,
    rule_key,
)
from provisioning.provisioners.base import Current, Provisioner
from provisioning.provisioners.ec2_common import Ec2Provisioner, name_of, unless_already
from provisioning.state import RecordedResource

SENSITIVE_PORTS = {
    22: "SSH",
    23: "Telnet",
    3389: "RDP",
    1433: "SQL Server",
    1521: "Oracle",
    2049: "NFS",
    3306: "MySQL",
    5432: "PostgreSQL",
    5439: "Redshift",
    6379: "Redis",
    9200: "Elasticsearch",
    11211: "Memcached",
    27017: "MongoDB",
}
SOURCES = ("cidr_ipv4", "cidr_ipv6", "source_group_id", "prefix_list_id")


class InsecureRuleError(ValueError):
    """A rule that would expose a sensitive port to the whole internet."""


def build_http_rule(**source: Any) -> dict[str, Any]:
    return build_rule_from_port(80, **{"description": "HTTP", **source})


def build_internal_rule(
    *, cidr: str | None = None, source_group_id: Any = None, description: str = "internal"
) -> dict[str, Any]:
    """All traffic from inside: a private CIDR (the VPC's) or a group ("self" for peers)."""
    if cidr is not None and not ipaddress.ip_network(cidr, strict=False).is_private:
        raise ValueError(f"an internal rule needs a private source, not {cidr}")
    return normalise_rule(
        {
            "protocol": "-1",
            "cidr": cidr,
            "source_group_id": source_group_id,
            "description": description,
        }
    )


def rule_problems(rules: Iterable[Mapping[str, Any]]) -> list[str]:
    problems = []
    for rule in normalise_rules(rules):
        source = internet_source(rule)
        if source is None:
            continue
        if rule["protocol"] == "-1":
            problems.append(
                f"all traffic is open to {source}: every port, including SSH and databases"
            )
            continue
        if rule["protocol"] not in ("tcp", "udp"):
            continue
        for port, service in sorted(SENSITIVE_PORTS.items()):
            if rule["from_port"] <= port <= rule["to_port"]:
                problems.append(
                    f"{service} port {port}/{rule['protocol']} is open to {source}; "
                    "allow a narrower CIDR or a source security group instead"
                )
    return problems


def validate_rules(rules: Iterable[Mapping[str, Any]]) -> None:
    problems = rule_problems(rules)
    if problems:
        raise InsecureRuleError("; ".join(problems))


def _flatten(permissions: Iterable[Mapping[str, Any]], own_id: str) -> list[dict[str, Any]]:
    """AWS groups sources per port range; we keep one rule per source."""
    rules = []
    for perm in permissions:
        base = {"protocol": perm["IpProtocol"]}
        if perm["IpProtocol"] != "-1":
            base.update(from_port=perm.get("FromPort"), to_port=perm.get("ToPort"))
        sources = [
            *(({"cidr_ipv4": r["CidrIp"]}, r) for r in perm.get("IpRanges", [])),
            *(({"cidr_ipv6": r["CidrIpv6"]}, r) for r in perm.get("Ipv6Ranges", [])),
            *(({"prefix_list_id": r["PrefixListId"]}, r) for r in perm.get("PrefixListIds", [])),
            *(
                ({"source_group_id": "self" if r["GroupId"] == own_id else r["GroupId"]}, r)
                for r in perm.get("UserIdGroupPairs", [])
            ),
        ]
        for source, raw in sources:
            rules.append({**base, **source, "description": raw.get("Description", "")})
    return normalise_rules(rules)


def _permission(rule: Mapping[str, Any], own_id: str) -> dict[str, Any]:
    perm: dict[str, Any] = {"IpProtocol": rule["protocol"]}
    if rule["protocol"] != "-1":
        perm.update(FromPort=rule["from_port"], ToPort=rule["to_port"])
    extra = {"Description": rule["description"]} if rule.get("description") else {}
    if "cidr_ipv4" in rule:
        perm["IpRanges"] = [{"CidrIp": rule["cidr_ipv4"], **extra}]
    elif "cidr_ipv6" in rule:
        perm["Ipv6Ranges"] = [{"CidrIpv6": rule["cidr_ipv6"], **extra}]
    elif "prefix_list_id" in rule:
        perm["PrefixListIds"] = [{"PrefixListId": rule["prefix_list_id"], **extra}]
    else:
        group = own_id if rule["source_group_id"] == "self" else rule["source_group_id"]
        perm["UserIdGroupPairs"] = [{"GroupId": group, **extra}]
    return perm


class SecurityGroupProvisioner(Ec2Provisioner):
    resource_type = "ec2:security-group"
    noun, tag_type = "security group", "security-group"
    id_key, list_key = "GroupIds", "SecurityGroups"
    not_found_codes = ("InvalidGroup.NotFound", "InvalidGroupId.NotFound")
    replace_on = {
        "name": "a security group's name cannot change",
        "description": "a security group's description cannot change",
        "vpc_id": "a security group cannot move to another VPC",
    }

    def describe(self, **kwargs: Any) -> Any:
        return self.ec2.describe_security_groups(**kwargs)

    def canonical_properties(self, properties: Mapping[str, Any]) -> dict[str, Any]:
        result = dict(properties)
        for key in ("ingress", "egress"):
            if key in result:
                result[key] = normalise_rules(result[key])
        return result

    def find_filters(self, name: str) -> list[dict[str, Any]]:
        return [{"Name": "group-name", "Values": [name]}, *self.name_filters(name)[1:]]

    def ours(self, items: Iterable[Mapping[str, Any]], name: str) -> list[Mapping[str, Any]]:
        """Tagged as ours and with that group name: the name AWS keeps unique in a VPC."""
        return [g for g in super().ours(items, name) if g["GroupName"] == name]

    def _current(
        self, group: Mapping[str, Any], recorded: RecordedResource | None = None
    ) -> Current:
        group_id = group["GroupId"]
        properties = {
            "name": group["GroupName"],
            "description": group.get("Description", ""),
            "vpc_id": group.get("VpcId"),
            "ingress": _flatten(group.get("IpPermissions", []), group_id),
            "egress": _flatten(group.get("IpPermissionsEgress", []), group_id),
        }
        return Current(properties, self.id_outputs("group_id", group_id))

    def create_resource(
        self, ec2: Any, logical_id: str, properties: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        wanted = self._checked(properties, "creating")
        made = ec2.create_security_group(
            GroupName=wanted["name"],
            Description=wanted.get("description") or wanted["name"],
            VpcId=wanted["vpc_id"],
            TagSpecifications=self.tag_specs(logical_id, wanted["name"]),
        )
        found = self.ec2.describe_security_groups(GroupIds=[made["GroupId"]])
        return dict(found["SecurityGroups"][0])

    def adoptable(self, found: Current, properties: Mapping[str, Any]) -> bool:
        # Names are unique per VPC: ours of this name in another VPC is not this one.
        return bool(found.properties["vpc_id"] == properties["vpc_id"])

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        wanted = self._checked(properties, "updating")
        group_id = current.outputs["group_id"]
        for direction in ("ingress", "egress"):
            if direction in wanted:
                self._apply(group_id, direction, wanted[direction], current.properties[direction])
        return dict(current.outputs)

    def _checked(self, properties: Mapping[str, Any], action: str) -> dict[str, Any]:
        """The canonical spec, once its rules are known to be safe to open."""
        wanted = self.canonical_properties(properties)
        try:
            validate_rules(wanted.get("ingress", []))
        except InsecureRuleError as exc:
            what = self.what(properties["name"])
            raise ProvisioningError(action, what, str(exc), code="InsecureRule") from exc
        return wanted

    def _apply(
        self,
        group_id: str,
        direction: str,
        wanted: list[dict[str, Any]],
        have: list[dict[str, Any]],
    ) -> None:
        want_keys = {rule_key(r): r for r in wanted}
        have_keys = {rule_key(r): r for r in have}
        remove_keys = have_keys.keys() - want_keys.keys()
        add_keys = want_keys.keys() - have_keys.keys()
        remove = [_permission(have_keys[k], group_id) for k in remove_keys]
        add = [_permission(want_keys[k], group_id) for k in add_keys]
        ec2 = self.ec2
        if direction == "ingress":
            revoke, authorize = (
                ec2.revoke_security_group_ingress,
                ec2.authorize_security_group_ingress,
            )
        else:
            revoke, authorize = (
                ec2.revoke_security_group_egress,
                ec2.authorize_security_group_egress,
            )
        # Revoke first: a description change is a revoke and re-authorize of the same source.
        if remove:
            unless_already(
                lambda: revoke(GroupId=group_id, IpPermissions=remove),
                "InvalidPermission.NotFound",
                lambda: not remove_keys & self._live_rules(group_id, direction),
            )
        if add:
            unless_already(
                lambda: authorize(GroupId=group_id, IpPermissions=add),
                "InvalidPermission.Duplicate",
                lambda: add_keys <= self._live_rules(group_id, direction),
            )

    def _live_rules(self, group_id: str, direction: str) -> set[str]:
        group = self.ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
        return {rule_key(r) for r in self._current(group).properties[direction]}

    def destroy(self, recorded: RecordedResource) -> None:
        with aws_errors("deleting", self.what(name_of(recorded, None))):
            if self._find("", recorded) is None:
                return
            self.while_in_use(lambda: self.ec2.delete_security_group(GroupId=recorded.physical_id))


PROVISIONERS: tuple[type[Provisioner], ...] = (SecurityGroupProvisioner,)
