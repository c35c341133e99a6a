"""Projects, their agents, components and links, stage settings and the agent chat."""

from __future__ import annotations

from django.urls import path

from dashboard.projects.views import api_keys, chat, files, nodes, projects, stages
from provisioning.model import project_file as pf

P = "projects/<str:name>/"
S = P + "stages/<str:stage>/"
K = P + "components/http_api/<str:component>/api-keys/"

urlpatterns = [
    path("", projects.project_list, name="project_list"),
    path("import/", files.project_import, name="project_import"),
    path(pf.SCHEMA_PATH.lstrip("/"), files.file_schema, name="file_schema"),
    path(P, projects.project_detail, name="project_detail"),
    path(P + "file/", files.project_file_download, name="project_file"),
    path(P + "delete/", projects.project_delete, name="project_delete"),
    # "new/" comes first and edits sit under "<name>/edit/", so a node may be called "new".
    path(P + "agents/new/", nodes.agent_create, name="agent_create"),
    path(P + "agents/<str:agent>/edit/", nodes.agent_edit, name="agent_edit"),
    path(P + "agents/<str:agent>/delete/", nodes.agent_delete, name="agent_delete"),
    path(P + "agents/<str:agent>/chat/", chat.agent_chat, name="agent_chat"),
    path(P + "components/<str:kind>/new/", nodes.component_create, name="component_create"),
    path(
        P + "components/<str:kind>/<str:component>/edit/",
        nodes.component_edit,
        name="component_edit",
    ),
    path(
        P + "components/<str:kind>/<str:component>/delete/",
        nodes.component_delete,
        name="component_delete",
    ),
    path(K, api_keys.api_key_list, name="api_key_list"),
    path(K + "<str:key_id>/revoke/", api_keys.api_key_revoke, name="api_key_revoke"),
    path(K + "<str:key_id>/rotate/", api_keys.api_key_rotate, name="api_key_rotate"),
    path(P + "links/", nodes.link_create, name="link_create"),
    path(P + "links/<int:link_id>/edit/", nodes.link_edit, name="link_edit"),
    path(P + "links/<int:link_id>/delete/", nodes.link_delete, name="link_delete"),
    path(S + "settings/", stages.stage_settings, name="stage_settings"),
    path(S + "check-access/", stages.stage_check_access, name="stage_check_access"),
    path(
        "deployments/<int:deployment_id>/approve/",
        stages.deployment_approve,
        name="deployment_approve",
    ),
]
