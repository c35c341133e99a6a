"""Pages, gathered from each domain's urls.py. Websocket routes live in dashboard/routing.py."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from dashboard.access import urls as access_urls
from dashboard.api import urls as api_urls
from dashboard.audit import urls as audit_urls
from dashboard.canvas import urls as canvas_urls
from dashboard.history import urls as history_urls
from dashboard.notifications import urls as notification_urls
from dashboard.observe import urls as observe_urls
from dashboard.projects import urls as project_urls
from dashboard.runs import urls as run_urls
from dashboard.web import auth, health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("admin/", admin.site.urls),
    path("api/", api_urls.urlpatterns),
    path("", include(project_urls)),
    path("", include(canvas_urls)),
    path("", include(run_urls)),
    path("", include(history_urls)),
    path("", include(access_urls)),
    path("", include(notification_urls)),
    path("", include(observe_urls)),
    path("", include(audit_urls)),
]
