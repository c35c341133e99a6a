"""Members and their roles."""

from __future__ import annotations

from django.urls import path

from dashboard.access import views

P = "projects/<str:name>/"

urlpatterns = [
    path(P + "members/", views.member_list, name="member_list"),
    path(P + "members/<int:member_id>/role/", views.member_role, name="member_role"),
    path(P + "members/<int:member_id>/remove/", views.member_remove, name="member_remove"),
]
