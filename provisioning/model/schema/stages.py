"""A stage's engine settings, with its network."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from provisioning.model import cidr
from provisioning.model.schema.base import (
    KmsKey,
    Settings,
    setting,
)

# --- stages -----------------------------------------------------------------------------------
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
                      1827, 2192, 2557, 2922, 3288, 3653)  # fmt: skip


def _vpc_cidr(value: str | None) -> str | None:
    problems = cidr.cidr_problems(value) if value else []
    if problems:
        raise ValueError(problems[0])
    return value or None


class NetworkSettings(Settings):
    enabled: bool = setting(False, "Run the agents inside a VPC of their own.", label="VPC")
    cidr: Annotated[str | None, AfterValidator(_vpc_cidr)] = setting(
        None, "The VPC's range, e.g. 10.20.0.0/16.", label="CIDR"
    )
    ipam_pool_id: str | None = setting(
        None, "Take the range from this IPAM pool instead.", label="IPAM pool", group="advanced"
    )
    ipam_netmask_length: int = setting(16, "The IPAM allocation's size.", group="advanced",
                                       ge=16, le=28)  # fmt: skip
    az_count: int = setting(2, "Availability zones.", label="AZs", ge=1, le=6)
    nat: Literal["none", "single", "per_az"] = setting(
        "single", "Internet egress: none (endpoints only), one NAT, or one per AZ.", label="NAT"
    )
    endpoints: list[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")]] = setting(
        [], "VPC endpoints, e.g. s3, dynamodb, bedrock-runtime.", group="advanced"
    )
    avoid_cidrs: list[str] = setting(
        [], "Ranges this network must not overlap (peered networks).", group="advanced"
    )

    @model_validator(mode="after")
    def _has_a_range(self) -> NetworkSettings:
        # The layout needs a range to cut subnets from; without one there is nothing to build.
        if self.enabled and not self.cidr and not self.ipam_pool_id:
            raise PydanticCustomError(
                "network_range", "give a CIDR (e.g. 10.20.0.0/16) or an IPAM pool id"
            )
        if self.cidr and not self.ipam_pool_id:
            prefix = int(self.cidr.rpartition("/")[2])
            if cidr.subnet_prefix(prefix, 2 * self.az_count) > cidr.MAX_PREFIX:
                raise PydanticCustomError(
                    "network_range",
                    "{cidr} is too small for {count} subnets (public and private per AZ)",
                    {"cidr": self.cidr, "count": 2 * self.az_count},
                )
        return self


class StageSettings(Settings):
    log_retention_days: Literal[LOG_RETENTION_DAYS] = setting(  # type: ignore[valid-type]
        14, "How long CloudWatch keeps the agents' logs.", label="Log retention (days)"
    )
    shared_role: Literal["identical", "same_grants", "all", "none"] = setting(
        "identical", "Share execution roles: between agents with the same grants (each still "
        "writes only its own logs), the same grants with each other's logs too, all agents, "
        "or none.", label="Role sharing",
        group="advanced",
    )  # fmt: skip
    dependencies: Literal["layer", "official", "none"] = setting(
        "layer", "The SDK and tools: a layer built with pip, the official Strands layer, "
        "or your own layers only.", group="advanced",
    )  # fmt: skip
    strands_layer_arn: str = setting(
        "", "The official Strands layer's version ARN (dependencies: official).",
        label="Strands layer ARN", group="advanced",
    )  # fmt: skip
    secrets_kms_key_id: KmsKey = setting(
        None, "Encrypt secret variables with this KMS key; empty: the AWS-managed SSM key.",
        label="Secrets KMS key", group="advanced",
    )  # fmt: skip
    network: NetworkSettings = setting(NetworkSettings(), "The agents' network.")
    permissions_boundary: str = setting(
        "", "A managed policy ARN that bounds every execution role this stage creates.",
        label="Permissions boundary", group="advanced",
        pattern=r"^(arn:aws[a-z-]*:iam::(\d{12}|aws):policy/[A-Za-z0-9+=,.@_/-]+)?$",
        max_length=2048,
    )  # fmt: skip
