"""Cost estimates: what a plan adds a month, from the dated price table."""

from __future__ import annotations

from dataclasses import replace

import pytest

from provisioning import engine
from provisioning.analysis import cost
from provisioning.aws import AwsContext, Target
from provisioning.model.blueprint import Agent, Blueprint
from provisioning.state import MemoryStateStore, RecordedResource

BASE = Blueprint(project="acme", stage="dev", agents=(Agent("support", memory_mb=1024),))
WITH_NAT = replace(
    BASE,
    settings={"network": {"enabled": True, "cidr": "10.20.0.0/16", "nat": "single"}},
)


def planned(
    blueprint: Blueprint, records: dict[str, RecordedResource] | None = None
) -> cost.Estimate:
    aws = AwsContext(target=Target(region="us-east-1"), project="acme", stage="dev")
    aws._account_id = "123456789012"  # a preview without refresh makes no AWS call at all
    store = MemoryStateStore(records or {})
    plan = engine.plan(blueprint, store, aws, refresh=False)
    return cost.estimate(cost.inputs(plan, store.load()), "us-east-1")


def as_recorded(blueprint: Blueprint) -> dict[str, RecordedResource]:
    """The state after deploying `blueprint`, without AWS: wanted properties stand for outputs."""
    aws = AwsContext(target=Target(region="us-east-1"), project="acme", stage="dev")
    aws._account_id = "123456789012"
    plan = engine.plan(blueprint, MemoryStateStore(), aws, refresh=False)
    return {
        c.logical_id: RecordedResource(
            c.logical_id, c.resource_type, c.logical_id, properties=dict(c.properties)
        )
        for c in plan.changes
    }


def test_a_nat_gateway_adds_a_month_of_hours_plus_its_data() -> None:
    # given a deployed agent, when the stage gets a network with one NAT gateway
    estimate = planned(WITH_NAT, as_recorded(BASE))

    # then the NAT gateway is a new line of 730 h x $0.045 + 10 GB x $0.045, its IP one of 730 x $0.005
    rows = {r["logical_id"]: r for r in estimate.rows}
    assert rows["network/nat/0"]["before"] == 0
    assert rows["network/nat/0"]["after"] == pytest.approx(730 * 0.045 + 10 * 0.045, abs=0.01)
    assert rows["network/eip/0"]["after"] == pytest.approx(730 * 0.005, abs=0.01)
    assert estimate.delta == pytest.approx(estimate.after - estimate.before)
    assert estimate.delta > 36


def test_more_agent_memory_costs_more_per_run() -> None:
    bigger = replace(BASE, agents=(Agent("support", memory_mb=2048),))

    estimate = planned(bigger, as_recorded(BASE))

    row = next(r for r in estimate.rows if r["logical_id"] == "agent/support/function")
    # 100,000 runs x 10 s x 1 GB more x $0.0000166667
    assert row["delta"] == pytest.approx(100_000 * 10 * 1 * 0.0000166667, abs=0.01)
    assert row["action"] == "UPDATE"


def test_usage_prices_follow_the_assumed_requests() -> None:
    inputs = {"agent/a/function": {"after": {"type": "lambda:function", "memory_mb": 1024}}}
    few = cost.estimate(inputs, "us-east-1", cost.Assumptions(requests_per_month=1000))
    many = cost.estimate(inputs, "us-east-1", cost.Assumptions(requests_per_month=1_000_000))

    assert many.after == pytest.approx(few.after * 1000, rel=0.01)


def test_provisioned_dynamodb_capacity_is_priced_by_the_hour() -> None:
    item = {"type": "dynamodb:table", "billing_mode": "PROVISIONED", "rcu": 10, "wcu": 5}

    estimate = cost.estimate({"table/t": {"after": item}}, "us-east-1")

    assert estimate.after == pytest.approx(730 * (10 * 0.00013 + 5 * 0.00065), abs=0.01)


def test_an_unknown_region_is_priced_as_the_fallback_and_says_so() -> None:
    estimate = cost.estimate({}, "mars-north-1")

    assert (estimate.priced_region, estimate.exact_region) == ("us-east-1", False)
    assert estimate.as_of == "2025-06-01"


def test_assumptions_from_a_form_ignore_nonsense() -> None:
    a = cost.Assumptions.from_mapping({"requests_per_month": "250000", "avg_duration_s": "-3"})

    assert (a.requests_per_month, a.avg_duration_s) == (250_000, 10.0)
