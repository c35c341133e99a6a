"""Fixtures shared by the view tests: people with roles in one project, "acme".

Each fixture is registered under its short name; test modules import the
`*_fixture` functions so the names tests take as arguments stay free.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from dashboard.access.models import Membership
from dashboard.projects import services as project_services
from dashboard.projects.models import Project

PASSWORD = "correct-horse-battery"


@pytest.fixture(name="owner")
def owner_fixture(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("olivia", password=PASSWORD)


@pytest.fixture(name="project")
def project_fixture(owner: Any) -> Project:
    return project_services.project_create(name="acme", description="Support bots", user=owner)


@pytest.fixture(name="owner_client")
def owner_client_fixture(client: Client, owner: Any) -> Client:
    client.force_login(owner)
    return client


@pytest.fixture(name="viewer_client")
def viewer_client_fixture(django_user_model: Any, project: Project) -> Client:
    viewer = django_user_model.objects.create_user("victor", password=PASSWORD)
    Membership.objects.create(project=project, user=viewer, role=Membership.Role.VIEWER)
    client = Client()
    client.force_login(viewer)
    return client


@pytest.fixture(name="stranger_client")
def stranger_client_fixture(django_user_model: Any) -> Client:
    stranger = django_user_model.objects.create_user("sam", password=PASSWORD)
    client = Client()
    client.force_login(stranger)
    return client


def htmx(**headers: str) -> dict[str, str]:
    """Request headers that make django-htmx see an htmx request."""
    return {"HTTP_HX_REQUEST": "true", **{f"HTTP_{k.upper()}": v for k, v in headers.items()}}
