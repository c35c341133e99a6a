"""Where a function's asynchronous invocations go once every retry has failed.

lambda:event-invoke-config properties:
  function_name: str (Ref to the function's name)
  on_failure_arn: str (Ref to a standard SQS queue's or SNS topic's ARN)
outputs: physical_id (the function's name)

A function has at most one such config; it lives and dies with the function, carries no
tags and has no name of its own. Retry count and event age keep Lambda's defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioning.errors import aws_errors, delete_if_present, found_or_none, retry_while
from provisioning.provisioners.base import Current, Provisioner
from provisioning.provisioners.lambda_events import (
    IAM_PROPAGATION_TIMEOUT_S,
    IAM_RETRY_MAX_DELAY_S,
    is_iam_propagation_error,
)
from provisioning.state import RecordedResource


def build_destination_config(on_failure_arn: str) -> dict[str, Any]:
    return {"OnFailure": {"Destination": on_failure_arn}}


class EventInvokeConfigProvisioner(Provisioner):
    resource_type = "lambda:event-invoke-config"
    noun = "asynchronous invocation config of Lambda function"
    replace_on = {"function_name": "the config belongs to one function"}

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        function = recorded.physical_id if recorded else str((properties or {})["function_name"])
        with aws_errors(f"reading {self.noun}", function):
            # "Not found" answers both "no config" and "no function": either way, none.
            found = found_or_none(
                self.aws.client("lambda").get_function_event_invoke_config,
                FunctionName=function,
            )
        if found is None:
            return None
        destination = ((found.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination"
        )
        properties = {"function_name": function, "on_failure_arn": destination or None}
        return Current(properties, {"physical_id": function})

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        self._put(properties)
        return {"physical_id": properties["function_name"]}

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        if current.properties.get("on_failure_arn") != properties["on_failure_arn"]:
            # AWS's Put replaces the whole config; the sandbox (moto) keeps the first one it
            # was given, so the old config goes first and the new one is written alone.
            self._delete(properties["function_name"])
            self._put(properties)
        return dict(current.outputs)

    def _put(self, properties: Mapping[str, Any]) -> None:
        lam = self.aws.client("lambda")

        def put() -> object:
            return lam.put_function_event_invoke_config(
                FunctionName=properties["function_name"],
                DestinationConfig=build_destination_config(properties["on_failure_arn"]),
            )

        # Lambda checks that the role may deliver there: a role changed a moment ago may
        # not have reached Lambda yet.
        retry_while(
            is_iam_propagation_error,
            put,
            timeout_s=IAM_PROPAGATION_TIMEOUT_S,
            sleep=self.aws.sleep,
            clock=self.aws.clock,
            max_delay_s=IAM_RETRY_MAX_DELAY_S,
        )

    def _delete(self, function: str) -> None:
        delete_if_present(
            self.aws.client("lambda").delete_function_event_invoke_config, FunctionName=function
        )

    def error_subject(self, properties: Mapping[str, Any], current: Current | None) -> str:
        return str(properties["function_name"])

    def owner_tags(self, current: Current) -> Mapping[str, str] | None:
        return None  # part of its function, which is what carries our tags

    def destroy(self, recorded: RecordedResource) -> None:
        with aws_errors(f"deleting {self.noun}", recorded.physical_id):
            self._delete(recorded.physical_id)


PROVISIONERS: tuple[type[Provisioner], ...] = (EventInvokeConfigProvisioner,)
