"""Logging in, the project list and the project page."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from dashboard.projects import services as project_services
from dashboard.projects.models import NAME_HELP, Project
from dashboard.runs.models import DeployedResource, Deployment
from tests.dashboard.view_fixtures import (  # noqa: F401 (fixtures)
    PASSWORD,
    htmx,
    owner_client_fixture,
    owner_fixture,
    project_fixture,
    stranger_client_fixture,
    viewer_client_fixture,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        reverse("project_list"),
        reverse("project_detail", args=["acme"]),
        reverse("agent_create", args=["acme"]),
        reverse("deployment_history", args=["acme"]),
        reverse("deployment_detail", args=[1]),
    ],
)
def test_every_page_sends_an_anonymous_visitor_to_log_in(client: Client, url: str) -> None:
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_logging_in_leads_to_the_project_list(client: Client, owner: Any) -> None:
    page = client.get(reverse("login"))
    assert page.status_code == 200 and b'name="password"' in page.content

    response = client.post(
        reverse("login"), {"username": "olivia", "password": PASSWORD}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("project_list")
    assert b"Log out" in response.content


def test_a_wrong_password_is_refused_on_the_login_page(client: Client, owner: Any) -> None:
    response = client.post(reverse("login"), {"username": "olivia", "password": "nope"})

    assert response.status_code == 200
    assert b"enter a correct username and password" in response.content


def test_logging_out_ends_the_session(owner_client: Client) -> None:
    owner_client.post(reverse("logout"))

    assert owner_client.get(reverse("project_list")).status_code == 302


def test_a_new_user_sees_an_empty_state_inviting_them_to_create_a_project(
    owner_client: Client,
) -> None:
    response = owner_client.get(reverse("project_list"))

    assert b"No projects yet." in response.content
    assert b"Create project" in response.content


def test_the_project_list_shows_each_stages_last_run_and_resources(
    owner_client: Client, project: Project, owner: Any, django_assert_max_num_queries: Any
) -> None:
    # Given acme/dev with a plan, then a deploy by olivia that left two resources
    dev = project.stages.get(name="dev")
    for kind in ("plan", "deploy"):
        run = Deployment.objects.create(
            stage=dev, project_name="acme", stage_name="dev", kind=kind,
            status="SUCCEEDED", triggered_by=owner, triggered_by_name="olivia",
        )  # fmt: skip
    for lid in ("agent/support/role", "agent/support/function"):
        DeployedResource.objects.create(stage=dev, logical_id=lid, type="x", physical_id=lid)
    # And another project with a stage that never ran
    project_services.project_create(name="beta", user=owner)

    # When olivia opens the projects list (its queries do not grow with the projects)
    with django_assert_max_num_queries(8):
        response = owner_client.get(reverse("project_list"))

    # Then each stage shows its last run, linked, with its status, who and what it holds
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())
    assert f"acme Support bots dev Deploy #{run.id} Succeeded" in text
    assert "just now by olivia 2 resources" in text
    assert "beta dev never run 0 resources" in text
    assert f'href="{reverse("deployment_detail", args=[run.id])}"' in response.content.decode()


def test_creating_a_project_opens_its_page_with_a_dev_stage(owner_client: Client) -> None:
    response = owner_client.post(
        reverse("project_list"), {"name": "helpdesk", "description": "Tier one"}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("project_detail", args=["helpdesk"])
    page = response.content.decode()
    assert "<h1>helpdesk</h1>" in page
    assert 'data-stage="dev"' in page
    assert "No agents yet." in page


@pytest.mark.parametrize("bad_name", ["Acme", "acme_bot", "9lives", "a" * 33, "acme-"])
def test_a_name_aws_cannot_take_is_refused_saying_what_is_allowed(
    owner_client: Client, bad_name: str
) -> None:
    response = owner_client.post(reverse("project_list"), {"name": bad_name})

    assert response.status_code == 400
    assert NAME_HELP.split(":")[0] in response.content.decode()
    assert not Project.objects.filter(name=bad_name).exists()


def test_a_taken_project_name_is_shown_next_to_the_name_field(
    owner_client: Client, project: Project
) -> None:
    response = owner_client.post(reverse("project_list"), {"name": "acme"})

    assert response.status_code == 400
    assert "already exists" in response.content.decode()


def test_an_htmx_create_with_errors_answers_only_the_form(owner_client: Client) -> None:
    response = owner_client.post(reverse("project_list"), {"name": "Bad Name"}, **htmx())

    body = response.content.decode()
    assert response.status_code == 400
    assert 'id="create-project"' in body
    assert "<html" not in body


def test_an_htmx_create_that_succeeds_redirects_the_browser(owner_client: Client) -> None:
    response = owner_client.post(reverse("project_list"), {"name": "newbie"}, **htmx())

    assert response["HX-Redirect"] == reverse("project_detail", args=["newbie"])


def test_the_list_shows_only_projects_the_user_belongs_to(
    project: Project, stranger_client: Client
) -> None:
    response = stranger_client.get(reverse("project_list"))

    assert b"acme" not in response.content


def test_a_project_page_is_not_found_for_someone_outside_it(
    project: Project, stranger_client: Client
) -> None:
    assert stranger_client.get(reverse("project_detail", args=["acme"])).status_code == 404


def test_a_viewer_sees_the_project_but_no_edit_or_deploy_buttons(viewer_client: Client) -> None:
    page = viewer_client.get(reverse("project_detail", args=["acme"])).content.decode()

    assert "<h1>acme</h1>" in page
    assert "Add agent" not in page
    assert ">Deploy<" not in page
    assert "Destroy" not in page


def test_the_owner_sees_plan_deploy_and_destroy_for_each_stage(
    owner_client: Client, project: Project
) -> None:
    page = owner_client.get(reverse("project_detail", args=["acme"])).content.decode()

    assert reverse("stage_plan", args=["acme", "dev"]) in page
    assert reverse("stage_deploy", args=["acme", "dev"]) in page
    assert reverse("stage_destroy", args=["acme", "dev"]) in page
