"""Django admin: projects editable by staff; the audit record (runs, events) read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from dashboard.access.models import Membership
from dashboard.errors import ServiceError
from dashboard.projects import services as project_services
from dashboard.projects.models import Agent, Component, Link, Project, Stage
from dashboard.runs.models import DeployedResource, Deployment, DeploymentEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EventInline(admin.TabularInline):
    model = DeploymentEvent
    fields = ("seq", "at", "resource", "action", "status", "message", "elapsed_ms")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Deployment)
class DeploymentAdmin(ReadOnlyAdmin):
    list_display = ("id", "project_name", "project_id", "stage_name", "kind", "status",
                    "triggered_by_name", "created_at", "finished_at")  # fmt: skip
    list_filter = ("kind", "status")
    search_fields = ("project_name", "triggered_by_name")
    inlines = [EventInline]


@admin.register(DeploymentEvent)
class DeploymentEventAdmin(ReadOnlyAdmin):
    list_display = ("deployment", "seq", "resource", "action", "status", "at")
    list_filter = ("status",)


@admin.register(DeployedResource)
class DeployedResourceAdmin(ReadOnlyAdmin):
    list_display = ("stage", "logical_id", "type", "physical_id", "updated_at")
    search_fields = ("logical_id", "physical_id")


class StageFormSet(BaseInlineFormSet):
    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound:
            return
        # Said our way, in place of Django's list of protected rows (which it finds first,
        # before `clean` could run): which stage to destroy, and how much it still holds.
        ticked = [f.instance for f in self.forms if f.instance.pk and self._should_delete_form(f)]
        try:
            project_services.require_destroyed(stages=ticked)
        except ServiceError as exc:
            self._non_form_errors = self.error_class(
                [exc.message], error_class="nonform", renderer=self.renderer
            )


class StageInline(admin.TabularInline):
    """A stage is deleted here only once destroyed: its resources are what AWS still holds."""

    model = Stage
    formset = StageFormSet
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    """Live projects and tombstones (deleted projects whose runs are kept)."""

    list_display = ("name", "id", "version", "created_at", "deleted_at")
    list_filter = (("deleted_at", admin.EmptyFieldListFilter),)
    inlines = [StageInline, MembershipInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Project]:
        return Project.with_deleted.all()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting is the owner's action in the dashboard, which keeps the tombstone.
        return False


admin.site.register(Agent)
admin.site.register(Component)
admin.site.register(Link)
