"""Editing the blueprint: agents, components and links."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from dashboard.projects import services as project_services
from dashboard.projects.models import Agent, Component, Link, Project
from tests.dashboard.view_fixtures import (  # noqa: F401 (fixtures)
    htmx,
    owner_client_fixture,
    owner_fixture,
    project_fixture,
    viewer_client_fixture,
)

pytestmark = pytest.mark.django_db

AGENT = {
    "name": "support",
    "description": "Answers tickets",
    "model_id": "global.anthropic.claude-sonnet-4-6",
    "system_prompt": "You help customers.",
    "tools": "calculator, http_request",
    "runtime": "python3.12",
    "architecture": "arm64",
    "memory_mb": "2048",
    "timeout_s": "300",
    "environment": "LOG_LEVEL=debug\n\nTEAM = tier one\n",
    "reserved_concurrency": "",
    "tracing": "on",
}


def visible_text(response: Any) -> str:
    """The page as a reader sees it: tags dropped, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def _post(client: Client, url: str, data: dict[str, Any], **extra: Any) -> Any:
    return client.post(url, data, **extra)


def test_adding_an_agent_shows_it_on_the_project_page(
    owner_client: Client, project: Project
) -> None:
    response = _post(owner_client, reverse("agent_create", args=["acme"]), AGENT)

    assert response.status_code == 302
    agent = Agent.objects.get(project=project, name="support")
    assert agent.tools == ["calculator", "http_request"]
    assert agent.environment == {"LOG_LEVEL": "debug", "TEAM": "tier one"}
    assert (agent.memory_mb, agent.architecture, agent.tracing) == (2048, "arm64", True)
    page = owner_client.get(reverse("project_detail", args=["acme"])).content.decode()
    assert "support" in page and "calculator, http_request" in page and "2 variables" in page


def test_an_environment_line_without_equals_is_refused_with_the_line_number(
    owner_client: Client, project: Project
) -> None:
    data = {**AGENT, "environment": "GOOD=1\nnot a pair"}

    response = _post(owner_client, reverse("agent_create", args=["acme"]), data)

    assert response.status_code == 400
    assert "Line 2 is not KEY=VALUE" in response.content.decode()
    assert not Agent.objects.exists()


def test_an_agent_name_aws_cannot_take_is_refused_saying_what_is_allowed(
    owner_client: Client, project: Project
) -> None:
    response = _post(
        owner_client, reverse("agent_create", args=["acme"]), {**AGENT, "name": "Support Bot"}
    )

    assert response.status_code == 400
    assert "lowercase letters, digits and hyphens" in response.content.decode()


def test_the_add_agent_form_loads_as_a_partial_for_htmx(
    owner_client: Client, project: Project
) -> None:
    response = owner_client.get(reverse("agent_create", args=["acme"]), **htmx())

    body = response.content.decode()
    assert 'id="agent-form"' in body and 'name="system_prompt"' in body
    assert "<html" not in body


def test_an_htmx_save_redirects_the_browser_to_the_project(
    owner_client: Client, project: Project
) -> None:
    response = _post(owner_client, reverse("agent_create", args=["acme"]), AGENT, **htmx())

    # The whole page reloads (a #fragment alone would only scroll the page that sent the form).
    assert response["HX-Redirect"] == reverse("project_detail", args=["acme"])


def test_editing_an_agent_prefills_the_form_and_saves_changes(
    owner_client: Client, project: Project
) -> None:
    _post(owner_client, reverse("agent_create", args=["acme"]), AGENT)
    url = reverse("agent_edit", args=["acme", "support"])
    form = owner_client.get(url).content.decode()
    assert "LOG_LEVEL=debug" in form and "calculator, http_request" in form
    project.refresh_from_db()

    _post(owner_client, url, {**AGENT, "memory_mb": "512", "version": str(project.version)})

    assert Agent.objects.get(name="support").memory_mb == 512


def test_an_edit_made_on_a_stale_page_is_refused_not_lost(
    owner_client: Client, project: Project
) -> None:
    _post(owner_client, reverse("agent_create", args=["acme"]), AGENT)
    stale_version = Project.objects.get(pk=project.pk).version - 1

    response = _post(
        owner_client,
        reverse("agent_edit", args=["acme", "support"]),
        {**AGENT, "memory_mb": "512", "version": str(stale_version)},
    )

    assert response.status_code == 400
    assert "changed by someone else" in response.content.decode()
    assert Agent.objects.get(name="support").memory_mb == 2048


