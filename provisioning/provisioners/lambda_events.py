"""What lets events reach a Lambda function: invoke permissions and SQS event source mappings.

The property schemas are documented in lambda_function.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from provisioning.errors import (
    ProvisioningError,
    aws_errors,
    error_code,
    is_not_found,
    retry_while,
)
from provisioning.provisioners.base import Current, Provisioner, ReadRequest
from provisioning.provisioners.intents import create_once
from provisioning.state import RecordedResource

IAM_PROPAGATION_TIMEOUT_S = 60.0
IAM_RETRY_MAX_DELAY_S = 2.0
MAPPING_SETTLE_TIMEOUT_S = 300.0
_SETTLED = ("Enabled", "Disabled")
_PROPAGATION_HINTS = (
    "cannot be assumed by Lambda",
    "execution role does not have permissions",
)


def is_iam_propagation_error(exc: Exception) -> bool:
    """AWS's answer for a few seconds after a role or its policy is created or changed."""
    if not isinstance(exc, ClientError) or error_code(exc) != "InvalidParameterValueException":
        return False
    message = str(exc.response.get("Error", {}).get("Message", ""))
    return any(hint in message for hint in _PROPAGATION_HINTS)


def function_name_of(arn_or_name: str) -> str:
    """ "arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]" -> "<name>"."""
    parts = arn_or_name.split(":")
    return parts[6] if len(parts) >= 7 and parts[5] == "function" else arn_or_name


def _permission_id(
    properties: Mapping[str, Any] | None, recorded: RecordedResource | None
) -> tuple[str, str]:
    """(function, statement id): where it was made, else where it should be."""
    if recorded:
        function, statement_id = recorded.physical_id.rsplit("/", 1)
        return function, statement_id
    wanted = properties or {}
    return str(wanted["function_name"]), str(wanted["statement_id"])


def _permission(
    function: str, statement_id: str, statement: Mapping[str, Any], wanted: Mapping[str, Any]
) -> Current:
    props = {
        "function_name": function,
        "statement_id": statement_id,
        "action": statement.get("Action"),
        "principal": _principal(statement.get("Principal"), wanted.get("principal", "")),
        "source_arn": (statement.get("Condition") or {}).get("ArnLike", {}).get("AWS:SourceArn"),
    }
    return Current(props, {"physical_id": f"{function}/{statement_id}"})


class PermissionProvisioner(Provisioner):
    resource_type = "lambda:permission"
    noun = "Lambda permission"
    replace_on = {
        "function_name": "a permission belongs to one function",
        "statement_id": "the statement id identifies the permission",
    }

    reads_together = True

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        return self.read_many([(properties, recorded)])[0]

    def batch_key(self, request: ReadRequest) -> str:
        return _permission_id(*request)[0]

    def read_many(self, requests: Sequence[ReadRequest]) -> list[Current | None]:
        """One GetPolicy per function answers for every permission on it."""
        policies: dict[str, list[Mapping[str, Any]]] = {}
        results: list[Current | None] = []
        for properties, recorded in requests:
            function, statement_id = _permission_id(properties, recorded)
            if function not in policies:
                policies[function] = self._statements(function)
            statement = next((s for s in policies[function] if s.get("Sid") == statement_id), None)
            results.append(
                None
                if statement is None
                else _permission(function, statement_id, statement, properties or {})
            )
        return results

    def _statements(self, function: str) -> list[Mapping[str, Any]]:
        with aws_errors("reading permissions of Lambda function", function):
            try:
                policy = self.aws.client("lambda").get_policy(FunctionName=function)["Policy"]
            except ClientError as exc:
                if is_not_found(exc):
                    return []
                raise
        return list(json.loads(policy).get("Statement", []))

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        # Not idempotent: sent once; after a lost reply the retry's "statement id exists"
        # has `provision` find the statement and adopt it.
        self.aws.client_once("lambda").add_permission(**_permission_args(properties))
        return _permission_outputs(properties)

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        if _same_statement(current.properties, properties):
            return dict(current.outputs)
        # Statements cannot be edited: a changed one is removed and added again, once.
        self._remove(properties["function_name"], properties["statement_id"])

        def added() -> dict[str, Any] | None:
            have = self.get_current_state(properties, None)
            same = have is not None and _same_statement(have.properties, properties)
            return _permission_outputs(properties) if same else None

        return create_once(self.aws, lambda: self.create(logical_id, properties), added)

    def error_subject(self, properties: Mapping[str, Any], current: Current | None) -> str:
        return f"{properties['statement_id']} on {properties['function_name']}"

    def _remove(self, function: str, statement_id: str) -> None:
        try:
            self.aws.client("lambda").remove_permission(
                FunctionName=function, StatementId=statement_id
            )
        except ClientError as exc:
            if not is_not_found(exc):
                raise

    def destroy(self, recorded: RecordedResource) -> None:
        function, statement_id = recorded.physical_id.rsplit("/", 1)
        with aws_errors("removing Lambda permission", f"{statement_id} on {function}"):
            self._remove(function, statement_id)


def _permission_args(properties: Mapping[str, Any]) -> dict[str, Any]:
    args = {
        "FunctionName": properties["function_name"],
        "StatementId": properties["statement_id"],
        "Action": properties.get("action", "lambda:InvokeFunction"),
        "Principal": properties["principal"],
    }
    if properties.get("source_arn"):
        args["SourceArn"] = properties["source_arn"]
    return args


def _permission_outputs(properties: Mapping[str, Any]) -> dict[str, Any]:
    return {"physical_id": f"{properties['function_name']}/{properties['statement_id']}"}


def _same_statement(have: Mapping[str, Any], want: Mapping[str, Any]) -> bool:
    wanted = {"action": "lambda:InvokeFunction", "source_arn": None, **want}
    return all(have.get(key) == wanted[key] for key in ("action", "principal", "source_arn"))


