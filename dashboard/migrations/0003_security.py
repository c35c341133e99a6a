# Issue 8: protected stages, permissions boundary, sealed static keys, secret environment
# variables and deploy approvals.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0002_stage_settings"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="agent",
            name="secret_environment",
            field=models.JSONField(
                blank=True, default=dict, help_text="NAME -> sealed value (dashboard.secrets.seal)."
            ),
        ),
        migrations.AddField(
            model_name="deployment",
            name="approved_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="deployment",
            name="approved_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="deployment",
            name="approved_by_name",
            field=models.CharField(blank=True, max_length=150),
        ),
        migrations.AddField(
            model_name="stage",
            name="access_key_id_sealed",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="stage",
            name="permissions_boundary",
            field=models.CharField(blank=True, max_length=2048),
        ),
        migrations.AddField(
            model_name="stage",
            name="protected",
            field=models.BooleanField(
                default=False, help_text="Deploys need an owner's approval; destroy is disabled."
            ),
        ),
        migrations.AddField(
            model_name="stage",
            name="secret_access_key_sealed",
            field=models.TextField(blank=True),
        ),
    ]
