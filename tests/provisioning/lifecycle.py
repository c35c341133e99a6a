"""Steps every provisioner test repeats: apply a spec the way the orchestrator does, plan again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioning.provisioners.base import Change, Provisioner
from provisioning.state import RecordedResource


def apply(
    provisioner: Provisioner,
    logical_id: str,
    properties: Mapping[str, Any],
    recorded: RecordedResource | None = None,
) -> RecordedResource:
    """Read, provision, and record the outcome, as the orchestrator would."""
    current = provisioner.get_current_state(properties, recorded)
    outputs = provisioner.provision(logical_id, properties, current)
    return RecordedResource(
        logical_id=logical_id,
        resource_type=provisioner.resource_type,
        physical_id=outputs["physical_id"],
        arn=outputs.get("arn", ""),
        outputs=outputs,
        properties=dict(properties),
    )


def replan(
    provisioner: Provisioner, properties: Mapping[str, Any], recorded: RecordedResource | None
) -> Change:
    current = provisioner.get_current_state(properties, recorded)
    logical_id = recorded.logical_id if recorded else "unrecorded"
    return provisioner.plan(logical_id, properties, recorded, current)


def changed(change: Change) -> list[str]:
    return [c.name for c in change.changes]
