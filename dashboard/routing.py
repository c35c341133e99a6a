"""Websocket routes (the HTTP ones are in urls.py)."""

from __future__ import annotations

from django.urls import path

from dashboard.runs.consumers import DeploymentConsumer

websocket_urlpatterns = [
    path("ws/deployments/<int:deployment_id>/", DeploymentConsumer.as_asgi()),
]
