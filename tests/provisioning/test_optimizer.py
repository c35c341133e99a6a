"""The optimizer shares roles only where that widens nothing, merges and splits policies,
adds the VPC endpoints the agents need, consolidates security groups, and says so."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest

from provisioning.graph.builder import build
from provisioning.graph.resource_graph import ResourceGraph
from provisioning.model.blueprint import Agent, Blueprint, Component, Link
from provisioning.model.naming import physical_name
from provisioning.model.policy_documents import INLINE_POLICY_LIMIT, MANAGED_POLICY_LIMIT
from provisioning.model.spec import Ref, ResourceSpec, resolve
from provisioning.optimize import policy_merging as P
from provisioning.optimize.optimizer import Optimized, optimize

NETWORK = {"enabled": True, "cidr": "10.20.0.0/16", "nat": "none"}


def blueprint(agents: list[Agent], links: list[Link], **settings: Any) -> Blueprint:
    components = {(lk.target.split(":")[0], lk.target.split(":")[1]) for lk in links}
    components |= {
        (lk.source.split(":")[0], lk.source.split(":")[1])
        for lk in links
        if not lk.source.startswith("agent:")
    }
    return Blueprint(
        project="acme",
        stage="dev",
        agents=tuple(agents),
        components=tuple(Component(k, n) for k, n in sorted(components) if k != "agent"),
        links=tuple(links),
        settings=settings,
    )


def run(bp: Blueprint) -> tuple[ResourceGraph, Optimized]:
    graph = build(bp)
    return graph, optimize(graph, bp)


def needed(graph: ResourceGraph, agent: str) -> frozenset[P.Atom]:
    """What the graph asked for on the agent's own role, before any optimizing."""
    role = graph.specs[f"agent/{agent}/role"]
    return P.grants(role.properties["inline_policies"].values())[0]


def effective(result: Optimized, agent: str) -> frozenset[P.Atom]:
    """What the agent's function can do once optimized: the grants of the role it runs as."""
    role_ref = result.graph.specs[f"agent/{agent}/function"].properties["role_arn"]
    assert isinstance(role_ref, Ref)
    role = result.graph.specs[role_ref.logical_id]
    return P.grants(role.properties["inline_policies"].values())[0]


def roles(result: Optimized) -> dict[str, ResourceSpec]:
    return {k: s for k, s in result.graph.specs.items() if s.resource_type == "iam:role"}


def same_links(*agents: str) -> list[Link]:
    return [Link(f"agent:{a}", "bucket:docs", "read") for a in agents]


# --- roles --------------------------------------------------------------------------------
def own_logs(graph: ResourceGraph, agent: str) -> frozenset[P.Atom]:
    return frozenset(a for a in needed(graph, agent) if a[0].startswith("logs:"))


def log_statements(result: Optimized, role_id: str) -> list[dict[str, Any]]:
    document = result.graph.specs[role_id].properties["inline_policies"]["agent"]
    return [s for s in document["Statement"] if any(a.startswith("logs:") for a in s["Action"])]


def test_by_default_agents_alike_but_for_their_logs_share_one_role_and_gain_nothing() -> None:
    # Given two agents with the same links, and a third with an extra grant
    third = Agent(
        "c", extra_statements=({"actions": ["s3:GetObjectTagging"], "resources": ["bucket:docs"]},)
    )
    bp = blueprint([Agent("a"), Agent("b"), third], same_links("a", "b", "c"))

    graph, result = run(bp)

    # Then a and b run as one role, c keeps its own
    (shared,) = [k for k in roles(result) if k.startswith("shared/role/")]
    assert set(roles(result)) == {shared, "agent/c/role"}
    for agent in ("a", "b"):
        assert result.graph.specs[f"agent/{agent}/function"].properties["role_arn"] == Ref(
            shared, "arn"
        )
        # everything but logs as before, without the other's grants
        assert effective(result, agent) == needed(graph, agent) - own_logs(graph, agent)
    assert effective(result, "c") == needed(graph, "c")
    # And the shared role's logs grant lists exactly their two groups, each only for the
    # calls Lambda makes for that group's own function
    outputs = {"@aws": {"account_id": "123456789012", "region": "us-east-1", "partition": "aws"}}
    written = resolve(log_statements(result, shared), outputs)
    assert len(written) == 2
    for agent, statement in zip(("a", "b"), written, strict=True):
        name = physical_name("acme", "dev", agent, kind="lambda")
        group = f"arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/{name}"
        assert statement["Resource"] == [f"{group}:log-stream:*"]
        function = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        assert statement["Condition"] == {"ArnEquals": {"lambda:SourceFunctionArn": function}}
    assert not [s for s in written if "*" in json.dumps(s["Resource"]).replace(":log-stream:*", "")]
    role_name = roles(result)[shared].properties["name"]
    assert re.fullmatch(r"acme-dev-exec-[0-9a-f]{4}-[0-9a-f]{8}", role_name)
    assert (
        f"2 agents share role {role_name}: identical permissions apart from their own log "
        "groups (a, b); each still writes only its own logs"
    ) in result.decisions


