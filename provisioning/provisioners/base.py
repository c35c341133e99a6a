"""The provisioner contract: one class per AWS resource type.

`get_current_state` reads (terraform-provider-aws's "find"); `plan` compares (no AWS
call); `provision` makes AWS match the spec and returns outputs; `destroy` removes.
Provisioners never persist state or send progress: the orchestrator does both.

`provision` is written once, here, so every resource is made safely the same way:
  find   a resource not passed in is looked up by its deterministic name or tags (an
         interrupted run, or a reply lost after AWS made it) and, if ours, adopted;
  create `create` goes out exactly once (`create_once`): after a failure that may hide
         a success ("already exists", a 5xx, a dropped connection) it is found again
         and adopted rather than made twice;
  update `update` makes what AWS has match the spec (also what was just adopted);
  wait   `wait_until_usable` returns only once dependents can use it.
Subclasses implement `get_current_state`, `create`, `update` and `destroy`, as
terraform-provider-aws's resources implement find, create, update and delete.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from provisioning.aws import TAG_LOGICAL_ID, TAG_PROJECT, TAG_STAGE, AwsContext
from provisioning.errors import ProvisioningError, aws_errors
from provisioning.model.spec import has_unresolved, to_jsonable
from provisioning.provisioners.intents import create_once
from provisioning.state import RecordedResource
from provisioning.strands.layers import Builds


class Action(StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    REPLACE = "REPLACE"
    DELETE = "DELETE"
    NO_CHANGE = "NO_CHANGE"


@dataclass(frozen=True)
class Current:
    """What AWS has now: `properties` in the same shape as the spec's, plus outputs."""

    properties: Mapping[str, Any]
    outputs: Mapping[str, Any]
    """Must include "physical_id" and, where AWS has one, "arn"."""
    tags: Mapping[str, str] | None = None
    """Its tags, where the read that found it returned them (else `owner_tags` asks)."""


@dataclass(frozen=True)
class PropertyChange:
    name: str
    old: Any
    new: Any
    replacement_reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "old": to_jsonable(self.old),
            "new": to_jsonable(self.new),
            "replacement_reason": self.replacement_reason,
        }


@dataclass(frozen=True)
class Change:
    logical_id: str
    resource_type: str
    action: Action
    changes: tuple[PropertyChange, ...] = ()
    reason: str = ""
    adopt: bool = False
    """AWS has it but the state does not (a crash after create): record, do not create."""
    node: str | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)


ReadRequest = tuple[Mapping[str, Any] | None, RecordedResource | None]
"""What `get_current_state` takes: the wanted properties and the recorded resource."""


ADOPTED_UPDATE = (
    "found in AWS but not recorded (an interrupted run made it): updated, not made again"
)


