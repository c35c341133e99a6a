"""Security groups: rule helpers, validation, normalisation, consolidation and the lifecycle."""

from __future__ import annotations

import pytest

from provisioning.errors import ProvisioningError
from provisioning.model.security_rules import (
    build_https_rule,
    build_rule_from_port,
    build_rule_from_port_range,
    consolidate_security_groups,
    normalise_rules,
)
from provisioning.model.spec import Ref
from provisioning.provisioners.base import Action
from provisioning.provisioners.security_group import (
    InsecureRuleError,
    SecurityGroupProvisioner,
    build_http_rule,
    build_internal_rule,
    validate_rules,
)
from provisioning.provisioners.vpc import VpcProvisioner
from tests.provisioning.ec2_helpers import apply, changed_names, lifecycle, plan, refuse


@pytest.fixture
def vpc_id(aws):
    props = {
        "name": "acme-dev-vpc",
        "cidr_block": "10.20.0.0/16",
        "enable_dns_hostnames": True,
        "enable_dns_support": True,
    }
    return apply(VpcProvisioner(aws), "network/vpc", props).physical_id


def _group(vpc_id, **extra):
    return {
        "name": "acme-dev-sg-agents",
        "description": "agents",
        "vpc_id": vpc_id,
        "ingress": [build_https_rule(cidr="10.20.0.0/16")],
        "egress": [build_https_rule(cidr="0.0.0.0/0")],
        **extra,
    }


def test_rule_builders_give_one_canonical_shape():
    assert build_rule_from_port(5432, source_group_id="sg-1") == {
        "protocol": "tcp",
        "from_port": 5432,
        "to_port": 5432,
        "source_group_id": "sg-1",
    }
    assert build_rule_from_port_range(8000, 8080, cidr="10.0.0.7/8", protocol="UDP") == {
        "protocol": "udp",
        "from_port": 8000,
        "to_port": 8080,
        "cidr_ipv4": "10.0.0.0/8",
    }
    assert build_https_rule(cidr="::/0")["cidr_ipv6"] == "::/0"
    assert build_http_rule(prefix_list_id="pl-1")["from_port"] == 80
    assert build_internal_rule(source_group_id="self") == {
        "protocol": "-1",
        "source_group_id": "self",
        "description": "internal",
    }


def test_rule_builders_refuse_nonsense():
    with pytest.raises(ValueError, match="port range"):
        build_rule_from_port_range(443, 80, cidr="10.0.0.0/8")
    with pytest.raises(ValueError, match="exactly one source"):
        build_rule_from_port(443)
    with pytest.raises(ValueError, match="private source"):
        build_internal_rule(cidr="0.0.0.0/0")


def test_order_and_spelling_of_rules_never_matter():
    one = [
        {"protocol": "TCP", "port": "443", "cidr": "10.20.0.5/16"},
        {"protocol": "all", "source_group_id": "self"},
        {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_ipv4": "10.20.0.0/16"},
    ]
    other = [
        {"protocol": "-1", "source_security_group_id": "self"},
        {"protocol": "6", "from_port": 443, "to_port": 443, "cidr_ipv4": "10.20.0.0/16"},
    ]
    assert normalise_rules(one) == normalise_rules(other)
    assert len(normalise_rules(one)) == 2


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        (build_rule_from_port(22, cidr="0.0.0.0/0"), "SSH port 22/tcp is open to 0.0.0.0/0"),
        (build_rule_from_port(3389, cidr="::/0"), "RDP port 3389/tcp is open to ::/0"),
        (build_rule_from_port_range(5000, 6000, cidr="0.0.0.0/0"), "PostgreSQL port 5432"),
        ({"protocol": "-1", "cidr": "0.0.0.0/0"}, "all traffic is open to 0.0.0.0/0"),
    ],
)
def test_internet_wide_ingress_on_sensitive_ports_is_refused_with_a_clear_error(rule, words):
    with pytest.raises(InsecureRuleError, match=words):
        validate_rules([rule])


def test_narrow_or_harmless_rules_pass_validation():
    validate_rules(
        [
            build_https_rule(cidr="0.0.0.0/0"),
            build_rule_from_port(22, cidr="10.0.0.0/8"),
            build_rule_from_port(5432, source_group_id="sg-123"),
        ]
    )


