"""SSM SecureString parameters: how a secret environment variable reaches Lambda encrypted.

The spec never holds the value, only `value_ref`, an opaque reference that
`AwsContext.open_secret` turns into the value at the moment it is sent to SSM; the
function is given the parameter's name and reads it at cold start (see the generated
handler). Reads never fetch the value either: whether it changed is told by
`value_version`, a digest of the reference, compared with what was last applied; and a
value put by someone else is told by the parameter's own Version, which SSM raises on every
put: the one our last put made is kept in the outputs and compared with the live one.

ssm:parameter properties:
  name: str              "/strands-deploy/<project>/<stage>/<agent>/<VARIABLE>"
  description: str
  key_id: str | None     KMS key id, ARN or alias; None: the account's aws/ssm key
  value_ref: str         opaque reference to the secret (write-only, never shown); "" for a
                         parameter that starts with `initial_value` (a value that is no secret,
                         e.g. an empty list of accepted API key hashes: SSM takes no "")
  value_version: str     digest of value_ref: changes exactly when the secret is re-entered
outputs: physical_id (name), name, arn, type, version (SSM's, after our last put)"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from provisioning.errors import (
    aws_errors,
    delete_if_present,
)
from provisioning.provisioners.base import (
    Current,
    PropertyChange,
    Provisioner,
    physical_id_of,
    tag_dict,
)
from provisioning.state import RecordedResource

SECURE_STRING = "SecureString"
DEFAULT_KEY = "alias/aws/ssm"


class SsmParameterProvisioner(Provisioner):
    resource_type = "ssm:parameter"
    noun = "SSM parameter"
    replace_on = {"name": "SSM cannot rename a parameter"}
    write_only = frozenset({"value_version", "initial_value"})

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        name = physical_id_of(properties, recorded)
        found = self._describe(name)
        if found is None:
            return None
        props = {
            "name": name,
            "description": found.get("Description", ""),
            "key_id": _key_or_none(found.get("KeyId")),
            "type": found.get("Type"),
            "version": found.get("Version"),
        }
        return Current(props, self._outputs(name, str(found.get("Type", ""))))

    def _describe(self, name: str) -> Mapping[str, Any] | None:
        ssm = self.aws.client("ssm")
        with aws_errors("reading SSM parameter", name):
            page = ssm.describe_parameters(
                ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}]
            )
        for parameter in page.get("Parameters", []):
            if parameter["Name"] == name:
                return dict(parameter)
        return None

    def _outputs(self, name: str, kind: str = SECURE_STRING) -> dict[str, Any]:
        aws = self.aws
        # A name starting with "/" is appended as is: parameter/ + /a/b would double the slash.
        arn = f"arn:{aws.partition}:ssm:{aws.region}:{aws.account_id}:parameter{name}"
        return {"physical_id": name, "name": name, "arn": arn, "type": kind}

    def diff(
        self,
        properties: Mapping[str, Any],
        recorded: RecordedResource | None,
        current: Current,
    ) -> list[PropertyChange]:
        # The reference itself is not compared (value_version says all of it), and a
        # parameter someone turned into plain text must become a SecureString again.
        shown = {k: v for k, v in properties.items() if k != "value_ref"}
        changes = super().diff(shown, recorded, current)
        if current.properties.get("type") != SECURE_STRING:
            changes.append(PropertyChange("type", current.properties.get("type"), SECURE_STRING))
        changed_outside = _value_changed_outside(recorded, current)
        if changed_outside is not None:
            changes.append(changed_outside)
        return changes

    def canonical(self, name: str, value: Any) -> Any:
        if name == "key_id":
            return _key_or_none(value)
        if name == "description":
            return value or ""
        return super().canonical(name, value)

    def owner_tags(self, current: Current) -> Mapping[str, str] | None:
        name = current.outputs["name"]
        with aws_errors("reading tags of SSM parameter", name):
            answer = self.aws.client("ssm").list_tags_for_resource(
                ResourceType="Parameter", ResourceId=name
            )
        return tag_dict(answer.get("TagList") or [])

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        # "ParameterAlreadyExists" after a lost reply: `provision` finds it and updates it.
        args, value = self._put_args(properties)
        version = self._put(args | {"Tags": self.aws.tag_list(logical_id)}, value)
        return self._outputs(args["Name"]) | {"version": version}

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        args, value = self._put_args(properties)
        version = self._put(args | {"Overwrite": True}, value)
        # Tags and Overwrite do not mix: one an interrupted run made is tagged on its own.
        self.aws.client("ssm").add_tags_to_resource(
            ResourceType="Parameter", ResourceId=args["Name"], Tags=self.aws.tag_list(logical_id)
        )
        return self._outputs(args["Name"]) | {"version": version}

    def _put_args(self, properties: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
        reference = properties.get("value_ref")
        value = self.aws.open_secret(reference) if reference else str(properties["initial_value"])
        args: dict[str, Any] = {
            "Name": properties["name"],
            "Value": value,
            "Type": SECURE_STRING,
            "Description": properties.get("description") or "",
            "Tier": "Standard",
        }
        if properties.get("key_id"):
            args["KeyId"] = properties["key_id"]
        return args, value

    def _put(self, args: dict[str, Any], value: str) -> int | None:
        """The parameter's Version after this put."""
        try:
            reply = self.aws.client("ssm").put_parameter(**args)
        except ClientError as exc:
            raise _redacted(exc, value) from None
        version = reply.get("Version")
        return int(version) if version is not None else None

    def destroy(self, recorded: RecordedResource) -> None:
        name = recorded.physical_id
        with aws_errors("deleting SSM parameter", name):
            delete_if_present(
                self.aws.client("ssm").delete_parameter, "ParameterNotFound", Name=name
            )


def _redacted(exc: ClientError, value: str) -> ClientError:
    """The same error, for `provision` to judge by its code, with the value cut from its
    message: AWS may quote what it refused, and an error message is shown and stored."""
    error = dict(exc.response.get("Error", {}))
    if value:
        error["Message"] = str(error.get("Message", "")).replace(value, "[redacted]")
    response: Any = {**exc.response, "Error": error}
    return ClientError(response, exc.operation_name)


def _value_changed_outside(
    recorded: RecordedResource | None, current: Current
) -> PropertyChange | None:
    """A put we did not make (the console, the CLI, another tool) raised the Version past
    the one our last put left: the value may differ, and only a put of ours restores it."""
    applied = (recorded.outputs if recorded else {}).get("version")
    live = current.properties.get("version")
    if applied is None or live is None or int(live) == int(applied):
        return None
    return PropertyChange(
        "value",
        f"changed outside Strands Deploy (SSM version {live})",
        f"as deployed (SSM version {applied})",
    )


def _key_or_none(key: Any) -> str | None:
    return None if key in (None, "", DEFAULT_KEY) else str(key)


PROVISIONERS: tuple[type[Provisioner], ...] = (SsmParameterProvisioner,)
