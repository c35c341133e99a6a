"""Helpers for the EC2 provisioner tests: apply a spec the way the orchestrator would."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.awsrequest import AWSResponse

from provisioning.aws import AwsContext
from provisioning.provisioners.base import Action, Change, Provisioner
from provisioning.state import RecordedResource


def apply(p: Provisioner, logical_id: str, props: Mapping[str, Any], recorded=None):
    """get_current_state -> provision -> the record the orchestrator would save."""
    current = p.get_current_state(props, recorded)
    outputs = p.provision(logical_id, props, current)
    return RecordedResource(
        logical_id,
        p.resource_type,
        outputs["physical_id"],
        outputs.get("arn", ""),
        outputs,
        properties=dict(props),
    )


def plan(p: Provisioner, logical_id: str, props: Mapping[str, Any], recorded) -> Change:
    return p.plan(logical_id, props, recorded, p.get_current_state(props, recorded))


def changed_names(change: Change) -> set[str]:
    return {c.name for c in change.changes}


def lifecycle(
    p: Provisioner,
    logical_id: str,
    props: Mapping[str, Any],
    *,
    mutate: Mapping[str, Any],
    drift: Callable[[RecordedResource], None],
    drifted: str,
) -> None:
    """create -> NO_CHANGE -> change -> exactly it -> drift seen -> destroy -> destroy again."""
    record = apply(p, logical_id, props)
    assert plan(p, logical_id, props, record).action == Action.NO_CHANGE

    changed = {**props, **mutate}
    change = plan(p, logical_id, changed, record)
    assert change.action == Action.UPDATE
    assert changed_names(change) == set(mutate)
    record = apply(p, logical_id, changed, record)
    assert plan(p, logical_id, changed, record).action == Action.NO_CHANGE

    drift(record)
    change = plan(p, logical_id, changed, record)
    assert change.action == Action.UPDATE
    assert changed_names(change) == {drifted}
    record = apply(p, logical_id, changed, record)
    assert plan(p, logical_id, changed, record).action == Action.NO_CHANGE

    p.destroy(record)
    assert p.get_current_state(changed, record) is None
    p.destroy(record)  # already gone counts as done


def refuse(aws: AwsContext, operation: str, code: str, times: int) -> list[int]:
    """Make the next `times` calls of an EC2 operation fail with `code` (before moto sees them)."""
    calls = [0]

    def handler(**_kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] > times:
            return None
        error = {"Error": {"Code": code, "Message": f"{operation} refused: {code}"}}
        return (AWSResponse("https://ec2", 400, {}, None), error)

    aws.client("ec2").meta.events.register(f"before-call.ec2.{operation}", handler)
    return calls


class FakeTime:
    """A clock that moves only when the code sleeps: bounded waits end at once."""

    def __init__(self, on_sleep: Callable[[int], None] | None = None) -> None:
        self.now = 0.0
        self.sleeps = 0
        self.on_sleep = on_sleep

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.sleeps += 1
        if self.on_sleep:
            self.on_sleep(self.sleeps)
