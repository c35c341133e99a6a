"""The schema per node kind: what every form, file and check reads must be complete and strict."""

from __future__ import annotations

import dataclasses
import json

import pytest

from provisioning.model import bounds, schema
from provisioning.model.blueprint import Agent

ALL_MODELS = [
    *schema.COMPONENTS.values(),
    *schema.LINKS.values(),
    schema.AgentSettings,
    schema.StageSettings,
    schema.NetworkSettings,
]


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_every_field_says_what_it_is_for_and_where_it_goes(model: type[schema.Settings]) -> None:
    for field in schema.fields(model):
        assert field.help, f"{model.__name__}.{field.name} has no help text"
        assert field.group in ("basic", "advanced")


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_defaults_are_valid_and_give_a_json_schema(model: type[schema.Settings]) -> None:
    cleaned = schema.clean(model, {})
    assert schema.clean(model, cleaned) == cleaned  # cleaning is stable
    document = schema.json_schema(model)
    assert document["additionalProperties"] is False
    json.dumps(document)  # serialisable as editors expect


def test_agent_schema_matches_the_blueprint_agent() -> None:
    """Every agent setting reaches the engine's Agent under the same name and default."""
    agent = Agent(name="support")
    for field in schema.fields(schema.AgentSettings):
        assert hasattr(agent, field.name), f"the blueprint's Agent has no {field.name}"
        given = getattr(agent, field.name)
        if isinstance(given, tuple):
            given = list(given)
        assert given == field.default, field.name


def test_every_agent_setting_of_the_engine_is_in_the_schema() -> None:
    """The other way round: a setting the engine reads but the schema lacks is one no user
    can reach (forms, files and the API all derive from the schema)."""
    own_editors = {"name", "secrets", "code"}  # the upload and write-only fields
    engine_fields = {f.name for f in dataclasses.fields(Agent)} - own_editors
    assert engine_fields - set(schema.AgentSettings.model_fields) == set()


def test_bounds_come_from_the_one_table_of_aws_limits() -> None:
    queue = {f.name: f for f in schema.fields(schema.QueueSettings)}
    limit = bounds.COMPONENT["queue"]["visibility_timeout_s"]
    assert (queue["visibility_timeout_s"].low, queue["visibility_timeout_s"].high) == (
        limit.low,
        limit.high,
    )
    memory = {f.name: f for f in schema.fields(schema.AgentSettings)}["memory_mb"]
    assert memory.high == bounds.AGENT["memory_mb"].high and memory.stage


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    with pytest.raises(schema.SettingsError) as caught:
        schema.clean(
            schema.TableSettings,
            {
                "partition_key_type": "X",
                "typo": 1,
                "global_secondary_indexes": [{"name": "by-date"}],
            },
        )
    paths = dict(caught.value.problems)
    assert set(paths) == {"partition_key_type", "typo", "global_secondary_indexes.0.partition_key"}
    assert paths["typo"] == "no such setting"


@pytest.mark.parametrize(
    ("model", "data", "path"),
    [
        (schema.TableLinkSettings, {"env_name": "AWS_REGION"}, "env_name"),
        (schema.TableLinkSettings, {"env_name": "9LIVES"}, "env_name"),
        (schema.RouteLinkSettings, {"path": "orders"}, "path"),
        (schema.RouteLinkSettings, {"method": "TRACE"}, "method"),
        (schema.HttpApiSettings, {"cors_origins": ["ftp://x"]}, "cors_origins"),
        (schema.BucketSettings, {"kms_key_id": "not a key"}, "kms_key_id"),
        (schema.QueueSettings, {"visibility_timeout_s": 50000}, "visibility_timeout_s"),
        (schema.StageSettings, {"log_retention_days": 10}, "log_retention_days"),
        (schema.StageSettings, {"network": {"nat": "many"}}, "network.nat"),
        (schema.AgentSettings, {"on_failure": "table:x"}, "on_failure"),
        (schema.AgentSettings, {"extra_statements": [{"actions": []}]}, "extra_statements.0"),
    ],
)
def test_bad_values_are_refused_at_their_field(
    model: type[schema.Settings], data: dict[str, object], path: str
) -> None:
    with pytest.raises(schema.SettingsError) as caught:
        schema.clean(model, data)
    assert any(p.startswith(path) for p, _ in caught.value.problems), caught.value.problems


def test_good_values_are_kept_and_normalised() -> None:
    route = schema.clean(schema.RouteLinkSettings, {"method": "GET", "path": "/orders/{id}"})
    assert route == {"method": "GET", "path": "/orders/{id}", "env_name": ""}
    topic = schema.clean(schema.TopicSettings, {"filter_policy": {"severity": "high"}})
    assert topic["filter_policy"] == {"severity": ["high"]}


def test_every_link_pair_of_the_canvas_has_a_schema() -> None:
    from provisioning.model.links import ALLOWED

    assert set(schema.LINKS) == set(ALLOWED)
