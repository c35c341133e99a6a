"""Pages. Websocket routes live in dashboard/routing.py."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from dashboard.views import (
    auth,
    canvas,
    chat,
    deployments,
    drift,
    history,
    members,
    nodes,
    projects,
    stages,
)

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
    path(P + "deployments/", history.project_history, name="deployment_history"),
    path(
        "deployments/<int:deployment_id>/", deployments.deployment_detail, name="deployment_detail"
    ),
    path(
        "deployments/<int:deployment_id>/cancel/",
        deployments.deployment_cancel,
        name="deployment_cancel",
    ),
    # Members, stage settings and approvals (issue 8).
    path(P + "members/", members.member_list, name="member_list"),
    path(P + "members/<int:member_id>/role/", members.member_role, name="member_role"),
    path(P + "members/<int:member_id>/remove/", members.member_remove, name="member_remove"),
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
    path(C + "state/", canvas.canvas_state, name="canvas_state"),
    path(C + "nodes/", canvas.node_add, name="canvas_node_add"),
    path(C + "nodes/move/", canvas.nodes_move, name="canvas_nodes_move"),
    path(C + "nodes/<str:key>/update/", canvas.node_update, name="canvas_node_update"),
    path(C + "nodes/<str:key>/delete/", canvas.node_delete, name="canvas_node_delete"),
    path(C + "nodes/<str:key>/explain/", canvas.node_explain, name="canvas_node_explain"),
    path(C + "nodes/<str:key>/panel/", canvas.node_panel, name="canvas_node_panel"),
    path(C + "links/", canvas.link_add, name="canvas_link_add"),
    path(C + "links/<int:link_id>/delete/", canvas.link_delete, name="canvas_link_delete"),
    path(C + "links/<int:link_id>/explain/", canvas.link_explain, name="canvas_link_explain"),
    path(C + "stages/<str:stage>/deploy/", canvas.deploy, name="canvas_deploy"),
]

# Review, audit and drift (issue 6).
S = P + "stages/<str:stage>/"
urlpatterns += [
    path("history/", history.history_all, name="history_all"),
    path("history/export.<str:fmt>", history.history_export, name="history_export"),
    path(P + "deployments/export.<str:fmt>", history.project_export, name="project_export"),
    path("deployments/<int:deployment_id>/deploy/", history.deploy_plan, name="deploy_plan"),
    path("deployments/<int:deployment_id>/redeploy/", history.redeploy, name="redeploy"),
    path("deployments/<int:deployment_id>/cost/", history.plan_cost, name="plan_cost"),
    path(S + "drift/", drift.stage_drift, name="stage_drift"),
    path(S + "refresh/", drift.stage_refresh, name="stage_refresh"),
    path(S + "drift/accept/", drift.drift_accept, name="drift_accept"),
    path(S + "drift/schedule/", drift.drift_schedule, name="drift_schedule"),
    path(S + "orphans/delete/", drift.orphan_delete, name="orphan_delete"),
]
