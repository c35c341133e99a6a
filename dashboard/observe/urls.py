"""Watching a stage: an agent's logs and metrics, the stage's summary."""

from __future__ import annotations

from django.urls import path

from dashboard.observe import views

S = "projects/<str:name>/stages/<str:stage>/"

urlpatterns = [
    path(S + "agents/<str:agent>/logs/", views.agent_logs, name="agent_logs"),
    path(S + "agents/<str:agent>/metrics/", views.agent_metrics, name="agent_metrics"),
    path(S + "metrics/", views.stage_metrics, name="stage_metrics"),
]
