"""The IAM policy the deploying identity needs on a real AWS account.

`policy_document()` is what `python manage.py deployer_policy` prints: every action the
engine calls while it plans, deploys, updates, refreshes (with the orphan search) and
destroys, plus `iam:PassRole` for Lambda. `tests/provisioning/test_deployer_policy.py`
records every call of the kitchen-sink project's whole life on moto and checks that each
maps (`iam_action`) to an action listed here, so a new call cannot be forgotten.
"""

from __future__ import annotations

from typing import Any

ACTIONS: dict[str, tuple[str, ...]] = {
    "apigateway": ("DELETE", "GET", "PATCH", "POST", "PUT"),
    "cloudwatch": (
        "DeleteAlarms",
        "DescribeAlarms",
        "ListTagsForResource",
        "PutMetricAlarm",
        "TagResource",
    ),
    "dynamodb": (
        "CreateTable",
        "DeleteTable",
        "DescribeContinuousBackups",
        "DescribeTable",
        "DescribeTimeToLive",
        "ListTagsOfResource",
        "TagResource",
        "UntagResource",
        "UpdateContinuousBackups",
        "UpdateTable",
        "UpdateTimeToLive",
    ),
    "ec2": (
        "AllocateAddress",
        "AssociateRouteTable",
        "AttachInternetGateway",
        "AuthorizeSecurityGroupEgress",
        "AuthorizeSecurityGroupIngress",
        "CreateInternetGateway",
        "CreateNatGateway",
        "CreateRoute",
        "CreateRouteTable",
        "CreateSecurityGroup",
        "CreateSubnet",
        "CreateTags",
        "CreateVpc",
        "CreateVpcEndpoint",
        "DeleteInternetGateway",
        "DeleteNatGateway",
        "DeleteRoute",
        "DeleteRouteTable",
        "DeleteSecurityGroup",
        "DeleteSubnet",
        "DeleteTags",
        "DeleteVpc",
        "DeleteVpcEndpoints",
        "DescribeAddresses",
        "DescribeAvailabilityZones",
        "DescribeInternetGateways",
        "DescribeNatGateways",
        "DescribeNetworkInterfaces",
        "DescribeRouteTables",
        "DescribeSecurityGroups",
        "DescribeSubnets",
        "DescribeVpcAttribute",
        "DescribeVpcEndpoints",
        "DescribeVpcs",
        "DetachInternetGateway",
        "DisassociateRouteTable",
        "ModifyVpcAttribute",
        "ModifyVpcEndpoint",
        "ReleaseAddress",
        "ReplaceRoute",
        "ReplaceRouteTableAssociation",
        "RevokeSecurityGroupEgress",
        "RevokeSecurityGroupIngress",
    ),
    "iam": (
        "AttachRolePolicy",
        "CreatePolicy",
        "CreatePolicyVersion",
        "CreateRole",
        "DeletePolicy",
        "DeletePolicyVersion",
        "DeleteRole",
        "DeleteRolePolicy",
        "DetachRolePolicy",
        "GetAccountAuthorizationDetails",
        "GetPolicy",
        "GetPolicyVersion",
        "GetRole",
        "GetRolePolicy",
        "ListAttachedRolePolicies",
        "ListEntitiesForPolicy",
        "ListPolicyTags",
        "ListPolicyVersions",
        "ListRolePolicies",
        "ListRoleTags",
        "ListRoles",
        "PutRolePermissionsBoundary",
        "PutRolePolicy",
        "TagPolicy",
        "TagRole",
        "UpdateAssumeRolePolicy",
        "UpdateRole",
    ),
    "lambda": (
        "AddPermission",
        "CreateEventSourceMapping",
        "CreateFunction",
        "DeleteEventSourceMapping",
        "DeleteFunction",
        "DeleteFunctionConcurrency",
        "DeleteFunctionEventInvokeConfig",
        "DeleteLayerVersion",
        "GetEventSourceMapping",
        "GetFunction",
        "GetFunctionConfiguration",
        "GetFunctionEventInvokeConfig",
        "GetLayerVersion",
        "GetPolicy",
        "InvokeFunction",
        "ListEventSourceMappings",
        "ListFunctions",
        "ListLayerVersions",
        "ListTags",
        "PublishLayerVersion",
        "PutFunctionConcurrency",
        "PutFunctionEventInvokeConfig",
        "RemovePermission",
        "TagResource",
        "UntagResource",
        "UpdateEventSourceMapping",
        "UpdateFunctionCode",
        "UpdateFunctionConfiguration",
    ),
    "logs": (
        "CreateLogGroup",
        "DeleteLogGroup",
        "DeleteRetentionPolicy",
        "DescribeLogGroups",
        "ListTagsForResource",
        "PutRetentionPolicy",
        "TagResource",
    ),
    "s3": (
        "CreateBucket",
        "DeleteBucket",
        "DeleteBucketPolicy",
        "DeleteObject",
        "DeleteObjectVersion",
        "GetBucketPolicy",
        "GetBucketPublicAccessBlock",
        "GetBucketTagging",
        "GetBucketVersioning",
        "GetEncryptionConfiguration",
        "GetObject",
        "ListBucket",
        "ListBucketVersions",
        "PutBucketPolicy",
        "PutBucketPublicAccessBlock",
        "PutBucketTagging",
        "PutBucketVersioning",
        "PutEncryptionConfiguration",
        "PutObject",
    ),
    "sns": (
        "CreateTopic",
        "DeleteTopic",
        "GetSubscriptionAttributes",
        "GetTopicAttributes",
        "ListSubscriptionsByTopic",
        "ListTagsForResource",
        "SetSubscriptionAttributes",
        "SetTopicAttributes",
        "Subscribe",
        "TagResource",
        "Unsubscribe",
    ),
    "sqs": (
        "CreateQueue",
        "DeleteQueue",
        "GetQueueAttributes",
        "GetQueueUrl",
        "ListQueueTags",
        "SetQueueAttributes",
        "TagQueue",
    ),
    "ssm": (
        "AddTagsToResource",
        "DeleteParameter",
        "GetParameter",
        "ListTagsForResource",
        "PutParameter",
    ),
    "tag": ("GetResources",),
}

_PREFIX = {"apigatewayv2": "apigateway", "resourcegroupstaggingapi": "tag"}
_S3 = {
    # S3 names its permissions apart from its operations.
    "HeadBucket": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "HeadObject": "GetObject",
    "DeleteObjects": "DeleteObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "AbortMultipartUpload": "PutObject",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
}
_FREE = {"sts:GetCallerIdentity"}
"""Calls any identity may make."""


def iam_action(service: str, operation: str, http_method: str) -> str | None:
    """The IAM action an API call needs ("s3:ListBucket" for S3's HeadBucket), or None when
    it needs none. API Gateway authorises by HTTP method, not by operation."""
    if f"{service}:{operation}" in _FREE:
        return None
    prefix = _PREFIX.get(service, service)
    if prefix == "apigateway":
        return f"apigateway:{http_method}"
    if prefix == "s3":
        return f"s3:{_S3.get(operation, operation)}"
    return f"{prefix}:{operation}"


def policy_document() -> dict[str, Any]:
    actions = sorted(f"{prefix}:{name}" for prefix, names in ACTIONS.items() for name in names)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "StrandsDeployEngine", "Effect": "Allow", "Action": actions, "Resource": "*"},
            {
                # Functions run as the execution roles the engine makes: Lambda only.
                "Sid": "PassExecutionRolesToLambda",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": "*",
                "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
            },
        ],
    }
