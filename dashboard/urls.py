"""Pages. Websocket routes live in dashboard/routing.py."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from dashboard.access import views as access_views
from dashboard.canvas import views as canvas_views
from dashboard.history import drift_views
from dashboard.history import views as history_views
from dashboard.projects.views import chat, nodes, projects, stages
from dashboard.runs import views as run_views
from dashboard.web import auth

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
    path(P + "links/", nodes.link_create, name="link_create"),
    path(P + "links/<int:link_id>/delete/", nodes.link_delete, name="link_delete"),
    path(
        P + "stages/<str:stage>/plan/",
        run_views.deployment_start,
        {"kind": "plan"},
        name="stage_plan",
    ),
    path(
        P + "stages/<str:stage>/deploy/",
        run_views.deployment_start,
        {"kind": "deploy"},
        name="stage_deploy",
    ),
    path(P + "stages/<str:stage>/destroy/", run_views.destroy_confirm, name="stage_destroy"),
    path(P + "deployments/", history_views.project_history, name="deployment_history"),
    path("deployments/<int:deployment_id>/", run_views.deployment_detail, name="deployment_detail"),
    path(
        "deployments/<int:deployment_id>/cancel/",
        run_views.deployment_cancel,
        name="deployment_cancel",
    ),
    # Members, stage settings and approvals (issue 8).
    path(P + "members/", access_views.member_list, name="member_list"),
    path(P + "members/<int:member_id>/role/", access_views.member_role, name="member_role"),
    path(P + "members/<int:member_id>/remove/", access_views.member_remove, name="member_remove"),
    path(P + "stages/<str:stage>/settings/", stages.stage_settings, name="stage_settings"),
    path(
        P + "stages/<str:stage>/check-access/",
        stages.stage_check_access,
        name="stage_check_access",
    ),
    path(
        "deployments/<int:deployment_id>/approve/",
        stages.deployment_approve,
        name="deployment_approve",
    ),
    path("admin/", admin.site.urls),
]

# The canvas (issue 5): JSON state and edits, the inspector, the side panel.
C = P + "canvas/"
urlpatterns += [
    path(C + "state/", canvas_views.canvas_state, name="canvas_state"),
    path(C + "nodes/", canvas_views.node_add, name="canvas_node_add"),
    path(C + "nodes/move/", canvas_views.nodes_move, name="canvas_nodes_move"),
    path(C + "nodes/<str:key>/update/", canvas_views.node_update, name="canvas_node_update"),
    path(C + "nodes/<str:key>/delete/", canvas_views.node_delete, name="canvas_node_delete"),
    path(C + "nodes/<str:key>/explain/", canvas_views.node_explain, name="canvas_node_explain"),
    path(C + "nodes/<str:key>/panel/", canvas_views.node_panel, name="canvas_node_panel"),
    path(C + "links/", canvas_views.link_add, name="canvas_link_add"),
    path(C + "links/<int:link_id>/delete/", canvas_views.link_delete, name="canvas_link_delete"),
    path(C + "links/<int:link_id>/explain/", canvas_views.link_explain, name="canvas_link_explain"),
    path(C + "stages/<str:stage>/deploy/", canvas_views.deploy, name="canvas_deploy"),
]

# Review, audit and drift (issue 6).
S = P + "stages/<str:stage>/"
urlpatterns += [
    path("history/", history_views.history_all, name="history_all"),
    path("history/export.<str:fmt>", history_views.history_export, name="history_export"),
    path(P + "deployments/export.<str:fmt>", history_views.project_export, name="project_export"),
    path("deployments/<int:deployment_id>/deploy/", history_views.deploy_plan, name="deploy_plan"),
    path("deployments/<int:deployment_id>/redeploy/", history_views.redeploy, name="redeploy"),
    path("deployments/<int:deployment_id>/cost/", history_views.plan_cost, name="plan_cost"),
    path(S + "drift/", drift_views.stage_drift, name="stage_drift"),
    path(S + "refresh/", drift_views.stage_refresh, name="stage_refresh"),
    path(S + "drift/accept/", drift_views.drift_accept, name="drift_accept"),
    path(S + "drift/schedule/", drift_views.drift_schedule, name="drift_schedule"),
    path(S + "orphans/delete/", drift_views.orphan_delete, name="orphan_delete"),
]
