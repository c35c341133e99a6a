"""Nothing lost on delete: a stage whose resources AWS still holds cannot be deleted, by the
project page, the services, the ORM or the admin, until a destroy has emptied it."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import ProtectedError
from django.test import Client
from django.urls import reverse

from dashboard.access.models import Membership
from dashboard.errors import ServiceError
from dashboard.projects import services as project_services
from dashboard.projects.models import Project, Stage
from dashboard.runs.models import DeployedResource, PendingOperation

pytestmark = pytest.mark.django_db


def deployed(project: Project, count: int, stage: str = "dev") -> list[DeployedResource]:
    """Given `count` resources recorded as deployed in the stage."""
    where = project.stages.get(name=stage)
    return [
        DeployedResource.objects.create(
            stage=where, logical_id=f"queue/jobs-{i}", type="sqs:queue", physical_id=f"q{i}"
        )
        for i in range(count)
    ]


def destroyed(project: Project) -> None:
    """What a successful destroy leaves: no record of anything in AWS."""
    DeployedResource.objects.filter(stage__project=project).delete()
    PendingOperation.objects.filter(stage__project=project).delete()


# --- the service -----------------------------------------------------------------------------
def test_a_project_with_deployed_resources_is_not_deleted(acme: Project, alice: Any) -> None:
    deployed(acme, 3)

    with pytest.raises(ServiceError, match=r"^destroy dev first: 3 resources are still in AWS$"):
        project_services.project_delete(project=acme, user=alice)

    assert Project.objects.filter(pk=acme.pk).exists()
    assert DeployedResource.objects.filter(stage__project=acme).count() == 3


def test_the_refusal_names_the_stage_that_holds_resources(acme: Project, alice: Any) -> None:
    Stage.objects.create(project=acme, name="prod")
    deployed(acme, 1, stage="prod")

    with pytest.raises(ServiceError, match=r"^destroy prod first: 1 resource is still in AWS$"):
        project_services.project_delete(project=acme, user=alice)

    assert acme.stages.count() == 2


def test_a_create_left_pending_by_a_dead_run_counts_as_in_aws(acme: Project, alice: Any) -> None:
    PendingOperation.objects.create(
        stage=acme.stages.get(name="dev"), logical_id="queue/jobs", type="sqs:queue"
    )

    with pytest.raises(ServiceError, match="destroy dev first: 1 resource is still in AWS"):
        project_services.project_delete(project=acme, user=alice)

    assert PendingOperation.objects.filter(stage__project=acme).count() == 1


def test_once_destroyed_the_project_is_deleted_as_a_tombstone(acme: Project, alice: Any) -> None:
    deployed(acme, 2)
    destroyed(acme)

    project_services.project_delete(project=acme, user=alice)

    assert Project.with_deleted.get(pk=acme.pk).is_deleted
    assert not Stage.objects.filter(project=acme).exists()


# --- any other caller: the foreign keys protect the records ----------------------------------
def test_no_cascade_takes_the_records_of_live_resources(acme: Project) -> None:
    deployed(acme, 2)
    stage = acme.stages.get(name="dev")

    with pytest.raises(ProtectedError):
        stage.delete()
    with pytest.raises(ProtectedError):
        Stage.objects.filter(project=acme).delete()

    assert DeployedResource.objects.filter(stage=stage).count() == 2


# --- the project page ------------------------------------------------------------------------
def test_the_owner_is_told_to_destroy_first(acme: Project, alice: Any, client: Client) -> None:
    deployed(acme, 4)
    client.force_login(alice)

    response = client.post(reverse("project_delete", args=["acme"]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("project_detail", args=["acme"])
    assert "destroy dev first: 4 resources are still in AWS" in response.content.decode()
    assert Project.objects.filter(pk=acme.pk).exists()
    assert DeployedResource.objects.filter(stage__project=acme).count() == 4


def test_the_owner_deletes_a_destroyed_project(acme: Project, alice: Any, client: Client) -> None:
    client.force_login(alice)

    response = client.post(reverse("project_delete", args=["acme"]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("project_list")
    assert "acme deleted" in response.content.decode()
    assert not Project.objects.filter(name="acme").exists()


def test_only_an_owner_may_delete(acme: Project, bob: Any, client: Client) -> None:
    Membership.objects.create(project=acme, user=bob, role="deployer")
    client.force_login(bob)

    response = client.post(reverse("project_delete", args=["acme"]))

    assert response.status_code == 403
    assert Project.objects.filter(pk=acme.pk).exists()


# --- the admin -------------------------------------------------------------------------------
def change_form(client: Client, project: Project, delete_stage: str) -> dict[str, Any]:
    """The project's admin change form as the browser would post it, one stage ticked for
    deletion."""
    page = client.get(reverse("admin:dashboard_project_change", args=[project.pk]))
    data: dict[str, Any] = {}
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update({f.html_name: f.value() for f in formset.management_form})
        for form in formset.forms:
            if form.instance.pk and getattr(form.instance, "name", None) == delete_stage:
                data[f"{form.prefix}-DELETE"] = "on"
        forms += formset.forms
    for form in forms:
        for field in form:
            value = field.value()
            if value is None or value is False:
                continue
            data[field.html_name] = "on" if value is True else value
    return data


@pytest.fixture
def superuser_client(staff: Any, client: Client) -> Client:
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    return client


def test_the_admin_refuses_to_delete_a_stage_with_live_resources(
    acme: Project, superuser_client: Client
) -> None:
    deployed(acme, 2)

    response = superuser_client.post(
        reverse("admin:dashboard_project_change", args=[acme.pk]),
        change_form(superuser_client, acme, "dev"),
    )

    assert response.status_code == 200  # the form again, with the reason
    assert "destroy dev first: 2 resources are still in AWS" in response.content.decode()
    assert acme.stages.filter(name="dev").exists()
    assert DeployedResource.objects.filter(stage__project=acme).count() == 2


def test_the_admin_deletes_a_destroyed_stage(acme: Project, superuser_client: Client) -> None:
    Stage.objects.create(project=acme, name="prod")

    response = superuser_client.post(
        reverse("admin:dashboard_project_change", args=[acme.pk]),
        change_form(superuser_client, acme, "prod"),
    )

    assert response.status_code == 302
    assert list(acme.stages.values_list("name", flat=True)) == ["dev"]


def test_the_admin_cannot_delete_a_project(acme: Project, superuser_client: Client) -> None:
    response = superuser_client.post(
        reverse("admin:dashboard_project_delete", args=[acme.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert Project.objects.filter(pk=acme.pk).exists()
