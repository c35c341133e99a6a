"""What the sandbox holds for a project, asked directly (never through the fault proxy).

Listed per service as well as by tags, because the tagging API does not return
every resource type (IAM roles, API Gateway v2 APIs, ...): a twin or a leftover
shows up here whatever kind it is.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import boto3

from provisioning.aws import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, TAG_PROJECT

TYPE_TO_KIND = {
    "lambda:function": "lambda functions",
    "lambda:permission": "lambda permissions",
    "lambda:event-source-mapping": "event source mappings",
    "iam:role": "iam roles",
    "apigw:api": "http apis",
    "apigw:route": "routes",
    "apigw:integration": "integrations",
    "apigw:stage": "api stages",
    "s3:bucket": "buckets",
    "sqs:queue": "queues",
    "sns:topic": "topics",
    "sns:subscription": "subscriptions",
    "dynamodb:table": "tables",
    "logs:log-group": "log groups",
}


def _client(endpoint: str, service: str) -> Any:
    session = boto3.Session(
        aws_access_key_id=SANDBOX_ACCESS_KEY,
        aws_secret_access_key=SANDBOX_SECRET_KEY,
        region_name="us-east-1",
    )
    return session.client(service, endpoint_url=endpoint)  # type: ignore[call-overload]


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    return [i for page in client.get_paginator(operation).paginate(**kwargs) for i in page[key]]


def inventory(endpoint: str, project: str) -> dict[str, list[str]]:
    """Per kind, the identifying key of each resource of `project` (a name, route key, ...);
    a key listed twice is a duplicate."""
    prefix = f"{project}-"
    found: dict[str, list[str]] = {}
    lam = _client(endpoint, "lambda")
    functions = [
        f["FunctionName"]
        for f in _pages(lam, "list_functions", "Functions")
        if f["FunctionName"].startswith(prefix)
    ]
    found["lambda functions"] = functions
    found["lambda permissions"] = [
        f"{name}/{statement['Sid']}" for name in functions for statement in _statements(lam, name)
    ]
    found["event source mappings"] = [
        f"{m['FunctionArn'].split(':')[-1]}<-{m['EventSourceArn'].split(':')[-1]}"
        for m in _pages(lam, "list_event_source_mappings", "EventSourceMappings")
        if m["FunctionArn"].split(":")[-1].startswith(prefix)
    ]
    iam = _client(endpoint, "iam")
    found["iam roles"] = [
        r["RoleName"]
        for r in _pages(iam, "list_roles", "Roles")
        if r["RoleName"].startswith(prefix)
    ]
    gw = _client(endpoint, "apigatewayv2")
    apis = [a for a in gw.get_apis()["Items"] if (a.get("Tags") or {}).get(TAG_PROJECT) == project]
    found["http apis"] = [a["Name"] for a in apis]
    found["routes"] = [
        f"{a['Name']} {r['RouteKey']}"
        for a in apis
        for r in gw.get_routes(ApiId=a["ApiId"])["Items"]
    ]
    found["integrations"] = [
        f"{a['Name']} {i.get('IntegrationUri')}"
        for a in apis
        for i in gw.get_integrations(ApiId=a["ApiId"])["Items"]
    ]
    found["api stages"] = [
        f"{a['Name']} {s['StageName']}"
        for a in apis
        for s in gw.get_stages(ApiId=a["ApiId"])["Items"]
    ]
    found["buckets"] = [
        b["Name"]
        for b in _client(endpoint, "s3").list_buckets()["Buckets"]
        if b["Name"].startswith(prefix)
    ]
    sqs = _client(endpoint, "sqs")
    found["queues"] = [
        url.rsplit("/", 1)[-1]
        for url in sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])
    ]
    sns = _client(endpoint, "sns")
    topics = [
        t["TopicArn"]
        for t in _pages(sns, "list_topics", "Topics")
        if t["TopicArn"].split(":")[-1].startswith(prefix)
    ]
    found["topics"] = [t.split(":")[-1] for t in topics]
    found["subscriptions"] = [
        f"{s['TopicArn'].split(':')[-1]}->{s['Endpoint'].split(':')[-1]}"
        for s in _pages(sns, "list_subscriptions", "Subscriptions")
        if s["TopicArn"] in topics
    ]
    found["tables"] = [
        t
        for t in _pages(_client(endpoint, "dynamodb"), "list_tables", "TableNames")
        if t.startswith(prefix)
    ]
    found["log groups"] = [
        g["logGroupName"]
        for g in _pages(_client(endpoint, "logs"), "describe_log_groups", "logGroups")
        if f"/{prefix}" in g["logGroupName"]
    ]
    tagged = _pages(
        _client(endpoint, "resourcegroupstaggingapi"),
        "get_resources",
        "ResourceTagMappingList",
        TagFilters=[{"Key": TAG_PROJECT, "Values": [project]}],
    )
    found["tagged (any service)"] = [r["ResourceARN"] for r in tagged]
    return {kind: sorted(items) for kind, items in found.items()}


def _statements(lam: Any, name: str) -> list[dict[str, Any]]:
    try:
        return list(json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"])
    except lam.exceptions.ResourceNotFoundException:
        return []


def duplicates(found: dict[str, list[str]]) -> dict[str, list[str]]:
    return {
        kind: [key for key, n in Counter(items).items() if n > 1]
        for kind, items in found.items()
        if len(set(items)) != len(items)
    }


def leftovers(found: dict[str, list[str]]) -> dict[str, list[str]]:
    return {kind: items for kind, items in found.items() if items}


def counts(found: dict[str, list[str]]) -> dict[str, int]:
    return {kind: len(items) for kind, items in found.items()}
