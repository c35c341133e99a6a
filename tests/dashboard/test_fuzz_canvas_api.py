"""Generated bodies for every canvas JSON endpoint and generated text for every form
endpoint, as an owner (who may use all of them): no answer is a 5xx, and every 400, 413 or 415
says what was wrong.

The bodies are near-misses as well as noise: each starts from an edit the canvas really
sends (with the project's current version, so it reaches the services) and has one part
swapped for an arbitrary JSON value, a field dropped or added, or the whole body replaced by
text that is not JSON, nested 100,000 deep, or holding NUL, NaN or 2**70. Form fields carry
NUL, other control characters, emoji and direction marks, and very long text.

Each example runs in a savepoint that is rolled back, so all see the same project.
`FUZZ_CANVAS_EXAMPLES` (default 220 per JSON edit; each form endpoint gets 3/10 of it, each
read 1/4, the canvas's deploy 1/8 and the form posts that start a run 1/30) trades depth for
the ~60 s budget: 3,285 requests in ~40 s on a 2-core machine. Forms are posted as htmx
does, so only the form partial renders; tests/dashboard/test_fuzz_forms.py covers the pages.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from django import forms as django_forms
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.access import forms as access_forms
from dashboard.projects import forms as project_forms
from dashboard.projects.models import Agent, Component, Project
from dashboard.projects.services import AGENT_FIELDS
from dashboard.projects.validation import LINK_RULES
from provisioning.model import schema
from tests.dashboard.test_permissions_matrix import ALL_URLS, RULES
from tests.dashboard.test_permissions_matrix import _url as matrix_url
from tests.dashboard.test_permissions_matrix import world as world

EXAMPLES = int(os.environ.get("FUZZ_CANVAS_EXAMPLES", "220"))
# A valid deploy body starts a run: the blueprint's checks cost ~0.5 s, and the body is {version}
FEWER = {"canvas_deploy": max(5, EXAMPLES // 8)}
KEYS = ["agent:support", "bucket:files", "agent:new-bot", "queue:jobs", "agent:", ":", ""]
KINDS = sorted({"agent", *Component.Kind.values, "widget", ""})
LINK_KINDS = sorted({kind for kinds in LINK_RULES.values() for kind in kinds} | {"", "admin"})
SETTING_NAMES = sorted(
    {name for model in schema.COMPONENTS.values() for name in model.model_fields}
)
NASTY_TEXT = [
    "\x00", "a\x00b", "\x07", "line\nbreak", "\t", "\x1b[31m", "\x7f", "\ufeff", "\u202e",
    "😀", "a" * 5000, "", " ", "0", "-1", "1e309", "NaN", "null", "{}", "[]", "*",
    "../../etc/passwd", "<script>alert(1)</script>", "agent:support", "bucket:files",
    "http://169.254.169.254/latest/meta-data", "x @ file:///etc/passwd", "--index-url http://x",
]  # fmt: skip
NASTY_NUMBERS = [2**70, -(2**70), 2**63, 2**31, -1, 0, 1e308, float("nan"), float("inf"), 0.5]

texts = st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=40))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(NASTY_NUMBERS),
    st.floats(),
    texts,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(texts, st.just("x")), inner, max_size=4),
    ),
    max_leaves=10,
)
# What a field usually holds, so that most examples get past the schema into the services
plausible = st.one_of(
    texts,
    st.integers(-10, 5000),
    st.booleans(),
    st.none(),
    st.lists(texts, max_size=3),
    st.dictionaries(texts, texts, max_size=3),
)
values = st.one_of(plausible, plausible, plausible, json_values)
coordinates = st.one_of(st.integers(-500, 500), st.integers(-500, 500), values)


def _agent_data() -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(
        st.sampled_from(sorted(AGENT_FIELDS | {"settings"})), json_values, max_size=5
    )


def _component_data() -> st.SearchStrategy[dict[str, Any]]:
    settings_values = st.dictionaries(st.sampled_from(SETTING_NAMES), values, max_size=4)
    return st.fixed_dictionaries(
        {}, optional={"name": texts, "settings": st.one_of(settings_values, values)}
    )


links = st.fixed_dictionaries(
    {"source": st.sampled_from(KEYS), "target": st.sampled_from(KEYS)},
    optional={"kind": st.sampled_from(LINK_KINDS)},
)
moves = st.fixed_dictionaries({"key": st.sampled_from(KEYS), "x": coordinates, "y": coordinates})


def _edits(version: int) -> dict[str, st.SearchStrategy[dict[str, Any]]]:
    """Endpoint -> bodies the canvas could send (before mutation)."""
    v = {"version": st.just(version)}
    return {
        "canvas_node_add": st.fixed_dictionaries(
            {**v, "kind": st.sampled_from(KINDS), "x": coordinates, "y": coordinates},
            optional={
                "data": st.one_of(_agent_data(), _component_data()),
                "links": st.lists(links, max_size=3),
            },
        ),
        "canvas_nodes_move": st.fixed_dictionaries({**v, "moves": st.lists(moves, max_size=3)}),
        "canvas_node_update agent:support": st.fixed_dictionaries({**v, "data": _agent_data()}),
        "canvas_node_update bucket:files": st.fixed_dictionaries({**v, "data": _component_data()}),
        "canvas_node_delete agent:support": st.fixed_dictionaries(v),
        "canvas_link_add": st.fixed_dictionaries(
            {**v, "source": st.sampled_from(KEYS), "target": st.sampled_from(KEYS)},
            optional={"kind": st.sampled_from(LINK_KINDS)},
        ),
        "canvas_link_delete": st.fixed_dictionaries(v),
        "canvas_deploy": st.fixed_dictionaries(v),
    }


@st.composite
def _mutated(draw: st.DrawFn, base: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    body = dict(draw(base))
    how = draw(st.sampled_from(["as is", "as is", "as is", "swap", "drop", "add"]))
    if how == "swap" and body:
        body[draw(st.sampled_from(sorted(body)))] = draw(json_values)
    elif how == "drop" and body:
        body.pop(draw(st.sampled_from(sorted(body))))
    elif how == "add":
        body[draw(texts)] = draw(json_values)
    return body


RAW_BODIES = [
    "", "{", "not json", "[]", "null", "1", '"x"', "[" * 100_000 + "]" * 100_000,
    '{"a":' * 5_000 + "1" + "}" * 5_000, '{"version": 1, "kind": "agent", "x": NaN}',
    '{"version": "\\ud800"}', '{"moves": [{"key": "\\u0000", "x": 1, "y": 1}]}',
    "\xff\xfe", '{"version": 1}' + " " * 300_000,
]  # fmt: skip


def _bodies(edit: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[str]:
    as_json = _mutated(edit).map(json.dumps)  # json.dumps writes NaN and Infinity as JS does
    noise = json_values.map(json.dumps)
    return st.one_of(as_json, as_json, as_json, noise, st.sampled_from(RAW_BODIES))


def _form_field_names() -> list[str]:
    names: set[str] = {"stage", "prompt", "session_id", "logical_id", "property", "arn", "hours"}
    for module in (project_forms, access_forms):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, django_forms.Form):
                names |= set(value.base_fields)
    return sorted(names)


FORM_FIELDS = _form_field_names()
JSON_EDITS = sorted(_edits(0))
# Every endpoint a form posts to: the POST routes of the access rules that are not JSON
# edits, the pages that post their form back, and the side panel of a component too.
FORM_PAGES = {
    "project_list", "agent_create", "agent_edit", "agent_chat", "component_create",
    "component_edit", "stage_destroy", "stage_settings", "member_list",
}  # fmt: skip
SKIP = {"login", "logout", "admin:logout"} | {name.partition(" ")[0] for name in JSON_EDITS}
FORM_ENDPOINTS = sorted(
    {
        name
        for name, (method, _level) in RULES.items()
        if name in ALL_URLS and name not in SKIP and (method == "POST" or name in FORM_PAGES)
    }
    - {"canvas_node_panel"}
    | {"canvas_node_panel agent:support", "canvas_node_panel bucket:files"}
)
# Each example of these starts a run (the blueprint's checks, ~0.5 s) or asks STS (a backoff)
FEWER_FORMS = {"stage_plan", "stage_deploy", "deploy_plan", "redeploy", "stage_check_access"}
GET_ENDPOINTS = ["canvas_state", "canvas_node_explain agent:support", "canvas_link_explain"]


def _url(endpoint: str, world: dict[str, Any]) -> str:
    name, _, key = endpoint.partition(" ")
    samples = {**world["samples"], "key": key or world["samples"]["key"]}
    url = matrix_url(name, ALL_URLS[name], samples)
    assert url is not None, name
    return url


def _says_why(response: Any) -> bool:
    body = response.content.decode("utf-8", "replace")
    if response.get("Content-Type", "").startswith("application/json"):
        data = json.loads(body)
        return isinstance(data, dict) and bool(data.get("error") or data.get("errors"))
    return any(mark in body for mark in ("errorlist", "form-errors", 'role="alert"'))


def _check(response: Any, what: Any) -> None:
    assert response.status_code < 500, what
    if response.status_code in (400, 413, 415):
        assert _says_why(response), (what, response.content[:300])


def _client(world: dict[str, Any]) -> Client:
    cache.clear()  # no login rate limit or cached page from another test
    client = Client()
    client.force_login(world["people"]["owner"])
    return client


def _version(world: dict[str, Any]) -> int:
    project: Project = world["project"]
    project.refresh_from_db(fields=["version"])
    return project.version


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", JSON_EDITS)
def test_generated_bodies_never_break_a_canvas_edit(endpoint: str, world: dict[str, Any]) -> None:
    client, url = _client(world), _url(endpoint, world)
    edit = _edits(_version(world))[endpoint]

    @settings(FUZZ_SETTINGS, max_examples=FEWER.get(endpoint, EXAMPLES))
    @given(body=_bodies(edit))
    def check(body: str) -> None:
        with transaction.atomic():
            response = client.post(url, body, content_type="application/json")
            transaction.set_rollback(True)
        _check(response, (url, body[:300]))

    check()
    assert Agent.objects.filter(name="support").exists()  # every example was rolled back


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", GET_ENDPOINTS)
def test_generated_queries_never_break_a_canvas_read(endpoint: str, world: dict[str, Any]) -> None:
    client, url = _client(world), _url(endpoint, world)

    @settings(FUZZ_SETTINGS, max_examples=max(10, EXAMPLES // 4))
    @given(query=st.dictionaries(st.sampled_from(["stage", "after", "x"]), texts, max_size=2))
    def check(query: dict[str, str]) -> None:
        _check(client.get(url, query, HTTP_ACCEPT="application/json"), (url, query))

    check()


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", FORM_ENDPOINTS)
def test_generated_text_never_breaks_a_form(endpoint: str, world: dict[str, Any]) -> None:
    client, url = _client(world), _url(endpoint, world)
    version = str(_version(world))
    fields = st.dictionaries(st.sampled_from(FORM_FIELDS), texts, max_size=8)

    few = endpoint in FEWER_FORMS

    @settings(FUZZ_SETTINGS, max_examples=max(5, EXAMPLES // 30 if few else EXAMPLES * 3 // 10))
    @given(form=fields, current=st.booleans())
    def check(form: dict[str, str], current: bool) -> None:
        if current:  # a form that saw this version reaches the services
            form = {**form, "version": version}
        with transaction.atomic():
            response = client.post(url, form, HTTP_HX_REQUEST="true")
            transaction.set_rollback(True)
        _check(response, (url, form))

    check()
