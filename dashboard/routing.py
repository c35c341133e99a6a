"""Websocket routes (the HTTP ones are in urls.py)."""

from __future__ import annotations

from django.urls import path

from dashboard.observe.consumers import LogFollowConsumer
from dashboard.runs.consumers import DeploymentConsumer

websocket_urlpatterns = [
    path("ws/deployments/<int:deployment_id>/", DeploymentConsumer.as_asgi()),
    path("ws/logs/<str:project>/<str:stage>/<str:agent>/", LogFollowConsumer.as_asgi()),
]