def _principal(principal: Any, wanted: str) -> str:
    """The principal as it was given: Lambda reports an account as its root ARN."""
    if isinstance(principal, Mapping):
        principal = principal.get("Service") or principal.get("AWS") or ""
    text = str(principal)
    if wanted and text in (wanted, f"arn:aws:iam::{wanted}:root"):
        return wanted
    return text


class EventSourceMappingProvisioner(Provisioner):
    resource_type = "lambda:event-source-mapping"
    noun = "event source mapping"
    replace_on = {"event_source_arn": "a mapping cannot change its event source"}

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        wanted_function = (properties or {}).get("function_name", "")
        mapping = self._find(properties, recorded)
        if mapping is None:
            return None
        function_arn = mapping["FunctionArn"]
        same = wanted_function and function_name_of(wanted_function) == function_name_of(
            function_arn
        )
        props = {
            "function_name": wanted_function if same else function_name_of(function_arn),
            "event_source_arn": mapping["EventSourceArn"],
            "batch_size": mapping.get("BatchSize"),
            "maximum_batching_window_s": mapping.get("MaximumBatchingWindowInSeconds", 0),
            "enabled": mapping.get("State") not in ("Disabled", "Disabling"),
            "report_batch_item_failures": "ReportBatchItemFailures"
            in (mapping.get("FunctionResponseTypes") or []),
        }
        return Current(props, _mapping_outputs(mapping))

    def _find(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Mapping[str, Any] | None:
        lam = self.aws.client("lambda")
        if recorded:
            with aws_errors("reading event source mapping", recorded.physical_id):
                try:
                    return dict(lam.get_event_source_mapping(UUID=recorded.physical_id))
                except ClientError as exc:
                    if not is_not_found(exc):
                        raise
        if not properties:
            return None
        function, source = properties["function_name"], properties["event_source_arn"]
        with aws_errors("finding event source mapping of", function):
            try:
                found = lam.list_event_source_mappings(FunctionName=function, EventSourceArn=source)
            except ClientError as exc:
                if is_not_found(exc):
                    return None
                raise
        mappings = found.get("EventSourceMappings", [])
        return dict(mappings[0]) if mappings else None

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        # Not idempotent: sent once, found again by function + source after a lost reply.
        once = self.aws.client_once("lambda")
        mapping = retry_while(
            is_iam_propagation_error,
            lambda: once.create_event_source_mapping(
                EventSourceArn=properties["event_source_arn"],
                Tags=self.aws.tags(logical_id),
                **_mapping_args(properties),
            ),
            timeout_s=IAM_PROPAGATION_TIMEOUT_S,
            sleep=self.aws.sleep,
            clock=self.aws.clock,
            on_wait=lambda _e, s: self.aws.note(
                f"the function's role is not usable by Lambda yet ({s:.0f} s): retrying"
            ),
        )
        assert isinstance(mapping, Mapping)
        return _mapping_outputs(mapping)

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        uuid = current.outputs["uuid"]
        self.aws.client("lambda").update_event_source_mapping(
            UUID=uuid, **_mapping_args(properties)
        )
        return dict(current.outputs)

    def wait_until_usable(
        self, logical_id: str, properties: Mapping[str, Any], outputs: dict[str, Any]
    ) -> dict[str, Any]:
        return _mapping_outputs(self._settled(outputs["uuid"]))

    def error_subject(self, properties: Mapping[str, Any], current: Current | None) -> str:
        if current is not None:
            return str(current.outputs["uuid"])
        return f"{properties['function_name']} <- {properties['event_source_arn']}"

    def _settled(self, uuid: str) -> Mapping[str, Any]:
        """Wait out Creating / Updating / Enabling so dependents see a working mapping."""
        lam = self.aws.client("lambda")
        deadline = self.aws.clock() + MAPPING_SETTLE_TIMEOUT_S
        with aws_errors("waiting for event source mapping", uuid):
            while True:
                mapping = lam.get_event_source_mapping(UUID=uuid)
                if mapping.get("State") in _SETTLED:
                    return dict(mapping)
                if self.aws.clock() > deadline:
                    state = mapping.get("State")
                    raise ProvisioningError(
                        "waiting for event source mapping", uuid, f"still {state}"
                    )
                self.aws.sleep(2.0)

    def destroy(self, recorded: RecordedResource) -> None:
        uuid = recorded.physical_id
        with aws_errors("deleting event source mapping", uuid):
            try:
                retry_while(
                    lambda exc: (
                        isinstance(exc, ClientError) and error_code(exc) == "ResourceInUseException"
                    ),
                    lambda: self.aws.client("lambda").delete_event_source_mapping(UUID=uuid),
                    timeout_s=MAPPING_SETTLE_TIMEOUT_S,
                    sleep=self.aws.sleep,
                    clock=self.aws.clock,
                )
            except ClientError as exc:
                if not is_not_found(exc):
                    raise


def _mapping_args(properties: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "FunctionName": properties["function_name"],
        "BatchSize": properties["batch_size"],
        "MaximumBatchingWindowInSeconds": properties.get("maximum_batching_window_s", 0),
        "Enabled": properties.get("enabled", True),
        "FunctionResponseTypes": ["ReportBatchItemFailures"]
        if properties.get("report_batch_item_failures")
        else [],
    }


def _mapping_outputs(mapping: Mapping[str, Any]) -> dict[str, Any]:
    uuid = str(mapping["UUID"])
    return {"physical_id": uuid, "uuid": uuid}


PROVISIONERS: tuple[type[Provisioner], ...] = (PermissionProvisioner, EventSourceMappingProvisioner)
