"""Secrets: sealed at rest, masked on pages, absent from history, logs and exports,
and delivered to Lambda as an SSM SecureString."""

from __future__ import annotations

import json
import logging
from typing import Any

import boto3
import pytest
from cryptography.fernet import Fernet
from django.test import Client
from django.urls import reverse

from dashboard import errors
from dashboard.access import secrets
from dashboard.projects import services as project_services
from dashboard.projects.models import Agent, Project
from dashboard.runs import execution
from dashboard.runs import services as run_services
from dashboard.runs.models import DeployedResource, Deployment, DeploymentEvent
from provisioning.aws import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY
from provisioning.model.naming import physical_name

SECRET = "sk-live-S3cr3t-value-0042"


@pytest.fixture(autouse=True)
def _fresh_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(secrets.KEY_ENV, Fernet.generate_key().decode())


# --- the primitives -------------------------------------------------------------------------
def test_a_sealed_secret_opens_with_the_key_and_holds_no_trace_of_the_text() -> None:
    token = secrets.seal(SECRET)

    assert SECRET not in token and "S3cr3t" not in token
    assert secrets.open_(token) == SECRET
    assert secrets.seal(SECRET) != token  # no two seals alike: equal secrets do not show


def test_another_key_cannot_open_it_but_a_rotated_key_list_can(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old_key = Fernet.generate_key().decode()
    monkeypatch.setenv(secrets.KEY_ENV, old_key)
    token = secrets.seal(SECRET)

    monkeypatch.setenv(secrets.KEY_ENV, Fernet.generate_key().decode())
    with pytest.raises(secrets.SecretError, match="does not open"):
        secrets.open_(token)
    monkeypatch.setenv(secrets.KEY_ENV, f"{Fernet.generate_key().decode()},{old_key}")
    assert secrets.open_(token) == SECRET


def test_mask_and_redact() -> None:
    data = {"msg": f"error with {SECRET} inside", "list": [SECRET, ("x", SECRET)], SECRET: 1}

    clean = secrets.redact(data, [SECRET])

    assert SECRET not in json.dumps(clean, default=str)
    assert clean["msg"] == "error with [redacted] inside"
    assert secrets.mask(SECRET) == secrets.MASK and secrets.mask("") == ""


def test_a_short_secret_is_blanked_as_a_whole_token_never_inside_another_number() -> None:
    pin = "12345678901"  # 11 digits, the first 11 of the account id below
    event = {
        "message": "created arn:aws:iam::123456789012:role/acme-dev-support",
        "error": f"login refused for pin {pin}; retry with pin={pin}",
    }

    clean = secrets.redact(event, [pin])

    assert clean["message"] == event["message"]
    assert clean["error"] == "login refused for pin [redacted]; retry with pin=[redacted]"


def test_a_short_word_secret_stays_in_longer_words_but_not_on_its_own() -> None:
    clean = secrets.redact("hunter2 hunter2000 xhunter2 (hunter2) 'hunter2'", ["hunter2"])

    assert clean == "[redacted] hunter2000 xhunter2 ([redacted]) '[redacted]'"


def test_a_long_secret_is_blanked_even_glued_to_an_escape_or_an_encoding() -> None:
    clean = secrets.redact([f"line\\n{SECRET}", f"key%3D{SECRET}%26x"], [SECRET])

    assert clean == ["line\\n[redacted]", "key%3D[redacted]%26x"]


def test_log_lines_keep_an_account_id_that_merely_contains_a_short_secret(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(secrets, "_seen", set())
    secrets.open_(secrets.seal("12345678901"))
    log = logging.getLogger("dashboard.test")

    with caplog.at_level(logging.INFO):
        log.info("deployed to account %s", "123456789012")
        log.info("the pin was %s", "12345678901")

    assert "deployed to account 123456789012" in caplog.text
    assert "the pin was [redacted]" in caplog.text


def test_log_lines_and_tracebacks_never_carry_an_opened_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secrets.open_(secrets.seal(SECRET))
    log = logging.getLogger("dashboard.test")

    with caplog.at_level(logging.INFO):
        log.info("calling AWS with %s", SECRET)
        try:
            raise ValueError(f"AWS refused {SECRET}")
        except ValueError:
            log.exception("failed")

    assert "calling AWS with [redacted]" in caplog.text
    assert SECRET not in caplog.text


# --- the journey ----------------------------------------------------------------------------
def _ssm(endpoint: str) -> Any:
    return boto3.client(
        "ssm",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=SANDBOX_ACCESS_KEY,
        aws_secret_access_key=SANDBOX_SECRET_KEY,
    )


def _lambda(endpoint: str) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=SANDBOX_ACCESS_KEY,
        aws_secret_access_key=SANDBOX_SECRET_KEY,
    )


@pytest.mark.django_db(transaction=True)
def test_a_secret_variable_is_deployed_encrypted_and_leaks_nowhere(
    acme: Project, alice: Any, sandbox: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Given an agent with a secret variable next to a plain one
    caplog.set_level(logging.DEBUG)
    agent = project_services.agent_create(
        project=acme,
        user=alice,
        data={
            "name": "support",
            "environment": {"MODE": "strict"},
            "secret_environment": {"OPENAI_API_KEY": SECRET},
        },
    )
    stage = acme.stages.get()

    # When it is planned, deployed, exported and its pages are read
    plan = run_services.deployment_start(stage=stage, kind="plan", user=alice, enqueue=False)
    execution.run_deployment(plan.pk)
    deploy = run_services.deployment_start(stage=stage, kind="deploy", user=alice, enqueue=False)
    done = execution.run_deployment(deploy.pk)
    client = Client()
    client.force_login(alice)
    pages = [
        client.get(reverse("agent_edit", args=["acme", "support"])),
        client.get(reverse("deployment_detail", args=[deploy.pk])),
        client.get(reverse("deployment_detail", args=[plan.pk])),
        client.get(reverse("project_detail", args=["acme"])),
    ]
    exports = [client.get(reverse("project_export", args=["acme", fmt])) for fmt in ("json", "csv")]

    # Then the deploy worked and the secret is nowhere but in SSM, encrypted
    assert done is not None and done.status == "SUCCEEDED", done and done.error
    texts = {
        "row": json.dumps(Agent.objects.filter(pk=agent.pk).values().get(), default=str),
        "snapshots": json.dumps(list(Deployment.objects.values("blueprint", "plan", "error"))),
        "events": json.dumps(list(DeploymentEvent.objects.values("message", "resource"))),
        "state": json.dumps(list(DeployedResource.objects.values("properties", "outputs"))),
        "logs": caplog.text,
        **{f"page {n}": p.content.decode() for n, p in enumerate(pages)},
        **{f"export {n}": b"".join(e).decode() for n, e in enumerate(exports)},
    }
    assert all(p.status_code == 200 for p in pages)
    leaked = [where for where, text in texts.items() if SECRET in text]
    assert leaked == []
    assert secrets.MASK in texts["page 0"]  # the form says a value is stored, not what

    name = "/strands-deploy/acme/dev/support/OPENAI_API_KEY"
    stored = _ssm(sandbox).get_parameter(Name=name, WithDecryption=True)["Parameter"]
    assert (stored["Type"], stored["Value"]) == ("SecureString", SECRET)
    config = _lambda(sandbox).get_function_configuration(
        FunctionName=physical_name("acme", "dev", "support", kind="lambda")
    )
    env = config["Environment"]["Variables"]
    assert env["STRANDS_SECRET_OPENAI_API_KEY"] == name and env["MODE"] == "strict"
    assert SECRET not in json.dumps(env)


@pytest.mark.django_db
def test_saving_the_masked_form_keeps_the_secret_and_a_new_value_replaces_it(
    acme: Project, alice: Any
) -> None:
    agent = project_services.agent_create(
        project=acme, user=alice, data={"name": "a", "secret_environment": {"KEY": SECRET}}
    )
    first = agent.secret_environment["KEY"]

    project_services.agent_update(
        agent=agent, user=alice, data={"secret_environment": {"KEY": None}}
    )
    kept = agent.secret_environment["KEY"]
    project_services.agent_update(
        agent=agent, user=alice, data={"secret_environment": {"KEY": "new-1"}}
    )

    assert kept == first
    assert secrets.open_(agent.secret_environment["KEY"]) == "new-1"
    project_services.agent_update(agent=agent, user=alice, data={"secret_environment": {}})
    assert agent.secret_environment == {}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"AWS_SECRET": "long-enough"}, "reserved"),
        ({"KEY": "abc"}, "at least"),
        ({"NEW": None}, "give NEW a value"),
        ({"MODE": "long-enough"}, "both a plain and a secret"),
    ],
)
def test_bad_secret_variables_are_refused_with_a_reason(
    acme: Project, alice: Any, given: dict[str, Any], message: str
) -> None:
    with pytest.raises(errors.ServiceError, match=message) as refused:
        project_services.agent_create(
            project=acme,
            user=alice,
            data={"name": "a", "environment": {"MODE": "x"}, "secret_environment": given},
        )

    assert refused.value.field == "secret_environment"
