from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from dashboard.management.commands import _runs
from dashboard.projects import selectors as project_selectors
from dashboard.projects.models import Stage
from dashboard.runs import lifecycle
from dashboard.runs import selectors as run_selectors
from dashboard.runs.models import DeployedResource, Deployment
from provisioning.engine import Endpoint


class Command(BaseCommand):
    help = (
        "Show a stage: where it deploys, its latest run, the resources it has and the "
        "endpoints callers use."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project")
        parser.add_argument("--stage", default="dev")
        parser.add_argument(
            "--json",
            action="store_true",
            help="Print one JSON object (stage, last_run, resources, endpoints) for scripts.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stage = _runs.find_stage(options["project"], options["stage"])
        lifecycle.fail_stale_runs(stage=stage)
        latest = Deployment.objects.filter(stage=stage).exclude(kind="plan").first()
        resources = list(project_selectors.stage_resources(stage=stage))
        endpoints = run_selectors.stage_endpoints(stage=stage)
        if options["json"]:
            self.stdout.write(json.dumps(_as_json(stage, latest, resources, endpoints), indent=2))
        else:
            self._print_lines(stage, latest, resources, endpoints)

    def _print_lines(
        self,
        stage: Stage,
        latest: Deployment | None,
        resources: list[DeployedResource],
        endpoints: list[Endpoint],
    ) -> None:
        self.stdout.write(f"{stage}  target={stage.target}  region={stage.region}")
        if latest is None:
            self.stdout.write("never deployed")
        else:
            self.stdout.write(
                f"latest: {latest.kind} #{latest.pk} {latest.status} by {latest.triggered_by_name} "
                f"at {latest.created_at:%Y-%m-%d %H:%M:%S}"
                + (f"  error: {latest.error}" if latest.error else "")
            )
        self.stdout.write(f"{len(resources)} resources")
        for resource in resources:
            self.stdout.write(f"  {resource.logical_id}  {resource.type}  {resource.physical_id}")
        self.stdout.write(f"{len(endpoints)} endpoints" if endpoints else "no endpoints")
        for endpoint in endpoints:
            self.stdout.write(f"  {endpoint.method:<6} {endpoint.url}  auth={endpoint.auth}")
            self.stdout.write(f"         {endpoint.example}")


def _as_json(
    stage: Stage,
    latest: Deployment | None,
    resources: list[DeployedResource],
    endpoints: list[Endpoint],
) -> dict[str, Any]:
    last_run = None
    if latest is not None:
        last_run = {
            "id": latest.pk,
            "kind": latest.kind,
            "status": latest.status,
            "triggered_by": latest.triggered_by_name,
            "created_at": latest.created_at.isoformat(),
            "error": latest.error,
        }
    return {
        "stage": {"name": stage.name, "target": stage.target, "region": stage.region},
        "last_run": last_run,
        "resources": [
            {
                "logical_id": r.logical_id,
                "type": r.type,
                "physical_id": r.physical_id,
                "node": r.node,
            }
            for r in resources
        ],
        "endpoints": [endpoint.as_dict() for endpoint in endpoints],
    }
