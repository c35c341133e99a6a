"""The canvas: its state as JSON, JSON edits, the inspector and the side panel."""

from __future__ import annotations

from django.urls import path

from dashboard.canvas import views

C = "projects/<str:name>/canvas/"

urlpatterns = [
    path(C + "state/", views.canvas_state, name="canvas_state"),
    path(C + "nodes/", views.node_add, name="canvas_node_add"),
    path(C + "nodes/move/", views.nodes_move, name="canvas_nodes_move"),
    path(C + "nodes/<str:key>/update/", views.node_update, name="canvas_node_update"),
    path(C + "nodes/<str:key>/delete/", views.node_delete, name="canvas_node_delete"),
    path(C + "nodes/<str:key>/explain/", views.node_explain, name="canvas_node_explain"),
    path(C + "nodes/<str:key>/panel/", views.node_panel, name="canvas_node_panel"),
    path(C + "links/", views.link_add, name="canvas_link_add"),
    path(C + "links/<int:link_id>/delete/", views.link_delete, name="canvas_link_delete"),
    path(C + "links/<int:link_id>/explain/", views.link_explain, name="canvas_link_explain"),
    path(C + "links/<int:link_id>/panel/", views.link_panel, name="canvas_link_panel"),
    path(C + "stages/<str:stage>/deploy/", views.deploy, name="canvas_deploy"),
]
