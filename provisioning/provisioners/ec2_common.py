"""What every EC2 networking provisioner shares: finding by tags, naming, waiting.

EC2 resources have no unique names, so the deterministic physical name lives in
the `Name` tag next to the project/stage/logical-id tags; a resource is ours
only when all of them match. Deletions that AWS refuses while something still
holds on (Lambda's ENIs keep subnets and security groups busy for up to ~40
minutes after a function leaves the VPC) are retried within a bounded time.

Creates go out once (`create_resource` gets a client that never retries): most EC2
creates take no client token, so botocore retrying one whose reply was lost would make a
twin. The tags go on with the create (TagSpecifications), so after a failure the base
`provision` finds the resource AWS may have made anyway by them and adopts it, and only
then is the create tried again. What follows the create is `update`'s work, the same for
a resource just made and one adopted.

The writes that follow (attach, authorize, revoke, ...) go through the retrying client:
when AWS did one but its reply was lost, botocore's retry is answered "already so"
(Resource.AlreadyAssociated, InvalidPermission.Duplicate, ...), which `unless_already`
counts as done once a fresh look confirms it.
"""

from __future__ import annotations

import secrets
import threading
from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError

from provisioning.aws import TAG_PROJECT, TAG_STAGE, AwsContext
from provisioning.errors import ProvisioningError, aws_errors, error_code, retry_while
from provisioning.provisioners.base import Current, Provisioner, normalise
from provisioning.state import RecordedResource
from provisioning.strands.layers import Builds

DEPENDENCY_TIMEOUT_S = 45 * 60
"""Lambda releases hyperplane ENIs up to ~40 minutes after a function is deleted."""
WAIT_TIMEOUT_S = 10 * 60


