"""Lambda functions, their invoke permissions and SQS event source mappings.

lambda:function properties:
  name: str
  role_arn: str (Ref to iam:role arn)
  runtime: str ("python3.12"), handler: str ("handler.handler"), architecture: "x86_64" | "arm64"
  memory_mb: int, timeout_s: int
  environment: dict[str, str]
  reserved_concurrency: int | None
  tracing: "Active" | "PassThrough"
  layers: list[str]
  code: dict                      the packaging recipe (write-only: not readable from AWS)
  code_sha256: str                base64 SHA-256 of the zip, as Lambda reports CodeSha256
  optional: artifacts_bucket, layer_sizes (see lambda_code.py: big zips go through S3)
  optional: vpc: {"subnet_ids": [...], "security_group_ids": [...]} | None,
            dead_letter_target_arn: str | None
outputs: physical_id (name), name, arn

lambda:permission properties:
  function_name: str (Ref), statement_id: str, action: "lambda:InvokeFunction",
  principal: str, source_arn: str | None
outputs: physical_id ("<function>/<statement id>")

lambda:event-source-mapping properties:
  function_name: str (Ref), event_source_arn: str (Ref), batch_size: int,
  maximum_batching_window_s: int, enabled: bool, report_batch_item_failures: bool
outputs: physical_id (mapping UUID), uuid"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from provisioning.errors import (
    aws_errors,
    delete_if_present,
    found_or_none,
    retry_while,
)
from provisioning.model import bounds
from provisioning.provisioners.base import Current, Provisioner, normalise, physical_id_of
from provisioning.provisioners.lambda_code import WRITE_ONLY as CODE_WRITE_ONLY
from provisioning.provisioners.lambda_code import code_args
from provisioning.provisioners.lambda_events import (
    IAM_PROPAGATION_TIMEOUT_S,
    IAM_RETRY_MAX_DELAY_S,
    is_iam_propagation_error,
)
from provisioning.state import RecordedResource

_WAITER = {"Delay": 2, "MaxAttempts": 150}
_CONFIG_PROPERTIES = frozenset(
    {
        "role_arn",
        "runtime",
        "handler",
        "memory_mb",
        "timeout_s",
        "environment",
        "tracing",
        "layers",
        "vpc",
        "dead_letter_target_arn",
    }
)
_WORKLOAD_MEMORY_MB = {"light": 512, "standard": 1024, "heavy": 2048}
_WORKLOAD_TIMEOUT_S = {"light": 30, "standard": 120, "heavy": 900}
HTTP_API_TIMEOUT_S = 30
"""API Gateway HTTP APIs cut an integration off after 30 s, whatever Lambda allows."""


def build_dlq_config(target_arn: str | None) -> dict[str, str]:
    """DeadLetterConfig for an SQS queue or SNS topic ARN; None removes the dead-letter target."""
    if target_arn and target_arn.split(":")[2:3] not in (["sqs"], ["sns"]):
        raise ValueError(f"a dead-letter target must be an SQS queue or SNS topic: {target_arn}")
    return {"TargetArn": target_arn or ""}


def build_tracing_config(tracing: bool | str) -> dict[str, str]:
    if isinstance(tracing, bool):
        return {"Mode": "Active" if tracing else "PassThrough"}
    if tracing not in ("Active", "PassThrough"):
        raise ValueError(f"tracing must be Active or PassThrough, not {tracing!r}")
    return {"Mode": tracing}


def build_vpc_config(
    subnet_ids: Iterable[str], security_group_ids: Iterable[str]
) -> dict[str, list[str]]:
    """VpcConfig; both lists empty takes the function out of its VPC."""
    subnets, groups = sorted(set(subnet_ids)), sorted(set(security_group_ids))
    if bool(subnets) != bool(groups):
        raise ValueError("a function in a VPC needs both subnets and security groups")
    return {"SubnetIds": subnets, "SecurityGroupIds": groups}


def calculate_memory_for_workload(workload: str, *, package_mb: float = 0.0) -> int:
    """Memory for an agent: the profile's size, raised so a large package still imports quickly.

    Lambda gives CPU in proportion to memory, so cold-start import time of a big
    package (the Strands SDK alone is ~67 MB unzipped) shrinks with more memory.
    """
    base = _WORKLOAD_MEMORY_MB[_workload(workload)]
    needed = 256 + 4 * package_mb
    return int(min(bounds.AGENT["memory_mb"].high, max(base, math.ceil(needed / 64) * 64)))


def calculate_timeout_for_workload(workload: str, *, behind_http_api: bool = False) -> int:
    timeout = _WORKLOAD_TIMEOUT_S[_workload(workload)]
    return min(timeout, HTTP_API_TIMEOUT_S) if behind_http_api else timeout


def _workload(workload: str) -> str:
    if workload not in _WORKLOAD_MEMORY_MB:
        raise ValueError(f"workload must be one of {sorted(_WORKLOAD_MEMORY_MB)}: {workload!r}")
    return workload


class FunctionProvisioner(Provisioner):
    resource_type = "lambda:function"
    noun = "Lambda function"
    replace_on = {"name": "Lambda cannot rename a function"}
    write_only = frozenset({"code"}) | CODE_WRITE_ONLY

    def canonical(self, name: str, value: Any) -> Any:
        if name == "vpc" and value:
            # Lambda answers with subnets and groups in its own order.
            return {key: sorted(ids) for key, ids in normalise(value).items()}
        return super().canonical(name, value)

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        name = physical_id_of(properties, recorded)
        with aws_errors("reading Lambda function", name):
            found = found_or_none(self.aws.client("lambda").get_function, FunctionName=name)
        if found is None:
            return None
        config = found["Configuration"]
        return Current(_properties(config, found.get("Concurrency", {})), _outputs(config))

    def owner_tags(self, current: Current) -> Mapping[str, str] | None:
        arn = current.outputs["arn"]
        with aws_errors("reading tags of Lambda function", current.outputs["name"]):
            return dict(self.aws.client("lambda").list_tags(Resource=arn).get("Tags") or {})

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        # "ResourceConflictException" after a lost reply: `provision` finds and updates it.
        name = properties["name"]
        lam = self.aws.client("lambda")
        args = {
            "FunctionName": name,
            "PackageType": "Zip",
            "Code": code_args(self.aws, properties),
            "Architectures": [properties.get("architecture", "x86_64")],
            "Tags": self.aws.tags(logical_id),
            **_config_args(properties),
        }
        config = self._retry_propagation(lambda: lam.create_function(**args))
        self._wait(name, "function_active_v2")
        created = dict(properties)
        created["reserved_concurrency"] = None
        created["code_sha256"] = properties.get("code_sha256", config["CodeSha256"])
        with aws_errors("updating Lambda function", name):
            self._update(properties, created)
        return _outputs(config)

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        self._update(properties, current.properties)
        return dict(current.outputs)

    def _update(self, want: Mapping[str, Any], have: Mapping[str, Any]) -> None:
        name = want["name"]
        lam = self.aws.client("lambda")
        changed = {
            key
            for key in want
            if key in _CONFIG_PROPERTIES and normalise(want[key]) != normalise(have.get(key))
        }
        # A previous deploy's update may still be in progress; Lambda refuses another meanwhile.
        self._wait(name, "function_updated_v2")
        if changed:
            args = {"FunctionName": name, **_config_args(want)}
            self._retry_propagation(lambda: lam.update_function_configuration(**args))
            self._wait(name, "function_updated_v2")
        arch = want.get("architecture", "x86_64")
        if want.get("code_sha256") != have.get("code_sha256") or arch != have.get("architecture"):
            lam.update_function_code(
                FunctionName=name, Architectures=[arch], **code_args(self.aws, want)
            )
            self._wait(name, "function_updated_v2")
        reserved = want.get("reserved_concurrency")
        if reserved != have.get("reserved_concurrency"):
            if reserved is None:
                lam.delete_function_concurrency(FunctionName=name)
            else:
                lam.put_function_concurrency(
                    FunctionName=name, ReservedConcurrentExecutions=reserved
                )

    def _retry_propagation(self, call: Any) -> dict[str, Any]:
        result = retry_while(
            is_iam_propagation_error,
            call,
            timeout_s=IAM_PROPAGATION_TIMEOUT_S,
            sleep=self.aws.sleep,
            clock=self.aws.clock,
            # a role usually propagates in ~10 s: retry often, so it is used within 2 s of it
            max_delay_s=IAM_RETRY_MAX_DELAY_S,
            on_wait=lambda _e, s: self.aws.note(
                f"the execution role is not assumable by Lambda yet ({s:.0f} s): retrying"
            ),
        )
        assert isinstance(result, dict)
        return result

    def _wait(self, name: str, waiter: str) -> None:
        self.aws.client("lambda").get_waiter(waiter).wait(FunctionName=name, WaiterConfig=_WAITER)

    def destroy(self, recorded: RecordedResource) -> None:
        name = recorded.physical_id
        with aws_errors("deleting Lambda function", name):
            delete_if_present(self.aws.client("lambda").delete_function, FunctionName=name)


def _config_args(properties: Mapping[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = {
        "Role": properties["role_arn"],
        "Runtime": properties["runtime"],
        "Handler": properties["handler"],
        "MemorySize": properties["memory_mb"],
        "Timeout": properties["timeout_s"],
        "Environment": {"Variables": dict(properties.get("environment") or {})},
        "TracingConfig": build_tracing_config(properties.get("tracing", "PassThrough")),
        "Layers": list(properties.get("layers") or []),
    }
    if "vpc" in properties:
        vpc = properties["vpc"] or {}
        args["VpcConfig"] = build_vpc_config(
            vpc.get("subnet_ids", []), vpc.get("security_group_ids", [])
        )
    if "dead_letter_target_arn" in properties:
        args["DeadLetterConfig"] = build_dlq_config(properties["dead_letter_target_arn"])
    return args


def _properties(config: Mapping[str, Any], concurrency: Mapping[str, Any]) -> dict[str, Any]:
    vpc = config.get("VpcConfig") or {}
    return {
        "name": config["FunctionName"],
        "role_arn": config["Role"],
        "runtime": config.get("Runtime"),
        "handler": config.get("Handler"),
        "architecture": (config.get("Architectures") or ["x86_64"])[0],
        "memory_mb": config.get("MemorySize"),
        "timeout_s": config.get("Timeout"),
        "environment": dict((config.get("Environment") or {}).get("Variables") or {}),
        "reserved_concurrency": concurrency.get("ReservedConcurrentExecutions"),
        "tracing": (config.get("TracingConfig") or {}).get("Mode", "PassThrough"),
        "layers": [layer["Arn"] for layer in config.get("Layers") or []],
        "code_sha256": config.get("CodeSha256"),
        "vpc": {
            "subnet_ids": sorted(vpc.get("SubnetIds") or []),
            "security_group_ids": sorted(vpc.get("SecurityGroupIds") or []),
        }
        if vpc.get("SubnetIds")
        else None,
        "dead_letter_target_arn": (config.get("DeadLetterConfig") or {}).get("TargetArn"),
    }


def _outputs(config: Mapping[str, Any]) -> dict[str, Any]:
    name = config["FunctionName"]
    return {"physical_id": name, "name": name, "arn": config["FunctionArn"]}


PROVISIONERS: tuple[type[Provisioner], ...] = (FunctionProvisioner,)
