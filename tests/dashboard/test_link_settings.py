"""Links carry settings; bad settings come back on their field; an agent's variables are unique."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from dashboard.errors import ServiceError
from dashboard.projects import services as project_services
from dashboard.projects.models import Link, Project
from tests.dashboard.view_fixtures import (  # noqa: F401 (fixtures)
    htmx,
    owner_client_fixture,
    owner_fixture,
    project_fixture,
)


@pytest.fixture(name="support")
def support_fixture(project: Project, owner: Any) -> Project:
    """An agent "support", a table "orders", a queue "jobs" and a topic "alerts"."""
    project_services.agent_create(project=project, user=owner, data={"name": "support"})
    for kind, name in (("table", "orders"), ("queue", "jobs"), ("topic", "alerts")):
        project_services.component_create(project=project, user=owner, kind=kind, name=name)
    return project


def _errors_of(html: str, field: str) -> str:
    """The error text shown in the field block of `field` (empty when there is none)."""
    block = re.search(rf'<div class="field[^"]*">(?:(?!<div class="field).)*name="{field}"'
                      r'(?:(?!<div class="field).)*', html, re.S)  # fmt: skip
    assert block, f"no input named {field}"
    return " ".join(re.findall(r'<ul class="errorlist">(.*?)</ul>', block.group(0), re.S))


@pytest.mark.parametrize(
    ("kind", "field", "value", "message"),
    [
        ("table", "read_capacity", "0", "greater than or equal to 1"),
        ("table", "ttl_attribute", "1 bad", "starting with a letter"),
        ("table", "global_secondary_indexes", '[{"name": "x"}]', "partition_key"),
        ("table", "global_secondary_indexes", "not json", "Enter a valid JSON"),
        ("queue", "kms_master_key_id", "my key", "KMS key id"),
        ("topic", "display_name", "x" * 101, "at most 100"),
        ("http_api", "cors_origins", "http://10.0.0.1", "private"),
    ],
)
def test_a_bad_component_setting_is_shown_on_its_field(
    owner_client: Client, project: Project, kind: str, field: str, value: str, message: str
) -> None:
    response = owner_client.post(
        reverse("component_create", args=["acme", kind]), {"name": "x", field: value}
    )

    assert response.status_code == 400
    assert message in _errors_of(response.content.decode(), field)


def test_advanced_settings_fold_away_and_open_when_one_of_them_is_wrong(
    owner_client: Client, project: Project
) -> None:
    url = reverse("component_create", args=["acme", "table"])
    page = owner_client.get(url).content.decode()
    basic, advanced = page.split('<details class="advanced">')
    assert 'name="partition_key"' in basic and 'name="ttl_attribute"' not in basic
    assert 'name="ttl_attribute"' in advanced

    refused = owner_client.post(url, {"name": "x", "ttl_attribute": "1 bad"}).content.decode()
    assert '<details class="advanced" open>' in refused


def test_a_link_setting_is_edited_on_its_page_and_refused_on_its_field(
    owner_client: Client, support: Project, owner: Any
) -> None:
    link = project_services.link_create(
        project=support, user=owner, source="agent:support", target="table:orders"
    )
    url = reverse("link_edit", args=["acme", link.pk])

    bad = owner_client.post(url, {"kind": "read", "env_name": "9LIVES"})
    good = owner_client.post(url, {"kind": "read", "env_name": "ORDERS_TABLE"})

    assert bad.status_code == 400
    assert "is not a variable name" in _errors_of(bad.content.decode(), "env_name")
    assert good.status_code == 302
    link.refresh_from_db()
    assert (link.kind, link.settings) == ("read", {"env_name": "ORDERS_TABLE"})


def test_a_variable_an_agent_would_get_twice_is_refused_naming_both(
    owner_client: Client, support: Project, owner: Any
) -> None:
    project_services.agent_update(
        agent=support.agents.get(name="support"),
        user=owner,
        data={"environment": {"TABLE_ORDERS": "orders-by-hand"}},
    )

    with pytest.raises(ServiceError) as refused:
        project_services.link_create(
            project=support, user=owner, source="agent:support", target="table:orders"
        )

    assert refused.value.field == "env_name"
    assert "TABLE_ORDERS" in refused.value.message
    assert "its environment" in refused.value.message
    assert "the link to table orders" in refused.value.message
    assert not Link.objects.filter(project=support).exists()


def test_two_links_given_the_same_variable_name_are_refused_on_the_link_form(
    owner_client: Client, support: Project, owner: Any
) -> None:
    project_services.link_create(
        project=support, user=owner, source="agent:support", target="table:orders",
        settings={"env_name": "STORE"},
    )  # fmt: skip
    queue = project_services.link_create(
        project=support, user=owner, source="agent:support", target="queue:jobs"
    )

    response = owner_client.post(
        reverse("link_edit", args=["acme", queue.pk]), {"env_name": "STORE"}
    )

    assert response.status_code == 400
    errors = _errors_of(response.content.decode(), "env_name")
    assert "the link to table orders" in errors and "the link to queue jobs" in errors
    queue.refresh_from_db()
    assert queue.settings == {"env_name": ""}


def test_a_queue_that_both_triggers_and_receives_from_an_agent_sets_one_variable(
    support: Project, owner: Any
) -> None:
    project_services.link_create(
        project=support, user=owner, source="agent:support", target="queue:jobs"
    )
    project_services.link_create(
        project=support, user=owner, source="queue:jobs", target="agent:support"
    )

    assert Link.objects.filter(project=support).count() == 2


def _canvas_post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def test_the_canvas_adds_a_link_with_settings_and_refuses_bad_ones(
    owner_client: Client, support: Project
) -> None:
    url = reverse("canvas_link_add", args=["acme"])
    body = {"source": "topic:alerts", "target": "queue:jobs", "version": support.version}

    bad = _canvas_post(
        owner_client, url, {**body, "settings": {"raw_message_delivery": "sometimes"}}
    )
    good = _canvas_post(owner_client, url, {**body, "settings": {"raw_message_delivery": False}})

    assert bad.status_code == 400
    assert bad.json()["field"] == "raw_message_delivery"
    assert good.status_code == 200, good.content
    assert good.json()["settings"]["raw_message_delivery"] is False
    state = owner_client.get(reverse("canvas_state", args=["acme"])).json()
    assert state["links"][0]["settings"]["raw_message_delivery"] is False


def test_the_canvas_side_panel_edits_a_link(
    owner_client: Client, support: Project, owner: Any
) -> None:
    link = project_services.link_create(
        project=support, user=owner, source="agent:support", target="topic:alerts"
    )
    url = reverse("canvas_link_panel", args=["acme", link.pk])
    support.refresh_from_db()

    shown = owner_client.get(url, **htmx())
    saved = owner_client.post(url, {"version": support.version, "env_name": "ALERTS"}, **htmx())

    assert 'name="env_name"' in shown.content.decode()
    assert saved.status_code == 200
    assert "canvas:changed" in saved["HX-Trigger"]
    link.refresh_from_db()
    assert link.settings["env_name"] == "ALERTS"


def test_bad_stage_settings_are_shown_on_their_field(
    owner_client: Client, project: Project
) -> None:
    url = reverse("stage_settings", args=["acme", "dev"])
    base = {"target": "sandbox", "region": "us-east-1"}
    before = project.stages.get(name="dev").settings

    public = owner_client.post(
        url, {**base, "network__enabled": "on", "network__cidr": "8.8.8.0/24"}
    )
    no_range = owner_client.post(url, {**base, "network__enabled": "on"})
    retention = owner_client.post(url, {**base, "log_retention_days": "13"})

    assert public.status_code == 400
    assert "not a private range" in _errors_of(public.content.decode(), "network__cidr")
    assert no_range.status_code == 400
    assert "give a CIDR" in no_range.content.decode()
    assert retention.status_code == 400
    assert "13 is not one of the available choices" in _errors_of(
        retention.content.decode(), "log_retention_days"
    )
    assert project.stages.get(name="dev").settings == before  # nothing of the refused saves


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("extra_statements", '[{"actions": [], "resources": ["*"]}]', "at least 1 item"),
        ("on_failure", "bucket:files", "should match pattern"),
    ],
)
def test_a_bad_agent_setting_is_shown_on_its_field(
    owner_client: Client, project: Project, field: str, value: str, message: str
) -> None:
    data = {"name": "bot", "model_id": "global.anthropic.claude-sonnet-4-6",
            "system_prompt": "x", "runtime": "python3.12", "architecture": "x86_64",
            "memory_mb": "1024", "timeout_s": "120", field: value}  # fmt: skip

    response = owner_client.post(reverse("agent_create", args=["acme"]), data)

    assert response.status_code == 400
    assert message in _errors_of(response.content.decode(), field)
