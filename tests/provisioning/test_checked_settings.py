"""Every setting of a blueprint goes through its schema: a refusal names the node and the
field's path, and what is left still builds."""

from __future__ import annotations

from provisioning import engine
from provisioning.graph import builder as G
from provisioning.model.blueprint import Agent, Blueprint, Component, Link


def test_bad_component_link_and_stage_settings_are_problems_at_their_node_and_path() -> None:
    blueprint = Blueprint(
        "acme",
        "dev",
        agents=(Agent("support", timeout_s=60),),
        components=(
            Component(
                "table",
                "orders",
                {"partition_key_type": "X", "global_secondary_indexes": [{"partition_key": "s"}]},
            ),
            Component("bucket", "docs", {"versoning": True}),
        ),
        links=(Link("agent:support", "table:orders", settings={"env_name": "2ORDERS"}),),
        settings={"log_retention_days": 10, "network": {"az_count": 9}},
    )

    problems = {(node, path): message for node, path, message in engine.validate(blueprint)}

    assert set(problems) == {
        ("table:orders", "partition_key_type"),
        ("table:orders", "global_secondary_indexes.0.name"),
        ("bucket:docs", "versoning"),
        ("agent:support->table:orders", "env_name"),
        ("stage", "log_retention_days"),
        ("stage", "network.az_count"),
    }
    assert problems[("table:orders", "global_secondary_indexes.0.name")] == "Field required"
    assert problems[("bucket:docs", "versoning")] == "no such setting"
    assert "not a variable name" in problems[("agent:support->table:orders", "env_name")]


def test_what_the_schema_refuses_is_left_out_and_the_rest_still_builds() -> None:
    blueprint = Blueprint(
        "acme",
        "dev",
        components=(
            Component(
                "table",
                "orders",
                {"sort_key": "at", "global_secondary_indexes": [{"partition_key": "s"}]},
            ),
        ),
    )

    table = G.build(blueprint).specs["table/orders"].properties

    assert table["sort_key"] == {"name": "at", "type": "S"}
    assert table["global_secondary_indexes"] == []


def test_table_settings_that_contradict_each_other_are_named_before_aws_refuses_them() -> None:
    index = {"name": "by-total", "partition_key": "id", "sort_key": "total", "sort_key_type": "N"}
    blueprint = Blueprint(
        "acme",
        "dev",
        components=(
            Component(
                "table",
                "orders",
                {
                    "partition_key": "pk",
                    "local_secondary_indexes": [index],
                    "global_secondary_indexes": [{"name": "by-total", "partition_key": "total"}],
                },
            ),
        ),
    )

    problems = {(node, path) for node, path, _ in engine.validate(blueprint)}

    assert problems == {
        ("table:orders", "local_secondary_indexes"),  # the table has no sort key
        ("table:orders", "local_secondary_indexes.0.partition_key"),  # not the table's
        ("table:orders", "local_secondary_indexes.0.name"),  # the GSI has that name
        ("table:orders", "local_secondary_indexes.0.sort_key_type"),  # the GSI's total is S
    }


def test_settings_stored_before_the_new_ones_existed_build_what_they_built() -> None:
    # Given a table and an API as the dashboard stored them before key types, indexes,
    # time to live and CORS methods were settings
    blueprint = Blueprint(
        "acme",
        "dev",
        components=(
            Component("table", "notes", {"partition_key": "pk", "sort_key": "sk",
                                         "billing_mode": "PAY_PER_REQUEST"}),
            Component("http_api", "public", {"cors_origins": ["*"]}),
        ),
        settings={"log_retention_days": 30},
    )  # fmt: skip

    graph = G.build(blueprint)

    assert graph.problems == []
    table = graph.specs["table/notes"].properties
    assert (table["partition_key"], table["sort_key"]) == (
        {"name": "pk", "type": "S"},
        {"name": "sk", "type": "S"},
    )
    assert (table["ttl_attribute"], table["local_secondary_indexes"]) == ("", [])
    cors = graph.specs["http_api/public/api"].properties["cors"]
    assert cors["allow_methods"] == ["GET", "OPTIONS", "POST"]
