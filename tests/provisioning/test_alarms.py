"""The alarms a stage gets on its agents and queues, from the agents' settings, deployed on moto."""

from __future__ import annotations

from typing import Any

from provisioning import engine
from provisioning.analysis import drift
from provisioning.aws import AwsContext
from provisioning.events import ListSink
from provisioning.graph.builder import build
from provisioning.model.blueprint import Agent, Blueprint, Component, Link
from provisioning.state import MemoryStateStore


def blueprint(**agent: Any) -> Blueprint:
    return Blueprint(
        project="acme",
        stage="dev",
        agents=(Agent("support", timeout_s=60, **agent),),
        components=(Component("queue", "jobs", {"visibility_timeout_s": 360}),),
        links=(Link("queue:jobs", "agent:support"),),
    )


def alarms_of(bp: Blueprint) -> dict[str, dict[str, Any]]:
    specs = build(bp).specs
    return {
        lid: dict(s.properties) for lid, s in specs.items() if s.resource_type == "cloudwatch:alarm"
    }


def test_an_agent_gets_error_throttle_slowness_token_and_dead_letter_alarms() -> None:
    alarms = alarms_of(blueprint())

    assert sorted(alarms) == [
        "agent/support/alarm/error-rate",
        "agent/support/alarm/slow",
        "agent/support/alarm/throttles",
        "agent/support/alarm/tokens",
        "queue/jobs/alarm/dead-letters",
    ]
    assert alarms["agent/support/alarm/error-rate"]["threshold"] == 5
    # 80% of the 60 s timeout, in Lambda's milliseconds
    assert alarms["agent/support/alarm/slow"]["threshold"] == 48000
    assert alarms["agent/support/alarm/slow"]["metric"]["statistic"] == "p95"
    assert alarms["agent/support/alarm/tokens"]["threshold"] == 1_000_000
    dlq = alarms["queue/jobs/alarm/dead-letters"]["metric"]
    assert dlq["dimensions"]["QueueName"].startswith("acme-dev-jobs-dlq")


def test_the_thresholds_follow_the_agent_s_settings() -> None:
    alarms = alarms_of(
        blueprint(alarm_error_rate_pct=20, alarm_p95_near_timeout_pct=50, alarm_tokens_per_day=0)
    )

    assert alarms["agent/support/alarm/error-rate"]["threshold"] == 20
    assert alarms["agent/support/alarm/slow"]["threshold"] == 30000
    assert "agent/support/alarm/tokens" not in alarms  # 0: no budget


def test_an_agent_with_alarms_off_makes_no_alarm_and_no_topic() -> None:
    specs = build(blueprint(alarms=False)).specs

    assert not [s for s in specs.values() if s.resource_type == "cloudwatch:alarm"]
    assert "stage/alarms" not in specs


def test_alarms_notify_the_stage_topic_are_updated_in_place_and_destroyed(
    aws: AwsContext,
) -> None:
    store = MemoryStateStore()
    assert engine.deploy(blueprint(), store, ListSink(), aws).status == "SUCCEEDED"
    cw = aws.client("cloudwatch")
    topic = store.load()["stage/alarms"].outputs["arn"]
    made = cw.describe_alarms(AlarmNamePrefix="acme-dev-")["MetricAlarms"]
    assert len(made) == 5
    assert all(alarm["AlarmActions"] == [topic] for alarm in made)

    stricter = blueprint(alarm_error_rate_pct=1)
    the_plan = engine.plan(stricter, store, aws).as_dict()
    actions = {c["logical_id"]: c["action"] for c in the_plan["changes"]}
    assert actions["agent/support/alarm/error-rate"] == "UPDATE"
    assert engine.deploy(stricter, store, ListSink(), aws).status == "SUCCEEDED"
    name = store.load()["agent/support/alarm/error-rate"].physical_id
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["Threshold"] == 1.0

    assert engine.destroy(store, ListSink(), aws).status == "SUCCEEDED"
    assert cw.describe_alarms(AlarmNamePrefix="acme-dev-")["MetricAlarms"] == []


def test_an_alarm_no_state_records_is_found_as_an_orphan_and_swept(aws: AwsContext) -> None:
    # Given a deployed stage whose state then lost its alarm records
    store = MemoryStateStore()
    assert engine.deploy(blueprint(), store, ListSink(), aws).status == "SUCCEEDED"
    kept = [r for r in store.load().values() if r.resource_type != "cloudwatch:alarm"]

    # When the orphans are listed and swept
    orphans = [o for o in drift.find_orphans(aws, kept) if o.service == "cloudwatch"]
    swept = engine.sweep_orphans([o.as_dict() for o in orphans], ListSink(), aws)

    # Then each of the five alarms was one, and none is left
    assert len(orphans) == 5 and all(drift.deletable(o) for o in orphans)
    assert swept.status == "SUCCEEDED"
    cw = aws.client("cloudwatch")
    assert cw.describe_alarms(AlarmNamePrefix="acme-dev-")["MetricAlarms"] == []
