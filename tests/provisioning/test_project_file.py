"""The project file's format: every problem at its line, nothing but the schema, stable text."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from provisioning.model import project_file as pf
from provisioning.model import project_file_text as pft

GOOD = """\
version: 1
project:
  name: acme
stages:
- name: dev
  settings:
    log_retention_days: 30
agents:
- name: support
  memory_mb: 2048
  extra_models:
  - us.anthropic.claude-sonnet-4-20250514-v1:0
components:
- kind: table
  name: orders
  settings:
    partition_key: order_id
    partition_key_type: N
links:
- source: agent:support
  target: table:orders
  kind: read
  settings:
    env_name: ORDERS_TABLE
"""


def test_a_file_reads_and_writes_back_byte_identical() -> None:
    parsed = pf.parse(GOOD)
    assert parsed.components[0].settings["partition_key_type"] == "N"
    assert parsed.links[0].settings["env_name"] == "ORDERS_TABLE"
    assert pft.dump(parsed) == GOOD
    assert pft.dump(pf.parse(pft.dump(parsed))) == GOOD


def test_lists_are_written_in_a_stable_order_whatever_the_input_order() -> None:
    shuffled = pf.parse(GOOD)
    shuffled.agents.append(pf.AgentPart(name="alpha"))
    text = pft.dump(shuffled)
    assert text.index("name: alpha") < text.index("name: support")


def test_every_problem_is_reported_at_once_with_its_line_and_column() -> None:
    text = (
        GOOD.replace("memory_mb: 2048", "memory_mb: 99999\n  colour: blue")
        .replace("partition_key_type: N", "partition_key_type: X")
        .replace("target: table:orders", "target: table:missing")
    )
    with pytest.raises(pf.ProjectFileError) as caught:
        pf.parse(text)
    found = {(p.line, p.path) for p in caught.value.problems}
    assert found == {
        (10, "agents.0.memory_mb"),
        (11, "agents.0.colour"),
        (19, "components.0.settings.partition_key_type"),
        (22, "links.0.target"),
    }
    colour = next(p for p in caught.value.problems if p.path == "agents.0.colour")
    assert (colour.column, colour.message) == (3, "no such field")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\nproject: [\n", "not valid YAML"),
        ("- a\n- b\n", "a project file is a mapping"),
        ("a: &x [1]\nb: *x\n", "aliases"),
        ("version: 1\nversion: 1\nproject: {name: acme}\n", "appears twice"),
        ("version: 2\nproject: {name: acme}\n", "Input should be 1"),
        ("version: 1\nproject: {name: Acme!}\n", "should match pattern"),
        (b"\xff\xfe", "not UTF-8"),
        ("x" * (pf.MAX_BYTES + 1), "over 1000 kB"),
    ],
)
def test_bad_files_end_in_a_clear_error(text: str | bytes, expected: str) -> None:
    with pytest.raises(pf.ProjectFileError) as caught:
        pf.parse(text)
    assert expected in str(caught.value)


def test_the_json_schema_checks_each_kinds_settings() -> None:
    document = pft.json_schema()
    assert document["additionalProperties"] is False
    rules = document["$defs"]["ComponentPart"]["allOf"]
    table = next(r for r in rules if r["if"]["properties"]["kind"]["const"] == "table")
    target = table["then"]["properties"]["settings"]["$ref"].rsplit("/", 1)[-1]
    assert "partition_key_type" in document["$defs"][target]["properties"]


def test_diff_names_what_changes_field_by_field() -> None:
    before = pf.parse(GOOD)
    after = pf.parse(
        GOOD.replace("memory_mb: 2048", "memory_mb: 4096").replace(
            "- name: support", "- name: support\n  timeout_s: 300"
        )
    )
    after.agents.append(pf.AgentPart(name="helper"))
    changes = {(c.action, c.key): c.fields for c in pft.diff(before, after)}
    assert changes[("change", "agent:support")] == (
        ("memory_mb", 2048, 4096),
        ("timeout_s", None, 300),
    )
    assert ("add", "agent:helper") in changes
    assert pft.diff(before, pf.parse(GOOD)) == []


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(["version", "project", "name", "agents", "components",
                                       "links", "kind", "settings", "stages", "source",
                                       "target", "memory_mb", "x"]), inner, max_size=5),
    max_leaves=25,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(yaml_values)
def test_any_yaml_document_is_a_project_or_a_located_error(value: object) -> None:
    text = yaml.safe_dump(value)
    try:
        pf.parse(text)
    except pf.ProjectFileError as exc:
        assert exc.problems and all(p.line >= 1 and p.column >= 1 for p in exc.problems)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_a_project_or_a_located_error(text: str) -> None:
    try:
        pf.parse(text)
    except pf.ProjectFileError as exc:
        assert exc.problems
