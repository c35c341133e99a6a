"""The provisioner registry: resource type -> provisioner class, listed explicitly.

Each module lists its own classes in `PROVISIONERS`; this is the one place that gathers them.
"""

from __future__ import annotations

from provisioning.provisioners import (
    api_gateway,
    api_gateway_auth,
    api_gateway_routes,
    cloudwatch,
    dynamodb,
    iam,
    iam_policy,
    lambda_events,
    lambda_function,
    lambda_invoke_config,
    lambda_layer,
    logs,
    s3,
    security_group,
    sns,
    sqs,
    ssm,
    vpc,
    vpc_gateways,
    vpc_routing,
)
from provisioning.provisioners.base import Provisioner

_MODULES = (
    iam,
    iam_policy,
    logs,
    lambda_function,
    lambda_events,
    lambda_invoke_config,
    lambda_layer,
    api_gateway,
    api_gateway_auth,
    api_gateway_routes,
    cloudwatch,
    s3,
    dynamodb,
    sqs,
    sns,
    vpc,
    vpc_gateways,
    vpc_routing,
    security_group,
    ssm,
)

REGISTRY: dict[str, type[Provisioner]] = {
    cls.resource_type: cls for module in _MODULES for cls in module.PROVISIONERS
}


def provisioner_for(resource_type: str) -> type[Provisioner]:
    try:
        return REGISTRY[resource_type]
    except KeyError:
        raise KeyError(f"no provisioner for resource type {resource_type!r}") from None
