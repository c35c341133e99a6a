"""What a stage will cost a month, before and after a plan: a list-price estimate.

Two steps, so that the figure can be recomputed on the page without AWS or the plan run:
1. `inputs(plan, records)` keeps, per resource, only the facts that decide its price
   (memory size, billing mode, capacity, AZ count...) before (recorded) and after (wanted).
   They are stored with the plan; no secret is among them.
2. `estimate(inputs, region, assumptions)` prices them with the dated table in
   `provisioning/analysis/prices/` for the stage's region.

Hourly resources (NAT gateways, interface endpoints, public IPv4, provisioned DynamoDB
capacity) are priced for a full month. Usage-priced ones (Lambda, HTTP API, SQS, SNS,
on-demand DynamoDB, S3) depend on the assumptions, which the estimate carries along.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from provisioning.plan.planner import Plan
from provisioning.provisioners.base import Action
from provisioning.state import RecordedResource

PRICES_DIR = Path(__file__).resolve().parent / "prices"
Facts = dict[str, Any]


@dataclass(frozen=True)
class Assumptions:
    requests_per_month: int = 100_000
    """Each usage-priced resource sees this many requests (invocations, messages, API calls)."""
    avg_duration_s: float = 10.0
    """Average Lambda run time: an agent waits on its model."""
    nat_gb_per_month: float = 10.0
    endpoint_gb_per_month: float = 5.0
    s3_storage_gb: float = 1.0
    log_gb_per_month: float = 0.5

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Assumptions:
        """Known keys, each coerced to its type; bad or negative values keep the default."""
        result = cls()
        for name, default in asdict(result).items():
            if name not in values:
                continue
            try:
                value = type(default)(float(values[name]))
            except (TypeError, ValueError):
                continue
            if value >= 0:
                result = replace(result, **{name: value})
        return result


# --- step 1: the facts that set a price ----------------------------------------------------
def facts(resource_type: str, properties: Mapping[str, Any]) -> Facts | None:
    """None for resources without a charge of their own (roles, routes, security groups...)."""
    p = properties
    if resource_type in ("ec2:nat-gateway", "ec2:eip", "apigw:api", "logs:log-group"):
        return {"type": resource_type}
    if resource_type == "ec2:vpc-endpoint":
        if str(p.get("endpoint_type", "")).lower() != "interface":
            return None  # gateway endpoints (S3, DynamoDB) are free
        return {"type": resource_type, "azs": max(1, len(p.get("subnet_ids") or ()))}
    if resource_type == "lambda:function":
        return {
            "type": resource_type,
            "memory_mb": int(p.get("memory_mb") or 128),
            "architecture": str(p.get("architecture") or "x86_64"),
        }
    if resource_type == "dynamodb:table":
        provisioned = p.get("billing_mode") == "PROVISIONED"
        return {
            "type": resource_type,
            "billing_mode": "PROVISIONED" if provisioned else "PAY_PER_REQUEST",
            "rcu": _capacity(p, "read_capacity") if provisioned else 0,
            "wcu": _capacity(p, "write_capacity") if provisioned else 0,
        }
    if resource_type in ("sqs:queue", "sns:topic"):
        return {"type": resource_type, "fifo": bool(p.get("fifo"))}
    if resource_type == "s3:bucket":
        return {"type": resource_type}
    return None


def _capacity(properties: Mapping[str, Any], name: str) -> int:
    total = int(properties.get(name) or 0)
    for index in properties.get("global_secondary_indexes") or ():
        if isinstance(index, Mapping):
            total += int(index.get(name) or 0)
    return total


def inputs(plan: Plan, records: Mapping[str, RecordedResource]) -> dict[str, dict[str, Any]]:
    """{logical_id: {"node", "action", "before": Facts | None, "after": Facts | None}}."""
    result: dict[str, dict[str, Any]] = {}
    for change in plan.changes:
        record = records.get(change.logical_id)
        before = facts(record.resource_type, record.properties) if record else None
        after = None
        if change.action is not Action.DELETE:
            after = facts(change.resource_type, change.properties)
        if before is None and after is None:
            continue
        result[change.logical_id] = {
            "node": change.node,
            "action": change.action.value,
            "before": before,
            "after": after,
        }
    return result


# --- step 2: prices ----------------------------------------------------------------------------
@dataclass(frozen=True)
class PriceTable:
    as_of: str
    source: str
    currency: str
    hours: float
    region: str
    """The region priced: the stage's, or the fallback when the table lacks it."""
    exact_region: bool
    prices: Mapping[str, float]