def test_same_grants_mode_shares_roles_that_differ_only_in_their_own_log_group() -> None:
    # Given two agents alike but for their names, and a third with another model
    agents = [Agent("a"), Agent("b"), Agent("c", model_id="anthropic.claude-3-haiku")]
    bp = blueprint(agents, same_links("a", "b", "c"), shared_role="same_grants")

    graph, result = run(bp)

    # Then a and b share; each keeps everything it needs and gains only the other's logs
    shared = [k for k in roles(result) if k.startswith("shared/role/")]
    assert len(shared) == 1 and "agent/c/role" in roles(result)
    for agent, other in (("a", "b"), ("b", "a")):
        gained = effective(result, agent) - needed(graph, agent)
        assert needed(graph, agent) <= effective(result, agent)
        assert gained and gained <= needed(graph, other)
        assert all(action.startswith("logs:") for action, _ in gained)
    assert effective(result, "c") == needed(graph, "c")
    assert any("can write the others' logs" in d for d in result.decisions)


def test_one_role_for_all_agents_is_opt_in_and_warns_that_it_widens() -> None:
    bp = blueprint(
        [Agent("a"), Agent("b"), Agent("c", model_id="anthropic.claude-3-haiku")],
        [Link("agent:a", "bucket:docs", "read"), Link("agent:b", "table:notes")],
        shared_role="all",
    )

    graph, result = run(bp)

    assert list(roles(result)) == [next(k for k in roles(result) if k.startswith("shared/"))]
    union = frozenset().union(*(needed(graph, a) for a in "abc"))
    for agent in "abc":
        assert effective(result, agent) == union
    (warning,) = [d for d in result.decisions if "share role" in d]
    assert warning.startswith("WARNING: 3 agents share role acme-dev-exec-")
    assert "widens permissions" in warning


def test_everything_that_named_a_member_role_names_the_shared_role() -> None:
    # Given a queue triggering both agents: its mappings wait for the role's permissions
    bp = blueprint(
        [Agent("a"), Agent("b")],
        [Link("queue:jobs", "agent:a"), Link("queue:jobs", "agent:b")],
        shared_role="same_grants",
    )
    bp = replace(bp, components=(Component("queue", "jobs", {"visibility_timeout_s": 900}),))

    _, result = run(bp)

    (shared,) = [k for k in roles(result) if k.startswith("shared/role/")]
    for agent in ("a", "b"):
        function = result.graph.specs[f"agent/{agent}/function"]
        assert function.properties["role_arn"] == Ref(shared, "arn")
        assert shared in result.graph.specs[f"queue/jobs/trigger/{agent}"].dependencies()
    dangling = {
        (lid, dep)
        for lid, spec in result.graph.specs.items()
        for dep in spec.dependencies()
        if dep != "@aws" and dep not in result.graph.specs
    }
    assert dangling == set()
    result.graph.order()  # still a DAG


def test_the_shared_role_name_is_the_same_on_every_run() -> None:
    bp = blueprint([Agent("a"), Agent("b")], same_links("a", "b"), shared_role="same_grants")

    first, second = run(bp)[1], run(bp)[1]

    assert roles(first).keys() == roles(second).keys()
    assert [r.properties["name"] for r in roles(first).values()] == [
        r.properties["name"] for r in roles(second).values()
    ]


def test_no_sharing_when_asked_for_none() -> None:
    bp = blueprint([Agent("a"), Agent("b")], same_links("a", "b"), shared_role="none")

    _, result = run(bp)

    assert set(roles(result)) == {"agent/a/role", "agent/b/role"}


# --- policies -----------------------------------------------------------------------------
def test_duplicate_statements_merge_and_resources_group_under_one_action_set() -> None:
    # Given an agent reading two buckets: two object statements with the same actions
    links = [Link("agent:a", "bucket:one", "read"), Link("agent:a", "bucket:two", "read")]
    graph, result = run(blueprint([Agent("a")], links))

    policy = result.graph.specs["agent/a/role"].properties["inline_policies"]["agent"]
    object_reads = [s for s in policy["Statement"] if s["Action"] == ["s3:GetObject"]]
    assert len(object_reads) == 1 and len(object_reads[0]["Resource"]) == 2
    assert effective(result, "a") == needed(graph, "a")


