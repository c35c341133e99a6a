# History keyed by the project's identity, not its name. A deleted project becomes a
# tombstone row (deleted_at) that frees its name; every run points at its project's row.
#
# Existing runs are attributed as follows: a run whose stage still exists belongs to that
# stage's project. A run whose stage is gone (its project was deleted) belongs to the live
# project of the same name only if it started after that project was created (names were
# unique at any moment, so it was that project's run); otherwise to a tombstone made here
# for the deleted project of that name, so that a new project never inherits old runs.

from __future__ import annotations

from typing import Any

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Min, OuterRef, Subquery
from django.utils import timezone

NAME_PATTERN = r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$"
NAME_HELP = "1-32 characters: lowercase letters, digits and hyphens; starts with a letter."


def attribute_runs(apps: Any, schema_editor: Any) -> None:
    Deployment = apps.get_model("dashboard", "Deployment")
    Project = apps.get_model("dashboard", "Project")
    Stage = apps.get_model("dashboard", "Stage")
    runs = Deployment._base_manager
    stage_project = Stage._base_manager.filter(pk=OuterRef("stage_id")).values("project_id")[:1]
    runs.filter(stage__isnull=False).update(project_id=Subquery(stage_project))

    orphans = runs.filter(project__isnull=True)
    for name in orphans.order_by().values_list("project_name", flat=True).distinct():
        of_name = orphans.filter(project_name=name)
        live = Project._base_manager.filter(name=name, deleted_at__isnull=True).first()
        if live is not None:
            of_name.filter(created_at__gte=live.created_at).update(project_id=live.pk)
        first = of_name.aggregate(at=Min("created_at"))["at"]
        if first is None:
            continue
        tombstone = Project._base_manager.create(
            name=name,
            description="Deleted before its runs were tied to it (restored for history).",
            deleted_at=timezone.now(),
        )
        Project._base_manager.filter(pk=tombstone.pk).update(created_at=first)
        of_name.update(project_id=tombstone.pk)

    check_foreign_keys_now(schema_editor)


def check_foreign_keys_now(schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        # The writes queued deferred foreign-key checks; run them now so that the
        # ALTER TABLE that follows in this transaction is allowed.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def forget_attribution(apps: Any, schema_editor: Any) -> None:
    # The old schema cannot hold two projects of one name: tombstones go, their runs keep
    # their names (and a NULL stage), as before.
    Deployment = apps.get_model("dashboard", "Deployment")
    Project = apps.get_model("dashboard", "Project")
    Deployment._base_manager.update(project_id=None)
    Project._base_manager.filter(deleted_at__isnull=False).delete()
    check_foreign_keys_now(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0005_project_created_by_optional"),
    ]

    operations = [
        migrations.AddField(
            model_name="project",
            name="deleted_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="Set when deleted: the row stays for history.",
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="project",
            name="name",
            field=models.CharField(
                help_text=NAME_HELP,
                max_length=32,
                validators=[django.core.validators.RegexValidator(NAME_PATTERN, NAME_HELP)],
            ),
        ),
        migrations.AddConstraint(
            model_name="project",
            constraint=models.UniqueConstraint(
                condition=models.Q(("deleted_at__isnull", True)),
                fields=("name",),
                name="unique_live_project_name",
                violation_error_message="a project with this name already exists",
            ),
        ),
        migrations.AddField(
            model_name="deployment",
            name="project",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="deployments",
                to="dashboard.project",
            ),
        ),
        migrations.RunPython(attribute_runs, forget_attribution),
        migrations.AlterField(
            model_name="deployment",
            name="project",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="deployments",
                to="dashboard.project",
            ),
        ),
        migrations.RemoveIndex(
            model_name="deployment",
            name="deployment_project_recent",
        ),
        migrations.AddIndex(
            model_name="deployment",
            index=models.Index(
                fields=["project", "-created_at", "-id"], name="deployment_project_id_recent"
            ),
        ),
        migrations.AlterField(
            model_name="deployment",
            name="project_name",
            field=models.CharField(
                help_text="The project's name at the time, for display.", max_length=32
            ),
        ),
    ]
