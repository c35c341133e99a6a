"""The engine's state on DeployedResource rows: what one run saves, the next one loads."""

from __future__ import annotations

import pytest

from dashboard.projects.models import Project
from dashboard.runs.models import DeployedResource
from dashboard.runs.store import DbStateStore
from provisioning.state import RecordedResource

pytestmark = pytest.mark.django_db


def _role(physical_id: str = "acme-dev-support") -> RecordedResource:
    return RecordedResource(
        logical_id="agent/support/role",
        resource_type="iam:role",
        physical_id=physical_id,
        arn=f"arn:aws:iam::123456789012:role/{physical_id}",
        outputs={"arn": f"arn:aws:iam::123456789012:role/{physical_id}"},
        properties_hash="abc",
        properties={"RoleName": physical_id},
        node="agent:support",
        depends_on=("agent/support/log-group",),
    )


def test_a_saved_resource_loads_back_the_same(acme: Project) -> None:
    store = DbStateStore(acme.stages.get())

    store.save(_role())

    assert DbStateStore(acme.stages.get()).load() == {"agent/support/role": _role()}


def test_saving_again_replaces_the_row_and_delete_forgets_it(acme: Project) -> None:
    store = DbStateStore(acme.stages.get())
    store.save(_role())

    store.save(_role("acme-dev-support-2"))
    assert DeployedResource.objects.get().physical_id == "acme-dev-support-2"

    store.delete("agent/support/role")
    store.delete("agent/support/role")  # already gone is fine
    assert store.load() == {}


def test_stages_keep_separate_state(acme: Project) -> None:
    other = acme.stages.create(name="prod")
    DbStateStore(acme.stages.get(name="dev")).save(_role())

    assert DbStateStore(other).load() == {}
