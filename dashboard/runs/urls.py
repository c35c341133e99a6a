"""Starting a plan, deploy or destroy, watching a run live, cancelling it."""

from __future__ import annotations

from django.urls import path

from dashboard.runs import views

S = "projects/<str:name>/stages/<str:stage>/"

urlpatterns = [
    path(S + "plan/", views.deployment_start, {"kind": "plan"}, name="stage_plan"),
    path(S + "deploy/", views.deployment_start, {"kind": "deploy"}, name="stage_deploy"),
    path(S + "destroy/", views.destroy_confirm, name="stage_destroy"),
    path("deployments/<int:deployment_id>/", views.deployment_detail, name="deployment_detail"),
    path(
        "deployments/<int:deployment_id>/cancel/",
        views.deployment_cancel,
        name="deployment_cancel",
    ),
]
