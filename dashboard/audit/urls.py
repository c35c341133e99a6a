"""The audit log's pages and exports."""

from __future__ import annotations

from django.urls import path

from dashboard.audit import views

urlpatterns = [
    path("audit/", views.audit_all, name="audit_all"),
    path("audit/export.<str:fmt>", views.audit_export, name="audit_export"),
    path("projects/<str:name>/audit/", views.project_audit, name="project_audit"),
    path(
        "projects/<str:name>/audit/export.<str:fmt>",
        views.project_audit_export,
        name="project_audit_export",
    ),
]
