"""A project's notification channels: the page beside Members."""

from __future__ import annotations

from django.urls import path

from dashboard.notifications import views

P = "projects/<str:name>/notifications/"

urlpatterns = [
    path(P, views.notification_list, name="notification_list"),
    path(P + "<int:channel_id>/test/", views.notification_test, name="notification_test"),
    path(P + "<int:channel_id>/delete/", views.notification_delete, name="notification_delete"),
]
