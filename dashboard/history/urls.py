"""The audit record: history and exports, deploy a reviewed plan, redeploy, cost, drift."""

from __future__ import annotations

from django.urls import path

from dashboard.history import drift_views, views

P = "projects/<str:name>/"
S = P + "stages/<str:stage>/"
D = "deployments/<int:deployment_id>/"

urlpatterns = [
    path("history/", views.history_all, name="history_all"),
    path("history/export.<str:fmt>", views.history_export, name="history_export"),
    path(P + "deployments/", views.project_history, name="deployment_history"),
    path(P + "deployments/export.<str:fmt>", views.project_export, name="project_export"),
    path(D + "deploy/", views.deploy_plan, name="deploy_plan"),
    path(D + "redeploy/", views.redeploy, name="redeploy"),
    path(D + "cost/", views.plan_cost, name="plan_cost"),
    path(S + "drift/", drift_views.stage_drift, name="stage_drift"),
    path(S + "refresh/", drift_views.stage_refresh, name="stage_refresh"),
    path(S + "drift/accept/", drift_views.drift_accept, name="drift_accept"),
    path(S + "drift/schedule/", drift_views.drift_schedule, name="drift_schedule"),
    path(S + "orphans/delete/", drift_views.orphan_delete, name="orphan_delete"),
]
