"""Creates that never make twins, and what the engine does with a create it never confirmed.

Two ways a create can leave AWS ahead of our state:

* The reply is lost (a reset connection, a 5xx after AWS did the work). Every
  provisioner creates through `Provisioner.provision`, which runs its `create` in
  `create_once`: after a failure that may hide a success (a transient error, or the
  "already exists" a retried call gets) the resource is looked up by what identifies
  it (name, tags, route key, integration URI, function + source) and adopted; only if
  AWS has none is the create tried again, with backoff. Creates AWS does not
  deduplicate (API Gateway v2 APIs, routes and integrations, event source mappings,
  layer versions, EC2 resources) go out on `aws.client_once`, so botocore never makes
  a twin by retrying them itself.
* The worker dies between AWS's reply and `store.save`. Before each create the
  orchestrator records an intent (`StateStore.save_intent`); the next run finds the
  resource by its deterministic name or properties (the planner adopts it, or
  `find_leftover` finds one the blueprint no longer wants, for deletion).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from provisioning.aws import AwsContext
from provisioning.errors import error_code, is_transient
from provisioning.state import RecordedResource

if TYPE_CHECKING:  # provisioners import this module: no cycle at run time
    from provisioning.provisioners.base import Provisioner

CONFLICT_CODES = frozenset(
    {
        "ConflictException",
        "ResourceConflictException",
        "EntityAlreadyExists",
        "ResourceAlreadyExistsException",
        "ResourceInUseException",
        "AlreadyExistsException",
        "InvalidGroup.Duplicate",
        "BucketAlreadyOwnedByYou",
        "ParameterAlreadyExists",
    }
)
CREATE_TIMEOUT_S = 120.0


def is_conflict(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and error_code(exc) in CONFLICT_CODES


def create_once[T](
    aws: AwsContext,
    create: Callable[[], T],
    find: Callable[[], T | None],
    *,
    timeout_s: float = CREATE_TIMEOUT_S,
) -> T:
    """`create()` (which must use `aws.client_once`); after a failure that may hide a
    success, `find()` (with the retrying client) and adopt what it finds; otherwise
    retry with jittered exponential backoff until `timeout_s`, then raise."""
    deadline = aws.clock() + timeout_s
    delay = 0.5
    while True:
        try:
            return create()
        except Exception as exc:
            if not (is_transient(exc) or is_conflict(exc)):
                raise
            found = find()
            if found is not None:
                return found
            if is_conflict(exc) or aws.clock() + delay > deadline:
                raise
            aws.sleep(delay * (0.5 + random.random() / 2))
            delay = min(delay * 2, 20.0)


def find_leftover(provisioner: Provisioner, intent: RecordedResource) -> RecordedResource | None:
    """What an unconfirmed create left in AWS, as a record `destroy` can take; None if
    nothing, or if what holds the name belongs to someone else (never deleted for us)."""
    found = provisioner.get_current_state(intent.properties, None)
    if found is None:
        return None
    if provisioner.ownership_problem(intent.logical_id, found, intended=True) is not None:
        return None
    outputs = dict(found.outputs)
    return RecordedResource(
        logical_id=intent.logical_id,
        resource_type=intent.resource_type,
        physical_id=str(outputs.get("physical_id", "")),
        arn=str(outputs.get("arn", "")),
        outputs=outputs,
        properties=dict(intent.properties),
        node=intent.node,
        depends_on=intent.depends_on,
    )