def many_tables(count: int) -> list[Link]:
    tables = [f"notes-with-a-rather-long-table-name-{i:03d}" for i in range(count)]
    return [Link("agent:a", f"table:{t}") for t in tables]


def test_a_role_over_iams_inline_limit_keeps_the_rest_in_managed_policies() -> None:
    # Given an agent linked to 80 tables with long names: far over 10,240 characters
    graph, result = run(blueprint([Agent("a")], many_tables(80)))
    role = result.graph.specs["agent/a/role"]
    inline = role.properties["inline_policies"]
    arns = role.properties["managed_policy_arns"]
    managed = [result.graph.specs[ref.logical_id] for ref in arns]

    # Then the role still grants exactly what it needs, across inline and managed policies
    assert managed and all(p.resource_type == "iam:policy" for p in managed)
    documents = [*inline.values(), *(p.properties["document"] for p in managed)]
    assert P.grants(documents)[0] == needed(graph, "a")
    # and every document fits its IAM limit once the ARNs are real
    outputs = real_arns(result.graph, "us-east-1")
    assert size_of(inline["agent"], outputs) <= INLINE_POLICY_LIMIT
    for policy in managed:
        assert size_of(policy.properties["document"], outputs) <= MANAGED_POLICY_LIMIT
    # (80 links also overflow Lambda's 4 KB environment: the plan says so on its own)
    assert [field for _, field, _ in result.graph.problems] == ["environment"]
    assert any("managed polic" in d and "10240" in d for d in result.decisions)
    result.graph.order()


def size_of(document: Any, outputs: dict[str, dict[str, Any]]) -> int:
    return len(json.dumps(resolve(document, outputs), separators=(",", ":")))


def test_a_role_too_large_even_for_managed_policies_is_a_problem_before_any_call() -> None:
    graph, result = run(blueprint([Agent("a")], many_tables(700)))

    problems = [p for p in result.graph.problems if p[0] == "agent:a" and p[1] == "links"]
    assert problems and "10240" in problems[0][2]
    assert not [p for p in graph.problems if p[0] == "agent:a" and p[1] == "links"]


def test_a_role_near_the_limit_passes_and_its_size_was_not_underestimated() -> None:
    # Given an agent just under the limit once the ARNs are real
    bp = replace(blueprint([Agent("a")], many_tables(34)), region="us-gov-west-1")
    _, result = run(bp)
    assert not result.graph.problems
    policy = result.graph.specs["agent/a/role"].properties["inline_policies"]["agent"]

    outputs = real_arns(result.graph, bp.region)
    real = len(json.dumps(resolve(policy, outputs), separators=(",", ":")))
    lengths = P.Lengths(
        {k: (s.resource_type, s.properties.get("name", "")) for k, s in result.graph.specs.items()},
        bp.region,
    )

    assert 8000 < real <= P.size(policy, lengths) <= INLINE_POLICY_LIMIT
    assert P.size(policy, lengths) - real < 200


def real_arns(graph: ResourceGraph, region: str) -> dict[str, dict[str, Any]]:
    partition, account = P.partition_of(region), "123456789012"
    outputs: dict[str, dict[str, Any]] = {
        "@aws": {"partition": partition, "region": region, "account_id": account}
    }
    for lid, spec in graph.specs.items():
        name = str(spec.properties.get("name", lid))
        if spec.resource_type == "dynamodb:table":
            arn = f"arn:{partition}:dynamodb:{region}:{account}:table/{name}"
        else:
            arn = f"arn:{partition}:{spec.resource_type.split(':')[0]}:::{name}"
        outputs[lid] = {"arn": arn, "name": name}
    return outputs


def test_a_small_policy_is_left_as_the_graph_wrote_it() -> None:
    graph, result = run(blueprint([Agent("a")], same_links("a")))

    assert (
        result.graph.specs["agent/a/role"].properties["inline_policies"]
        == graph.specs["agent/a/role"].properties["inline_policies"]
    )


def test_policy_size_counts_unresolved_arns_at_their_longest() -> None:
    lengths = P.Lengths({"table/t": ("dynamodb:table", "t" * 200)})
    short = {"Statement": [{"Effect": "Allow", "Action": ["a:B"], "Resource": ["x"]}]}
    arn = Ref("table/t", "arn")
    long = {"Statement": [{"Effect": "Allow", "Action": ["a:B"], "Resource": [arn]}]}
    unknown = {"Statement": [{"Effect": "Allow", "Action": ["a:B"], "Resource": [Ref("x", "y")]}]}

    longest = "arn:aws-us-gov:dynamodb:ap-southeast-5:123456789012:table/" + "t" * 200
    assert P.size(long, lengths) - P.size(short, lengths) >= len(longest) - 1
    assert P.size_bound(long, lengths) >= P.size(long, lengths)
    assert P.size(unknown, lengths) > 2048