@cache
def _raw_table(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def latest_table_path() -> Path:
    return max(PRICES_DIR.glob("*.json"))  # named by date, so the newest sorts last


def price_data(path: Path | None = None) -> dict[str, Any]:
    """The whole price file (the newest unless `path`), as stored."""
    return _raw_table(path or latest_table_path())


def price_table(region: str, path: Path | None = None) -> PriceTable:
    raw = _raw_table(path or latest_table_path())
    regions: Mapping[str, Mapping[str, float]] = raw["regions"]
    priced = region if region in regions else str(raw["fallback_region"])
    return PriceTable(
        as_of=str(raw["as_of"]),
        source=str(raw["source"]),
        currency=str(raw["currency"]),
        hours=float(raw["hours_per_month"]),
        region=priced,
        exact_region=priced == region,
        prices=dict(regions[priced]),
    )


@dataclass(frozen=True)
class Line:
    monthly: float
    basis: str
    """How the figure was reached, for the page: "730 h x $0.045"."""


def price(item: Facts, table: PriceTable, a: Assumptions) -> Line:
    p, hours, kind = table.prices, table.hours, item["type"]
    n = a.requests_per_month
    if kind == "ec2:nat-gateway":
        fixed = hours * p["nat_gateway_hour"]
        data = a.nat_gb_per_month * p["nat_gateway_gb"]
        return Line(
            fixed + data,
            f"{hours:g} h x ${p['nat_gateway_hour']:g} + {a.nat_gb_per_month:g} GB processed",
        )
    if kind == "ec2:eip":
        return Line(
            hours * p["public_ipv4_hour"], f"public IPv4: {hours:g} h x ${p['public_ipv4_hour']:g}"
        )
    if kind == "ec2:vpc-endpoint":
        azs = int(item.get("azs", 1))
        fixed = azs * hours * p["interface_endpoint_az_hour"]
        data = a.endpoint_gb_per_month * p["interface_endpoint_gb"]
        return Line(
            fixed + data,
            f"{azs} AZ x {hours:g} h x ${p['interface_endpoint_az_hour']:g} + {a.endpoint_gb_per_month:g} GB",
        )
    if kind == "dynamodb:table":
        return _dynamodb(item, table, a)
    if kind == "lambda:function":
        return _lambda(item, table, a)
    if kind == "apigw:api":
        return Line(n / 1e6 * p["apigw_http_request_million"], f"{n:,} requests")
    if kind == "sqs:queue":
        rate = p["sqs_fifo_request_million"] if item.get("fifo") else p["sqs_request_million"]
        return Line(3 * n / 1e6 * rate, f"{n:,} messages x 3 requests (send, receive, delete)")
    if kind == "sns:topic":
        return Line(n / 1e6 * p["sns_request_million"], f"{n:,} publishes")
    if kind == "s3:bucket":
        storage = a.s3_storage_gb * p["s3_storage_gb_month"]
        calls = n / 1000 * (p["s3_put_thousand"] + p["s3_get_thousand"])
        return Line(storage + calls, f"{a.s3_storage_gb:g} GB stored + {n:,} PUT and GET")
    if kind == "logs:log-group":
        return Line(a.log_gb_per_month * p["logs_ingest_gb"], f"{a.log_gb_per_month:g} GB ingested")
    return Line(0.0, "no charge of its own")


def _dynamodb(item: Facts, table: PriceTable, a: Assumptions) -> Line:
    p, hours = table.prices, table.hours
    if item.get("billing_mode") == "PROVISIONED":
        rcu, wcu = int(item.get("rcu", 0)), int(item.get("wcu", 0))
        monthly = hours * (rcu * p["dynamodb_rcu_hour"] + wcu * p["dynamodb_wcu_hour"])
        return Line(monthly, f"provisioned {rcu} RCU + {wcu} WCU x {hours:g} h")
    n = a.requests_per_month
    rates = p["dynamodb_read_request_million"] + p["dynamodb_write_request_million"]
    return Line(n / 1e6 * rates, f"on demand: {n:,} reads + {n:,} writes")


def _lambda(item: Facts, table: PriceTable, a: Assumptions) -> Line:
    p, n = table.prices, a.requests_per_month
    arch = "arm64" if item.get("architecture") == "arm64" else "x86_64"
    gb = int(item.get("memory_mb", 128)) / 1024
    compute = n * a.avg_duration_s * gb * p[f"lambda_gb_second_{arch}"]
    requests = n / 1e6 * p["lambda_request_million"]
    return Line(
        compute + requests,
        f"{n:,} runs x {a.avg_duration_s:g} s x {gb:g} GB ({arch})",
    )


@dataclass
class Estimate:
    region: str
    priced_region: str
    exact_region: bool
    as_of: str
    source: str
    currency: str
    assumptions: Assumptions
    rows: list[dict[str, Any]] = field(default_factory=list)
    before: float = 0.0
    after: float = 0.0

    @property
    def delta(self) -> float:
        return self.after - self.before

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "delta": self.delta}


def estimate(
    cost_inputs: Mapping[str, Mapping[str, Any]],
    region: str,
    assumptions: Assumptions = Assumptions(),
    *,
    table: PriceTable | None = None,
) -> Estimate:
    """Monthly cost per resource before (as deployed) and after the plan, and in total."""
    table = table or price_table(region)
    result = Estimate(
        region, table.region, table.exact_region, table.as_of, table.source, table.currency,
        assumptions,
    )  # fmt: skip
    for logical_id in sorted(cost_inputs):
        item = cost_inputs[logical_id]
        before = price(item["before"], table, assumptions) if item.get("before") else None
        after = price(item["after"], table, assumptions) if item.get("after") else None
        old = before.monthly if before else 0.0
        new = after.monthly if after else 0.0
        result.rows.append(
            {
                "logical_id": logical_id,
                "node": item.get("node"),
                "action": item.get("action"),
                "type": (item.get("after") or item.get("before") or {}).get("type"),
                "before": old,
                "after": new,
                "delta": new - old,
                "basis": (after or before or Line(0, "")).basis,
            }
        )
        result.before += old
        result.after += new
    return result
