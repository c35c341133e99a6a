"""CloudWatch log groups, so destroy leaves no log group behind.

logs:log-group properties:
  name: str             "/aws/lambda/<function name>"
  retention_days: int
outputs: physical_id (name), name, arn"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from provisioning.errors import aws_errors, error_code, is_not_found
from provisioning.provisioners.base import Current, Provisioner
from provisioning.state import RecordedResource


class LogGroupProvisioner(Provisioner):
    resource_type = "logs:log-group"
    replace_on = {"name": "CloudWatch Logs cannot rename a log group"}

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        name = recorded.physical_id if recorded else (properties or {})["name"]
        group = self._find(name)
        if group is None:
            return None
        props = {"name": name, "retention_days": group.get("retentionInDays")}
        return Current(props, self._outputs(name))

    def _find(self, name: str) -> Mapping[str, Any] | None:
        paginator = self.aws.client("logs").get_paginator("describe_log_groups")
        with aws_errors("reading log group", name):
            for page in paginator.paginate(logGroupNamePrefix=name):
                for group in page["logGroups"]:
                    if group["logGroupName"] == name:
                        return dict(group)
        return None

    def _outputs(self, name: str) -> dict[str, Any]:
        aws = self.aws
        arn = f"arn:{aws.partition}:logs:{aws.region}:{aws.account_id}:log-group:{name}"
        return {"physical_id": name, "name": name, "arn": arn}

    def provision(
        self, logical_id: str, properties: Mapping[str, Any], current: Current | None
    ) -> dict[str, Any]:
        name = properties["name"]
        logs = self.aws.client("logs")
        if current is None:
            with aws_errors("creating log group", name):
                try:
                    logs.create_log_group(logGroupName=name, tags=self.aws.tags(logical_id))
                except ClientError as exc:
                    # Lambda may have made it first by logging; adopt it.
                    if error_code(exc) != "ResourceAlreadyExistsException":
                        raise
                    arn = self._outputs(name)["arn"]
                    logs.tag_resource(resourceArn=arn, tags=self.aws.tags(logical_id))
        retention = properties.get("retention_days")
        have = current.properties.get("retention_days") if current else None
        if retention != have or current is None:
            with aws_errors("setting retention of log group", name):
                if retention:
                    logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
                else:
                    logs.delete_retention_policy(logGroupName=name)
        return self._outputs(name)

    def destroy(self, recorded: RecordedResource) -> None:
        name = recorded.physical_id
        with aws_errors("deleting log group", name):
            try:
                self.aws.client("logs").delete_log_group(logGroupName=name)
            except ClientError as exc:
                if not is_not_found(exc):
                    raise


PROVISIONERS: tuple[type[Provisioner], ...] = (LogGroupProvisioner,)
