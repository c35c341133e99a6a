"""Members and their roles; API tokens (personal, and a project's deploy tokens)."""

from __future__ import annotations

from django.urls import path

from dashboard.access import views

P = "projects/<str:name>/"

urlpatterns = [
    path(P + "members/", views.member_list, name="member_list"),
    path(P + "members/<int:member_id>/role/", views.member_role, name="member_role"),
    path(P + "members/<int:member_id>/remove/", views.member_remove, name="member_remove"),
    path(P + "members/tokens/", views.deploy_token_create, name="deploy_token_create"),
    path(
        P + "members/tokens/<int:token_id>/revoke/",
        views.deploy_token_revoke,
        name="deploy_token_revoke",
    ),
    path("tokens/", views.token_list, name="token_list"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
]
