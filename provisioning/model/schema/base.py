"""How a setting is declared (`setting`, `bounded`), the value types settings share, and
the strict base every settings model extends."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
)

from provisioning.model import bounds

Group = Literal["basic", "advanced"]


def setting(
    default: Any,
    help: str,
    *,
    label: str = "",
    group: Group = "basic",
    stage: bool = False,
    secret: bool = False,
    **constraints: Any,
) -> Any:
    """A schema field with the dashboard's metadata (see the package's docstring)."""
    extra: dict[str, Any] = {"group": group, "stage": stage, "secret": secret}
    if label:
        extra["label"] = label
    if isinstance(default, list | dict):
        value = default
        return Field(
            default_factory=lambda: type(value)(value),
            description=help,
            json_schema_extra=extra,
            **constraints,
        )
    return Field(default, description=help, json_schema_extra=extra, **constraints)


def bounded(bound: bounds.Bound, help: str, **kwargs: Any) -> Any:
    """A whole number within one of the AWS limits written in `bounds`."""
    return setting(bound.default, help, ge=bound.low, le=bound.high, **kwargs)


# --- value types ------------------------------------------------------------------------------
_ATTRIBUTE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,254}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Lambda sets these itself and refuses functions that try to.
RESERVED_ENV = frozenset(
    {"_HANDLER", "_X_AMZN_TRACE_ID", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ"}
)
_KMS_KEY = re.compile(
    r"^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[A-Za-z0-9/_-]+"
    r"|alias/[A-Za-z0-9/_-]+|[0-9a-f-]{36})$"
)
# The characters EC2 accepts in a security group rule's description.
RULE_DESCRIPTION = r"^[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*$"
_ORIGIN = re.compile(r"^https?://[^\s/]+$")
_ROUTE_PATH = re.compile(r"^/[A-Za-z0-9._~{}+/-]*$")
_ISSUER = re.compile(r"^https://[^\s/]+(/[^\s]*)?$")


def _attribute(value: str) -> str:
    if value and not _ATTRIBUTE.match(value):
        raise ValueError("must be 1-255 letters, digits, '_', '.' or '-', starting with a letter")
    return value


def env_name_problem(value: str) -> str | None:
    """Why a Lambda environment variable cannot have this name, or None."""
    if not _ENV_NAME.match(value):
        return (
            f"{value!r} is not a variable name (letters, digits and _, not starting with a digit)"
        )
    if value.startswith("AWS_") or value in RESERVED_ENV:
        return f"{value} is reserved by AWS Lambda"
    return None


def _env_name(value: str) -> str:
    problem = value and env_name_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _kms_key(value: str | None) -> str | None:
    if value and not _KMS_KEY.match(value):
        raise ValueError("must be a KMS key id, key ARN or alias/name")
    return value or None


def check_origins(values: list[str]) -> list[str]:
    for origin in values:
        if origin != "*" and not _ORIGIN.match(origin):
            raise ValueError(f"{origin!r} is not an origin like https://example.com or *")
    return values


def _network(value: str | None) -> str | None:
    """A CIDR as a network: host bits set are refused, since the user meant a range."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_network(value.strip()))
    except ValueError:
        try:
            wider = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            raise ValueError(f"{value!r} is not a CIDR like 10.1.0.0/16 or 2001:db8::/32") from None
        raise ValueError(f"{value} has host bits set; the network is {wider}") from None


def _filter_policy(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if not value:
        return None
    return {str(k): v if isinstance(v, list) else [v] for k, v in value.items()}


def check_route_path(value: str) -> str:
    if value and (not _ROUTE_PATH.match(value) or "//" in value):
        raise ValueError("must start with / and hold only URL path characters, e.g. /chat/{id}")
    return value


def check_issuer(value: str) -> str:
    if value and not _ISSUER.match(value):
        raise ValueError(
            "must be an https URL, e.g. https://cognito-idp.<region>.amazonaws.com/<pool>"
        )
    return value


AttributeName = Annotated[str, AfterValidator(_attribute)]
EnvName = Annotated[str, AfterValidator(_env_name)]
KmsKey = Annotated[str | None, AfterValidator(_kms_key)]
Cidr = Annotated[str | None, AfterValidator(_network)]
FilterPolicy = Annotated[dict[str, Any] | None, AfterValidator(_filter_policy)]
KeyType = Literal["S", "N", "B"]
KEY_TYPE_HELP = "S string, N number, B binary."


class Settings(BaseModel):
    """Unknown names are refused: a typo is an error, not a silently ignored setting."""

    model_config = ConfigDict(extra="forbid", validate_default=True)
