"""What an agent needs beyond its function, as the graph builds it: permissions, sessions,
tools, dependency layers and custom code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from provisioning import engine
from provisioning.graph import builder as graph_builder
from provisioning.graph.resource_graph import ResourceGraph
from provisioning.model.blueprint import Agent, Blueprint, Component, Link
from provisioning.model.spec import resolve, to_jsonable

OUTPUTS = {"@aws": {"account_id": "123456789012", "region": "eu-west-1", "partition": "aws"}}


def build(*agents: Agent, **kwargs: Any) -> ResourceGraph:
    return graph_builder.build(Blueprint("acme", "dev", "eu-west-1", agents=agents, **kwargs))


def statements(g: ResourceGraph, agent: str = "support") -> list[dict[str, Any]]:
    role = g.specs[f"agent/{agent}/role"].properties
    policy = role["inline_policies"]["agent"]
    outputs = {
        **OUTPUTS,
        "bucket/chats": {"arn": "arn:aws:s3:::acme-dev-chats", "name": "acme-dev-chats"},
    }
    resolved: list[dict[str, Any]] = resolve(policy, outputs, partial=True)["Statement"]
    return resolved


def bedrock(stmts: list[dict[str, Any]]) -> dict[str, Any]:
    return next(s for s in stmts if "bedrock:InvokeModel" in s["Action"])


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        (
            "global.anthropic.claude-sonnet-4-6",
            [
                "arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-6",
                "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/global.anthropic.claude-sonnet-4-6",
            ],
        ),
        (
            "eu.amazon.nova-pro-v1:0",
            [
                "arn:aws:bedrock:*::foundation-model/amazon.nova-pro-v1:0",
                "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.amazon.nova-pro-v1:0",
            ],
        ),
        (
            "apac.anthropic.claude-3-haiku-20240307-v1:0",
            [
                "arn:aws:bedrock:*::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
                "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/apac.anthropic.claude-3-haiku-20240307-v1:0",
            ],
        ),
        (
            "anthropic.claude-3-haiku-20240307-v1:0",
            ["arn:aws:bedrock:*::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"],
        ),
    ],
)
def test_the_agent_may_invoke_its_model_and_nothing_else(
    model_id: str, expected: list[str]
) -> None:
    stmts = statements(build(Agent("support", model_id=model_id)))

    grant = bedrock(stmts)
    assert grant["Action"] == ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
    assert grant["Resource"] == expected
    assert all(r != "*" for s in stmts for r in s["Resource"])


def test_the_model_region_setting_names_the_inference_profile_region() -> None:
    stmts = statements(build(Agent("support", model_region="us-west-2")))

    assert bedrock(stmts)["Resource"][1].startswith("arn:aws:bedrock:us-west-2:123456789012:")


def test_other_providers_need_no_bedrock_access_but_an_api_key_secret() -> None:
    without_key = build(Agent("support", model_provider="anthropic", model_id="claude-sonnet-4-5"))
    with_key = build(
        Agent(
            "support",
            model_provider="anthropic",
            model_id="claude-sonnet-4-5",
            secrets={"ANTHROPIC_API_KEY": "sealed-token"},
        )
    )

    assert ("agent:support", "api_key", "anthropic needs an API key (ANTHROPIC_API_KEY)") in (
        without_key.problems
    )
    assert not [p for p in with_key.problems if p[1] == "api_key"]
    assert not [s for s in statements(with_key) if "bedrock:InvokeModel" in s["Action"]]
    recipe = with_key.specs["agent/support/function"].properties["code"]
    assert recipe["agent"]["provider"] == "anthropic"
    assert recipe["agent"]["api_key_env"] == "ANTHROPIC_API_KEY"
    assert "sealed-token" not in json.dumps(to_jsonable(recipe))


def test_chosen_tools_bring_their_permissions_and_settings() -> None:
    g = build(
        Agent(
            "support", tools=("retrieve", "calculator"), tool_settings={"knowledge_base_id": "KB1"}
        )
    )

    stmts = statements(g)
    assert {"Effect": "Allow", "Action": ["bedrock:Retrieve"],
            "Resource": ["arn:aws:bedrock:eu-west-1:123456789012:knowledge-base/KB1"]} in stmts  # fmt: skip
    env = g.specs["agent/support/function"].properties["environment"]
    assert env["KNOWLEDGE_BASE_ID"] == "KB1"
    assert not g.problems


def test_tools_that_cannot_run_on_lambda_stop_the_deploy_with_the_reason() -> None:
    problems = engine.validate(
        Blueprint("acme", "dev", agents=(Agent("support", tools=("shell", "file_write")),))
    )

    assert [(node, field) for node, field, _m in problems] == [
        ("agent:support", "tools"),
        ("agent:support", "tools"),
    ]
    assert "shell cannot run on Lambda" in problems[0][2]
    assert "file_write cannot run on Lambda" in problems[1][2]


@pytest.mark.parametrize("how", ["link", "field"])
def test_a_session_bucket_is_granted_only_the_agents_prefix(how: str) -> None:
    # Given an agent that keeps its conversations in the "chats" bucket
    agent = Agent("support", session_bucket="chats" if how == "field" else "")
    links = (Link("agent:support", "bucket:chats", "sessions"),) if how == "link" else ()
    g = build(agent, components=(Component("bucket", "chats"),), links=links)

    # Then it may read and write objects under its own prefix only...
    stmts = statements(g)
    objects = next(s for s in stmts if "s3:PutObject" in s["Action"])
    assert objects["Action"] == ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    assert objects["Resource"] == ["arn:aws:s3:::acme-dev-chats/sessions/support/*"]
    # ...and list that prefix, so a new session reads as "not found", not AccessDenied
    listing = next(s for s in stmts if s["Action"] == ["s3:ListBucket"])
    assert listing["Resource"] == ["arn:aws:s3:::acme-dev-chats"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["sessions/support/*"]}}
    env = resolve(g.specs["agent/support/function"].properties["environment"],
                  {"bucket/chats": {"name": "acme-dev-chats"}}, partial=True)  # fmt: skip
    assert env["STRANDS_DEPLOY_SESSION_BUCKET"] == "acme-dev-chats"
    assert env["STRANDS_DEPLOY_SESSION_PREFIX"] == "sessions/support/"
    assert not g.problems


def test_a_session_bucket_that_does_not_exist_is_a_problem() -> None:
    g = build(Agent("support", session_bucket="nope"))

    assert ("agent:support", "session_bucket", "no such bucket") in g.problems


def test_agents_with_the_same_dependencies_share_one_layer() -> None:
    g = build(
        Agent("a", tools=("calculator",)),
        Agent("b", tools=("current_time",)),
        Agent("c"),
        Agent("d", architecture="arm64"),
    )

    layers = {k: s for k, s in g.specs.items() if s.resource_type == "lambda:layer-version"}
    assert len(layers) == 3  # SDK + tools (a, b), SDK only (c), SDK only on arm64 (d)
    fn = {n: g.specs[f"agent/{n}/function"].properties for n in "abcd"}
    assert fn["a"]["layers"] == fn["b"]["layers"] != fn["c"]["layers"]
    with_tools = g.specs[fn["a"]["layers"][0].logical_id].properties
    assert with_tools["requirements"] == ["strands-agents-tools==0.8.10", "strands-agents==1.62.0"]
    assert g.specs[fn["d"]["layers"][0].logical_id].properties["architecture"] == "arm64"
    assert "stage/artifacts" in g.specs  # a layer over 50 MB goes through S3


def test_the_official_strands_layer_replaces_the_sdk_in_our_layer() -> None:
    official = "arn:aws:lambda:eu-west-1:123456789012:layer:strands-agents:3"
    g = build(
        Agent("plain"),
        Agent("tooled", tools=("calculator",)),
        settings={"dependencies": "official", "strands_layer_arn": official},
    )

    assert g.specs["agent/plain/function"].properties["layers"] == [official]
    tooled = g.specs["agent/tooled/function"].properties["layers"]
    assert tooled[0] == official
    assert g.specs[tooled[1].logical_id].properties["requirements"] == [
        "strands-agents-tools==0.8.10"
    ]


def test_custom_code_brings_its_handler_and_requirements(tmp_path: Path) -> None:
    # Given a team's agent code in a directory, with its requirements
    (tmp_path / "app.py").write_text("def main(event, context):\n    return 'hi'\n")
    (tmp_path / "requirements.txt").write_text("strands-agents==1.62.0\nhttpx==0.28.1  # client\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref")
    agent = Agent(
        "support", code={"kind": "directory", "path": str(tmp_path), "handler": "app.main"}
    )

    g = build(agent)

    fn = g.specs["agent/support/function"].properties
    assert fn["handler"] == "app.main"
    assert fn["code"] == {"kind": "directory", "path": str(tmp_path)}
    layer = g.specs[fn["layers"][0].logical_id].properties
    assert layer["requirements"] == ["httpx==0.28.1", "strands-agents==1.62.0"]
    assert not g.problems


def test_a_shipped_requirements_line_pip_must_not_see_is_a_problem_and_builds_no_layer(
    tmp_path: Path,
) -> None:
    # Given custom code whose requirements.txt points pip at another index
    (tmp_path / "app.py").write_text("def main(event, context):\n    return 'hi'\n")
    (tmp_path / "requirements.txt").write_text("httpx==0.28.1\n--index-url http://evil.example\n")
    agent = Agent(
        "support", code={"kind": "directory", "path": str(tmp_path), "handler": "app.main"}
    )

    # When the graph is built
    g = build(agent)

    # Then the plan says which line is refused, and no layer would be built without it
    assert g.problems == [
        (
            "agent:support",
            "requirements",
            "requirements.txt line 2: the pip option --index-url is not allowed: "
            "only package names, extras, versions and markers are",
        )
    ]
    assert not [s for s in g.specs.values() if s.resource_type == "lambda:layer-version"]


def test_an_agents_requirement_by_url_is_a_problem_that_does_not_repeat_the_url() -> None:
    agent = Agent(
        "support", requirements=("httpx==0.28.1", "x @ http://169.254.169.254/latest/meta-data/")
    )

    problems = [p for p in build(agent).problems if p[1] == "requirements"]

    assert problems == [
        (
            "agent:support",
            "requirements",
            "requirement 2: x is given by a URL: name a version on the package index instead",
        )
    ]


def test_custom_code_that_is_missing_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    agent = Agent(
        "support", code={"kind": "directory", "path": str(tmp_path / "gone"), "handler": "app.main"}
    )

    g = build(agent)

    assert any(field == "code" and "does not exist" in m for _n, field, m in g.problems)


@pytest.mark.parametrize(
    "model_id",
    [
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
        "us.amazon.nova-pro-v1:0",
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "us-gov.anthropic.claude-3-haiku-20240307-v1:0",
        "anthropic.claude-3-sonnet-20240229-v1:0:200k",
        "meta.llama3-1-70b-instruct-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6",
        "arn:aws-cn:bedrock:cn-north-1:123456789012:provisioned-model/abcdef123456",
    ],
)
def test_real_bedrock_model_ids_and_profiles_are_accepted(model_id: str) -> None:
    blueprint = Blueprint("acme", "dev", agents=(Agent("support", model_id=model_id),))

    assert engine.validate(blueprint) == []


@pytest.mark.parametrize(
    "model_id",
    [
        'anthropic.claude"}]',
        "anthropic.claude-v2;rm",
        "anthropic.*",
        "anthropic/claude-v2",
        "anthropic.claude v2",
        "claude-sonnet-4-5",
        "arn:aws:bedrock:us-east-1:123456789012:*",
    ],
)
def test_a_model_id_that_is_no_bedrock_id_is_refused_before_any_policy(model_id: str) -> None:
    blueprint = Blueprint("acme", "dev", agents=(Agent("support", model_id=model_id),))

    problems = engine.validate(blueprint)

    assert [(node, field) for node, field, _ in problems] == [("agent:support", "model_id")]
    assert "is not a Bedrock model id like anthropic." in problems[0][2]


@pytest.mark.parametrize(
    "region", ["us-east-1", "ap-southeast-2", "cn-northwest-1", "us-gov-west-1", "us-isob-east-1"]
)
def test_real_region_names_are_accepted_as_the_model_region(region: str) -> None:
    assert engine.model_problems(provider="bedrock", model_id="", model_region=region) == []


@pytest.mark.parametrize(
    "region", ["us-east-1;", "us-east-1'", "us-east-*", "US-EAST-1", "us east 1", "*", "useast1"]
)
def test_a_model_region_that_is_no_region_name_is_refused(region: str) -> None:
    blueprint = Blueprint(
        "acme",
        "dev",
        agents=(Agent("support", model_id="amazon.nova-pro-v1:0", model_region=region),),
    )

    problems = engine.validate(blueprint)

    assert [(node, field) for node, field, _ in problems] == [("agent:support", "model_region")]
    assert "is not an AWS region name like us-east-1" in problems[0][2]


def test_other_providers_take_their_own_model_names_but_no_quotes_or_spaces() -> None:
    def check(model_id: str) -> list[tuple[str, str]]:
        return engine.model_problems(provider="litellm", model_id=model_id, model_region="")

    assert check("openai/gpt-4o") == [] and check("claude-sonnet-4-5") == []
    assert [field for field, _ in check('gpt-4o"; drop')] == ["model_id"]
