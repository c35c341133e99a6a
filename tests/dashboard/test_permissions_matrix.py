"""Every URL and the websocket, for anonymous, non-member, viewer, deployer, owner (and staff).

The rules live in RULES below, one per URL name: the method a test request uses and the
least a user needs. A URL added without a rule fails `test_every_url_has_a_rule` and its
own case here, so nobody ships a page without deciding who may use it.

Levels: "public" (anyone), "user" (any logged-in user; must not show other projects),
"self" (the one user it belongs to: the owner's personal API token), "viewer" / "deployer" /
"owner" (the project role; staff count as owners), "staff", "token" (the REST API: a
session is never enough, every persona gets 401).
Answers: not logged in -> redirect to the login page; not a member -> 404 that does not
name the project; role too low -> 403; allowed -> anything below 500 that is none of those.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from dashboard.access import tokens
from dashboard.access.models import Membership
from dashboard.notifications.models import Channel
from dashboard.projects import services as project_services
from dashboard.projects.models import Agent, Component, Link
from dashboard.routing import websocket_urlpatterns
from dashboard.runs import services as run_services
from dashboard.runs.models import Deployment

PROJECT = "hidden-acme"
PERSONAS = ("anonymous", "stranger", "viewer", "deployer", "owner", "staff")
RANK = {"viewer": 0, "deployer": 1, "owner": 2, "staff": 2}

RULES: dict[str, tuple[str, str]] = {
    "login": ("GET", "public"),
    "healthz": ("GET", "public"),
    "logout": ("POST", "public"),
    "project_list": ("GET", "user"),
    "project_detail": ("GET", "viewer"),
    "project_delete": ("POST", "owner"),
    "file_schema": ("GET", "public"),  # the format's schema: nothing of any project
    "project_file": ("GET", "viewer"),
    "project_import": ("GET", "user"),
    "agent_create": ("GET", "deployer"),
    "agent_edit": ("GET", "deployer"),
    "agent_delete": ("POST", "deployer"),
    "agent_chat": ("GET", "deployer"),
    "agent_logs": ("GET", "viewer"),  # reading what is deployed changes nothing
    "agent_metrics": ("GET", "viewer"),
    "stage_metrics": ("GET", "viewer"),
    "component_create": ("GET", "deployer"),
    "component_edit": ("GET", "deployer"),
    "component_delete": ("POST", "deployer"),
    "api_key_list": ("GET", "deployer"),
    "notification_list": ("GET", "owner"),
    "notification_test": ("POST", "owner"),
    "notification_delete": ("POST", "owner"),
    "api_key_revoke": ("POST", "deployer"),
    "api_key_rotate": ("POST", "deployer"),
    "link_create": ("POST", "deployer"),
    "link_delete": ("POST", "deployer"),
    "link_edit": ("GET", "deployer"),
    "stage_plan": ("POST", "deployer"),
    "stage_deploy": ("POST", "deployer"),
    "stage_destroy": ("GET", "owner"),
    "deployment_history": ("GET", "viewer"),
    "deployment_detail": ("GET", "viewer"),
    "deployment_cancel": ("POST", "deployer"),
    "member_list": ("GET", "viewer"),
    "member_role": ("POST", "owner"),
    "member_remove": ("POST", "owner"),
    "stage_settings": ("GET", "owner"),
    "stage_check_access": ("POST", "owner"),
    "deployment_approve": ("POST", "owner"),
    "canvas_state": ("GET", "viewer"),
    "canvas_node_add": ("POST", "deployer"),
    "canvas_nodes_move": ("POST", "deployer"),
    "canvas_node_update": ("POST", "deployer"),
    "canvas_node_delete": ("POST", "deployer"),
    "canvas_node_explain": ("GET", "viewer"),
    "canvas_node_panel": ("GET", "deployer"),
    "canvas_link_panel": ("GET", "deployer"),
    "canvas_link_add": ("POST", "deployer"),
    "canvas_link_delete": ("POST", "deployer"),
    "canvas_link_explain": ("GET", "viewer"),
    "canvas_deploy": ("POST", "deployer"),
    "history_all": ("GET", "user"),
    "history_export": ("GET", "user"),
    "project_export": ("GET", "viewer"),
    "deploy_plan": ("POST", "deployer"),
    "redeploy": ("POST", "deployer"),
    "plan_cost": ("GET", "viewer"),
    "stage_drift": ("GET", "viewer"),
    "stage_refresh": ("POST", "deployer"),
    "drift_accept": ("POST", "deployer"),
    "drift_schedule": ("POST", "owner"),
    "orphan_delete": ("POST", "owner"),
    "token_list": ("GET", "user"),
    "token_revoke": ("POST", "self"),
    "deploy_token_create": ("POST", "owner"),
    "deploy_token_revoke": ("POST", "owner"),
    "project_audit": ("GET", "viewer"),
    "project_audit_export": ("GET", "viewer"),
    "audit_all": ("GET", "staff"),  # every project's changes
    "audit_export": ("GET", "staff"),
    # The REST API takes tokens only (tests/dashboard/test_api_*.py): a session gets 401.
    "api:openapi-json": ("GET", "public"),
    "api:openapi-view": ("GET", "public"),
    "api:api-root": ("GET", "nothing"),  # outside DEBUG, /api/ itself is 404 for all
    "api:*": ("GET", "token"),
    # The admin site checks staff itself; its login page is the way in.
    "admin:login": ("GET", "public"),
    "admin:logout": ("POST", "public"),
    "admin:*": ("GET", "staff"),
}
WEBSOCKET_RULES = {
    "ws/deployments/<int:deployment_id>/": "viewer",
    "ws/logs/<str:project>/<str:stage>/<str:agent>/": "viewer",  # test_observe.py checks it
}


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[tuple[str, Any]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = entry.namespace or namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = entry.name or prefix + str(entry.pattern)
            yield (f"{namespace}:{name}" if namespace else name), entry


ALL_URLS = dict(_walk(get_resolver().url_patterns))


def rule_for(name: str) -> tuple[str, str]:
    if name in RULES:
        return RULES[name]
    if name.startswith("admin:"):
        return RULES["admin:*"]
    if name.startswith("api:"):
        return RULES["api:*"]
    raise KeyError(f"no access rule for URL {name!r}: add one to RULES in this test")


def test_every_url_has_a_rule() -> None:
    missing = []
    for name in ALL_URLS:
        try:
            rule_for(name)
        except KeyError:
            missing.append(name)
    unknown = sorted(set(RULES) - set(ALL_URLS) - {"admin:*", "api:*"})
    assert missing == [], f"URLs without an access rule: {missing}"
    assert unknown == [], f"rules for URLs that no longer exist: {unknown}"


def test_every_websocket_route_has_a_rule() -> None:
    routes = [str(p.pattern) for p in websocket_urlpatterns]
    assert sorted(routes) == sorted(WEBSOCKET_RULES)


# --- the world every request runs in --------------------------------------------------------
@pytest.fixture
def world(django_user_model: Any, settings: Any) -> dict[str, Any]:
    settings.SANDBOX_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens: no AWS is reached
    make = django_user_model.objects.create_user
    people = {
        "stranger": make("stranger", password=None),
        "viewer": make("viewer", password=None),
        "deployer": make("deployer", password=None),
        "owner": make("owner", password=None),
        "staff": make("staff", password=None, is_staff=True, is_superuser=True),
    }
    project = project_services.project_create(name=PROJECT, user=people["owner"])
    for role in ("viewer", "deployer"):
        Membership.objects.create(project=project, user=people[role], role=role)
    extra = Membership.objects.create(
        project=project, user=make("extra", password=None), role="viewer"
    )
    Agent.objects.create(project=project, name="support")
    Component.objects.create(project=project, kind="bucket", name="files", settings={})
    Component.objects.create(
        project=project, kind="http_api", name="public", settings={"auth": "api_key"}
    )
    link = Link.objects.create(project=project, source="agent:support", target="bucket:files")
    channel = Channel.objects.create(
        project=project, name="team", kind="email", addresses=["ops@example.com"], events=[]
    )
    stage = project.stages.get()
    plan = Deployment.objects.create(
        stage=stage,
        project_name=PROJECT,
        stage_name=stage.name,
        kind="plan",
        status="SUCCEEDED",
        triggered_by=people["deployer"],
        triggered_by_name="deployer",
        blueprint=run_services.blueprint_for_stage(stage).to_dict(),
    )
    personal = tokens.token_create_personal(user=people["owner"], name="mine", expires_in_days=7)
    deploy = tokens.token_create_deploy(
        project=project, user=people["owner"], name="ci", role="deployer", expires_in_days=7
    )
    samples = {
        "name": PROJECT,
        "agent": "support",
        "kind": "bucket",
        "component": "files",
        "link_id": link.pk,
        "stage": stage.name,
        "deployment_id": plan.pk,
        "member_id": extra.pk,
        "run_id": plan.pk,
        "username": "extra",
        "token_id": personal.token.pk,
        "deploy_token_revoke.token_id": deploy.token.pk,  # "<url name>.<arg>": for that URL
        **{f"api_key_{action}.component": "public" for action in ("list", "revoke", "rotate")},
        "key_id": "0123456789ab",
        "channel_id": channel.pk,
        "key": "agent:support",
        "fmt": "json",
        # admin
        "app_label": "dashboard",
        "object_id": str(project.pk),
        "content_type_id": "1",
        "id": str(people["owner"].pk),
        "url": "missing/",
    }
    return {"people": people, "project": project, "samples": samples, "plan": plan}


def _url(name: str, pattern: URLPattern, samples: dict[str, Any]) -> str | None:
    kwargs = {
        k: samples.get(f"{name}.{k}", samples.get(k)) for k in pattern.pattern.regex.groupindex
    }
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


def _client(persona: str, people: dict[str, Any]) -> Client:
    client = Client()
    if persona != "anonymous":
        client.force_login(people[persona])
    return client


def expected(level: str, persona: str) -> str:
    if level == "public":
        return "allow"
    if level == "token":
        return "no-token"
    if level == "nothing":
        return "hidden"
    if level == "self":
        return "login" if persona == "anonymous" else "allow" if persona == "owner" else "hidden"
    if level == "staff":
        return "allow" if persona == "staff" else "admin-login"
    if persona == "anonymous":
        return "login"
    if level == "user" or persona == "staff":
        return "allow"
    if persona == "stranger":
        return "hidden"
    return "allow" if RANK[persona] >= RANK[level] else "forbidden"


def answer(response: Any) -> str:
    location = response.headers.get("Location", "")
    if response.status_code == 302 and location.startswith(reverse("login")):
        return "login"
    if response.status_code == 302 and location.startswith(reverse("admin:login")):
        return "admin-login"
    return {404: "hidden", 403: "forbidden", 401: "no-token"}.get(response.status_code, "allow")


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ALL_URLS))
def test_each_url_answers_each_persona_as_its_rule_says(name: str, world: dict[str, Any]) -> None:
    method, level = rule_for(name)
    url = _url(name, ALL_URLS[name], world["samples"])
    if url is None:  # an admin catch-all or regex view: covered by the admin site's own check
        assert name.startswith("admin:")
        return
    clients = {p: _client(p, world["people"]) for p in PERSONAS}
    seen = {}
    for persona in PERSONAS:
        with transaction.atomic():  # each persona sees the same world
            call = clients[persona].post if method == "POST" else clients[persona].get
            response = call(url)
            transaction.set_rollback(True)
        assert response.status_code < 500, f"{persona} {method} {url}: {response.status_code}"
        seen[persona] = answer(response)
        if level == "staff" and persona == "staff" and seen[persona] != "admin-login":
            seen[persona] = "allow"  # past the staff check; admin may still refuse bad input
        if level == "token" and response.status_code == 405:
            seen[persona] = (
                "no-token"  # a DELETE or PATCH only path; its token checks are in test_api_*
            )
        if level == "public" and seen[persona] == "login":
            seen[persona] = "allow"  # e.g. logging out lands on the login page
        if persona == "stranger":
            assert _same_as_nothing(clients[persona], method, url, response), url
    assert seen == {p: expected(level, p) for p in PERSONAS}, f"{method} {url}"


def _body(response: Any) -> bytes:
    return b"".join(response) if response.streaming else response.content


def _same_as_nothing(client: Client, method: str, url: str, response: Any) -> bool:
    """A non-member learns nothing: the answer is the one for a project that does not
    exist (with that name in place of the other), or shows no trace of the project."""
    if PROJECT not in url:
        return PROJECT.encode() not in _body(response)
    ghost = "ghost-acme0"  # same length, no such project
    with transaction.atomic():
        call = client.post if method == "POST" else client.get
        other = call(url.replace(PROJECT, ghost))
        transaction.set_rollback(True)
    return (other.status_code, _body(other).replace(ghost.encode(), PROJECT.encode())) == (
        response.status_code,
        _body(response),
    )


# --- the websocket --------------------------------------------------------------------------
def _cookie(client: Client) -> bytes:
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@pytest.mark.django_db(transaction=True)
def test_the_websocket_answers_each_persona_as_its_rule_says(world: dict[str, Any]) -> None:
    from dashboard.asgi import application

    level = WEBSOCKET_RULES["ws/deployments/<int:deployment_id>/"]
    path = f"/ws/deployments/{world['plan'].pk}/"

    async def connect(cookie: bytes | None) -> str:
        headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
        if cookie:
            headers.append((b"cookie", cookie))
        socket = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await socket.connect()
        assert connected
        first = await socket.receive_output(timeout=5)
        await socket.disconnect()
        if first["type"] == "websocket.close":
            return "forbidden" if first.get("code") == 4403 else f"closed {first.get('code')}"
        return "allow"

    seen = {}
    for persona in PERSONAS:
        client = _client(persona, world["people"])
        cookie = _cookie(client) if persona != "anonymous" else None
        seen[persona] = async_to_sync(connect)(cookie)
    wanted = {p: "allow" if expected(level, p) == "allow" else "forbidden" for p in PERSONAS}
    assert seen == wanted


@pytest.mark.django_db
def test_every_state_changing_url_refuses_a_request_without_the_csrf_token(
    world: dict[str, Any],
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["people"]["owner"])
    posts = [n for n, (method, _) in RULES.items() if method == "POST" and n in ALL_URLS]

    answers = {}
    for name in posts:
        url = _url(name, ALL_URLS[name], world["samples"])
        with transaction.atomic():
            answers[name] = client.post(url, {}, HTTP_HX_REQUEST="true").status_code
            transaction.set_rollback(True)

    assert posts and answers == dict.fromkeys(posts, 403)
