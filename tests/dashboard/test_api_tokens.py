"""API tokens: how they are made, refused, limited, kept secret and recorded on runs."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from dashboard.access import tokens
from dashboard.access.models import ApiToken
from dashboard.errors import ServiceError
from dashboard.projects import services as project_services
from dashboard.projects.models import Project
from dashboard.runs.models import Deployment
from tests.dashboard.api_fixtures import (  # noqa: F401 (fixtures)
    ApiClient,
    api_fixture,
    deploy_token,
    owner_fixture,
    personal,
    project_fixture,
    stranger_api_fixture,
    viewer_api_fixture,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_windows() -> None:
    cache.clear()


def test_a_new_token_is_shown_once_and_only_its_hash_is_stored(owner: Any) -> None:
    made = tokens.token_create_personal(user=owner, name="laptop", expires_in_days=30)
    assert made.secret.startswith("sdp_") and len(made.secret) == 44
    row = ApiToken.objects.get(pk=made.token.pk)
    assert row.digest == hashlib.sha256(made.secret.encode()).hexdigest()
    assert made.secret not in str(list(ApiToken.objects.values()))
    assert made.secret[4:12] == row.prefix


@pytest.mark.parametrize("days", [0, 366, 10_000])
def test_every_token_expires_within_a_year(owner: Any, days: int) -> None:
    with pytest.raises(ServiceError, match="1 to 365 days"):
        tokens.token_create_personal(user=owner, name="forever", expires_in_days=days)


def test_requests_without_a_valid_token_get_401_and_say_why(
    owner: Any, project: Project, client: Client
) -> None:
    assert client.get("/api/projects").status_code == 401
    client.force_login(owner)  # a browser session is not an API credential
    answer = client.get("/api/projects")
    assert answer.status_code == 401 and "Bearer" in answer.json()["error"]
    bad = Client().get("/api/projects", headers={"Authorization": "Bearer sdp_" + "x" * 40})
    assert bad.status_code == 401 and bad.json() == {"error": "unknown token"}
    garbled = Client().get("/api/projects", headers={"Authorization": "Bearer hunter2"})
    assert garbled.status_code == 401


def test_an_expired_token_is_refused(owner: Any, project: Project) -> None:
    secret = personal(owner)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    answer = ApiClient(secret).get("/api/projects")
    assert answer.status_code == 401 and "expired" in answer.json()["error"]


def test_a_revoked_token_is_refused_at_once(owner: Any, project: Project) -> None:
    api = ApiClient(personal(owner))
    assert api.get("/api/projects").status_code == 200
    token = ApiToken.objects.get()
    tokens.token_revoke(token=token, user=owner)
    answer = api.get("/api/projects")
    assert answer.status_code == 401 and "revoked" in answer.json()["error"]


def test_a_deploy_token_sees_its_project_only_and_others_are_404(
    owner: Any, project: Project
) -> None:
    other = project_services.project_create(name="other", user=owner)
    api = ApiClient(deploy_token(project, owner, role="deployer"))
    assert [p["name"] for p in api.get("/api/projects").json()] == ["acme"]
    hidden = api.get(f"/api/projects/{other.name}")
    missing = api.get("/api/projects/nothing-here")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"] == "no project named 'other'"  # the same words as missing


def test_a_viewer_token_cannot_deploy(owner: Any, project: Project) -> None:
    api = ApiClient(deploy_token(project, owner, role="viewer"))
    answer = api.post("/api/projects/acme/stages/dev/deploy")
    assert answer.status_code == 403
    assert "deployer" in answer.json()["error"]
    assert not Deployment.objects.exists()


def test_a_personal_token_with_a_role_is_capped_at_it(owner: Any, project: Project) -> None:
    api = ApiClient(personal(owner, role="viewer"))
    assert api.get("/api/projects/acme").status_code == 200
    assert api.post("/api/projects/acme/stages/dev/plan").status_code == 403
    assert api.delete("/api/projects/acme").status_code == 403


def test_runs_record_the_person_and_the_token(owner: Any, project: Project) -> None:
    api = ApiClient(personal(owner, name="ci-deploy"))
    answer = api.post("/api/projects/acme/stages/dev/plan")
    assert answer.status_code == 202
    run = Deployment.objects.get(pk=answer.json()["id"])
    assert run.triggered_by == owner
    assert run.triggered_by_name == "alice (token ci-deploy)"
    assert run.token == ApiToken.objects.get(name="ci-deploy")
    assert answer.json()["triggered_by"] == "alice (token ci-deploy)"


def test_runs_of_a_deploy_token_name_the_token(owner: Any, project: Project) -> None:
    api = ApiClient(deploy_token(project, owner, role="deployer", name="github"))
    run = Deployment.objects.get(pk=api.post("/api/projects/acme/stages/dev/plan").json()["id"])
    assert run.triggered_by is None
    assert run.triggered_by_name == "token github"
    assert run.token is not None and run.token.name == "github"


def test_too_many_requests_get_429_with_retry_after(
    owner: Any, project: Project, settings: Any
) -> None:
    settings.API_RATE_PER_MIN = 3
    api = ApiClient(personal(owner))
    assert [api.get("/api/projects").status_code for _ in range(3)] == [200] * 3
    answer = api.get("/api/projects")
    assert answer.status_code == 429
    assert 1 <= int(answer["Retry-After"]) <= 60
    other = ApiClient(personal(owner, name="second"))  # the limit is per token
    assert other.get("/api/projects").status_code == 200


def test_the_token_never_reaches_the_logs(
    owner: Any, project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    secret = personal(owner, name="ci")
    api = ApiClient(secret)
    with caplog.at_level(logging.DEBUG):
        api.post("/api/projects/acme/stages/dev/plan")
        api.patch("/api/projects/acme/stages/dev", {"region": "eu-west-1"})
        ApiClient(secret[:-1] + "A").get("/api/projects")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert secret not in text and secret[4:] not in text
    assert "alice (token ci)" in text  # the change log names who and which token


def test_last_use_is_recorded(owner: Any, project: Project) -> None:
    api = ApiClient(personal(owner))
    assert ApiToken.objects.get().last_used_at is None
    api.get("/api/projects")
    assert ApiToken.objects.get().last_used_at is not None


def test_tokens_through_the_api_are_shown_once_and_revocable(api: ApiClient) -> None:
    made = api.post("/api/tokens", {"name": "script", "expires_in_days": 7})
    assert made.status_code == 201
    secret = made.json()["token"]
    listed = api.get("/api/tokens").json()
    assert {t["name"] for t in listed} == {"laptop", "script"}
    assert all("token" not in t for t in listed)
    assert ApiClient(secret).get("/api/projects").status_code == 200
    assert api.delete(f"/api/tokens/{made.json()['id']}").json()["status"] == "revoked"
    assert ApiClient(secret).get("/api/projects").status_code == 401


def test_deploy_tokens_are_the_owners_to_make(api: ApiClient, viewer_api: ApiClient) -> None:
    body = {"name": "ci", "role": "deployer", "expires_in_days": 90}
    assert viewer_api.post("/api/projects/acme/tokens", body).status_code == 403
    made = api.post("/api/projects/acme/tokens", body)
    assert made.status_code == 201 and made.json()["project"] == "acme"
    assert [t["name"] for t in api.get("/api/projects/acme/tokens").json()] == ["ci"]
    ci = ApiClient(made.json()["token"])
    assert ci.post("/api/projects/acme/tokens", {**body, "name": "x"}).status_code == 403
    revoked = api.delete(f"/api/projects/acme/tokens/{made.json()['id']}")
    assert revoked.json()["status"] == "revoked"
    assert ci.get("/api/projects").status_code == 401


def test_a_deploy_token_dies_with_its_project(owner: Any, project: Project) -> None:
    api = ApiClient(deploy_token(project, owner, role="owner"))
    project_services.project_delete(project=project, user=owner)
    assert api.get("/api/projects").status_code == 401
