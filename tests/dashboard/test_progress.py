"""Progress events become numbered rows in the DESIGN.md event shape."""

from __future__ import annotations

from typing import Any

import pytest

from dashboard.projects.models import Project
from dashboard.runs import selectors as run_selectors
from dashboard.runs import services as run_services
from dashboard.runs.progress import DbProgressSink
from provisioning.events import Event, EventStatus

pytestmark = pytest.mark.django_db


def test_events_get_increasing_seq_and_read_back_as_event_json(acme: Project, alice: Any) -> None:
    deployment = run_services.deployment_start(
        stage=acme.stages.get(), kind="deploy", user=alice, enqueue=False
    )
    sink = DbProgressSink(deployment)

    sink.emit(Event("agent/support/function", "lambda:function", "CREATE", EventStatus.STARTED))
    sink.emit(
        Event("agent/support/function", "lambda:function", "CREATE", EventStatus.SUCCEEDED, "", 812)
    )
    DbProgressSink(deployment).emit(Event(None, None, "PLAN", EventStatus.INFO, "plan: 1 create"))

    events = run_selectors.deployment_events(deployment=deployment)
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert events[1] == {
        "seq": 2,
        "deployment": deployment.pk,
        "at": events[1]["at"],
        "resource": "agent/support/function",
        "type": "lambda:function",
        "action": "CREATE",
        "status": "succeeded",
        "message": "",
        "elapsed_ms": 812,
    }
    assert events[1]["at"].endswith("Z")
    assert events[2]["resource"] is None
    assert run_selectors.deployment_events(deployment=deployment, after=2) == events[2:]


@pytest.mark.parametrize(
    ("message", "total"),
    [
        ("plan: 3 create, 1 no change, 2 update", 5),
        ("plan: 1 no change", 0),
        ("plan: nothing to do", 0),
        ("destroying 7 resources", 7),
        ("deleting 2 orphans", 2),
    ],
)
def test_the_engines_opening_line_carries_the_runs_total(
    acme: Project, alice: Any, message: str, total: int
) -> None:
    deployment = run_services.deployment_start(
        stage=acme.stages.get(), kind="deploy", user=alice, enqueue=False
    )
    sink = DbProgressSink(deployment)

    sink.emit(Event(None, None, "PLAN", EventStatus.INFO, message))
    sink.emit(Event(None, None, "APPLY", EventStatus.INFO, "in-flight limit 8 (throttled)"))
    sink.emit(Event("bucket/docs", "s3:bucket", "CREATE", EventStatus.INFO, "plan: 1 create"))

    opening, other, note = run_selectors.deployment_events(deployment=deployment)
    assert opening["total"] == total
    assert "total" not in other
    assert "total" not in note
