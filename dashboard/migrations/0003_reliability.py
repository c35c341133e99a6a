from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0002_stage_settings")]

    operations = [
        migrations.CreateModel(
            name="PendingOperation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("logical_id", models.CharField(max_length=256)),
                ("type", models.CharField(max_length=64)),
                ("node", models.CharField(blank=True, max_length=64)),
                ("properties", models.JSONField(default=dict)),
                ("depends_on", models.JSONField(default=list)),
                ("created_at", models.DateTimeField(auto_now=True)),
                (
                    "deployment",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="dashboard.deployment",
                    ),
                ),
                (
                    "stage",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="pending_operations",
                        to="dashboard.stage",
                    ),
                ),
            ],
            options={
                "ordering": ["logical_id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("stage", "logical_id"), name="unique_pending_operation"
                    )
                ],
            },
        ),
    ]
