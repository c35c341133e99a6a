"""The API's routes, gathered from each group; mounted at /api/ by dashboard/urls.py."""

from __future__ import annotations

from dashboard.api import (
    access,
    api_keys,
    audit,
    events,
    files,
    nodes,
    notifications,
    projects,
    runs,
)
from dashboard.api.core import api

for group in (projects, nodes, api_keys, files, runs, events, access, notifications, audit):
    api.add_router("/", group.router)

urlpatterns = api.urls
