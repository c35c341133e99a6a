"""API keys of an HTTP API in api_key mode: made on its page, shown once, kept as hashes the
engine's authorizer accepts, revoked and rotated."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from dashboard.access import secrets
from dashboard.projects import services as project_services
from dashboard.projects.models import Component, Project
from tests.dashboard.api_fixtures import ApiClient, personal
from tests.dashboard.view_fixtures import (  # noqa: F401 (fixtures)
    htmx,
    owner_client_fixture,
    owner_fixture,
    project_fixture,
    viewer_client_fixture,
)
from tests.provisioning.test_api_key_authorizer import PARAMETER, FakeSsm, packaged_authorizer

pytestmark = pytest.mark.django_db
KEY = re.compile(r"sdk_[A-Za-z0-9_-]{32}")


@pytest.fixture(autouse=True)
def _fresh_rate_windows() -> None:
    cache.clear()


@pytest.fixture
def api(project: Project, owner: Any) -> Component:
    return project_services.component_create(
        project=project, user=owner, kind="http_api", name="public", settings={"auth": "api_key"}
    )


@pytest.fixture
def authorizer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("API_KEY_PARAMETER", PARAMETER)
    return packaged_authorizer(tmp_path)


def keys_url(*parts: str) -> str:
    return reverse("api_key_list", args=["acme", "public"]) + "".join(f"{p}/" for p in parts)


def create_key(client: Client, label: str = "mobile app") -> str:
    page = client.post(keys_url(), {"label": label}, **htmx()).content.decode()
    (key,) = set(KEY.findall(page))
    return key


def accepted(authorizer: ModuleType, component: Component, key: str) -> bool:
    """Would the deployed authorizer let `key` in, given what the dashboard stored?"""
    component.refresh_from_db()
    stored = secrets.open_(component.settings["api_key_hashes"])  # what a deploy writes to SSM
    authorizer._read_at = None  # a fresh container: no cached hashes
    request = {"headers": {"x-api-key": key}}
    return bool(authorizer.handler(request, None, FakeSsm(stored))["isAuthorized"])


def test_a_new_key_is_shown_once_and_never_again(
    owner_client: Client, owner: Any, api: Component, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    key = create_key(owner_client)

    assert len(key) == 36
    listed = owner_client.get(keys_url()).content.decode()
    edit = owner_client.get(reverse("component_edit", args=["acme", "http_api", "public"]))
    from_api = ApiClient(personal(owner)).get("/api/projects/acme/components/http_api/public")
    assert key[:8] in listed and "mobile app" in listed
    assert (
        key not in listed
        and key not in edit.content.decode()
        and key not in from_api.content.decode()
    )
    assert key not in caplog.text
    assert "next deploy" in listed


def test_the_stored_hashes_are_exactly_what_the_authorizer_accepts(
    owner_client: Client, api: Component, authorizer: ModuleType
) -> None:
    first, second = create_key(owner_client), create_key(owner_client, "partner")

    assert accepted(authorizer, api, first) and accepted(authorizer, api, second)
    assert not accepted(authorizer, api, "sdk_" + "x" * 32)


def test_revoking_a_key_removes_its_hash_and_keeps_the_others(
    owner_client: Client, api: Component, authorizer: ModuleType
) -> None:
    gone, kept = create_key(owner_client, "old"), create_key(owner_client, "new")
    api.refresh_from_db()
    (old_id,) = [e["id"] for e in api.settings["api_key_labels"] if e["label"] == "old"]

    page = owner_client.post(keys_url(old_id, "revoke"), **htmx()).content.decode()

    assert "revoked" in page and f'data-api-key="{old_id}"' not in page
    assert not accepted(authorizer, api, gone) and accepted(authorizer, api, kept)


def test_rotating_adds_a_new_key_and_offers_to_revoke_the_old_one(
    owner_client: Client, api: Component, authorizer: ModuleType
) -> None:
    old = create_key(owner_client, "ci")
    api.refresh_from_db()
    old_id = api.settings["api_key_labels"][0]["id"]

    page = owner_client.post(keys_url(old_id, "rotate"), **htmx()).content.decode()

    (new,) = set(KEY.findall(page))
    assert "ci (rotated)" in page and "Revoke the old key now" in page
    assert accepted(authorizer, api, old) and accepted(authorizer, api, new)


def test_keys_are_refused_while_the_api_uses_another_auth_mode(
    owner_client: Client, owner: Any, project: Project
) -> None:
    project_services.component_create(project=project, user=owner, kind="http_api", name="public")

    answer = owner_client.post(keys_url(), {"label": "x"}, **htmx())

    assert answer.status_code == 400
    assert "set Authentication to api_key" in answer.content.decode()
    assert not KEY.findall(answer.content.decode())


def test_viewers_cannot_make_keys(viewer_client: Client, api: Component) -> None:
    assert viewer_client.post(keys_url(), {"label": "x"}).status_code in (403, 404)


def test_the_canvas_panel_of_the_api_lists_its_keys(owner_client: Client, api: Component) -> None:
    create_key(owner_client, "kiosk")

    panel = owner_client.get(reverse("canvas_node_panel", args=["acme", "http_api:public"]))

    assert "API keys" in panel.content.decode() and "kiosk" in panel.content.decode()


def test_the_api_shows_a_new_key_once_and_lists_only_its_prefix(
    owner: Any, api: Component, authorizer: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = ApiClient(personal(owner))
    path = "/api/projects/acme/components/http_api/public/api-keys"

    made = client.post(path, {"label": "ci"})
    key = made.json()["key"]
    listed = client.get(path)
    revoked = client.post(f"{path}/{made.json()['id']}/revoke")

    assert made.status_code == 201 and KEY.fullmatch(key)
    assert listed.json() == [
        {"id": made.json()["id"], "prefix": key[:8], "label": "ci",
         "created_at": made.json()["created_at"]}
    ]  # fmt: skip
    assert key not in listed.content.decode() and key not in caplog.text
    assert revoked.status_code == 200 and client.get(path).json() == []
    assert not accepted(authorizer, api, key)
