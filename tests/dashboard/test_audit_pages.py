"""The audit tab (members see their project's log), the staff log, exports and the API."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.test import Client

from dashboard.access import services as access_services
from dashboard.audit import views as audit_views
from dashboard.projects import services as project_services
from dashboard.projects.models import Project
from tests.dashboard.api_fixtures import ApiClient, personal

pytestmark = pytest.mark.django_db


@pytest.fixture
def changes(acme: Project, alice: Any, bob: Any) -> Project:
    """acme: created by alice, two agents, bob invited as a viewer; and bob's own project."""
    project_services.agent_create(project=acme, user=alice, data={"name": "a"})
    project_services.agent_create(project=acme, user=alice, data={"name": "b"})
    access_services.member_invite(project=acme, user=alice, username="bob", role="viewer")
    project_services.project_create(name="other", user=bob)
    return acme


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_viewer_sees_the_projects_changes_filtered_by_action_and_actor(
    changes: Project, bob: Any
) -> None:
    page = logged_in(bob).get("/projects/acme/audit/", {"action": "node"})
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        html.count('data-action="node.create"') == 2
        and "member.invite" not in html.split("<section")[1]
    )
    html = logged_in(bob).get("/projects/acme/audit/", {"actor": "bob"}).content.decode()
    assert "No changes match." in html


def test_the_date_range_filters(changes: Project, bob: Any) -> None:
    html = logged_in(bob).get("/projects/acme/audit/", {"until": "2000-01-01"}).content.decode()
    assert "No changes match." in html


def test_pages_of_older_entries(
    changes: Project, bob: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_views, "PAGE_SIZE", 2)
    first = logged_in(bob).get("/projects/acme/audit/").content.decode()
    assert first.count("data-entry=") == 2 and 'rel="next"' in first
    cursor = first.split("before=")[1].split('"')[0]
    second = logged_in(bob).get(f"/projects/acme/audit/?before={cursor}").content.decode()
    assert second.count("data-entry=") == 2 and 'rel="next"' not in second


def test_outsiders_see_no_audit_tab_and_only_staff_see_every_project(
    changes: Project, bob: Any, staff: Any, django_user_model: Any
) -> None:
    stranger = django_user_model.objects.create_user("eve", password="eve-password-1")
    assert logged_in(stranger).get("/projects/acme/audit/").status_code == 404
    assert logged_in(bob).get("/audit/").status_code == 302  # to the staff login
    html = logged_in(staff).get("/audit/").content.decode()
    assert "acme" in html and "other" in html


def test_exports_as_csv_and_json(changes: Project, bob: Any) -> None:
    response = logged_in(bob).get("/projects/acme/audit/export.csv", {"action": "member"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["action"], r["target"], r["actor"]) for r in rows] == [
        ("member.invite", "bob", "alice")
    ]
    response = logged_in(bob).get("/projects/acme/audit/export.json")
    entries = json.loads(b"".join(response.streaming_content))
    assert [e["action"] for e in entries][-1] == "project.create"
    assert all(e["project"] == "acme" for e in entries)


def test_the_api_lists_a_projects_changes_with_a_token(changes: Project, bob: Any) -> None:
    api = ApiClient(personal(bob))
    body = api.get("/api/projects/acme/audit", action="node", size=1).json()
    assert [e["target"] for e in body["entries"]] == ["agent:b"]
    more = api.get("/api/projects/acme/audit", action="node", before=body["older"]).json()
    assert [e["target"] for e in more["entries"]] == ["agent:a"] and more["older"] is None
    assert api.get("/api/audit").status_code == 403
