"""What a finished plan or refresh leaves behind on other rows: the plan's fingerprint, drift marks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dashboard.projects.models import Stage
from dashboard.runs.models import DeployedResource, Deployment

MISSING_MARK = "(resource)"


# --- what the runner records -------------------------------------------------------------------
def record_fingerprint(deployment_id: int, fingerprint: str) -> None:
    Deployment.objects.filter(pk=deployment_id).update(plan_fingerprint=fingerprint)


def record_drift(stage: Stage, results: Iterable[Mapping[str, Any]]) -> None:
    """Leave each resource's findings on its row; in-sync resources are cleared."""
    for result in results:
        found: list[dict[str, Any]] = list(result.get("properties") or [])
        if result.get("status") == "missing":
            found = [{"name": MISSING_MARK, "recorded": "exists", "live": "missing"}]
        DeployedResource.objects.filter(stage=stage, logical_id=result["logical_id"]).update(
            drift=found
        )
