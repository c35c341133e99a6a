"""Issue 7: agent model settings, tool settings, sessions, custom code and dependencies."""

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0002_stage_settings")]

    operations = [
        migrations.AddField(
            model_name="agent",
            name="model_provider",
            field=models.CharField(default="bedrock", max_length=16),
        ),
        migrations.AddField(
            model_name="agent",
            name="model_region",
            field=models.CharField(
                blank=True, help_text="Empty: the stage's region.", max_length=32
            ),
        ),
        migrations.AddField(
            model_name="agent",
            name="max_tokens",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="agent", name="temperature", field=models.FloatField(blank=True, null=True)
        ),
        migrations.AddField(
            model_name="agent",
            name="tool_settings",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="agent",
            name="session_bucket",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AddField(
            model_name="agent",
            name="code",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text='{"kind": "zip" | "directory", "path", "handler"}',
            ),
        ),
        migrations.AddField(
            model_name="agent",
            name="requirements",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="agent", name="layers", field=models.JSONField(blank=True, default=list)
        ),
    ]
