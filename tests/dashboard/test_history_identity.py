"""History belongs to a project's identity, not its name: a deleted project's runs never
reach a new project that takes the name (pages, run pages, filters, exports, the CLI)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db.models import ProtectedError
from django.test import Client
from django.urls import reverse

from dashboard.projects import services as project_services
from dashboard.projects.models import Project
from dashboard.runs.models import Deployment, DeploymentEvent

pytestmark = pytest.mark.django_db


def run_of(project: Project, who: str, **fields: Any) -> Deployment:
    values = {"kind": "deploy", "status": "FAILED", "error": f"{who}'s secret-ish error"}
    run = Deployment.objects.create(
        stage=project.stages.get(name="dev"),
        project_name=project.name,
        stage_name="dev",
        triggered_by_name=who,
        **{**values, **fields},
    )
    DeploymentEvent.objects.create(
        deployment=run, seq=1, at=run.created_at, resource="agent/a/function", status="failed"
    )
    return run


@pytest.fixture
def old_runs(acme: Project, alice: Any) -> list[Deployment]:
    """Given alice's "acme" with two runs, deleted by alice."""
    runs = [run_of(acme, "alice"), run_of(acme, "alice", kind="plan", status="SUCCEEDED")]
    project_services.project_delete(project=acme, user=alice)
    return runs


@pytest.fixture
def new_acme(old_runs: list[Deployment], bob: Any) -> Project:
    """Then bob creates a new "acme"."""
    return project_services.project_create(name="acme", user=bob)


def page_ids(response: Any) -> str:
    return response.content.decode()


def exported_ids(response: Any, fmt: str) -> list[int]:
    body = b"".join(response.streaming_content).decode()
    if fmt == "json":
        return [row["id"] for row in json.loads(body)]
    return [int(row["id"]) for row in csv.DictReader(io.StringIO(body))]


def test_a_new_project_named_like_a_deleted_one_sees_none_of_its_history(
    old_runs: list[Deployment], new_acme: Project, bob: Any, client: Client
) -> None:
    mine = run_of(new_acme, "bob")
    client.force_login(bob)

    lists = [
        client.get(reverse("deployment_history", args=["acme"])),
        client.get(reverse("deployment_history", args=["acme"]), {"user": "alice"}),
        client.get(reverse("deployment_history", args=["acme"]), {"kind": "plan"}),
        client.get(reverse("history_all")),
        client.get(reverse("history_all"), {"user": "alice", "project": "acme"}),
    ]
    details = [client.get(reverse("deployment_detail", args=[run.pk])) for run in old_runs]
    exports = {
        (fmt, url): exported_ids(client.get(reverse(url, args=args)), fmt)
        for fmt in ("json", "csv")
        for url, args in (("project_export", ["acme", fmt]), ("history_export", [fmt]))
    }

    for response in lists:
        assert response.status_code == 200
        for run in old_runs:
            assert f'data-deployment="{run.pk}"' not in page_ids(response)
        assert '<option value="alice"' not in page_ids(response)  # the "Who" filter's choices
    assert f'data-deployment="{mine.pk}"' in page_ids(lists[0])
    assert [d.status_code for d in details] == [404, 404]
    assert all(ids == [mine.pk] for ids in exports.values()), exports


def test_the_old_runs_stay_in_the_record_with_their_name_and_identity(
    old_runs: list[Deployment], new_acme: Project
) -> None:
    old_project = old_runs[0].project_id
    kept = Deployment.objects.filter(pk__in=[r.pk for r in old_runs])

    assert (
        sorted(kept.values_list("project_name", "project_id", "stage_id"))
        == [("acme", old_project, None)] * 2
    )
    assert DeploymentEvent.objects.filter(deployment__in=kept).count() == 2
    tombstone = Project.with_deleted.get(pk=old_project)
    assert tombstone.name == "acme" and tombstone.is_deleted
    assert new_acme.pk != old_project
    assert list(Project.objects.filter(name="acme")) == [new_acme]


def test_staff_still_read_a_deleted_projects_runs_marked_as_deleted(
    old_runs: list[Deployment], new_acme: Project, staff: Any, client: Client
) -> None:
    client.force_login(staff)

    detail = client.get(reverse("deployment_detail", args=[old_runs[0].pk]))
    everything = client.get(reverse("history_all")).content.decode()

    assert detail.status_code == 200
    assert f'data-deployment="{old_runs[0].pk}"' in everything
    assert ">deleted</span>" in everything


def test_a_deleted_projects_members_lose_its_history(
    old_runs: list[Deployment], alice: Any, client: Client
) -> None:
    client.force_login(alice)

    detail = client.get(reverse("deployment_detail", args=[old_runs[0].pk]))
    everything = client.get(reverse("history_all")).content.decode()

    assert detail.status_code == 404
    assert "data-deployment=" not in everything


def test_the_history_command_lists_only_the_live_projects_runs(
    old_runs: list[Deployment], new_acme: Project
) -> None:
    out = io.StringIO()
    call_command("history", "acme", stdout=out)

    assert out.getvalue().strip() == "no runs yet"


def test_the_export_command_exports_one_identity_and_asks_which_when_several(
    old_runs: list[Deployment], new_acme: Project, bob: Any
) -> None:
    mine = run_of(new_acme, "bob")

    def export(*args: str) -> list[int]:
        out = io.StringIO()
        call_command("export", "acme", "--format", "json", *args, stdout=out, stderr=io.StringIO())
        return [row["id"] for row in json.loads(out.getvalue())]

    live = export()
    old = export("--id", str(old_runs[0].project_id))
    project_services.project_delete(project=new_acme, user=bob)

    assert live == [mine.pk]
    assert old == [run.pk for run in reversed(old_runs)]
    with pytest.raises(CommandError, match=rf"--id {new_acme.pk} .*--id {old_runs[0].project_id} "):
        export()


def test_a_project_with_runs_is_never_removed_outright(acme: Project, alice: Any) -> None:
    run_of(acme, "alice")

    with pytest.raises(ProtectedError):
        acme.delete()


def test_the_admin_cannot_delete_a_project_out_from_under_its_history(
    acme: Project, staff: Any, client: Client
) -> None:
    staff.is_superuser = True
    staff.save()
    run = run_of(acme, "alice")
    client.force_login(staff)

    refused = client.post(
        reverse("admin:dashboard_project_delete", args=[acme.pk]), {"post": "yes"}
    )

    run.refresh_from_db()
    assert refused.status_code == 403
    assert Project.objects.get(pk=acme.pk) == acme and run.stage_id is not None


def test_the_admin_lists_tombstones_next_to_live_projects(
    old_runs: list[Deployment], new_acme: Project, staff: Any, client: Client
) -> None:
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)

    listing = client.get(reverse("admin:dashboard_project_changelist")).content.decode()
    tombstone = client.get(reverse("admin:dashboard_project_change", args=[old_runs[0].project_id]))

    assert listing.count(">acme</a>") == 2
    assert tombstone.status_code == 200
