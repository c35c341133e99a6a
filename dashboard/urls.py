"""Pages. Websocket routes live in dashboard/routing.py."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from dashboard.views import auth, deployments, nodes, projects

P = "projects/<str:name>/"

urlpatterns = [
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("", projects.project_list, name="project_list"),
    path(P, projects.project_detail, name="project_detail"),
    # Agents and components: "new/" comes first and edits sit under "<name>/edit/",
    # so a node may itself be called "new".
    path(P + "agents/new/", nodes.agent_create, name="agent_create"),
    path(P + "agents/<str:agent>/edit/", nodes.agent_edit, name="agent_edit"),
    path(P + "agents/<str:agent>/delete/", nodes.agent_delete, name="agent_delete"),
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
    path(P + "links/", nodes.link_create, name="link_create"),
    path(P + "links/<int:link_id>/delete/", nodes.link_delete, name="link_delete"),
    path(
        P + "stages/<str:stage>/plan/",
        deployments.deployment_start,
        {"kind": "plan"},
        name="stage_plan",
    ),
    path(
        P + "stages/<str:stage>/deploy/",
        deployments.deployment_start,
        {"kind": "deploy"},
        name="stage_deploy",
    ),
    path(P + "stages/<str:stage>/destroy/", deployments.destroy_confirm, name="stage_destroy"),
    path(P + "deployments/", deployments.deployment_history, name="deployment_history"),
    path(
        "deployments/<int:deployment_id>/", deployments.deployment_detail, name="deployment_detail"
    ),
    path(
        "deployments/<int:deployment_id>/cancel/",
        deployments.deployment_cancel,
        name="deployment_cancel",
    ),
    path("admin/", admin.site.urls),
]