def tags_of(resource: Mapping[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def is_dependency_violation(exc: Exception) -> bool:
    return isinstance(exc, ClientError) and error_code(exc) == "DependencyViolation"


def code_in(exc: ClientError, *codes: str) -> bool:
    return error_code(exc) in codes


def unless_already(call: Callable[[], object], code: str, is_so: Callable[[], bool]) -> None:
    """`call()`; its refusal with `code` counts as done when `is_so()`, asked after the
    refusal, says AWS already holds what the call asked for (its own earlier attempt, whose
    reply was lost, did it). Otherwise the refusal stands: someone else's state is in the way."""
    try:
        call()
    except ClientError as exc:
        if not (code_in(exc, code) and is_so()):
            raise


class Ec2Provisioner(Provisioner):
    """Base for EC2 resources: `Name`-tagged, found by tags, canonical properties."""

    noun = "EC2 resource"
    tag_type: str = ""
    """The TagSpecifications ResourceType ("vpc", "subnet", ...)."""
    id_key: str = ""
    """Its parameter taking ids ("VpcIds")."""
    list_key: str = ""
    """The list its answer holds them in ("Vpcs")."""
    filter_key: str = "Filters"
    """Its parameter taking filters (DescribeNatGateways names it "Filter")."""
    not_found_codes: tuple[str, ...] = ()
    """What it answers when asked for an id that does not exist ("InvalidVpcID.NotFound")."""

    def __init__(self, aws: AwsContext, builds: Builds | None = None) -> None:
        super().__init__(aws, builds)
        self._tokens: dict[str, str] = {}
        self._tokens_lock = threading.Lock()

    @property
    def ec2(self) -> Any:
        return self.aws.client("ec2")

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        made = self.create_resource(self.aws.client_once("ec2"), logical_id, properties)
        return self.update(logical_id, properties, self.with_tags(self._current(made), made))

    @abstractmethod
    def create_resource(
        self, ec2: Any, logical_id: str, properties: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """Make it with the one EC2 call `ec2` (a client that never retries), its tags in
        TagSpecifications (`tag_specs`), and return it as `_find` would."""

    def find_unrecorded(self, logical_id: str, properties: Mapping[str, Any]) -> Current | None:
        found = super().find_unrecorded(logical_id, properties)
        return found if found is not None and self.adoptable(found, properties) else None

    def adoptable(self, found: Current, properties: Mapping[str, Any]) -> bool:
        """Whether ours of this name, found unrecorded, is the one the spec wants."""
        return True

    def error_subject(self, properties: Mapping[str, Any], current: Current | None) -> str:
        return str(properties["name"])

    def client_token(self, logical_id: str) -> str:
        """One per create, kept through its tries (a lost reply is answered by what the
        first attempt made) and dropped once it is usable. Not derived from the logical id:
        AWS remembers a token for a while, and a resource deleted and made again must not
        get the old one's id back. A run that crashed mid-create is found by its tags."""
        with self._tokens_lock:
            return self._tokens.setdefault(logical_id, secrets.token_hex(16))

    def wait_until_usable(
        self, logical_id: str, properties: Mapping[str, Any], outputs: dict[str, Any]
    ) -> dict[str, Any]:
        with self._tokens_lock:
            self._tokens.pop(logical_id, None)
        return outputs

    def what(self, name: str) -> str:
        return f"{self.noun} {name}"

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        name = name_of(recorded, properties)
        with aws_errors("reading", self.what(name)):
            found = self._find(name, recorded)
            return None if found is None else self.with_tags(self._current(found, recorded), found)

    @staticmethod
    def with_tags(current: Current, found: Mapping[str, Any]) -> Current:
        """The tags the describe call returned, so adoption can check the owner."""
        return replace(current, tags=tags_of(found))

    def _find(self, name: str, recorded: RecordedResource | None) -> Mapping[str, Any] | None:
        """The live resource: by the recorded id when there is one, else ours named `name`;
        None when AWS has none (a deleted one still listed counts as none)."""
        if recorded is not None:
            found = self._describe(**{self.id_key: [recorded.physical_id]})
        else:
            filters = self.find_filters(name)
            found = self.ours(self._describe(**{self.filter_key: filters}), name)
        live = [item for item in found if self.is_live(item)]
        return live[0] if live else None

    def _describe(self, **kwargs: Any) -> list[Mapping[str, Any]]:
        """`describe`'s list; empty when AWS says the asked-for id does not exist."""
        try:
            answer = self.describe(**kwargs)
        except ClientError as exc:
            if code_in(exc, *self.not_found_codes):
                return []
            raise
        return list(answer[self.list_key])

    @abstractmethod
    def describe(self, **kwargs: Any) -> Any:
        """The EC2 call `_find` looks the resource up with (`self.ec2.describe_vpcs`)."""

    def find_filters(self, name: str) -> list[dict[str, Any]]:
        """How `_find` asks AWS for ours named `name` (re-checked by `ours`)."""
        return self.name_filters(name)

    def is_live(self, found: Mapping[str, Any]) -> bool:
        """False for one AWS still lists after deleting it; override where that happens."""
        return True

    @abstractmethod
    def _current(
        self, found: Mapping[str, Any], recorded: RecordedResource | None = None
    ) -> Current:
        """What `_find` returned, as properties in the spec's shape and outputs."""

    def canonical_properties(self, properties: Mapping[str, Any]) -> dict[str, Any]:
        """The spec in the shape `get_current_state` reports; override to normalise."""
        return dict(properties)

    def canonical(self, name: str, value: Any) -> Any:
        if value is None:
            return None
        return normalise(self.canonical_properties({name: value})[name])

    def tag_specs(self, logical_id: str, name: str) -> list[dict[str, Any]]:
        tags = [{"Key": "Name", "Value": name}, *self.aws.tag_list(logical_id)]
        return [{"ResourceType": self.tag_type, "Tags": tags}]

    def name_filters(self, name: str) -> list[dict[str, Any]]:
        return [
            {"Name": "tag:Name", "Values": [name]},
            {"Name": f"tag:{TAG_PROJECT}", "Values": [self.aws.project]},
            {"Name": f"tag:{TAG_STAGE}", "Values": [self.aws.stage]},
        ]

    def ours(self, items: Iterable[Mapping[str, Any]], name: str) -> list[Mapping[str, Any]]:
        """Filter again client-side: some describe calls ignore tag filters (moto's NAT)."""
        wanted = {"Name": name, TAG_PROJECT: self.aws.project, TAG_STAGE: self.aws.stage}
        return [i for i in items if wanted.items() <= tags_of(i).items()]

    def rename(self, resource_id: str, name: str) -> None:
        self.ec2.create_tags(Resources=[resource_id], Tags=[{"Key": "Name", "Value": name}])

    def wait_for(
        self, check: Callable[[], bool], what: str, timeout_s: float = WAIT_TIMEOUT_S
    ) -> None:
        """Poll `check` until true, with backoff on the context's clock and sleep."""
        deadline = self.aws.clock() + timeout_s
        delay = 1.0
        while not check():
            if self.aws.clock() + delay > deadline:
                raise ProvisioningError("waiting for", what, f"not ready after {timeout_s:.0f}s")
            self.aws.sleep(delay)
            delay = min(delay * 2, 15.0)

    def while_in_use(self, call: Callable[[], object], what: str = "") -> object:
        """Retry a delete while AWS says something still depends on the resource,
        telling the user each time it waits (the orchestrator shows `aws.note`)."""

        def waiting(exc: Exception, waited_s: float) -> None:
            detail = str(getattr(exc, "response", {}).get("Error", {}).get("Message", exc))
            self.aws.note(
                f"waiting for {what or self.noun} to be released "
                f"({waited_s:.0f} s so far, up to {DEPENDENCY_TIMEOUT_S // 60} min; "
                f"Lambda network interfaces can take that long): {detail}"
            )

        return retry_while(
            is_dependency_violation,
            call,
            timeout_s=DEPENDENCY_TIMEOUT_S,
            sleep=self.aws.sleep,
            clock=self.aws.clock,
            first_delay_s=5.0,
            max_delay_s=60.0,
            on_wait=waiting,
        )

    def id_outputs(self, key: str, resource_id: str) -> dict[str, Any]:
        """What every EC2 resource outputs: its id (as physical_id and as `key`) and ARN."""
        return {
            "physical_id": resource_id,
            key: resource_id,
            "arn": self.arn(self.tag_type, resource_id),
        }

    def arn(self, kind: str, resource_id: str) -> str:
        aws = self.aws
        return f"arn:{aws.partition}:ec2:{aws.region}:{aws.account_id}:{kind}/{resource_id}"


def name_of(recorded: RecordedResource | None, properties: Mapping[str, Any] | None) -> str:
    if properties and properties.get("name"):
        return str(properties["name"])
    if recorded is not None:
        return str(recorded.properties.get("name") or recorded.physical_id)
    return "?"
