# Issue 6: plan review, audit history, drift. Written by hand so that it holds only these
# operations (other 0003 migrations are merged by the lead).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0002_stage_settings"),
    ]

    operations = [
        migrations.AddField(
            model_name="deployedresource",
            name="drift",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Properties AWS no longer matches, per the last refresh.",
            ),
        ),
        migrations.AddField(
            model_name="deployment",
            name="from_plan",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="dashboard.deployment",
            ),
        ),
        migrations.AddField(
            model_name="deployment",
            name="plan_fingerprint",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="deployment",
            name="source_deployment",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="dashboard.deployment",
            ),
        ),
        migrations.AddField(
            model_name="stage",
            name="drift_check_hours",
            field=models.PositiveSmallIntegerField(
                blank=True,
                null=True,
                help_text="Refresh (drift check) every N hours; empty means off.",
            ),
        ),
        migrations.AlterField(
            model_name="deployment",
            name="kind",
            field=models.CharField(
                choices=[
                    ("plan", "Plan"),
                    ("deploy", "Deploy"),
                    ("destroy", "Destroy"),
                    ("refresh", "Refresh"),
                ],
                max_length=16,
            ),
        ),
        migrations.AddIndex(
            model_name="deployment",
            index=models.Index(
                fields=["project_name", "-created_at", "-id"], name="deployment_project_recent"
            ),
        ),
        migrations.AddIndex(
            model_name="deployment",
            index=models.Index(fields=["-created_at", "-id"], name="deployment_recent"),
        ),
    ]