# --- network ------------------------------------------------------------------------------
def endpoints(result: Optimized) -> dict[str, str]:
    return {
        s.properties["service"]: s.properties["endpoint_type"]
        for s in result.graph.specs.values()
        if s.resource_type == "ec2:vpc-endpoint"
    }


def test_agents_in_a_vpc_get_one_endpoint_per_service_they_call() -> None:
    links = [
        Link("agent:a", "bucket:docs", "read"),
        Link("agent:b", "table:notes"),
        Link("agent:b", "queue:out"),
        Link("agent:a", "topic:news"),
    ]
    bp = blueprint([Agent("a"), Agent("b")], links, network={**NETWORK, "endpoints": []})

    _, result = run(bp)

    assert endpoints(result) == {
        "bedrock-runtime": "Interface",
        "s3": "Gateway",
        "dynamodb": "Gateway",
        "sqs": "Interface",
        "sns": "Interface",
    }
    assert "network/sg/endpoints" in result.graph.specs
    assert (
        "VPC endpoint s3 added to network/vpc (gateway, free): agents use buckets"
        in result.decisions
    )
    result.graph.order()


def test_a_trigger_queue_needs_no_endpoint_and_listed_endpoints_are_not_doubled() -> None:
    bp = blueprint(
        [Agent("a")],
        [Link("queue:jobs", "agent:a")],
        network={**NETWORK, "endpoints": ["bedrock-runtime"]},
    )
    bp = replace(bp, components=(Component("queue", "jobs", {"visibility_timeout_s": 900}),))

    _, result = run(bp)

    assert endpoints(result) == {"bedrock-runtime": "Interface"}
    assert not [d for d in result.decisions if d.startswith("VPC endpoint")]


def test_without_a_vpc_no_endpoint_is_added() -> None:
    _, result = run(blueprint([Agent("a")], same_links("a")))

    assert endpoints(result) == {}


def test_agents_in_a_vpc_share_one_security_group_and_the_plan_says_so() -> None:
    bp = blueprint([Agent("a"), Agent("b"), Agent("c")], [], network=NETWORK)

    _, result = run(bp)

    groups = [s for s in result.graph.specs.values() if s.resource_type == "ec2:security-group"]
    assert len(groups) == 2  # the agents' group and the interface endpoints' group
    assert (
        f"3 agents share security group {physical_name('acme', 'dev', 'sg', 'agents', kind='ec2')}: "
        "identical requirements "
        "(no ingress, HTTPS out)" in result.decisions
    )


def test_security_groups_with_identical_rules_become_one() -> None:
    bp = blueprint([Agent("a")], [], network=NETWORK)
    graph = build(bp)
    agents_sg = graph.specs["network/sg/agents"]
    twin = replace(
        agents_sg,
        logical_id="network/sg/twin",
        properties={**agents_sg.properties, "name": "acme-dev-sg-twin"},
    )
    function = graph.specs["agent/a/function"]
    vpc = {**function.properties["vpc"], "security_group_ids": [Ref("network/sg/twin", "group_id")]}
    specs = {
        **graph.specs,
        twin.logical_id: twin,
        "agent/a/function": replace(function, properties={**function.properties, "vpc": vpc}),
    }

    result = optimize(replace(graph, specs=specs), bp)

    assert "network/sg/twin" not in result.graph.specs
    sg_ids = result.graph.specs["agent/a/function"].properties["vpc"]["security_group_ids"]
    assert sg_ids == [Ref("network/sg/agents", "group_id")]
    assert any(
        d.startswith(f"2 security groups share {agents_sg.properties['name']}: identical rules")
        for d in result.decisions
    )


def test_an_unknown_sharing_mode_is_a_problem_not_a_guess() -> None:
    _, result = run(blueprint([Agent("a")], [], shared_role="everything"))

    assert [p[:2] for p in result.graph.problems] == [("stage", "shared_role")]


@pytest.mark.parametrize("mode", ["identical", "same_grants", "all", "none"])
def test_every_decision_is_one_plain_sentence(mode: str) -> None:
    bp = blueprint(
        [Agent("a"), Agent("b")], same_links("a", "b"), shared_role=mode, network=NETWORK
    )

    _, result = run(bp)

    assert result.decisions
    for decision in result.decisions:
        assert "\n" not in decision and "${" not in decision and len(decision) < 300