class Provisioner(ABC):
    resource_type: ClassVar[str]
    reads_together: ClassVar[bool] = False
    """True where `read_many` answers for several resources in fewer calls than one each:
    the planner then hands it the resources of this type that share a `batch_key`."""
    batch_is_exact: ClassVar[bool] = True
    """False where the listing leaves a property out and the recorded value stands in for
    it: the drift check then reads each resource on its own."""
    replace_on: ClassVar[Mapping[str, str]] = {}
    """Properties AWS cannot change in place, with the reason shown in the plan."""
    write_only: ClassVar[frozenset[str]] = frozenset()
    """Properties AWS does not read back: compared with the recorded properties instead."""
    noun: ClassVar[str] = "resource"
    """How errors name this kind of resource ("creating SQS queue acme-dev-jobs: ...")."""

    def __init__(self, aws: AwsContext, builds: Builds | None = None) -> None:
        self.aws = aws
        self.builds = builds or Builds()
        """How packages are built on this machine (dependency layers use it)."""

    @abstractmethod
    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        """Live state, found by the recorded physical id or else by the deterministic
        name in `properties`; None when AWS has no such resource."""

    def batch_key(self, request: ReadRequest) -> str:
        """Resources read by one listing share a key (their API, their function); the
        planner reads different keys in parallel."""
        return ""

    def read_many(self, requests: Sequence[ReadRequest]) -> list[Current | None]:
        """`get_current_state` for each request, in order; overridden where one AWS call
        lists what would otherwise take a call per resource (a no-op deploy's cost)."""
        return [self.get_current_state(properties, recorded) for properties, recorded in requests]

    def provision(
        self, logical_id: str, properties: Mapping[str, Any], current: Current | None
    ) -> dict[str, Any]:
        """Create (current is None) or update in place; wait until usable; return outputs."""
        if current is None:
            current = self.find_unrecorded(logical_id, properties)
        if current is None:

            def create() -> Current | dict[str, Any]:
                return self.create(logical_id, properties)

            def find() -> Current | None:
                return self.find_unrecorded(logical_id, properties)

            with aws_errors(f"creating {self.noun}", self.error_subject(properties, None)):
                made = create_once(self.aws, create, find)
            if not isinstance(made, Current):
                return self.wait_until_usable(logical_id, properties, made)
            current = made  # made by a create whose reply was lost: found again, adopted
        with aws_errors(f"updating {self.noun}", self.error_subject(properties, current)):
            outputs = self.update(logical_id, properties, current)
        return self.wait_until_usable(logical_id, properties, outputs)

    def find_unrecorded(self, logical_id: str, properties: Mapping[str, Any]) -> Current | None:
        """What AWS has under this spec's name that no state records: ours to adopt (an
        interrupted run of ours made it), None when there is nothing; someone else's is
        refused, never taken over."""
        found = self.get_current_state(properties, None)
        if found is None:
            return None
        problem = self.ownership_problem(logical_id, found, intended=True)
        if problem is not None:
            raise ProvisioningError(
                f"creating {self.noun}", self.error_subject(properties, None), problem
            )
        return found

    @abstractmethod
    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        """Make it, with its tags, and return its outputs. Raise AWS's own errors: `provision`
        must see "already exists" and transient failures to find and adopt what a lost reply
        made. A create AWS does not deduplicate by name uses `aws.client_once`."""

    @abstractmethod
    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        """Make `current` match the spec (its tags too: an adopted one may lack them) and
        return its outputs."""

    def wait_until_usable(
        self, logical_id: str, properties: Mapping[str, Any], outputs: dict[str, Any]
    ) -> dict[str, Any]:
        """Return once what was made or changed can be used by what depends on it."""
        return outputs

    def error_subject(self, properties: Mapping[str, Any], current: Current | None) -> str:
        """The resource as errors name it: its name where it has one."""
        return str(properties.get("name") or "")

    @abstractmethod
    def destroy(self, recorded: RecordedResource) -> None:
        """Remove it and wait until AWS lets go; a resource already gone counts as done."""

    def owner_tags(self, current: Current) -> Mapping[str, str] | None:
        """The tags of a resource found by name; None for a type that carries none (a
        child such as a route or a permission: its parent, owned, is what names it)."""
        return current.tags

    def ownership_problem(
        self, logical_id: str, current: Current, *, intended: bool = False
    ) -> str | None:
        """Why a resource found by name (not by a recorded id) is not ours to adopt, or
        None when it is: its tags must name this project, stage and logical id.

        `intended` says an interrupted run of ours was making it: a resource that AWS
        made before its tags went on (S3 tags a bucket after making it) is then ours too.
        """
        tags = self.owner_tags(current)
        if tags is None:
            return None
        wanted = self.aws.tags(logical_id)
        said = {key: tags[key] for key in (TAG_PROJECT, TAG_STAGE, TAG_LOGICAL_ID) if key in tags}
        if said == wanted or (intended and not said):
            return None
        name = current.outputs.get("name") or current.outputs.get("physical_id") or logical_id
        owner = ", ".join(f"{key}={value}" for key, value in said.items()) or "no owner"
        return (
            f"the name {name} is taken by another owner (tags say {owner}): "
            "rename this node, or delete or retag that resource"
        )

    def plan(
        self,
        logical_id: str,
        properties: Mapping[str, Any],
        recorded: RecordedResource | None,
        current: Current | None,
    ) -> Change:
        if current is None:
            return Change(logical_id, self.resource_type, Action.CREATE, properties=properties)
        changes = tuple(self.diff(properties, recorded, current))
        replace = [c for c in changes if c.replacement_reason]
        if replace:
            reason = "; ".join(f"{c.name}: {c.replacement_reason}" for c in replace)
            action = Action.REPLACE
        else:
            reason, action = "", Action.UPDATE if changes else Action.NO_CHANGE
        if recorded is None and action is Action.UPDATE:
            reason = ADOPTED_UPDATE
        return Change(
            logical_id,
            self.resource_type,
            action,
            changes,
            reason=reason,
            adopt=recorded is None,
            properties=properties,
        )

    def diff(
        self,
        properties: Mapping[str, Any],
        recorded: RecordedResource | None,
        current: Current,
    ) -> list[PropertyChange]:
        changes = []
        # Filling defaults is idempotent, so the live side may go through it too: that
        # matters when recorded properties stand in for AWS (a plan without refresh).
        live = self.with_defaults(current.properties)
        for name, wanted in self.with_defaults(properties).items():
            if name in self.write_only:
                have = (recorded.properties if recorded else {}).get(name)
            else:
                have = live.get(name)
            if has_unresolved(wanted) or self.canonical(name, wanted) != self.canonical(name, have):
                changes.append(PropertyChange(name, have, wanted, self.replace_on.get(name)))
        return changes

    def with_defaults(self, properties: Mapping[str, Any]) -> Mapping[str, Any]:
        """The spec with what AWS assumes for absent options filled in, so that leaving
        an option out never shows as a change."""
        return properties

    def canonical(self, name: str, value: Any) -> Any:
        """The form compared by `diff`; override where AWS reorders what we send."""
        return normalise(value)


def physical_id_of(properties: Mapping[str, Any] | None, recorded: RecordedResource | None) -> str:
    """Which resource a read is about: the recorded one, else the one the spec names (its
    name is its physical id)."""
    return recorded.physical_id if recorded else str((properties or {})["name"])


def tag_dict(tags: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """`[{"Key": k, "Value": v}, ...]`, the shape most services answer, as a dict."""
    return {tag["Key"]: tag["Value"] for tag in tags}


def normalise(value: Any) -> Any:
    """Compare JSON-like values ignoring dict order and tuple/list differences."""
    if isinstance(value, Mapping):
        return {str(k): normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    return value
