"""The engine's `StateStore` on `DeployedResource` rows: one stage's record of what exists."""

from __future__ import annotations

from django.db import transaction

from dashboard.projects.models import Stage
from dashboard.runs.models import DeployedResource, Deployment
from provisioning.state import RecordedResource


def _record(row: DeployedResource) -> RecordedResource:
    return RecordedResource(
        logical_id=row.logical_id,
        resource_type=row.type,
        physical_id=row.physical_id,
        arn=row.arn,
        outputs=dict(row.outputs),
        properties_hash=row.properties_hash,
        properties=dict(row.properties),
        node=row.node or None,
        depends_on=tuple(row.depends_on),
    )


class DbStateStore:
    """Saves each resource as soon as it is made, so a crash mid-run loses nothing made."""

    def __init__(self, stage: Stage, deployment: Deployment | None = None) -> None:
        self.stage = stage
        self.deployment = deployment

    def load(self) -> dict[str, RecordedResource]:
        rows = DeployedResource.objects.filter(stage=self.stage)
        return {row.logical_id: _record(row) for row in rows}

    def save(self, record: RecordedResource) -> None:
        with transaction.atomic():
            DeployedResource.objects.update_or_create(
                stage=self.stage,
                logical_id=record.logical_id,
                defaults={
                    "type": record.resource_type,
                    "physical_id": record.physical_id,
                    "arn": record.arn,
                    "node": record.node or "",
                    "outputs": dict(record.outputs),
                    "properties": dict(record.properties),
                    "properties_hash": record.properties_hash,
                    "depends_on": list(record.depends_on),
                    "last_deployment": self.deployment,
                    "drift": [],  # just made to match the blueprint: a refresh found nothing since
                },
            )

    def delete(self, logical_id: str) -> None:
        DeployedResource.objects.filter(stage=self.stage, logical_id=logical_id).delete()
