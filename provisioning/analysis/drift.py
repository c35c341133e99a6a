"""Drift: does AWS still hold what the state says we made? And what did we make that it forgot?

`check` reads every recorded resource with its provisioner's `read_many` (one listing for
many where the type's listing is exact, `get_current_state` each otherwise) and
compares the live properties with the recorded ones through the provisioner's own
`diff` (the comparison a plan makes), so a property the planner would call unchanged
is never reported as drift. Reads only: nothing here writes to AWS or to the state.

`find_orphans` lists resources tagged `strands-deploy:project=<name>` that the state
does not know. The Resource Groups Tagging API misses several types (IAM roles,
API Gateway v2 APIs, Elastic IPs, VPC endpoints, on moto and partly on AWS), so those
are listed per service as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from provisioning.aws import TAG_LOGICAL_ID, TAG_PROJECT, TAG_STAGE, AwsContext
from provisioning.model.spec import to_jsonable
from provisioning.provisioners import provisioner_for
from provisioning.provisioners.base import Current
from provisioning.state import RecordedResource

IN_SYNC = "in_sync"
DRIFTED = "drifted"
MISSING = "missing"
UNREADABLE = "unreadable"


@dataclass(frozen=True)
class PropertyDrift:
    name: str
    recorded: Any
    live: Any

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "recorded": to_jsonable(self.recorded),
            "live": to_jsonable(self.live),
        }


@dataclass(frozen=True)
class ResourceDrift:
    logical_id: str
    resource_type: str
    node: str | None
    status: str
    """IN_SYNC, DRIFTED, MISSING (deleted outside the tool) or UNREADABLE (the read failed)."""
    properties: tuple[PropertyDrift, ...] = ()
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "logical_id": self.logical_id,
            "resource_type": self.resource_type,
            "node": self.node,
            "status": self.status,
            "properties": [p.as_dict() for p in self.properties],
            "message": self.message,
        }

    def line(self) -> str:
        if self.status == DRIFTED:
            parts = [f"{p.name}: {_short(p.recorded)} → {_short(p.live)}" for p in self.properties]
            return "drifted: " + "; ".join(parts)
        if self.status == MISSING:
            return "missing: AWS no longer has it"
        if self.status == UNREADABLE:
            return f"could not read it: {self.message}"
        return "in sync"


def _short(value: Any, limit: int = 60) -> str:
    text = repr(to_jsonable(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_batch(aws: AwsContext, records: list[RecordedResource]) -> list[ResourceDrift]:
    """Records of one type, read in one `read_many` (one listing where the type lists many)."""
    provisioner = provisioner_for(records[0].resource_type)(aws)
    try:
        found = provisioner.read_many([(r.properties, r) for r in records])
    except Exception as exc:  # one unreadable batch must not hide the others' drift
        return [
            ResourceDrift(r.logical_id, r.resource_type, r.node, UNREADABLE, message=str(exc))
            for r in records
        ]
    return [
        _compare(r, current, provisioner.diff(r.properties, r, current))
        if current is not None
        else ResourceDrift(r.logical_id, r.resource_type, r.node, MISSING)
        for r, current in zip(records, found, strict=True)
    ]


def _compare(record: RecordedResource, current: Current, changes: Iterable[Any]) -> ResourceDrift:
    drifted = tuple(PropertyDrift(c.name, c.new, c.old) for c in changes)
    status = DRIFTED if drifted else IN_SYNC
    return ResourceDrift(record.logical_id, record.resource_type, record.node, status, drifted)


def check(
    aws: AwsContext, records: Mapping[str, RecordedResource], *, max_workers: int = 16
) -> list[ResourceDrift]:
    """Every recorded resource read in parallel, those whose type lists many exactly in one
    call per batch; results in logical id order."""
    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        batches = pool.map(lambda batch: check_batch(aws, batch), _batches(aws, records))
        results = {d.logical_id: d for batch in batches for d in batch}
    return [results[lid] for lid in sorted(records)]


def _batches(
    aws: AwsContext, records: Mapping[str, RecordedResource]
) -> list[list[RecordedResource]]:
    grouped: dict[tuple[str, str], list[RecordedResource]] = {}
    alone: list[list[RecordedResource]] = []
    provisioners = {
        r.resource_type: provisioner_for(r.resource_type)(aws) for r in records.values()
    }
    for record in (records[lid] for lid in sorted(records)):
        provisioner = provisioners[record.resource_type]
        if provisioner.reads_together and provisioner.batch_is_exact:
            key = (record.resource_type, provisioner.batch_key((record.properties, record)))
            grouped.setdefault(key, []).append(record)
        else:
            alone.append([record])
    return [*grouped.values(), *alone]


def summary(results: Iterable[ResourceDrift]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    return counts


# --- orphans ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Orphan:
    arn: str
    service: str
    """"lambda", "s3", "sqs", "sns", "dynamodb", "iam", "logs", "apigateway", "ec2"."""
    name: str
    stage: str = ""
    logical_id: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "arn": self.arn,
            "service": self.service,
            "name": self.name,
            "stage": self.stage,
            "logical_id": self.logical_id,
        }


def find_orphans(aws: AwsContext, known: Iterable[RecordedResource]) -> list[Orphan]:
    """Resources tagged with `aws.project` (any stage) whose ARN no record holds."""
    known_arns: set[str] = set()
    for record in known:
        values = (record.arn, record.physical_id, *record.outputs.values())
        known_arns.update(str(v) for v in values if str(v).startswith("arn:"))
        if record.resource_type == "apigw:api":
            known_arns.add(_api_arn(aws, record.physical_id))
    found: dict[str, Orphan] = {}
    for orphan in [*_tagged(aws), *_iam_roles(aws), *_http_apis(aws)]:
        found.setdefault(orphan.arn, orphan)
    return sorted((o for o in found.values() if o.arn not in known_arns), key=lambda o: o.arn)


def _api_arn(aws: AwsContext, api_id: str) -> str:
    return f"arn:{aws.partition}:apigateway:{aws.region}::/apis/{api_id}"


def _orphan(arn: str, tags: Mapping[str, str], name: str | None = None) -> Orphan:
    service = arn.split(":")[2] if arn.count(":") >= 5 else ""
    resource = arn.split(":", 5)[5] if arn.count(":") >= 5 else arn
    return Orphan(
        arn=arn,
        service=service,
        name=name or resource.rsplit("/", 1)[-1].rsplit(":", 1)[-1],
        stage=tags.get(TAG_STAGE, ""),
        logical_id=tags.get(TAG_LOGICAL_ID, ""),
        tags=dict(tags),
    )


def _tagged(aws: AwsContext) -> list[Orphan]:
    client = aws.client("resourcegroupstaggingapi")
    found: list[Orphan] = []
    try:
        pages = client.get_paginator("get_resources").paginate(
            TagFilters=[{"Key": TAG_PROJECT, "Values": [aws.project]}]
        )
        for page in pages:
            for item in page.get("ResourceTagMappingList", []):
                tags = {t["Key"]: t["Value"] for t in item.get("Tags", [])}
                found.append(_orphan(item["ResourceARN"], tags))
    except (ClientError, BotoCoreError, NotImplementedError):
        return found  # the per-service listings below still run
    return found


def _iam_roles(aws: AwsContext) -> list[Orphan]:
    iam = aws.client("iam")
    found: list[Orphan] = []
    prefix = f"{aws.project}-"
    for page in iam.get_paginator("list_roles").paginate():
        for role in page.get("Roles", []):
            if not role["RoleName"].startswith(prefix):
                continue
            tags = {
                t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role["RoleName"])["Tags"]
            }
            if tags.get(TAG_PROJECT) == aws.project:
                found.append(_orphan(role["Arn"], tags, role["RoleName"]))
    return found


def _http_apis(aws: AwsContext) -> list[Orphan]:
    client = aws.client("apigatewayv2")
    found: list[Orphan] = []
    token: str | None = None
    while True:
        page = client.get_apis(**({"NextToken": token} if token else {}))
        for api in page.get("Items", []):
            tags = dict(api.get("Tags") or {})
            if tags.get(TAG_PROJECT) == aws.project:
                arn = _api_arn(aws, api["ApiId"])
                found.append(_orphan(arn, tags, api["ApiId"]))
        token = page.get("NextToken")
        if not token:
            return found


# Which provisioner removes an orphan of each service, and how its physical id is found.
_ORPHAN_TYPES = {
    "lambda": "lambda:function",
    "s3": "s3:bucket",
    "sns": "sns:topic",
    "sqs": "sqs:queue",
    "dynamodb": "dynamodb:table",
    "iam": "iam:role",
    "logs": "logs:log-group",
    "apigateway": "apigw:api",
    "cloudwatch": "cloudwatch:alarm",
}


def deletable(orphan: Orphan) -> bool:
    return orphan.service in _ORPHAN_TYPES and ":subscription" not in orphan.arn


def delete_orphan(aws: AwsContext, orphan: Orphan) -> None:
    """Remove one orphan with the provisioner of its type (gone already counts as done)."""
    if not deletable(orphan):
        raise ValueError(f"cannot delete {orphan.arn}: remove it in the AWS console")
    resource_type = _ORPHAN_TYPES[orphan.service]
    provisioner_for(resource_type)(aws).destroy(
        RecordedResource(
            logical_id=orphan.logical_id or orphan.arn,
            resource_type=resource_type,
            physical_id=_physical_id(aws, orphan),
            arn=orphan.arn,
            outputs={"name": orphan.name, "arn": orphan.arn},
        )
    )


def _physical_id(aws: AwsContext, orphan: Orphan) -> str:
    if orphan.service == "sns":
        return orphan.arn
    if orphan.service == "sqs":
        try:
            return str(aws.client("sqs").get_queue_url(QueueName=orphan.name)["QueueUrl"])
        except ClientError:
            return f"{aws.client('sqs').meta.endpoint_url}/{aws.account_id}/{orphan.name}"
    if orphan.service == "logs":
        return orphan.arn.split(":log-group:", 1)[-1].removesuffix(":*")
    return orphan.name
