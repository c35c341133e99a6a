"""The audit record: filters and paging, append-only rows, history outliving its project, exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from dashboard.access.models import Membership
from dashboard.history import selectors as history_selectors
from dashboard.projects import services as project_services
from dashboard.projects.models import Project
from dashboard.runs.models import AppendOnlyError, Deployment, DeploymentEvent

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def make_run(project: Project, index: int, **fields: Any) -> Deployment:
    values = {
        "stage": project.stages.get(name="dev"),
        "project_name": project.name,
        "stage_name": "dev",
        "kind": "deploy",
        "status": "SUCCEEDED",
        "triggered_by_name": "alice",
        "counts": {"succeeded": 2, "total": 2},
        **fields,
    }
    run = Deployment.objects.create(**values)
    # created_at is auto_now_add: spread the runs over hours, newest last. The plain base
    # manager stands in for a migration of old data here; the app's manager would refuse.
    Deployment._base_manager.filter(pk=run.pk).update(created_at=T0 + timedelta(hours=index))
    run.refresh_from_db()
    return run


def event(run: Deployment, seq: int, status: str = "succeeded") -> DeploymentEvent:
    return DeploymentEvent.objects.create(
        deployment=run, seq=seq, at=run.created_at, resource="agent/a/function", status=status
    )


def ids(page: history_selectors.Page) -> list[int]:
    return [r.pk for r in page.runs]


def test_history_filters_by_stage_status_user_kind_and_date(acme: Project, alice: Any) -> None:
    acme.stages.create(name="prod")
    a = make_run(acme, 1)
    b = make_run(acme, 2, status="FAILED", triggered_by_name="bob")
    c = make_run(acme, 3, kind="plan")
    d = make_run(acme, 30, stage=acme.stages.get(name="prod"), stage_name="prod")

    def page(**filters: str) -> list[int]:
        cleaned = history_selectors.clean_filters(filters)
        return ids(history_selectors.history_page(user=alice, project=acme, filters=cleaned))

    assert page() == [d.pk, c.pk, b.pk, a.pk]
    assert page(stage="prod") == [d.pk]
    assert page(status="FAILED") == [b.pk]
    assert page(user="bob") == [b.pk]
    assert page(kind="plan") == [c.pk]
    assert page(since="2026-11-02") == [d.pk]
    assert page(until="2026-11-01") == [c.pk, b.pk, a.pk]
    assert page(kind="nonsense") == page()  # unknown values are ignored, not an error


def test_history_pages_newest_first_without_gaps_or_repeats(acme: Project, alice: Any) -> None:
    runs = [make_run(acme, i) for i in range(12)]
    seen: list[int] = []

    page = history_selectors.history_page(user=alice, project=acme, size=5)
    seen += ids(page)
    while page.older:
        page = history_selectors.history_page(
            user=alice, project=acme, size=5, older_than=page.older
        )
        seen += ids(page)
    back = history_selectors.history_page(user=alice, project=acme, size=5, newer_than=page.newer)

    assert seen == [r.pk for r in reversed(runs)]
    assert ids(back) == [r.pk for r in reversed(runs)][5:10]


def test_history_across_projects_shows_only_the_users_projects(
    acme: Project, alice: Any, bob: Any, client: Client
) -> None:
    other = project_services.project_create(name="other", user=bob)
    mine = make_run(acme, 1)
    theirs = make_run(other, 2)
    client.force_login(alice)

    page = client.get(reverse("history_all")).content.decode()

    assert f'data-deployment="{mine.pk}"' in page
    assert f'data-deployment="{theirs.pk}"' not in page


def test_the_history_page_filters_through_the_query_string(
    acme: Project, alice: Any, client: Client
) -> None:
    make_run(acme, 1)
    failed = make_run(acme, 2, status="FAILED")
    client.force_login(alice)

    page = client.get(reverse("deployment_history", args=["acme"]), {"status": "FAILED"})

    assert page.content.decode().count("data-deployment=") == 1
    assert f'data-deployment="{failed.pk}"' in page.content.decode()


def test_an_event_cannot_be_changed_or_deleted(acme: Project) -> None:
    row = event(make_run(acme, 1), 1)

    row.message = "rewritten"
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()
    with pytest.raises(AppendOnlyError):
        DeploymentEvent.objects.filter(pk=row.pk).delete()
    with pytest.raises(AppendOnlyError):
        DeploymentEvent.objects.filter(pk=row.pk).update(message="rewritten")
    assert DeploymentEvent.objects.get(pk=row.pk).message == ""


def test_an_admin_user_cannot_delete_an_event(acme: Project, staff: Any, client: Client) -> None:
    staff.is_superuser = True
    staff.save()
    row = event(make_run(acme, 1), 1)
    client.force_login(staff)

    url = reverse("admin:dashboard_deploymentevent_delete", args=[row.pk])
    page = client.get(url)
    post = client.post(url, {"post": "yes"})
    bulk = client.post(
        reverse("admin:dashboard_deploymentevent_changelist"),
        {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"},
    )

    assert page.status_code == 403 and post.status_code == 403
    assert bulk.status_code in (200, 302, 403)
    assert DeploymentEvent.objects.filter(pk=row.pk).exists()


def test_a_finished_deployment_cannot_be_changed_or_deleted(acme: Project) -> None:
    run = make_run(acme, 1)

    run.status = "FAILED"
    with pytest.raises(AppendOnlyError):
        run.save()
    with pytest.raises(AppendOnlyError):
        run.delete()
    with pytest.raises(AppendOnlyError):
        Deployment.objects.filter(pk=run.pk).delete()
    assert Deployment.objects.filter(pk=run.pk).update(status="FAILED") == 0
    assert Deployment.objects.get(pk=run.pk).status == "SUCCEEDED"


def test_deleting_a_project_keeps_its_deployments_and_events(
    acme: Project, alice: Any, staff: Any, client: Client
) -> None:
    run = make_run(acme, 1)
    event(run, 1)

    project_services.project_delete(project=acme, user=alice)

    run.refresh_from_db()
    assert (run.stage_id, run.project_name, run.stage_name) == (None, "acme", "dev")
    assert run.project_id == acme.pk  # the project's tombstone
    assert run.events.count() == 1
    client.force_login(staff)
    assert f'data-deployment="{run.pk}"' in client.get(reverse("history_all")).content.decode()


def test_export_contains_the_runs_as_json_and_csv(
    acme: Project, alice: Any, client: Client
) -> None:
    runs = [make_run(acme, 1), make_run(acme, 2, kind="plan", plan={"summary": {"CREATE": 3}})]
    client.force_login(alice)

    as_json = client.get(reverse("project_export", args=["acme", "json"]))
    as_csv = client.get(reverse("project_export", args=["acme", "csv"]))

    data = json.loads(b"".join(as_json.streaming_content))
    assert [r["id"] for r in data] == [runs[1].pk, runs[0].pk]
    assert data[0]["plan_summary"] == {"CREATE": 3} and data[1]["triggered_by"] == "alice"
    assert as_json["Content-Disposition"] == 'attachment; filename="acme-history.json"'
    rows = list(csv.DictReader(io.StringIO(b"".join(as_csv.streaming_content).decode())))
    assert [int(r["id"]) for r in rows] == [runs[1].pk, runs[0].pk]
    assert rows[1]["kind"] == "deploy" and rows[1]["succeeded"] == "2"


def test_the_export_command_writes_json_and_csv_even_after_the_project_is_gone(
    acme: Project, alice: Any
) -> None:
    run = make_run(acme, 1)
    event(run, 1)
    project_services.project_delete(project=acme, user=alice)

    out = io.StringIO()
    call_command("export", "acme", "--format", "json", "--events", stdout=out)
    csv_out = io.StringIO()
    call_command("export", "acme", "--format", "csv", stdout=csv_out)

    data = json.loads(out.getvalue())
    assert [r["id"] for r in data] == [run.pk] and len(data[0]["events"]) == 1
    assert csv_out.getvalue().splitlines()[0].startswith("id,project,stage,kind,status")
    assert f"\n{run.pk},acme,dev,deploy,SUCCEEDED" in csv_out.getvalue().replace("\r", "")


def test_a_viewer_sees_history_but_cannot_redeploy(acme: Project, bob: Any, client: Client) -> None:
    Membership.objects.create(project=acme, user=bob, role="viewer")
    run = make_run(acme, 1)
    client.force_login(bob)

    assert client.get(reverse("deployment_history", args=["acme"])).status_code == 200
    assert client.post(reverse("redeploy", args=[run.pk])).status_code in (302, 403)
    assert not Deployment.objects.filter(source_deployment=run).exists()