def test_deleting_an_agent_removes_it(owner_client: Client, project: Project) -> None:
    _post(owner_client, reverse("agent_create", args=["acme"]), AGENT)

    owner_client.post(reverse("agent_delete", args=["acme", "support"]))

    assert not Agent.objects.exists()


def test_adding_an_http_api_stores_its_cors_origins(owner_client: Client, project: Project) -> None:
    url = reverse("component_create", args=["acme", "http_api"])

    response = _post(owner_client, url, {"name": "public", "cors_origins": "https://a.example, *"})

    assert response.status_code == 302
    api = Component.objects.get(kind="http_api", name="public")
    assert api.settings["cors_origins"] == ["https://a.example", "*"]


def test_a_bad_cors_origin_is_shown_next_to_its_field(
    owner_client: Client, project: Project
) -> None:
    url = reverse("component_create", args=["acme", "http_api"])

    response = _post(owner_client, url, {"name": "public", "cors_origins": "example.com"})

    assert response.status_code == 400
    assert "is not an origin" in response.content.decode()


@pytest.mark.parametrize(
    ("kind", "data", "expected"),
    [
        ("bucket", {"versioning": "on"}, {"versioning": True}),
        (
            "table",
            {"partition_key": "id", "billing_mode": "PAY_PER_REQUEST"},
            {"partition_key": "id"},
        ),
        (
            "queue",
            {"visibility_timeout_s": "900", "dead_letter": "on"},
            {"visibility_timeout_s": 900},
        ),
        ("topic", {"fifo": "on"}, {"fifo": True}),
    ],
)
def test_each_component_kind_has_its_own_settings_form(
    owner_client: Client,
    project: Project,
    kind: str,
    data: dict[str, str],
    expected: dict[str, Any],
) -> None:
    form = owner_client.get(reverse("component_create", args=["acme", kind])).content.decode()
    for field in data:
        assert f'name="{field}"' in form

    owner_client.post(reverse("component_create", args=["acme", kind]), {"name": "store", **data})

    settings = Component.objects.get(kind=kind, name="store").settings
    assert expected.items() <= settings.items()


def test_an_unknown_component_kind_is_not_found(owner_client: Client, project: Project) -> None:
    assert (
        owner_client.get(reverse("component_create", args=["acme", "database"])).status_code == 404
    )


def test_linking_an_agent_to_a_bucket_shows_on_both_cards(
    owner_client: Client, project: Project
) -> None:
    _post(owner_client, reverse("agent_create", args=["acme"]), AGENT)
    _post(owner_client, reverse("component_create", args=["acme", "bucket"]), {"name": "docs"})

    response = owner_client.post(
        reverse("link_create", args=["acme"]),
        {"source": "agent:support", "target": "bucket:docs", "kind": "read"},
    )

    assert response.status_code == 302
    assert Link.objects.filter(source="agent:support", target="bucket:docs", kind="read").exists()
    page = visible_text(owner_client.get(reverse("project_detail", args=["acme"])))
    assert "→ S3 bucket docs (read)" in page and "← agent support (read)" in page


def test_a_link_the_blueprint_does_not_allow_is_refused_with_a_message(
    owner_client: Client, project: Project
) -> None:
    _post(owner_client, reverse("component_create", args=["acme", "bucket"]), {"name": "docs"})
    _post(
        owner_client,
        reverse("component_create", args=["acme", "table"]),
        {"name": "facts", "partition_key": "pk", "billing_mode": "PAY_PER_REQUEST"},
    )

    response = owner_client.post(
        reverse("link_create", args=["acme"]), {"source": "bucket:docs", "target": "table:facts"}
    )

    assert response.status_code == 400
    assert 'id="links"' in response.content.decode()
    assert (
        'class="form-errors"' in response.content.decode()
        or "errorlist" in response.content.decode()
    )
    assert not Link.objects.exists()


def test_a_viewer_cannot_open_the_agent_form(viewer_client: Client) -> None:
    assert viewer_client.get(reverse("agent_create", args=["acme"])).status_code == 403


def test_deleting_a_component_removes_its_links_too(
    owner_client: Client, project: Project, owner: Any
) -> None:
    project_services.component_create(
        project=project, user=owner, kind="bucket", name="docs", settings={}
    )
    _post(owner_client, reverse("agent_create", args=["acme"]), AGENT)
    project_services.link_create(
        project=project, user=owner, source="agent:support", target="bucket:docs", kind="read"
    )

    response = owner_client.post(
        reverse("component_delete", args=["acme", "bucket", "docs"]), follow=True
    )

    assert "docs" not in visible_text(response)
    assert not Component.objects.exists() and not Link.objects.exists()
