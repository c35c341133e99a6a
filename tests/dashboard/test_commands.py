"""The CLI, embedded: plan, deploy, status, history and destroy the demo on a sandbox."""

from __future__ import annotations

import json
from functools import partial
from io import StringIO
from typing import Any

import boto3
import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from dashboard.projects import services as project_services
from dashboard.projects.models import Project
from dashboard.runs.models import DeployedResource, Deployment
from provisioning.aws import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, TAG_PROJECT

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def embedded(settings: Any) -> None:
    settings.EMBEDDED = True  # the CLI runs the work in its own process, whatever REDIS_URL says


def test_loaddemo_prints_the_password_and_does_nothing_the_second_time(monkeypatch: Any) -> None:
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)

    first = run("loaddemo", "--i-know")
    second = run("loaddemo", "--i-know")

    assert "created user 'demo' with password 'demo-password-123'" in first
    assert authenticate(username="demo", password="demo-password-123") is not None
    project = Project.objects.get(name="demo")
    assert [a.name for a in project.agents.all()] == ["assistant"]
    assert [(c.kind, c.name) for c in project.components.all()] == [("http_api", "public")]
    assert project.stages.get().target == "sandbox"
    assert "already exists" in second and Project.objects.count() == 1


def test_loaddemo_refuses_with_debug_off_unless_told(settings: Any) -> None:
    settings.DEBUG = False

    with pytest.raises(CommandError, match=r"DEBUG is off.*--i-know"):
        run("loaddemo")

    assert not Project.objects.filter(name="demo").exists()
    assert authenticate(username="demo", password="demo-password-123") is None


def test_loaddemo_loads_with_debug_on(settings: Any) -> None:
    settings.DEBUG = True

    assert "created user 'demo'" in run("loaddemo")


def test_loaddemo_uses_demo_password_from_the_environment(monkeypatch: Any) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "another-secret-42")

    assert "another-secret-42" in run("loaddemo", "--i-know")
    assert authenticate(username="demo", password="another-secret-42") is not None


def test_plan_deploy_status_history_destroy_of_the_demo(embedded: None, sandbox: str) -> None:
    run("loaddemo", "--i-know")

    planned = json.loads(run("plan", "demo", "--json"))
    deployed = run("deploy", "demo", "--wait")
    status = run("status", "demo")
    replanned = json.loads(run("plan", "demo", "--json"))
    destroyed = run("destroy", "demo", "--yes")
    history = run("history", "demo")

    creates = planned["summary"]["CREATE"]
    assert creates > 0 and set(planned) >= {"changes", "summary", "decisions", "problems"}
    assert f"[{creates}/{creates}] " in deployed and "succeeded" in deployed.splitlines()[-1]
    assert "agent/assistant/function" in status and f"{creates} resources" in status
    assert set(replanned["summary"]) == {"NO_CHANGE"}
    assert "destroy #" in destroyed and not DeployedResource.objects.exists()
    assert [line.split()[4] for line in history.splitlines()] == [
        "destroy",
        "plan",
        "deploy",
        "plan",
    ]


def test_deploy_without_a_sandbox_prints_how_to_start_it(embedded: None, settings: Any) -> None:
    settings.SANDBOX_ENDPOINT_URL = "http://127.0.0.1:9"
    run("loaddemo", "--i-know")

    with pytest.raises(CommandError) as failed:
        run("deploy", "demo")

    assert "deploy #" in str(failed.value) and "failed" in str(failed.value)
    assert "start it with `make run` or `python manage.py sandbox`" in str(failed.value)


def test_destroy_unattended_needs_yes_and_unknown_projects_are_named(embedded: None) -> None:
    run("loaddemo", "--i-know")

    with pytest.raises(CommandError, match="add --yes"):
        run("destroy", "demo")
    with pytest.raises(CommandError, match="no project named 'nope'"):
        run("deploy", "nope")
    assert not Deployment.objects.exists()


def test_a_busy_stage_is_refused_with_a_clear_message(embedded: None) -> None:
    run("loaddemo", "--i-know")
    Deployment.objects.create(
        stage=Project.objects.get(name="demo").stages.get(), project_name="demo",
        stage_name="dev", kind="deploy", status="RUNNING",
    )  # fmt: skip

    with pytest.raises(
        CommandError, match=r"a deploy of demo/dev is already queued or running \(#"
    ):
        run("deploy", "demo")


def test_the_kitchen_sink_deploys_replans_unchanged_and_destroys_to_nothing(
    embedded: None, sandbox: str
) -> None:
    run("loaddemo", "kitchen-sink", "--i-know")

    deployed = run("deploy", "kitchen-sink", "--wait")
    replanned = json.loads(run("plan", "kitchen-sink", "--json"))
    destroyed = run("destroy", "kitchen-sink", "--yes")

    assert "succeeded" in deployed.splitlines()[-1]
    assert set(replanned["summary"]) == {"NO_CHANGE"}
    assert "ec2:nat-gateway" in {c["resource_type"] for c in replanned["changes"]}
    assert "destroy #" in destroyed and not DeployedResource.objects.exists()
    assert left_in_sandbox(sandbox, "kitchen-sink") == {}


