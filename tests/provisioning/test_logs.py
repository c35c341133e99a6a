from __future__ import annotations

from typing import Any

from provisioning.aws import AwsContext
from provisioning.provisioners.base import Action
from provisioning.provisioners.logs import LogGroupProvisioner
from tests.provisioning.lifecycle import apply, changed, replan

LOGICAL_ID = "agent/support/logs"
NAME = "/aws/lambda/acme-dev-support"


def group_properties(**overrides: Any) -> dict[str, Any]:
    return {"name": NAME, "retention_days": 14, **overrides}


def test_a_created_log_group_keeps_its_retention_and_plans_no_change(aws: AwsContext) -> None:
    groups = LogGroupProvisioner(aws)

    recorded = apply(groups, LOGICAL_ID, group_properties())

    assert replan(groups, group_properties(), recorded).action is Action.NO_CHANGE
    assert recorded.arn.endswith(f":log-group:{NAME}")
    tags = aws.client("logs").list_tags_log_group(logGroupName=NAME)["tags"]
    assert tags["strands-deploy:logical-id"] == LOGICAL_ID


def test_a_group_lambda_made_after_the_plan_is_adopted_and_tagged(aws: AwsContext) -> None:
    groups = LogGroupProvisioner(aws)
    change = replan(groups, group_properties(), None)
    aws.client("logs").create_log_group(logGroupName=NAME)  # the function logged first

    outputs = groups.provision(LOGICAL_ID, group_properties(), None)

    assert change.action is Action.CREATE
    assert outputs["name"] == NAME
    tags = aws.client("logs").list_tags_log_group(logGroupName=NAME)["tags"]
    assert tags["strands-deploy:logical-id"] == LOGICAL_ID
    assert replan(groups, group_properties(), None).action is Action.NO_CHANGE


def test_retention_changes_in_place(aws: AwsContext) -> None:
    groups = LogGroupProvisioner(aws)
    recorded = apply(groups, LOGICAL_ID, group_properties())

    change = replan(groups, group_properties(retention_days=30), recorded)
    recorded = apply(groups, LOGICAL_ID, group_properties(retention_days=30), recorded)

    assert (change.action, changed(change)) == (Action.UPDATE, ["retention_days"])
    group = aws.client("logs").describe_log_groups(logGroupNamePrefix=NAME)["logGroups"][0]
    assert group["retentionInDays"] == 30


def test_retention_changed_out_of_band_shows_in_the_plan(aws: AwsContext) -> None:
    groups = LogGroupProvisioner(aws)
    recorded = apply(groups, LOGICAL_ID, group_properties())
    aws.client("logs").delete_retention_policy(logGroupName=NAME)

    change = replan(groups, group_properties(), recorded)

    assert change.changes[0].name == "retention_days"
    assert (change.changes[0].old, change.changes[0].new) == (None, 14)


def test_destroy_removes_the_group_and_is_safe_to_repeat(aws: AwsContext) -> None:
    groups = LogGroupProvisioner(aws)
    recorded = apply(groups, LOGICAL_ID, group_properties())

    groups.destroy(recorded)
    groups.destroy(recorded)

    assert groups.get_current_state(group_properties(), recorded) is None
    assert replan(groups, group_properties(), None).action is Action.CREATE