def test_consolidation_shares_one_group_between_identical_requirements():
    vpc = Ref("network/vpc", "vpc_id")
    https = [build_https_rule(cidr="0.0.0.0/0")]
    groups = consolidate_security_groups(
        {
            "agent/support": {"vpc_id": vpc, "ingress": [], "egress": https},
            "agent/billing": {
                "vpc_id": vpc,
                "egress": [
                    {"protocol": "TCP", "port": 443, "cidr": "0.0.0.0/0", "description": "HTTPS"}
                ],
            },
            "agent/db-admin": {
                "vpc_id": vpc,
                "egress": [build_rule_from_port(5432, cidr="10.0.0.0/8")],
            },
        }
    )
    assert [g.members for g in groups] == [("agent/billing", "agent/support"), ("agent/db-admin",)]
    assert groups[0].key != groups[1].key
    again = consolidate_security_groups({"x": {"vpc_id": vpc, "egress": https}})
    assert again[0].key == groups[0].key  # stable: usable in logical ids


def test_security_group_lifecycle(aws, vpc_id):
    ec2 = aws.client("ec2")

    def opened_by_hand(record):
        ec2.authorize_security_group_ingress(
            GroupId=record.physical_id,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 8080,
                    "ToPort": 8080,
                    "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
                }
            ],
        )

    mutated_ingress = [
        build_https_rule(cidr="10.20.0.0/16"),
        build_internal_rule(source_group_id="self"),
    ]
    lifecycle(
        SecurityGroupProvisioner(aws),
        "network/sg/agents",
        _group(vpc_id),
        mutate={"ingress": mutated_ingress},
        drift=opened_by_hand,
        drifted="ingress",
    )


def test_rules_spelled_differently_plan_no_change(aws, vpc_id):
    p = SecurityGroupProvisioner(aws)
    record = apply(p, "network/sg/agents", _group(vpc_id))
    respelled = _group(
        vpc_id,
        ingress=[{"protocol": "6", "port": "443", "cidr": "10.20.1.1/16", "description": "HTTPS"}],
        egress=[
            {
                "protocol": "TCP",
                "from_port": 443,
                "to_port": 443,
                "cidr_ipv4": "0.0.0.0/0",
                "description": "HTTPS",
            }
        ],
    )
    assert plan(p, "network/sg/agents", respelled, record).action == Action.NO_CHANGE


def test_empty_egress_removes_the_default_allow_all(aws, vpc_id):
    p = SecurityGroupProvisioner(aws)
    record = apply(
        p, "network/sg/endpoints", _group(vpc_id, name="acme-dev-sg-endpoints", egress=[])
    )
    group = aws.client("ec2").describe_security_groups(GroupIds=[record.physical_id])
    assert group["SecurityGroups"][0]["IpPermissionsEgress"] == []


def test_rule_referencing_another_group(aws, vpc_id):
    p = SecurityGroupProvisioner(aws)
    agents = apply(p, "network/sg/agents", _group(vpc_id))
    endpoints_props = _group(
        vpc_id,
        name="acme-dev-sg-endpoints",
        ingress=[build_https_rule(source_group_id=agents.outputs["group_id"])],
    )
    endpoints = apply(p, "network/sg/endpoints", endpoints_props)
    assert plan(p, "network/sg/endpoints", endpoints_props, endpoints).action == Action.NO_CHANGE
    perms = aws.client("ec2").describe_security_groups(GroupIds=[endpoints.physical_id])
    pairs = perms["SecurityGroups"][0]["IpPermissions"][0]["UserIdGroupPairs"]
    assert [pair["GroupId"] for pair in pairs] == [agents.physical_id]


def test_insecure_ingress_is_refused_before_anything_is_created(aws, vpc_id):
    props = _group(vpc_id, ingress=[build_rule_from_port(22, cidr="0.0.0.0/0")])
    with pytest.raises(ProvisioningError, match="creating security group acme-dev-sg-agents: SSH"):
        SecurityGroupProvisioner(aws).provision("network/sg/agents", props, None)
    assert SecurityGroupProvisioner(aws).get_current_state(props, None) is None


def test_name_change_is_a_replacement_and_create_adopts(aws, vpc_id):
    p = SecurityGroupProvisioner(aws)
    first = p.provision("network/sg/agents", _group(vpc_id), None)
    assert p.provision("network/sg/agents", _group(vpc_id), None)["group_id"] == first["group_id"]
    record = apply(p, "network/sg/agents", _group(vpc_id))
    change = plan(p, "network/sg/agents", _group(vpc_id, name="acme-dev-sg-other"), record)
    assert change.action == Action.REPLACE and changed_names(change) == {"name"}


def test_delete_is_retried_while_lambda_enis_hold_the_group(aws, vpc_id):
    p = SecurityGroupProvisioner(aws)
    record = apply(p, "network/sg/agents", _group(vpc_id))
    calls = refuse(aws, "DeleteSecurityGroup", "DependencyViolation", times=3)
    p.destroy(record)
    assert calls[0] == 4
    assert p.get_current_state(None, record) is None
