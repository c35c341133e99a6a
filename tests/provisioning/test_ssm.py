"""Secret environment variables: SSM SecureStrings the function reads at cold start."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from provisioning import engine
from provisioning.analysis import drift
from provisioning.aws import AwsContext
from provisioning.errors import ProvisioningError
from provisioning.events import ListSink
from provisioning.graph import builder as graph_builder
from provisioning.graph.secret_params import policy_problems
from provisioning.model.blueprint import Agent, Blueprint
from provisioning.model.naming import physical_name
from provisioning.model.secret_refs import value_version
from provisioning.model.spec import ResourceSpec, to_jsonable
from provisioning.provisioners.base import Action
from provisioning.provisioners.ssm import SsmParameterProvisioner
from provisioning.state import MemoryStateStore
from tests.provisioning.lifecycle import apply, changed, replan
from tests.provisioning.test_generated_handler import AGENT, unpack

SECRET = "sk-live-4242-very-secret"
VAULT = {"ref-1": SECRET, "ref-2": "sk-live-rotated-0000"}
NAME = "/strands-deploy/acme/dev/support/OPENAI_API_KEY"


@pytest.fixture
def vault_aws(aws: AwsContext) -> AwsContext:
    aws.reveal = VAULT.__getitem__
    return aws


def properties(ref: str = "ref-1", **overrides: Any) -> dict[str, Any]:
    return {
        "name": NAME,
        "description": "Secret OPENAI_API_KEY of agent support",
        "key_id": None,
        "value_ref": ref,
        "value_version": value_version(ref),
        **overrides,
    }


def test_a_secret_becomes_a_securestring_and_replans_unchanged(vault_aws: AwsContext) -> None:
    parameters = SsmParameterProvisioner(vault_aws)

    recorded = apply(parameters, "agent/support/secret/OPENAI_API_KEY", properties())

    ssm = vault_aws.client("ssm")
    stored = ssm.get_parameter(Name=NAME, WithDecryption=True)["Parameter"]
    assert (stored["Type"], stored["Value"]) == ("SecureString", SECRET)
    assert ssm.get_parameter(Name=NAME)["Parameter"]["Value"] != SECRET  # encrypted at rest
    assert replan(parameters, properties(), recorded).action is Action.NO_CHANGE
    assert SECRET not in json.dumps(recorded.properties)


def test_a_new_secret_value_updates_it_and_the_plan_shows_no_value(vault_aws: AwsContext) -> None:
    parameters = SsmParameterProvisioner(vault_aws)
    recorded = apply(parameters, "lid", properties())

    change = replan(parameters, properties("ref-2"), recorded)
    apply(parameters, "lid", properties("ref-2"), recorded)

    assert (change.action, changed(change)) == (Action.UPDATE, ["value_version"])
    assert "sk-live" not in json.dumps([c.as_dict() for c in change.changes])
    value = vault_aws.client("ssm").get_parameter(Name=NAME, WithDecryption=True)
    assert value["Parameter"]["Value"] == "sk-live-rotated-0000"


def test_a_parameter_turned_into_plain_text_is_made_secure_again(vault_aws: AwsContext) -> None:
    parameters = SsmParameterProvisioner(vault_aws)
    recorded = apply(parameters, "lid", properties())
    ssm = vault_aws.client("ssm")
    ssm.delete_parameter(Name=NAME)
    ssm.put_parameter(Name=NAME, Value="oops", Type="String")

    change = replan(parameters, properties(), recorded)
    apply(parameters, "lid", properties(), recorded)

    assert "type" in changed(change)
    assert ssm.get_parameter(Name=NAME)["Parameter"]["Type"] == "SecureString"


def test_a_value_put_outside_the_tool_is_drift_and_a_deploy_puts_ours_back(
    vault_aws: AwsContext,
) -> None:
    # Given a deployed secret
    parameters = SsmParameterProvisioner(vault_aws)
    recorded = apply(parameters, "agent/support/secret/OPENAI_API_KEY", properties())
    # When someone overwrites its value in the console
    ssm = vault_aws.client("ssm")
    ssm.put_parameter(Name=NAME, Value="sk-typed-in-console", Type="SecureString", Overwrite=True)
    # Then the drift check reports the value, naming versions and never a value
    (found,) = drift.check_batch(vault_aws, [recorded])
    assert (found.status, [p.name for p in found.properties]) == (drift.DRIFTED, ["value"])
    assert "SSM version 2" in found.line() and "SSM version 1" in found.line()
    assert "sk-" not in json.dumps(found.as_dict())
    # And a deploy puts the secret from the vault back, after which all is in sync again
    change = replan(parameters, properties(), recorded)
    assert (change.action, changed(change)) == (Action.UPDATE, ["value"])
    recorded = apply(parameters, recorded.logical_id, properties(), recorded)
    assert ssm.get_parameter(Name=NAME, WithDecryption=True)["Parameter"]["Value"] == SECRET
    assert drift.check_batch(vault_aws, [recorded])[0].status == drift.IN_SYNC
    assert replan(parameters, properties(), recorded).action is Action.NO_CHANGE


def test_destroying_a_parameter_twice_is_fine(vault_aws: AwsContext) -> None:
    parameters = SsmParameterProvisioner(vault_aws)
    recorded = apply(parameters, "lid", properties())

    parameters.destroy(recorded)
    parameters.destroy(recorded)

    assert parameters.get_current_state(properties(), None) is None


def blueprint(**agent_overrides: Any) -> Blueprint:
    agent = Agent(name="support", secrets={"OPENAI_API_KEY": "ref-1"}, **agent_overrides)
    return Blueprint(project="acme", stage="dev", agents=(agent,))


def test_the_function_gets_the_parameter_name_and_reads_exactly_that_parameter(
    vault_aws: AwsContext,
) -> None:
    store = MemoryStateStore()

    result = engine.deploy(blueprint(), store, ListSink(), vault_aws)

    assert result.status == "SUCCEEDED", result.error
    function = vault_aws.client("lambda").get_function_configuration(
        FunctionName=physical_name("acme", "dev", "support", kind="lambda")
    )
    env = function["Environment"]["Variables"]
    assert env["STRANDS_SECRET_OPENAI_API_KEY"] == NAME
    assert SECRET not in json.dumps(env) and "OPENAI_API_KEY" not in env
    role = function["Role"].rsplit("/", 1)[-1]
    iam = vault_aws.client("iam")
    policy = json.dumps(iam.get_role_policy(RoleName=role, PolicyName="agent")["PolicyDocument"])
    assert f'"arn:aws:ssm:us-east-1:123456789012:parameter{NAME}"' in policy
    assert "kms:EncryptionContext:PARAMETER_ARN" in policy
    assert SECRET not in json.dumps(to_jsonable(result.plan))
    assert all(SECRET not in json.dumps(r.properties) for r in store.load().values())


def test_a_policy_with_a_wildcard_action_is_a_problem_and_does_not_deploy(
    vault_aws: AwsContext,
) -> None:
    wide = {"Statement": [{"Effect": "Allow", "Action": ["s3:Get*"], "Resource": ["*"]}]}
    specs = {"r": ResourceSpec("r", "iam:role", {"inline_policies": {"x": wide}}, node="agent:a")}

    assert policy_problems(specs)[0][:2] == ("agent:a", "policy")
    built = graph_builder.build(blueprint())
    assert policy_problems(built.specs) == []
    not_action = {"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}
    assert policy_problems({"r": replace(specs["r"], properties={"p": not_action})})


def test_a_secret_name_that_is_also_a_plain_variable_is_refused() -> None:
    problems = engine.validate(blueprint(environment={"OPENAI_API_KEY": "x"}))

    assert ("agent:support", "secret_environment") in [(n, f) for n, f, _ in problems]


def test_the_generated_handler_reads_its_secrets_at_cold_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(Name=NAME, Value=SECRET, Type="SecureString")
        monkeypatch.setenv("STRANDS_DEPLOY_STAND_IN_MODEL", "1")
        monkeypatch.setenv("STRANDS_SECRET_OPENAI_API_KEY", NAME)
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        handler = unpack(AGENT, tmp_path)

        assert handler.handler({"prompt": "hi"}) == "stand-in reply: hi"

        import os

        assert os.environ["OPENAI_API_KEY"] == SECRET


def test_a_refresh_after_a_deploy_reports_a_secret_changed_in_the_console(
    vault_aws: AwsContext,
) -> None:
    store = MemoryStateStore()
    assert engine.deploy(blueprint(), store, ListSink(), vault_aws).status == "SUCCEEDED"
    vault_aws.client("ssm").put_parameter(
        Name=NAME, Value="sk-typed-in-console", Type="SecureString", Overwrite=True
    )

    result = engine.refresh(store, ListSink(), vault_aws, orphans=False)

    drifted = {d["logical_id"]: d for d in result.plan["drift"] if d["status"] == "drifted"}
    assert list(drifted) == ["agent/support/secret/OPENAI_API_KEY"]
    assert [p["name"] for p in drifted["agent/support/secret/OPENAI_API_KEY"]["properties"]] == [
        "value"
    ]


def test_a_refused_put_never_shows_the_value(vault_aws: AwsContext) -> None:
    # Given AWS refuses the put and quotes the value it refused
    ssm = vault_aws.client("ssm")
    with Stubber(ssm) as stub:
        stub.add_response("describe_parameters", {"Parameters": []})
        stub.add_client_error(
            "put_parameter",
            service_error_code="ValidationException",
            service_message=f"Value '{SECRET}' failed to satisfy constraint",
            http_status_code=400,
        )
        # When the parameter is provisioned
        with pytest.raises(ProvisioningError) as refused:
            SsmParameterProvisioner(vault_aws).provision("secret/key", properties(), None)

    # Then the error names the action and the parameter, and not the secret
    message = str(refused.value)
    assert message.startswith(f"creating SSM parameter {NAME}: ValidationException")
    assert SECRET not in message and "[redacted]" in message


def test_one_an_interrupted_run_made_is_taken_over_and_tagged(vault_aws: AwsContext) -> None:
    # Given the parameter exists, untagged: the run that made it died before tagging
    ssm = vault_aws.client("ssm")
    ssm.put_parameter(Name=NAME, Value="stale", Type="SecureString")

    # When it is provisioned as if new
    outputs = SsmParameterProvisioner(vault_aws).provision("secret/key", properties(), None)

    # Then it holds the value, carries our tags, and its version is the one recorded
    stored = ssm.get_parameter(Name=NAME, WithDecryption=True)["Parameter"]
    assert stored["Value"] == SECRET and outputs["version"] == stored["Version"]
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=NAME)["TagList"]
    assert {t["Key"]: t["Value"] for t in tags} == vault_aws.tags("secret/key")
