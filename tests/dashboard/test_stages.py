"""Stage settings: validated AWS fields, write-only static keys, the permissions boundary,
"Check access", protected stages with a second person's approval, production checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from moto import mock_aws

from dashboard import errors
from dashboard.access import credentials, secrets
from dashboard.access import services as access_services
from dashboard.access.models import Membership
from dashboard.projects import services as project_services
from dashboard.projects.models import Project, Stage
from dashboard.runs import execution
from dashboard.runs import services as run_services
from dashboard.runs.models import Deployment
from provisioning.graph import builder as graph_builder

ROOT = Path(__file__).resolve().parents[2]
ROLE = "arn:aws:iam::123456789012:role/deployer"
BOUNDARY = "arn:aws:iam::123456789012:policy/team-boundary"
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def _login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _settings_url() -> str:
    return reverse("stage_settings", args=["acme", "dev"])


def _form(**overrides: Any) -> dict[str, Any]:
    return {"target": "aws", "region": "eu-west-1", "role_arn": ROLE, "external_id": "team-42",
            "permissions_boundary": BOUNDARY, **overrides}  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("role_arn", "arn:aws:iam::123456789012:user/someone", "IAM role ARN"),
        ("role_arn", "arn:aws:iam::1234:role/x", "IAM role ARN"),
        ("external_id", "has spaces in it", "2-1224 characters"),
        ("region", "moon-1", "not one of the available choices"),
        ("permissions_boundary", "arn:aws:iam::aws:role/x", "IAM policy ARN"),
        ("access_key_id", "not-a-key", "AKIA or ASIA"),
    ],
)
def test_bad_aws_fields_are_refused_next_to_the_field(
    acme: Project, alice: Any, field: str, value: str, message: str
) -> None:
    response = _login(alice).post(_settings_url(), _form(**{field: value}))

    assert response.status_code == 400
    assert message.encode() in response.content
    assert Stage.objects.get(project=acme).target == "sandbox"


@pytest.mark.django_db
def test_settings_reach_the_blueprint_and_every_role_carries_the_boundary(
    acme: Project, alice: Any
) -> None:
    project_services.agent_create(project=acme, user=alice, data={"name": "support"})

    saved = _login(alice).post(_settings_url(), _form())

    stage = Stage.objects.get(project=acme)
    assert saved.status_code == 302
    assert (stage.target, stage.region, stage.role_arn, stage.external_id) == (
        "aws", "eu-west-1", ROLE, "team-42"
    )  # fmt: skip
    blueprint = run_services.blueprint_for_stage(stage)
    roles = [
        s for s in graph_builder.build(blueprint).specs.values() if s.resource_type == "iam:role"
    ]
    assert roles and all(r.properties["permissions_boundary"] == BOUNDARY for r in roles)


@pytest.mark.django_db
def test_static_keys_are_write_only_sealed_and_kept_when_left_blank(
    acme: Project, alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(secrets.KEY_ENV, Fernet.generate_key().decode())
    owner = _login(alice)

    owner.post(_settings_url(), _form(access_key_id=KEY_ID, secret_access_key=SECRET_KEY))
    page = owner.get(_settings_url())
    owner.post(_settings_url(), _form(region="us-west-2"))  # keys left blank

    stage = Stage.objects.get(project=acme)
    assert SECRET_KEY.encode() not in page.content and KEY_ID.encode() not in page.content
    assert b"stored (encrypted; never shown)" in page.content
    assert SECRET_KEY not in stage.secret_access_key_sealed
    target = credentials.stage_target(stage, run="1")
    assert (target.access_key_id, target.secret_access_key) == (KEY_ID, SECRET_KEY)
    assert SECRET_KEY not in repr(target)
    half = owner.post(_settings_url(), _form(access_key_id=KEY_ID))
    assert half.status_code == 400 and b"give both" in half.content
    owner.post(_settings_url(), _form(clear_static_keys="on"))
    assert Stage.objects.get(project=acme).access_key_id_sealed == ""


@pytest.mark.django_db(transaction=True)
def test_check_access_on_the_sandbox_shows_the_account(
    acme: Project, alice: Any, sandbox: str
) -> None:
    response = _login(alice).post(reverse("stage_check_access", args=["acme", "dev"]))

    assert response.status_code == 200
    assert b"123456789012" in response.content and b"the sandbox at" in response.content


@pytest.mark.django_db
def test_check_access_assumes_the_role_with_a_session_naming_the_caller(
    acme: Project, alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    access_services.stage_update(
        stage=acme.stages.get(),
        user=alice,
        data={"target": "aws", "role_arn": ROLE, "external_id": "team-42"},
    )
    with mock_aws():
        identity = credentials.check_access(acme.stages.get(), who="alice")

    assert identity.ok, identity.error
    assert identity.account == "123456789012"
    assert "assumed-role/deployer/strands-deploy-acme-dev-check-alice" in identity.arn


@pytest.mark.django_db
def test_a_deploys_sts_session_names_the_deployment(acme: Project, alice: Any) -> None:
    stage = acme.stages.get()
    access_services.stage_update(stage=stage, user=alice, data={"target": "aws", "role_arn": ROLE})
    deployment = run_services.deployment_start(stage=stage, kind="plan", user=alice, enqueue=False)

    aws = execution.aws_context(deployment, Stage.objects.get(pk=stage.pk))

    assert aws.target.session_name == f"strands-deploy-acme-dev-{deployment.pk}"
    assert aws.target.role_arn == ROLE and aws.target.endpoint_url is None


# --- protected stages -----------------------------------------------------------------------
@pytest.fixture
def protected(acme: Project, alice: Any, bob: Any) -> Stage:
    Membership.objects.create(project=acme, user=bob, role="deployer")
    stage = acme.stages.get()
    access_services.stage_update(stage=stage, user=alice, data={"protected": True})
    return Stage.objects.get(pk=stage.pk)


def _finished_plan(stage: Stage, user: Any) -> Deployment:
    plan = run_services.deployment_start(stage=stage, kind="plan", user=user, enqueue=False)
    Deployment.objects.filter(pk=plan.pk).update(status="SUCCEEDED")
    plan.refresh_from_db()
    return plan


@pytest.mark.django_db
def test_a_protected_stage_deploys_only_a_plan_a_second_owner_approved(
    protected: Stage, alice: Any, bob: Any
) -> None:
    with pytest.raises(errors.ServiceError, match="protected"):
        run_services.deployment_start(stage=protected, kind="deploy", user=bob, enqueue=False)
    with pytest.raises(errors.ServiceError, match="protected"):
        run_services.deployment_start(stage=protected, kind="destroy", user=alice, enqueue=False)
    plan = _finished_plan(protected, bob)

    with pytest.raises(PermissionDenied):
        access_services.deployment_approve(plan=plan, user=bob)  # a deployer, and the asker
    page = _login(alice).get(reverse("deployment_detail", args=[plan.pk]))
    approved = _login(alice).post(reverse("deployment_approve", args=[plan.pk]))

    deploy = Deployment.objects.get(kind="deploy")
    assert b"Approve and deploy" in page.content
    assert approved.status_code == 302 and approved["Location"].endswith(f"/{deploy.pk}/")
    assert (deploy.approved_by, deploy.from_plan_id, deploy.blueprint) == (
        alice,
        plan.pk,
        plan.blueprint,
    )
    assert deploy.approved_at is not None and deploy.approved_by_name == "alice"


@pytest.mark.django_db
def test_nobody_approves_their_own_plan(protected: Stage, alice: Any) -> None:
    plan = _finished_plan(protected, alice)

    page = _login(alice).get(reverse("deployment_detail", args=[plan.pk]))
    response = _login(alice).post(reverse("deployment_approve", args=[plan.pk]), follow=True)

    assert b"Approve and deploy" not in page.content
    assert b"a second person" in response.content
    assert not Deployment.objects.filter(kind="deploy").exists()


@pytest.mark.django_db
def test_the_destroy_page_is_refused_while_the_stage_is_protected(
    protected: Stage, alice: Any
) -> None:
    owner = _login(alice)

    refused = owner.post(reverse("stage_destroy", args=["acme", "dev"]), {"confirm_name": "acme"})
    project_page = owner.get(reverse("project_detail", args=["acme"]))

    assert refused.status_code == 400 and b"protected" in refused.content
    assert (
        b"Destroy\xe2\x80\xa6" not in project_page.content and b"protected" in project_page.content
    )


# --- production settings --------------------------------------------------------------------
def _check_deploy(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**clean, "ALLOWED_HOSTS": "deploy.example.com", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_production_settings_and_fails_without() -> None:
    production = _check_deploy(
        SECRET_KEY="x7" * 30 + "q!Zr",
        DEBUG="0",
        STRANDS_SECRETS_KEY=Fernet.generate_key().decode(),
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",  # behind a proxy that terminates TLS
        SECURE_SSL_REDIRECT="1",
    )
    embedded = _check_deploy()

    assert production.returncode == 0, production.stderr + production.stdout
    assert "no issues" in production.stdout
    assert embedded.returncode != 0
    assert "strands_deploy.E001" in embedded.stderr + embedded.stdout
