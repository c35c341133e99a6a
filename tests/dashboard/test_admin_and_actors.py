"""The audit record cannot be edited in the admin; actors never retry a run blindly."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from dashboard.projects.models import Project
from dashboard.runs import actors
from dashboard.runs import services as run_services
from dashboard.runs.models import Deployment, DeploymentEvent
from dashboard.runs.progress import DbProgressSink

pytestmark = pytest.mark.django_db


def test_staff_can_read_but_not_add_change_or_delete_runs_and_events(
    acme: Project, alice: Any, admin_client: Client
) -> None:
    deployment = run_services.deployment_start(
        stage=acme.stages.get(), kind="plan", user=alice, enqueue=False
    )
    DbProgressSink(deployment).record(status="info", message="hello")
    event = DeploymentEvent.objects.get()

    listing = admin_client.get("/admin/dashboard/deployment/")
    add = admin_client.get("/admin/dashboard/deployment/add/")
    delete = admin_client.post(
        f"/admin/dashboard/deployment/{deployment.pk}/delete/", {"post": "yes"}
    )
    admin_client.post(f"/admin/dashboard/deploymentevent/{event.pk}/change/", {"message": "x"})

    assert listing.status_code == 200 and b"acme" in listing.content
    assert add.status_code == 403 and delete.status_code == 403
    event.refresh_from_db()
    assert event.message == "hello" and Deployment.objects.filter(pk=deployment.pk).exists()


def test_every_actor_takes_an_id_and_is_never_retried() -> None:
    for kind, actor in actors.ACTORS.items():
        assert actor.actor_name == kind
        assert actor.options["max_retries"] == 0
        assert actor.options["time_limit"] >= 3600 * 1000
        assert actors.actor_for(kind) is actor
