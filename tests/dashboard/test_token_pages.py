"""The token pages: personal tokens in the user menu, deploy tokens on the Members page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from dashboard.access.models import ApiToken
from dashboard.projects.models import Project
from tests.dashboard.view_fixtures import (  # noqa: F401 (fixtures)
    owner_client_fixture,
    owner_fixture,
    project_fixture,
    viewer_client_fixture,
)

pytestmark = pytest.mark.django_db


def _secret(html: str) -> str:
    return html.split("data-token>", 1)[1].split("<", 1)[0]


def test_a_personal_token_is_shown_once_then_only_its_start(owner_client: Client) -> None:
    assert 'href="/tokens/"' in owner_client.get("/").content.decode()  # in the user menu
    made = owner_client.post("/tokens/", {"name": "laptop", "expires_in_days": "30", "role": ""})
    assert made.status_code == 200
    secret = _secret(made.content.decode())
    assert secret.startswith("sdp_")
    api = Client().get("/api/projects", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200
    again = owner_client.get("/tokens/").content.decode()
    assert secret not in again and f"sdp_{secret[4:12]}…" in again


def test_a_personal_token_is_revoked_from_its_page(owner_client: Client) -> None:
    secret = _secret(
        owner_client.post("/tokens/", {"name": "ci", "expires_in_days": "7"}).content.decode()
    )
    token = ApiToken.objects.get()
    owner_client.post(f"/tokens/{token.pk}/revoke/")
    api = Client().get("/api/projects", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 401


def test_a_token_without_an_end_is_refused(owner_client: Client) -> None:
    answer = owner_client.post("/tokens/", {"name": "forever", "expires_in_days": "9999"})
    assert answer.status_code == 400 and not ApiToken.objects.exists()


def test_owners_make_deploy_tokens_on_the_members_page(
    owner_client: Client, project: Project
) -> None:
    page = owner_client.get(f"/projects/{project.name}/members/").content.decode()
    assert "Deploy tokens" in page
    made = owner_client.post(
        f"/projects/{project.name}/members/tokens/",
        {"name": "github", "role": "deployer", "expires_in_days": "90"},
    )
    secret = _secret(made.content.decode())
    token = ApiToken.objects.get()
    assert token.project == project and token.role == "deployer"
    owner_client.post(f"/projects/{project.name}/members/tokens/{token.pk}/revoke/")
    api = Client().get("/api/projects", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 401


def test_viewers_neither_see_nor_make_deploy_tokens(
    viewer_client: Client, project: Project, owner: Any
) -> None:
    page = viewer_client.get(f"/projects/{project.name}/members/").content.decode()
    assert "Deploy tokens" not in page
    answer = viewer_client.post(
        f"/projects/{project.name}/members/tokens/",
        {"name": "mine", "role": "owner", "expires_in_days": "7"},
    )
    assert answer.status_code == 403 and not ApiToken.objects.exists()
