"""Runs through the API: starting them, reading one, cancelling, history, drift and events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import cache
from django.test import AsyncClient

from dashboard.projects.models import Project, Stage
from dashboard.runs import queue
from dashboard.runs.lifecycle import Outcome, finish
from dashboard.runs.models import Deployment
from dashboard.runs.progress import DbProgressSink
from tests.dashboard.api_fixtures import (  # noqa: F401 (fixtures)
    ApiClient,
    api_fixture,
    owner_fixture,
    project_fixture,
    stranger_api_fixture,
    viewer_api_fixture,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_windows() -> None:
    cache.clear()


def _finished_run(project: Project, events: int = 3) -> Deployment:
    """A plan that ran: `events` resource events, then its end (which adds the final event)."""
    stage = Stage.objects.get(project=project)
    run = Deployment.objects.create(
        stage=stage, project=project, project_name=project.name, stage_name=stage.name,
        kind="plan", status=Deployment.Status.RUNNING,
    )  # fmt: skip
    sink = DbProgressSink(run)
    for n in range(events):
        sink.record(status="succeeded", resource=f"r{n}", action="CREATE", message=f"made r{n}")
    finish(run, Outcome(Deployment.Status.SUCCEEDED))
    run.refresh_from_db()
    return run


def _read_stream(answer: Any) -> str:
    async def chunks() -> list[bytes]:
        return [chunk async for chunk in answer.streaming_content]

    return b"".join(async_to_sync(chunks)()).decode()


def test_plan_deploy_and_refresh_start_runs_with_their_addresses(api: ApiClient) -> None:
    plan = api.post("/api/projects/acme/stages/dev/plan")
    assert plan.status_code == 202
    body = plan.json()
    assert body["kind"] == "plan" and body["status"] == "QUEUED"
    assert body["url"] == f"/deployments/{body['id']}/"
    assert body["events_url"] == f"/api/runs/{body['id']}/events"
    assert api.get(f"/api/runs/{body['id']}").json()["id"] == body["id"]


def test_a_second_deploy_while_one_is_queued_is_refused(api: ApiClient) -> None:
    api.post("/api/projects/acme/stages/dev/destroy")
    answer = api.post("/api/projects/acme/stages/dev/deploy")
    assert answer.status_code == 400
    assert "already queued or running" in answer.json()["error"]


def test_destroy_is_for_owners(viewer_api: ApiClient) -> None:
    assert viewer_api.post("/api/projects/acme/stages/dev/destroy").status_code == 403


def test_a_queued_run_is_cancelled(api: ApiClient) -> None:
    run = api.post("/api/projects/acme/stages/dev/plan").json()
    cancelled = api.post(f"/api/runs/{run['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
    again = api.post(f"/api/runs/{run['id']}/cancel")
    assert again.status_code == 400 and "already finished" in again.json()["error"]


def test_others_cannot_see_a_run(api: ApiClient, stranger_api: ApiClient) -> None:
    run = api.post("/api/projects/acme/stages/dev/plan").json()
    assert stranger_api.get(f"/api/runs/{run['id']}").status_code == 404
    assert stranger_api.get(f"/api/runs/{run['id']}/events").status_code == 404


def test_the_history_is_paged_newest_first(api: ApiClient) -> None:
    ids = []
    for _ in range(3):
        run = api.post("/api/projects/acme/stages/dev/plan").json()
        api.post(f"/api/runs/{run['id']}/cancel")
        ids.append(run["id"])
    first = api.get("/api/projects/acme/runs", limit=2).json()
    assert [r["id"] for r in first["runs"]] == ids[::-1][:2]
    rest = api.get("/api/projects/acme/runs", limit=2, offset=first["next_offset"]).json()
    assert [r["id"] for r in rest["runs"]] == ids[:1] and rest["next_offset"] is None


def test_deploying_something_other_than_a_finished_plan_is_refused(api: ApiClient) -> None:
    run = api.post("/api/projects/acme/stages/dev/plan").json()
    answer = api.post(f"/api/runs/{run['id']}/deploy")
    assert answer.status_code == 400 and "not a finished plan" in answer.json()["error"]
    approve = api.post(f"/api/runs/{run['id']}/approve")
    assert approve.status_code == 400


def test_drift_of_a_stage_never_refreshed_is_empty(api: ApiClient) -> None:
    drift = api.get("/api/projects/acme/stages/dev/drift").json()
    assert drift["last_refresh"] is None and drift["drifted"] == [] and drift["orphans"] == []
    refused = api.post("/api/projects/acme/stages/dev/orphans/delete", {"arns": []})
    assert refused.status_code == 400 and "choose an orphan" in refused.json()["error"]
    accept = api.post(
        "/api/projects/acme/stages/dev/drift/accept", {"logical_id": "x", "property": "y"}
    )
    assert accept.status_code == 400
    assert api.post("/api/projects/acme/stages/dev/refresh").status_code == 202


def test_events_as_json_after_a_sequence_number(api: ApiClient, project: Project) -> None:
    run = _finished_run(project)
    answer = api.get(f"/api/runs/{run.pk}/events", after=2).json()
    assert answer["status"] == "SUCCEEDED"
    assert [e["seq"] for e in answer["events"]] == [3, 4]


def test_the_event_stream_delivers_a_finished_runs_events_and_closes(
    api: ApiClient, project: Project
) -> None:
    run = _finished_run(project)
    answer = api.get(f"/api/runs/{run.pk}/events", headers={"Accept": "text/event-stream"})
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/event-stream")
    text = _read_stream(answer)  # returns: the stream closed
    frames = [f for f in text.split("\n\n") if f.startswith("id:")]
    assert [f.splitlines()[0] for f in frames] == ["id: 1", "id: 2", "id: 3", "id: 4"]
    last = json.loads(frames[-1].splitlines()[1].removeprefix("data: "))
    assert last["status"] == "succeeded" and last["resource"] is None


def test_the_stream_resumes_after_the_last_event_id(api: ApiClient, project: Project) -> None:
    run = _finished_run(project)
    answer = api.get(
        f"/api/runs/{run.pk}/events",
        headers={"Accept": "text/event-stream", "Last-Event-ID": "3"},
    )
    text = _read_stream(answer)
    assert [line for line in text.splitlines() if line.startswith("id:")] == ["id: 4"]


@pytest.mark.django_db(transaction=True)
def test_a_queue_that_is_down_is_503(api: ApiClient, monkeypatch: Any) -> None:
    def refuse(run: Deployment) -> None:
        raise queue.QueueUnavailable(queue.QUEUE_DOWN, run.pk)

    monkeypatch.setattr(queue, "enqueue", refuse)
    answer = api.post("/api/projects/acme/stages/dev/plan")
    assert answer.status_code == 503 and answer["Retry-After"] == "30"
    assert answer.json()["error"] == queue.QUEUE_DOWN


def test_the_stream_is_served_by_the_asgi_handler(api: ApiClient, project: Project) -> None:
    run = _finished_run(project, events=1)

    async def over_asgi() -> tuple[int, str]:
        client = AsyncClient()
        headers = {"Authorization": f"Bearer {api.secret}", "Accept": "text/event-stream"}
        answer = await client.get(f"/api/runs/{run.pk}/events", headers=headers)
        body = b"".join([chunk async for chunk in answer.streaming_content]).decode()
        return answer.status_code, body

    status, body = async_to_sync(over_asgi)()
    assert status == 200
    assert [line for line in body.splitlines() if line.startswith("id:")] == ["id: 1", "id: 2"]
