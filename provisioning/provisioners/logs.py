"""CloudWatch log groups, so destroy leaves no log group behind.

logs:log-group properties:
  name: str             "/aws/lambda/<function name>"
  retention_days: int
outputs: physical_id (name), name, arn"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from provisioning.errors import aws_errors, is_not_found
from provisioning.provisioners.base import Current, Provisioner, ReadRequest, physical_id_of
from provisioning.state import RecordedResource

_SHARED_PREFIX = "/aws/lambda/"
"""Every function's log group starts so: a listing by that prefix alone could page through
the whole account's, so several groups are listed together only under a longer one."""


class LogGroupProvisioner(Provisioner):
    resource_type = "logs:log-group"
    noun = "log group"
    replace_on = {"name": "CloudWatch Logs cannot rename a log group"}

    reads_together = True

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        return self.read_many([(properties, recorded)])[0]

    def read_many(self, requests: Sequence[ReadRequest]) -> list[Current | None]:
        names = [physical_id_of(properties, recorded) for properties, recorded in requests]
        prefix = _common_prefix(names)
        if len(names) > 1 and len(prefix) <= len(_SHARED_PREFIX):
            return super().read_many(requests)
        wanted = set(names)
        found = {g["logGroupName"]: g for g in self._listed(prefix) if g["logGroupName"] in wanted}
        return [self._current(name, found.get(name)) for name in names]

    def _listed(self, prefix: str) -> Iterator[Mapping[str, Any]]:
        paginator = self.aws.client("logs").get_paginator("describe_log_groups")
        with aws_errors("reading log groups", prefix):
            for page in paginator.paginate(logGroupNamePrefix=prefix):
                yield from page["logGroups"]

    def _current(self, name: str, group: Mapping[str, Any] | None) -> Current | None:
        if group is None:
            return None
        props = {"name": name, "retention_days": group.get("retentionInDays")}
        return Current(props, self._outputs(name))

    def _outputs(self, name: str) -> dict[str, Any]:
        aws = self.aws
        arn = f"arn:{aws.partition}:logs:{aws.region}:{aws.account_id}:log-group:{name}"
        return {"physical_id": name, "name": name, "arn": arn}

    def owner_tags(self, current: Current) -> Mapping[str, str] | None:
        arn = current.outputs["arn"]
        with aws_errors("reading tags of log group", current.outputs["name"]):
            answer = self.aws.client("logs").list_tags_for_resource(resourceArn=arn)
        return dict(answer.get("tags") or {})

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        # Lambda may make it first by logging: "already exists" is then adopted (and tagged)
        # by `provision`, like any create whose reply was lost.
        name = properties["name"]
        self.aws.client("logs").create_log_group(logGroupName=name, tags=self.aws.tags(logical_id))
        self._set_retention(name, properties.get("retention_days"))
        return self._outputs(name)

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        name = properties["name"]
        # Tagged each time: one Lambda made by logging, and `provision` adopted, has none.
        logs = self.aws.client("logs")
        logs.tag_resource(resourceArn=self._outputs(name)["arn"], tags=self.aws.tags(logical_id))
        retention = properties.get("retention_days")
        if retention != current.properties.get("retention_days"):
            self._set_retention(name, retention)
        return self._outputs(name)

    def _set_retention(self, name: str, retention: int | None) -> None:
        with aws_errors("setting retention of log group", name):
            logs = self.aws.client("logs")
            if retention:
                logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
            else:
                logs.delete_retention_policy(logGroupName=name)

    def destroy(self, recorded: RecordedResource) -> None:
        name = recorded.physical_id
        with aws_errors("deleting log group", name):
            try:
                self.aws.client("logs").delete_log_group(logGroupName=name)
            except ClientError as exc:
                if not is_not_found(exc):
                    raise


PROVISIONERS: tuple[type[Provisioner], ...] = (LogGroupProvisioner,)


def _common_prefix(names: Sequence[str]) -> str:
    """Characters, not path parts: "/aws/lambda/acme-dev-" for acme-dev's functions."""
    first, last = min(names), max(names)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]
