"""Thousands of generated inputs to every form and JSON endpoint, as an owner (who may
use all of them): never a 500, and every 400 says what was wrong.

Each example runs in a savepoint that is rolled back, so all see the same project.
`FUZZ_EXAMPLES` (default 80 per endpoint) trades depth for the ~2 minute budget.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.dashboard.test_permissions_matrix import ALL_URLS, RULES, _url
from tests.dashboard.test_permissions_matrix import world as world

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "80"))
FEWER = {"stage_check_access": 8}  # each example makes a (refused) STS call with a backoff
FORM_PAGES = {
    "project_list", "agent_create", "agent_edit", "component_create", "component_edit",
    "stage_destroy", "stage_settings", "member_list", "canvas_node_panel", "agent_chat",
}  # fmt: skip
SKIP = {"logout", "login"}  # would end the session the examples share
ENDPOINTS = sorted(
    name
    for name, (method, _level) in RULES.items()
    if name in ALL_URLS and name not in SKIP and (method == "POST" or name in FORM_PAGES)
)
FIELDS = [
    "name", "description", "model_id", "system_prompt", "tools", "runtime", "architecture",
    "memory_mb", "timeout_s", "environment", "secret_environment", "reserved_concurrency",
    "tracing", "version", "provider", "kind", "source", "target", "region", "role_arn",
    "external_id", "permissions_boundary", "protected", "access_key_id", "secret_access_key",
    "clear_static_keys", "username", "role", "confirm_name", "cors_origins", "partition_key",
    "sort_key", "billing_mode", "fifo", "visibility_timeout_s", "dead_letter", "versioning",
    "x", "y", "key", "data", "nodes", "links", "positions", "settings", "prompt", "stage", "cron", "interval",
]  # fmt: skip
NASTY = [
    "", " ", "0", "-1", "1e309", "99999999999999999999999", "NaN", "null", "true", "*",
    "http://169.254.169.254/latest/meta-data", "https://[::ffff:a9fe:a9fe]", "http://0xa9fea9fe",
    "arn:aws:lambda:us-east-1:999999999999:function:other", "arn:aws:iam::123456789012:role/x",
    "AKIAIOSFODNN7EXAMPLE", "../../etc/passwd", "<script>alert(1)</script>", "a" * 5000,
    "KEY=value\nOTHER", "\x00", "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    "agent:support", "bucket:files", "owner", "viewer", "extra", "dev", "{}", "[]",
]  # fmt: skip

texts = st.one_of(st.sampled_from(NASTY), st.text(max_size=80))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), texts),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(FIELDS), inner, max_size=4)
    ),
    max_leaves=12,
)
form_data = st.dictionaries(st.sampled_from(FIELDS), texts, max_size=12)
json_bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=8),
    json_values,
    st.sampled_from(["not json", "{", ""]),
)


def _says_why(response: Any) -> bool:
    body = response.content.decode("utf-8", "replace")
    if response.get("Content-Type", "").startswith("application/json"):
        data = json.loads(body)
        return isinstance(data, dict) and bool(data.get("error") or data.get("errors"))
    return any(mark in body for mark in ("errorlist", "form-errors", 'role="alert"'))


def _post(client: Client, url: str, *, form: dict[str, str] | None, body: Any) -> Any:
    with transaction.atomic():
        if form is not None:
            response = client.post(url, form)
        else:
            raw = body if isinstance(body, str) else json.dumps(body)
            response = client.post(url, raw, content_type="application/json")
        transaction.set_rollback(True)
    return response


@pytest.mark.django_db
@pytest.mark.parametrize("name", ENDPOINTS)
def test_generated_input_never_breaks_an_endpoint(name: str, world: dict[str, Any]) -> None:
    client = Client()
    client.force_login(world["people"]["owner"])
    url = _url(name, ALL_URLS[name], world["samples"])
    assert url is not None
    is_json = name.startswith("canvas_") and name != "canvas_node_panel"
    cache.clear()

    @settings(
        max_examples=min(EXAMPLES, FEWER.get(name, EXAMPLES)),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(form=form_data, body=json_bodies)
    def check(form: dict[str, str], body: Any) -> None:
        response = _post(client, url, form=None if is_json else form, body=body)
        assert response.status_code < 500, (url, form if not is_json else body)
        if response.status_code == 400:
            assert _says_why(response), (url, response.content[:300])

    check()
