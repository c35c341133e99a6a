"""Fixtures shared by the API tests: alice owns "acme"; tokens and a client that sends them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from dashboard.access import tokens
from dashboard.access.models import Membership
from dashboard.projects import services as project_services
from dashboard.projects.models import Project


class ApiClient:
    """django.test.Client with `Authorization: Bearer <token>` on every request, JSON bodies."""

    def __init__(self, secret: str) -> None:
        self.client = Client()
        self.secret = secret

    def _headers(self, extra: dict[str, str]) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}", **extra}

    def get(self, path: str, headers: dict[str, str] | None = None, **query: Any) -> Any:
        return self.client.get(path, query, headers=self._headers(headers or {}))

    def post(self, path: str, body: Any = None) -> Any:
        return self.client.post(
            path, body or {}, content_type="application/json", headers=self._headers({})
        )

    def patch(self, path: str, body: Any) -> Any:
        return self.client.patch(
            path, body, content_type="application/json", headers=self._headers({})
        )

    def delete(self, path: str) -> Any:
        return self.client.delete(path, headers=self._headers({}))


def personal(user: Any, name: str = "laptop", role: str = "", days: int = 30) -> str:
    return tokens.token_create_personal(
        user=user, name=name, expires_in_days=days, role=role
    ).secret


def deploy_token(project: Project, owner: Any, role: str, name: str = "ci-deploy") -> str:
    return tokens.token_create_deploy(
        project=project, user=owner, name=name, role=role, expires_in_days=30
    ).secret


@pytest.fixture(name="owner")
def owner_fixture(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("alice", password="alice-password-1")


@pytest.fixture(name="project")
def project_fixture(owner: Any) -> Project:
    return project_services.project_create(name="acme", description="Support bots", user=owner)


@pytest.fixture(name="api")
def api_fixture(owner: Any, project: Project) -> ApiClient:
    """alice's personal token, full rights (she owns acme)."""
    return ApiClient(personal(owner))


@pytest.fixture(name="viewer_api")
def viewer_api_fixture(django_user_model: Any, project: Project) -> ApiClient:
    viewer = django_user_model.objects.create_user("victor", password="victor-password-1")
    Membership.objects.create(project=project, user=viewer, role=Membership.Role.VIEWER)
    return ApiClient(personal(viewer))


@pytest.fixture(name="stranger_api")
def stranger_api_fixture(django_user_model: Any, project: Project) -> ApiClient:
    stranger = django_user_model.objects.create_user("sam", password="sam-password-1")
    return ApiClient(personal(stranger))
