"""Security group rules as data: the HTTPS rule agents need, and groups shared where rules are the same."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from provisioning.model.naming import short_hash
from provisioning.model.spec import to_jsonable

_PROTOCOLS = {"tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp", "icmp": "icmp", "1": "icmp"}


_ALL = {"-1", "all", "any", "*"}
INTERNET = ("0.0.0.0/0", "::/0")
"""Every address, IPv4 and IPv6: a rule with one of these reaches (or admits) the internet."""


def normalise_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """One canonical spelling: lower-case protocol name, int ports, canonical CIDR."""
    raw = str(rule.get("protocol", "tcp")).strip().lower()
    protocol = "-1" if raw in _ALL else _PROTOCOLS.get(raw, raw)
    result: dict[str, Any] = {"protocol": protocol}
    if protocol != "-1":
        start = rule.get("from_port", rule.get("port"))
        end = rule.get("to_port", rule.get("port", start))
        if start is None:
            raise ValueError(f"rule {dict(rule)} needs a port or a port range")
        result["from_port"], result["to_port"] = int(start), int(end)
    result.update(_source(rule))
    if rule.get("description"):
        result["description"] = str(rule["description"])
    return result


def _source(rule: Mapping[str, Any]) -> dict[str, Any]:
    cidr = rule.get("cidr") or rule.get("cidr_ipv4") or rule.get("cidr_ipv6")
    group = rule.get("source_group_id") or rule.get("source_security_group_id")
    found = [s for s in (cidr, group, rule.get("prefix_list_id")) if s]
    if len(found) != 1:
        raise ValueError(
            f"rule {dict(rule)} needs exactly one source (a CIDR, group or prefix list)"
        )
    if cidr:
        network = ipaddress.ip_network(str(cidr).strip(), strict=False)
        key = "cidr_ipv4" if network.version == 4 else "cidr_ipv6"
        return {key: str(network)}
    if group:
        return {"source_group_id": group}
    return {"prefix_list_id": rule["prefix_list_id"]}


def internet_source(rule: Mapping[str, Any]) -> str | None:
    """The whole-internet CIDR a normalised rule opens, or None for a narrower source."""
    source = rule.get("cidr_ipv4") or rule.get("cidr_ipv6")
    return source if source in INTERNET else None


def rule_key(rule: Mapping[str, Any]) -> str:
    """A rule as text that two equal rules share, whatever their key order."""
    return json.dumps(to_jsonable(rule), sort_keys=True)


def normalise_rules(rules: Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Canonical, de-duplicated and sorted: two spellings of one rule set compare equal."""
    unique = {rule_key(r): r for r in (normalise_rule(rule) for rule in rules or [])}
    return [unique[key] for key in sorted(unique)]


def build_rule_from_port_range(
    from_port: int,
    to_port: int,
    *,
    cidr: str | None = None,
    source_group_id: Any = None,
    prefix_list_id: str | None = None,
    protocol: str = "tcp",
    description: str = "",
) -> dict[str, Any]:
    if not 0 <= from_port <= to_port <= 65535:
        raise ValueError(f"invalid port range {from_port}-{to_port}")
    return normalise_rule(
        {
            "protocol": protocol,
            "from_port": from_port,
            "to_port": to_port,
            "cidr": cidr,
            "source_group_id": source_group_id,
            "prefix_list_id": prefix_list_id,
            "description": description,
        }
    )


def build_rule_from_port(port: int, **source: Any) -> dict[str, Any]:
    return build_rule_from_port_range(port, port, **source)


def build_https_rule(**source: Any) -> dict[str, Any]:
    return build_rule_from_port(443, **{"description": "HTTPS", **source})


@dataclass(frozen=True)
class SharedGroup:
    key: str
    """Deterministic for the requirements: "sg-<hash>", usable in a logical id."""
    members: tuple[str, ...]
    vpc_id: Any
    ingress: tuple[dict[str, Any], ...]
    egress: tuple[dict[str, Any], ...]


def consolidate_security_groups(requirements: Mapping[str, Mapping[str, Any]]) -> list[SharedGroup]:
    """Group resources whose {"vpc_id", "ingress", "egress"} are the same once normalised."""
    groups: dict[str, dict[str, Any]] = {}
    for member in sorted(requirements):
        need = requirements[member]
        ingress, egress = normalise_rules(need.get("ingress")), normalise_rules(need.get("egress"))
        identity = rule_key({"vpc_id": need.get("vpc_id"), "ingress": ingress, "egress": egress})
        entry = groups.setdefault(
            identity,
            {"vpc_id": need.get("vpc_id"), "ingress": ingress, "egress": egress, "members": []},
        )
        entry["members"].append(member)
    return [
        SharedGroup(
            key=f"sg-{short_hash(identity)}",
            members=tuple(entry["members"]),
            vpc_id=entry["vpc_id"],
            ingress=tuple(entry["ingress"]),
            egress=tuple(entry["egress"]),
        )
        for identity, entry in sorted(groups.items(), key=lambda kv: kv[1]["members"][0])
    ]
