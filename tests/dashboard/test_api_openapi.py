"""The API's OpenAPI document and docs page, and its parity with what the pages offer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

# Every named page or JSON endpoint of the dashboard, and the API operation that does the same.
UI_TO_API = {
    "project_list": "project_list",  # and project_create (POST)
    "project_detail": "project_detail",
    "project_delete": "project_delete",
    "project_file": "project_file_export",
    "project_import": "file_apply",  # preview first: file_preview
    "agent_create": "agent_create",
    "agent_edit": "agent_update",
    "agent_delete": "agent_delete",
    "component_create": "component_create",
    "component_edit": "component_update",
    "component_delete": "component_delete",
    "api_key_list": "api_key_list",  # and api_key_create (POST)
    "api_key_revoke": "api_key_revoke",
    "api_key_rotate": "api_key_rotate",
    "link_create": "link_create",
    "link_edit": "link_update",
    "link_delete": "link_delete",
    "canvas_link_panel": "link_update",
    "stage_settings": "stage_update",
    "stage_check_access": "stage_check_access",
    "deployment_approve": "run_approve",
    "canvas_state": "canvas_state",
    "canvas_node_add": "component_create",  # agents: agent_create
    "canvas_nodes_move": "nodes_move",
    "canvas_node_update": "component_update",  # agents: agent_update
    "canvas_node_delete": "component_delete",  # agents: agent_delete
    "canvas_node_explain": "node_explain",
    "canvas_node_panel": "agent_update",  # the side panel is the node's edit form
    "canvas_link_add": "link_create",
    "canvas_link_delete": "link_delete",
    "canvas_link_explain": "link_explain",
    "canvas_deploy": "stage_deploy",
    "stage_plan": "stage_plan",
    "stage_deploy": "stage_deploy",
    "stage_destroy": "stage_destroy",
    "deployment_detail": "run_detail",  # its live log: run_events
    "deployment_cancel": "run_cancel",
    "history_all": "run_history",
    "history_export": "run_history",
    "deployment_history": "run_list",
    "project_export": "run_list",
    "deploy_plan": "run_deploy_plan",
    "redeploy": "run_redeploy",
    "plan_cost": "run_cost",
    "stage_drift": "stage_drift",
    "stage_refresh": "stage_refresh",
    "drift_accept": "drift_accept",
    "drift_schedule": "stage_update",  # drift_check_hours
    "orphan_delete": "orphan_delete",
    "member_list": "member_list",  # and member_invite (POST)
    "member_role": "member_role",
    "member_remove": "member_remove",
    "token_list": "token_list",  # and token_create (POST)
    "token_revoke": "token_revoke",
    "deploy_token_create": "deploy_token_create",
    "deploy_token_revoke": "deploy_token_revoke",
    "notification_list": "notification_channel_list",  # and notification_channel_create (POST)
    "notification_test": "notification_channel_test",
    "notification_delete": "notification_channel_delete",
    "project_audit": "audit_list",
    "project_audit_export": "audit_list",
    "audit_all": "audit_all",
    "audit_export": "audit_all",
}
UI_ONLY = {
    "login": "a browser session; the API takes tokens",
    "logout": "a browser session; the API takes tokens",
    "healthz": "the container's probe, not a user action",
    "file_schema": "public JSON Schema of the file format, already plain JSON for tools",
    "agent_chat": "an interactive chat page with a deployed agent; call the agent itself",
    "agent_logs": "reads CloudWatch Logs with the stage's credentials; tools read it directly",
    "agent_metrics": "reads CloudWatch metrics with the stage's credentials; so do tools",
    "stage_metrics": "a summary page of the stage's CloudWatch metrics",
}


def _names(patterns: list[URLPattern | URLResolver]) -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in ("admin", "api"):  # Django's admin; the API itself
                continue
            yield from _names(pattern.url_patterns)
        elif pattern.name:
            yield pattern.name


def _operations(client: Client) -> dict[str, tuple[str, str]]:
    document = client.get("/api/openapi.json").json()
    return {
        op["operationId"]: (method.upper(), path)
        for path, methods in document["paths"].items()
        for method, op in methods.items()
    }


def test_every_ui_action_has_an_api_operation(client: Client) -> None:
    ui = set(_names(get_resolver().url_patterns))
    missing = sorted(ui - UI_TO_API.keys() - UI_ONLY.keys())
    assert not missing, f"UI actions with no API operation (add one, or a reason): {missing}"
    operations = _operations(client)
    unknown = sorted({op for op in UI_TO_API.values() if op not in operations})
    assert not unknown, f"mapped to operations the API does not have: {unknown}"


def test_the_document_is_openapi_3_1_and_lists_every_operation(client: Client) -> None:
    document = client.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    operations = _operations(client)
    expected = {
        "project_list": ("GET", "/api/projects"),
        "project_create": ("POST", "/api/projects"),
        "file_preview": ("POST", "/api/files/preview"),
        "stage_status": ("GET", "/api/projects/{name}/stages/{stage}/status"),
        "run_events": ("GET", "/api/runs/{run_id}/events"),
        "token_create": ("POST", "/api/tokens"),
        "deploy_token_list": ("GET", "/api/projects/{name}/tokens"),
    }
    assert expected.items() <= operations.items()
    assert len(operations) == len(set(operations.values()))  # one id per operation
    schemes = document["components"]["securitySchemes"]
    assert [s["scheme"] for s in schemes.values()] == ["bearer"]


def test_the_docs_page_runs_under_our_content_security_policy(client: Client) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    policy = page["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    html = page.content.decode()
    assert "cdn" not in html.lower()
    assert '<script src="/static/ninja/swagger-ui-bundle.js">' in html
    scripts = html.split("<script")[1:]
    inline = [s for s in scripts if "src=" not in s.split(">")[0]]
    assert all('type="application/json"' in s.split(">")[0] for s in inline)  # data, not code
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200
