"""DynamoDB tables.

dynamodb:table properties:
  name: str
  billing_mode: "PAY_PER_REQUEST" | "PROVISIONED"
  read_capacity: int | None, write_capacity: int | None     (PROVISIONED only)
  partition_key: {"name": str, "type": "S" | "N" | "B"}
  sort_key: {"name": str, "type": ...} | None
  stream_view_type: None | "NEW_IMAGE" | "OLD_IMAGE" | "NEW_AND_OLD_IMAGES" | "KEYS_ONLY"
  global_secondary_indexes: list[dict]   (see build_gsi)
  point_in_time_recovery: bool
  local_secondary_indexes: list[dict]    (optional; create-only; see build_lsi)
  ttl_attribute: str     (optional; "" = no time to live)
outputs: physical_id (name), name, arn, stream_arn (None without a stream)

An index dict: {"name", "partition_key" (GSI only), "sort_key", "projection":
"ALL" | "KEYS_ONLY" | "INCLUDE", "non_key_attributes": [str], and for GSIs
"read_capacity"/"write_capacity" (PROVISIONED tables; default: the table's)}.
Every table is encrypted at rest with KMS (SSESpecification Enabled).

Time to live names one attribute. DynamoDB cannot rename it: a change turns it off and on
again, and AWS refuses a second UpdateTimeToLive on a table for up to an hour, so a rename
may need a second deploy an hour later (the error says so)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from provisioning.errors import (
    ProvisioningError,
    aws_errors,
    delete_if_present,
    error_code,
    found_or_none,
    retry_while,
)
from provisioning.provisioners.base import Current, Provisioner, physical_id_of, tag_dict
from provisioning.provisioners.dynamodb_schema import (
    attribute_definitions,
    build_gsi,
    build_key_schema,
    build_lsi,
    build_stream_specification,
    canonical_table,
    read_table,
)
from provisioning.state import RecordedResource

__all__ = [
    "TableProvisioner",
    "build_gsi",
    "build_key_schema",
    "build_lsi",
    "build_stream_specification",
]

_WAIT = {"Delay": 5, "MaxAttempts": 120}
_INDEX_WAIT_S = 3600.0  # backfilling a GSI on a big table takes a long time
_BUSY = ("ResourceInUseException", "LimitExceededException")


class TableProvisioner(Provisioner):
    resource_type = "dynamodb:table"
    noun = "DynamoDB table"
    replace_on = {
        "name": "DynamoDB cannot rename a table",
        "partition_key": "a table's key schema is fixed at creation",
        "sort_key": "a table's key schema is fixed at creation",
        "local_secondary_indexes": "local secondary indexes exist only from creation",
    }

    def with_defaults(self, properties: Mapping[str, Any]) -> Mapping[str, Any]:
        return canonical_table(properties)

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        name = physical_id_of(properties, recorded)
        with aws_errors("reading DynamoDB table", name):
            table = self._describe(name)
            if table is None:
                return None
            backups = self._client.describe_continuous_backups(TableName=name)
            ttl = self._client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        pitr = backups["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
        live = read_table(table)
        live["point_in_time_recovery"] = pitr.get("PointInTimeRecoveryStatus") == "ENABLED"
        live["ttl_attribute"] = _ttl_attribute(ttl)
        return Current(properties=live, outputs=_outputs(table))

    def owner_tags(self, current: Current) -> Mapping[str, str] | None:
        arn = current.outputs["arn"]
        with aws_errors("reading tags of DynamoDB table", current.outputs["physical_id"]):
            answer = self.aws.client("dynamodb").list_tags_of_resource(ResourceArn=arn)
        return tag_dict(answer.get("Tags") or [])

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        wanted = canonical_table(properties)
        table = self._create(logical_id, wanted)
        if wanted["point_in_time_recovery"]:
            self._set_pitr(wanted["name"], True)
        if wanted["ttl_attribute"]:
            self._set_ttl(wanted["name"], "", wanted["ttl_attribute"])
        return _outputs(table)

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        wanted = canonical_table(properties)
        have = dict(current.properties)
        self._update(wanted, have)
        if wanted["point_in_time_recovery"] != have.get("point_in_time_recovery"):
            self._set_pitr(wanted["name"], wanted["point_in_time_recovery"])
        if wanted["ttl_attribute"] != (have.get("ttl_attribute") or ""):
            self._set_ttl(wanted["name"], have.get("ttl_attribute") or "", wanted["ttl_attribute"])
        table = self._wait_active(wanted["name"])
        self._client.tag_resource(ResourceArn=table["TableArn"], Tags=self.aws.tag_list(logical_id))
        return _outputs(table)

    def wait_until_usable(
        self, logical_id: str, properties: Mapping[str, Any], outputs: dict[str, Any]
    ) -> dict[str, Any]:
        with aws_errors("updating DynamoDB table", outputs["name"]):
            return _outputs(self._wait_active(outputs["name"]))

    def destroy(self, recorded: RecordedResource) -> None:
        name = recorded.physical_id
        with aws_errors("deleting DynamoDB table", name):
            if delete_if_present(self._delete_when_settled, name=name):
                self._client.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig=_WAIT)

    def _delete_when_settled(self, name: str) -> None:
        """Retried while AWS answers busy: the table is still changing, or too many are."""
        retry_while(
            lambda exc: isinstance(exc, ClientError) and error_code(exc) in _BUSY,
            lambda: self._client.delete_table(TableName=name),
            timeout_s=600,
            sleep=self.aws.sleep,
            clock=self.aws.clock,
        )

    @property
    def _client(self) -> Any:
        return self.aws.client("dynamodb")

    def _describe(self, name: str) -> dict[str, Any] | None:
        found = found_or_none(self._client.describe_table, TableName=name)
        return None if found is None else dict(found["Table"])

    def _create(self, logical_id: str, wanted: Mapping[str, Any]) -> dict[str, Any]:
        args: dict[str, Any] = {
            "TableName": wanted["name"],
            "AttributeDefinitions": attribute_definitions(wanted),
            "KeySchema": build_key_schema(wanted["partition_key"], wanted["sort_key"]),
            "BillingMode": wanted["billing_mode"],
            "SSESpecification": {"Enabled": True, "SSEType": "KMS"},
            "Tags": self.aws.tag_list(logical_id),
        }
        if wanted["billing_mode"] == "PROVISIONED":
            args["ProvisionedThroughput"] = _throughput(wanted)
        if wanted["global_secondary_indexes"]:
            args["GlobalSecondaryIndexes"] = [
                build_gsi(gsi) for gsi in wanted["global_secondary_indexes"]
            ]
        if wanted.get("local_secondary_indexes"):
            args["LocalSecondaryIndexes"] = [
                build_lsi(lsi, wanted["partition_key"]) for lsi in wanted["local_secondary_indexes"]
            ]
        if wanted["stream_view_type"]:
            args["StreamSpecification"] = build_stream_specification(wanted["stream_view_type"])
        self._client.create_table(**args)
        return self._wait_active(wanted["name"])

    def _update(self, wanted: Mapping[str, Any], have: Mapping[str, Any]) -> None:
        """Each step is its own UpdateTable call: AWS allows one index change per call
        and refuses a new update while the table or an index is still changing."""
        name = wanted["name"]
        have_gsis = {g["name"]: g for g in have.get("global_secondary_indexes", [])}
        want_gsis = {g["name"]: g for g in wanted["global_secondary_indexes"]}
        for index_name, gsi in have_gsis.items():
            if not _same_index(want_gsis.get(index_name), gsi):
                self._update_table(
                    name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": index_name}}]
                )
        kept = [g for n, g in want_gsis.items() if _same_index(have_gsis.get(n), g)]
        if _billing(wanted) != _billing(have):
            self._update_billing(wanted, kept)
        else:
            for gsi in kept:
                if _capacity(gsi) != _capacity(have_gsis[gsi["name"]]):
                    self._update_table(name, GlobalSecondaryIndexUpdates=[_gsi_update(gsi)])
        for index_name, gsi in want_gsis.items():
            if not _same_index(have_gsis.get(index_name), gsi):
                self._update_table(
                    name,
                    AttributeDefinitions=attribute_definitions(wanted),
                    GlobalSecondaryIndexUpdates=[{"Create": build_gsi(gsi)}],
                )
        if wanted["stream_view_type"] != have.get("stream_view_type"):
            self._update_stream(name, have.get("stream_view_type"), wanted["stream_view_type"])

    def _update_billing(self, wanted: Mapping[str, Any], kept: list[dict[str, Any]]) -> None:
        args: dict[str, Any] = {"BillingMode": wanted["billing_mode"]}
        if wanted["billing_mode"] == "PROVISIONED":
            args["ProvisionedThroughput"] = _throughput(wanted)
            # switching to PROVISIONED needs every index's capacity in the same call
            if kept:
                args["GlobalSecondaryIndexUpdates"] = [_gsi_update(gsi) for gsi in kept]
        self._update_table(wanted["name"], **args)

    def _update_stream(self, name: str, have: str | None, wanted: str | None) -> None:
        # a stream's view type cannot change in place: disable, then enable anew
        if have:
            self._update_table(name, StreamSpecification={"StreamEnabled": False})
        if wanted:
            self._update_table(name, StreamSpecification=build_stream_specification(wanted))

    def _update_table(self, name: str, **args: Any) -> None:
        self._client.update_table(TableName=name, **args)
        self._wait_active(name)

    def _set_pitr(self, name: str, enabled: bool) -> None:
        # AWS answers ContinuousBackupsUnavailable for a while after a table is created
        retry_while(
            lambda exc: (
                isinstance(exc, ClientError)
                and error_code(exc) == "ContinuousBackupsUnavailableException"
            ),
            lambda: self._client.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": enabled},
            ),
            timeout_s=300,
            sleep=self.aws.sleep,
            clock=self.aws.clock,
        )

    def _set_ttl(self, name: str, have: str, wanted: str) -> None:
        if have:
            self._client.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": False, "AttributeName": have}
            )
        if not wanted:
            return
        try:
            self._client.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": wanted}
            )
        except ClientError as exc:
            if not have or error_code(exc) != "ValidationException":
                raise
            raise ProvisioningError(
                "updating DynamoDB table",
                name,
                f"time to live on {have} is off; DynamoDB turns it on for {wanted} only "
                f"about an hour after the last change: deploy again then ({exc})",
                code="ValidationException",
            ) from exc

    def _wait_active(self, name: str) -> dict[str, Any]:
        """Wait for the table and every index to be ACTIVE; return its description."""
        self._client.get_waiter("table_exists").wait(TableName=name, WaiterConfig=_WAIT)
        deadline = self.aws.clock() + _INDEX_WAIT_S
        while True:
            table = dict(self._client.describe_table(TableName=name)["Table"])
            statuses = [g.get("IndexStatus") for g in table.get("GlobalSecondaryIndexes", [])]
            busy = table.get("TableStatus") != "ACTIVE" or any(s != "ACTIVE" for s in statuses)
            if not busy:
                return table
            if self.aws.clock() > deadline:
                raise TimeoutError(f"table {name} still not ACTIVE after {_INDEX_WAIT_S:.0f}s")
            self.aws.sleep(5)


def _outputs(table: Mapping[str, Any]) -> dict[str, Any]:
    stream = table.get("StreamSpecification") or {}
    return {
        "physical_id": table["TableName"],
        "name": table["TableName"],
        "arn": table["TableArn"],
        "stream_arn": table.get("LatestStreamArn") if stream.get("StreamEnabled") else None,
    }


def _ttl_attribute(description: Mapping[str, Any]) -> str:
    """The attribute time to live works on; "" when it is off or being turned off."""
    if description.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        return str(description.get("AttributeName") or "")
    return ""


def _throughput(spec: Mapping[str, Any]) -> dict[str, int]:
    return {
        "ReadCapacityUnits": int(spec["read_capacity"]),
        "WriteCapacityUnits": int(spec["write_capacity"]),
    }


def _billing(spec: Mapping[str, Any]) -> tuple[Any, ...]:
    return (spec.get("billing_mode"), spec.get("read_capacity"), spec.get("write_capacity"))


def _capacity(gsi: Mapping[str, Any]) -> tuple[Any, ...]:
    return (gsi.get("read_capacity"), gsi.get("write_capacity"))


def _same_index(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """The same keys and projection: what AWS cannot change without a new index."""
    if a is None or b is None:
        return False
    shape = ("partition_key", "sort_key", "projection", "non_key_attributes")
    return all(a.get(k) == b.get(k) for k in shape)


def _gsi_update(gsi: Mapping[str, Any]) -> dict[str, Any]:
    return {"Update": {"IndexName": gsi["name"], "ProvisionedThroughput": _throughput(gsi)}}


PROVISIONERS: tuple[type[Provisioner], ...] = (TableProvisioner,)