def left_in_sandbox(endpoint: str, project: str) -> dict[str, list[str]]:
    """What the project still has in AWS: by tags, and per service where tags miss it."""
    session = boto3.Session(SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, region_name="us-east-1")
    client = partial(session.client, endpoint_url=endpoint)
    mine = [{"Name": f"tag:{TAG_PROJECT}", "Values": [project]}]
    ec2 = client("ec2")
    gone_nats = {
        n["NatGatewayId"]
        for n in ec2.describe_nat_gateways()["NatGateways"]
        if n["State"] == "deleted"
    }
    found = {
        "tagged": [
            r["ResourceARN"]
            for r in client("resourcegroupstaggingapi").get_resources(
                TagFilters=[{"Key": TAG_PROJECT, "Values": [project]}]
            )["ResourceTagMappingList"]
            if r["ResourceARN"].rsplit("/", 1)[-1] not in gone_nats
        ],
        "eips": [a["AllocationId"] for a in ec2.describe_addresses(Filters=mine)["Addresses"]],
        "vpcs": [v["VpcId"] for v in ec2.describe_vpcs(Filters=mine)["Vpcs"]],
        "roles": [
            r["RoleName"]
            for r in client("iam").list_roles()["Roles"]
            if r["RoleName"].startswith(f"{project}-")
        ],
        "apis": [a["Name"] for a in client("apigatewayv2").get_apis()["Items"]],
        "functions": [f["FunctionName"] for f in client("lambda").list_functions()["Functions"]],
    }
    return {kind: names for kind, names in found.items() if names}


def test_deployer_policy_prints_a_policy_that_passes_roles_to_lambda_only() -> None:
    out = StringIO()

    call_command("deployer_policy", stdout=out)

    statements = json.loads(out.getvalue())["Statement"]
    assert "lambda:CreateFunction" in statements[0]["Action"]
    assert statements[1]["Action"] == "iam:PassRole"
    assert statements[1]["Condition"]["StringEquals"]["iam:PassedToService"] == (
        "lambda.amazonaws.com"
    )


def test_plan_json_carries_the_advice_and_warnings_exit_zero(embedded: None, sandbox: str) -> None:
    run("loaddemo", "--i-know")

    planned = json.loads(run("plan", "demo", "--json"))

    assert {a["code"] for a in planned["advice"]} == {"route-timeout"}  # the route signs with IAM
    assert {a["severity"] for a in planned["advice"]} == {"warning"}
    assert set(planned["advice"][0]) == {"code", "severity", "node", "field", "message", "fix"}


def test_plan_exits_1_on_blocking_advice_after_printing_it(
    embedded: None, sandbox: str, acme: Project, alice: Any
) -> None:
    project_services.agent_create(
        project=acme,
        user=alice,
        data={"name": "support", "model_id": "eu.amazon.nova-pro-v1:0"},  # the stage: us-east-1
    )
    out = StringIO()

    with pytest.raises(CommandError, match="1 blocking finding") as refused:
        call_command("plan", "acme", "--json", stdout=out)

    assert refused.value.returncode == 1
    advice = json.loads(out.getvalue())["advice"]
    assert [a["code"] for a in advice if a["severity"] == "blocking"] == ["model-region-mismatch"]
    text = StringIO()
    with pytest.raises(CommandError):
        call_command("plan", "acme", stdout=text)
    assert "blocking: agent:support model_id: the inference profile eu.amazon" in text.getvalue()
    assert "fix: use an id whose prefix matches us-east-1" in text.getvalue()


def test_a_project_file_plans_without_changing_the_project_and_deploys_with_f(
    embedded: None, sandbox: str, tmp_path: Any
) -> None:
    run("loaddemo", "--i-know")
    path = tmp_path / "strands-deploy.yaml"
    path.write_text(run("export", "demo"))
    run("deploy", "demo", "-f", str(path), "--wait")

    unchanged = run("plan", "demo", "-f", str(path), "--detailed-exitcode")
    path.write_text(
        path.read_text().replace("name: assistant\n", "name: assistant\n  memory_mb: 2048\n")
    )
    version = Project.objects.get(name="demo").version
    with pytest.raises(CommandError) as changes:
        run("plan", "demo", "-f", str(path), "--detailed-exitcode")

    assert "plan: " in unchanged and "update" not in unchanged.split("plan: ")[-1]
    assert changes.value.returncode == 2
    assert Project.objects.get(name="demo").version == version  # the plan applied nothing
    assert Project.objects.get(name="demo").agents.get().memory_mb == 1024

    deployed = run("deploy", "demo", "-f", str(path), "--wait")
    assert "applied to demo" in deployed and "succeeded" in deployed
    assert Project.objects.get(name="demo").agents.get().memory_mb == 2048
    run("plan", "demo", "-f", str(path), "--detailed-exitcode")  # exit 0: nothing left to do
    run("destroy", "demo", "--wait", "--yes")
