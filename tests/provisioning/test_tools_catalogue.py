"""The tools catalogue: what each strands-agents-tools tool needs, and which cannot run on Lambda."""

from __future__ import annotations

import pytest

from provisioning.model.spec import Join, to_jsonable
from provisioning.strands import tools_catalogue as catalogue

ARN = catalogue.ArnContext(partition="aws", region="eu-west-1", account="123456789012")


def test_retrieve_may_search_only_the_configured_knowledge_base() -> None:
    tool = catalogue.CATALOGUE["retrieve"]

    statements = tool.statements({"knowledge_base_id": "KB12345678"}, ARN)

    assert to_jsonable(statements) == [
        {
            "Effect": "Allow",
            "Action": ["bedrock:Retrieve"],
            "Resource": ["arn:aws:bedrock:eu-west-1:123456789012:knowledge-base/KB12345678"],
        }
    ]
    assert tool.env({"knowledge_base_id": "KB12345678"}) == {"KNOWLEDGE_BASE_ID": "KB12345678"}


def test_use_aws_gets_exactly_the_actions_the_user_granted() -> None:
    tool = catalogue.CATALOGUE["use_aws"]

    statements = tool.statements({"use_aws_actions": "s3:ListAllMyBuckets, ec2:Describe*"}, ARN)

    assert statements[0]["Action"] == ["ec2:Describe*", "s3:ListAllMyBuckets"]
    # Without it, use_aws would wait for a "yes" on stdin that never comes on Lambda
    assert tool.env({}) == {"BYPASS_TOOL_CONSENT": "true"}


def test_tools_without_aws_calls_need_no_permissions() -> None:
    for name in ("calculator", "current_time", "http_request"):
        assert catalogue.CATALOGUE[name].statements({}, ARN) == []


@pytest.mark.parametrize(
    ("tool", "reason"),
    [
        ("file_write", "read-only outside /tmp"),
        ("editor", "read-only outside /tmp"),
        ("shell", "terminal"),
        ("python_repl", "terminal"),
        ("mcp_client", "uvx"),
    ],
)
def test_tools_that_cannot_run_on_lambda_are_refused_with_the_reason(
    tool: str, reason: str
) -> None:
    problems = catalogue.tool_problems([tool], {})

    assert problems and problems[0][0] == "tools"
    assert f"{tool} cannot run on Lambda" in problems[0][1]
    assert reason in problems[0][1]
    assert tool not in dict(catalogue.lambda_choices())


def test_missing_settings_and_unknown_tools_are_reported_but_own_modules_pass() -> None:
    problems = catalogue.tool_problems(["retrieve", "no_such_tool", "team_tools.orders"], {})

    assert ("tool_settings", "retrieve needs knowledge base id (knowledge_base_id)") in problems
    assert any("'no_such_tool' is not a strands-agents-tools tool" in m for _f, m in problems)
    assert len(problems) == 2


def test_api_keys_of_tools_are_secrets_not_plain_variables() -> None:
    tool = catalogue.CATALOGUE["tavily"]

    assert tool.env({"tavily_api_key": "tvly-123"}) == {}
    assert [s.env for s in catalogue.secret_settings(["tavily"])] == ["TAVILY_API_KEY"]


def test_resources_may_be_placeholders_known_only_at_deploy() -> None:
    from provisioning.graph.builder import ACCOUNT, PARTITION, REGION

    arn = catalogue.ArnContext(partition=PARTITION, region=REGION, account=ACCOUNT)
    resources = catalogue.CATALOGUE["retrieve"].statements({"knowledge_base_id": "KB1"}, arn)

    assert isinstance(resources[0]["Resource"][0], Join)
