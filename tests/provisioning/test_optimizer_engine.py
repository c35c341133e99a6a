"""The optimizer through the whole engine on moto: a shared role deploys and destroys
cleanly, and a deploy with nothing to change writes nothing and reads each resource once
(or the documented least its AWS API allows)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from provisioning import engine
from provisioning.aws import AwsContext, Target
from provisioning.events import ListSink
from provisioning.model.blueprint import Agent, Blueprint, Component, Link
from provisioning.model.naming import physical_name
from provisioning.state import MemoryStateStore
from tests.provisioning.policy_eval import allows, function_role, role_documents
from tests.support.faultproxy import is_read

TWINS = Blueprint(
    project="acme",
    stage="dev",
    agents=(Agent("support"), Agent("sales")),
    components=(Component("bucket", "docs"), Component("http_api", "public")),
    links=(
        Link("agent:support", "bucket:docs", "read"),
        Link("agent:sales", "bucket:docs", "read"),
        Link("http_api:public", "agent:support"),
        Link("http_api:public", "agent:sales"),
    ),
    settings={"shared_role": "same_grants"},
)

TWINS_NAMES = ("support", "sales")
LOG_GROUPS = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/"

EVERYTHING = Blueprint(
    project="acme",
    stage="dev",
    agents=(Agent("support", timeout_s=60), Agent("triage", timeout_s=30)),
    components=(
        Component("http_api", "public"),
        Component("bucket", "docs"),
        Component("table", "notes"),
        Component("queue", "jobs", {"visibility_timeout_s": 360}),
        Component("topic", "news"),
    ),
    links=(
        Link("http_api:public", "agent:support"),
        Link("http_api:public", "agent:triage"),
        Link("agent:support", "bucket:docs", "read"),
        Link("agent:support", "table:notes"),
        Link("queue:jobs", "agent:triage"),
        Link("agent:triage", "topic:news"),
        Link("topic:news", "queue:jobs"),
    ),
)

TEAM = Blueprint(
    project="acme",
    stage="dev",
    agents=tuple(Agent(name) for name in ("support", "sales", "triage", "billing", "legal")),
    components=(Component("http_api", "public"), Component("bucket", "docs")),
    links=(
        *(Link("http_api:public", f"agent:{a}") for a in ("support", "sales", "triage")),
        *(Link(f"agent:{a}", "bucket:docs", "read") for a in ("support", "billing", "legal")),
    ),
    settings={"shared_role": "none"},  # five roles: what these tests read is many roles
)

# The least number of read calls that tell whether a resource matches its spec, per type,
# when the state records it (see "No-op deploys" in README.md). Everything else: one.
LEAST_READS = {
    "iam:role": 4,  # GetRole, ListRolePolicies, GetRolePolicy (one inline policy), ListAttached...
    # (fewer than 3 recorded roles: from 3 on, one account listing answers for them all)
    "s3:bucket": 3,  # versioning (also answers "no such bucket"), encryption, public access block
    "dynamodb:table": 2,  # DescribeTable, DescribeContinuousBackups (point-in-time recovery)
    "ec2:vpc": 3,  # DescribeVpcs, DescribeVpcAttribute x2 (one attribute per call)
}


class CallCounter:
    """Counts every API call each client makes (botocore's before-call event)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def reads(self) -> Counter[str]:
        return Counter({k: n for k, n in self.calls.items() if is_read(k)})

    def writes(self) -> Counter[str]:
        return Counter({k: n for k, n in self.calls.items() if not is_read(k)})


@pytest.fixture
def counted() -> Iterator[tuple[AwsContext, CallCounter]]:
    counter = CallCounter()
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        session.events.register("before-call", counter)
        aws = AwsContext(
            target=Target(region="us-east-1"),
            project="acme",
            stage="dev",
            session=session,
            sleep=lambda _s: None,
        )
        yield aws, counter


def agent_name(agent: str) -> str:
    """An agent's function and role name (the same for both)."""
    return physical_name("acme", "dev", agent, kind="lambda")


def roles(aws: AwsContext) -> list[str]:
    return [
        r["RoleName"]
        for r in aws.client("iam").list_roles()["Roles"]
        if r["RoleName"].startswith("acme-dev")
    ]


def test_two_identical_agents_deploy_with_one_role_and_destroy_cleanly(
    counted: tuple[AwsContext, CallCounter],
) -> None:
    aws, _ = counted
    store = MemoryStateStore()

    result = engine.deploy(TWINS, store, ListSink(), aws)

    assert result.status == "SUCCEEDED", result.error
    (role,) = roles(aws)
    assert role.startswith("acme-dev-exec-")
    lam = aws.client("lambda")
    for name in (agent_name("support"), agent_name("sales")):
        assert lam.get_function(FunctionName=name)["Configuration"]["Role"].endswith(f"/{role}")
    assert any(f"share role {role}" in d for d in result.plan["decisions"])
    assert engine.plan(TWINS, store, aws).has_changes is False

    destroyed = engine.destroy(store, ListSink(), aws)

    assert destroyed.status == "SUCCEEDED", destroyed.error
    assert roles(aws) == [] and store.load() == {}
    assert lam.list_functions()["Functions"] == []


def test_a_deploy_with_nothing_to_change_writes_nothing_and_reads_each_resource_once(
    counted: tuple[AwsContext, CallCounter],
) -> None:
    aws, counter = counted
    store = MemoryStateStore()
    assert engine.deploy(EVERYTHING, store, ListSink(), aws).status == "SUCCEEDED"
    aws.account_id  # noqa: B018 - the one STS call is cached; keep it out of the count
    counter.calls.clear()

    result = engine.deploy(EVERYTHING, store, ListSink(), aws)

    assert result.status == "SUCCEEDED", result.error
    assert counter.writes() == Counter()
    records = store.load().values()
    allowed = sum(LEAST_READS.get(r.resource_type, 1) for r in records)
    assert sum(counter.reads().values()) <= allowed, (len(records), counter.reads())
    by_type = Counter(r.resource_type for r in records)
    reads = counter.reads()
    assert reads["lambda:GetFunction"] == by_type["lambda:function"]
    assert reads["s3:HeadBucket"] == 0
    assert reads["apigatewayv2:GetApi"] == 1  # the API itself; its stage reuses the record


def test_a_role_over_the_inline_limit_deploys_with_managed_policies_and_destroys_cleanly(
    counted: tuple[AwsContext, CallCounter],
) -> None:
    aws, _ = counted
    # 80 tables: two ARNs each (table, indexes) pass IAM's inline limit, while their link
    # variables (TABLE_T00=acme-dev-t00, ...) stay within Lambda's 4 KB environment
    tables = [f"t{i:02d}" for i in range(80)]
    big = Blueprint(
        project="acme",
        stage="dev",
        agents=(Agent("support"),),
        components=tuple(Component("table", t) for t in tables),
        links=tuple(Link("agent:support", f"table:{t}") for t in tables),
    )
    store = MemoryStateStore()

    result = engine.deploy(big, store, ListSink(), aws)

    assert result.status == "SUCCEEDED", result.error
    iam = aws.client("iam")
    attached = iam.list_attached_role_policies(RoleName=agent_name("support"))["AttachedPolicies"]
    assert attached and all(
        p["PolicyName"].startswith(agent_name("support") + "-") for p in attached
    )
    assert iam.list_role_policies(RoleName=agent_name("support"))["PolicyNames"] == ["agent"]
    assert engine.plan(big, store, aws).has_changes is False

    destroyed = engine.destroy(store, ListSink(), aws)

    assert destroyed.status == "SUCCEEDED", destroyed.error
    assert roles(aws) == []
    assert iam.list_policies(Scope="Local")["Policies"] == []


def test_by_default_twins_share_one_role_and_each_writes_only_its_own_logs(
    counted: tuple[AwsContext, CallCounter],
) -> None:
    aws, _ = counted
    store = MemoryStateStore()
    twins = replace(TWINS, settings={})

    assert engine.deploy(twins, store, ListSink(), aws).status == "SUCCEEDED"

    (role,) = roles(aws)
    documents = role_documents(aws, role)
    lam = aws.client("lambda")
    arns = {a: lam.get_function(FunctionName=agent_name(a))["Configuration"] for a in TWINS_NAMES}
    for agent, other in (("support", "sales"), ("sales", "support")):
        assert function_role(aws, agent_name(agent)) == role
        writer = {"lambda:SourceFunctionArn": arns[agent]["FunctionArn"]}
        own, theirs = (f"{LOG_GROUPS}{agent_name(a)}:log-stream:x" for a in (agent, other))
        assert allows(documents, "logs:PutLogEvents", own, writer)
        assert not allows(documents, "logs:PutLogEvents", theirs, writer)
    assert engine.plan(twins, store, aws).has_changes is False
    assert engine.destroy(store, ListSink(), aws).status == "SUCCEEDED"
    assert roles(aws) == []


def test_turning_sharing_on_later_moves_the_functions_and_removes_the_old_roles(
    counted: tuple[AwsContext, CallCounter],
) -> None:
    aws, _ = counted
    store = MemoryStateStore()
    separate = Blueprint(
        project=TWINS.project,
        stage=TWINS.stage,
        agents=TWINS.agents,
        components=TWINS.components,
        links=TWINS.links,
        settings={"shared_role": "none"},
    )
    assert engine.deploy(separate, store, ListSink(), aws).status == "SUCCEEDED"
    assert sorted(roles(aws)) == sorted([agent_name("sales"), agent_name("support")])

    result = engine.deploy(TWINS, store, ListSink(), aws)

    assert result.status == "SUCCEEDED", result.error
    (role,) = roles(aws)
    assert role.startswith("acme-dev-exec-")
    config = aws.client("lambda").get_function(FunctionName=agent_name("sales"))["Configuration"]
    assert config["Role"].endswith(f"/{role}")
    assert engine.plan(TWINS, store, aws).has_changes is False


def test_a_no_op_deploy_of_a_team_lists_what_aws_lists_together_and_reads_less_than_once_each(
    counted: tuple[AwsContext, CallCounter],
) -> None:
    aws, counter = counted
    store = MemoryStateStore()
    assert engine.deploy(TEAM, store, ListSink(), aws).status == "SUCCEEDED"
    aws.account_id  # noqa: B018 - the one STS call is cached; keep it out of the count
    counter.calls.clear()

    result = engine.deploy(TEAM, store, ListSink(), aws)

    assert result.status == "SUCCEEDED", result.error
    assert result.plan["summary"] == {"NO_CHANGE": len(store.load())}
    assert counter.writes() == Counter()
    reads = counter.reads()
    # Five roles, five log groups, three routes and three integrations: one listing each.
    assert reads["iam:GetAccountAuthorizationDetails"] == 1
    assert reads["iam:GetRole"] == reads["iam:GetRolePolicy"] == 0
    assert reads["logs:DescribeLogGroups"] == 1
    assert reads["apigatewayv2:GetRoutes"] == reads["apigatewayv2:GetIntegrations"] == 1
    assert reads["lambda:GetPolicy"] == 3  # one per function behind the API
    assert sum(reads.values()) < len(store.load()), reads


def test_drift_in_a_listed_role_shows_in_the_next_plan(
    counted: tuple[AwsContext, CallCounter],
) -> None:
    aws, _ = counted
    store = MemoryStateStore()
    assert engine.deploy(TEAM, store, ListSink(), aws).status == "SUCCEEDED"
    iam = aws.client("iam")
    iam.delete_role_policy(RoleName=agent_name("legal"), PolicyName="agent")
    iam.put_role_policy(
        RoleName=agent_name("sales"),
        PolicyName="extra",
        PolicyDocument='{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
        '"Action": "s3:*", "Resource": "*"}]}',
    )

    changes = {c.logical_id: c for c in engine.plan(TEAM, store, aws).changes}

    drifted = {lid for lid, c in changes.items() if c.action.value != "NO_CHANGE"}
    assert {changes[lid].resource_type for lid in drifted} == {"iam:role"}
    assert {changes[lid].node for lid in drifted} == {"agent:legal", "agent:sales"}
    assert all([pc.name for pc in changes[lid].changes] == ["inline_policies"] for lid in drifted)


def test_a_function_aws_has_but_the_state_lost_is_planned_as_an_explained_update(
    counted: tuple[AwsContext, CallCounter],
) -> None:
    aws, _ = counted
    store = MemoryStateStore()
    assert engine.deploy(TWINS, store, ListSink(), aws).status == "SUCCEEDED"
    store.delete("agent/support/function")  # a crash between CreateFunction and the save

    change = engine.plan(TWINS, store, aws).by_id()["agent/support/function"]

    # Its code and layers cannot be read back, so it is brought in line, never made again.
    assert (change.action.value, change.adopt) == ("UPDATE", True)
    assert change.reason.startswith("found in AWS but not recorded")
    assert engine.deploy(TWINS, store, ListSink(), aws).status == "SUCCEEDED"
    assert len(aws.client("lambda").list_functions()["Functions"]) == 2


def test_a_refresh_lists_what_it_can_list_exactly_and_still_sees_each_drift(
    counted: tuple[AwsContext, CallCounter],
) -> None:
    aws, counter = counted
    store = MemoryStateStore()
    assert engine.deploy(TEAM, store, ListSink(), aws).status == "SUCCEEDED"
    records = store.load()
    gw, logs = aws.client("apigatewayv2"), aws.client("logs")
    route = records["http_api/public/route/sales"]
    gw.delete_route(ApiId=route.outputs["api_id"], RouteId=route.physical_id)
    logs.put_retention_policy(logGroupName=f"/aws/lambda/{agent_name('legal')}", retentionInDays=1)
    counter.calls.clear()

    result = engine.refresh(store, ListSink(), aws, orphans=False)

    reads = counter.reads()
    assert reads["logs:DescribeLogGroups"] == 1
    assert reads["apigatewayv2:GetRoutes"] == reads["apigatewayv2:GetIntegrations"] == 1
    assert reads["iam:GetRole"] == 5  # the account listing has no description: role by role
    drifts = {d["logical_id"]: d for d in result.plan["drift"] if d["status"] != "in_sync"}
    assert {lid: d["status"] for lid, d in drifts.items()} == {
        "http_api/public/route/sales": "missing",
        "agent/legal/log-group": "drifted",
    }
    assert [p["name"] for p in drifts["agent/legal/log-group"]["properties"]] == ["retention_days"]
