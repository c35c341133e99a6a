"""One limit, one place: the engine, the dashboard's rules and its forms refuse the same values."""

from __future__ import annotations

import pytest

from dashboard.projects import forms as project_forms
from provisioning.graph import checked_settings
from provisioning.model import bounds, schema
from provisioning.model.blueprint import Component

CASES = [
    (kind, field, bound)
    for kind, fields in bounds.COMPONENT.items()
    for field, bound in fields.items()
]


@pytest.mark.parametrize(("kind", "field", "bound"), CASES, ids=[f"{k}.{f}" for k, f, _ in CASES])
def test_a_setting_past_its_aws_limit_is_refused_by_the_rules_and_the_engine_alike(
    kind: str, field: str, bound: bounds.Bound
) -> None:
    model = schema.COMPONENTS[kind]
    for value in (bound.low - 1, bound.high + 1):
        with pytest.raises(schema.SettingsError):
            schema.clean(model, {field: value})
        _, problems = checked_settings.component(Component(kind, "x", {field: value}))
        assert [(node, path) for node, path, _ in problems] == [(f"{kind}:x", field)]
    assert schema.clean(model, {})[field] == bound.default
    assert schema.clean(model, {field: bound.high})[field] == bound.high


def test_the_forms_offer_the_same_limits_and_defaults() -> None:
    agent = project_forms.AgentForm.base_fields
    for field, bound in bounds.AGENT.items():
        assert (agent[field].min_value, agent[field].max_value, agent[field].initial) == (
            bound.low,
            bound.high,
            bound.default,
        )
    queue = project_forms.COMPONENT_FORMS["queue"].base_fields["visibility_timeout_s"]
    limit = bounds.COMPONENT["queue"]["visibility_timeout_s"]
    assert (queue.min_value, queue.max_value, queue.initial) == (
        limit.low,
        limit.high,
        limit.default,
    )
