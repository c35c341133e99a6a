"""`manage.py check --deploy` checks of our own: production must not run on embedded defaults."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from dashboard.access.secrets import KEY_ENV


@register(Tags.security, deploy=True)
def check_production_keys(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    problems: list[Any] = []
    if not os.environ.get("SECRET_KEY") or not getattr(settings, "PRODUCTION", False):
        problems.append(
            Error(
                "SECRET_KEY does not come from the environment: sessions and the embedded "
                "secrets key are derived from a value published in the source.",
                hint="Set SECRET_KEY (50+ random characters) and keep DEBUG off.",
                id="strands_deploy.E001",
            )
        )
    if not os.environ.get(KEY_ENV):
        problems.append(
            Warning(
                f"{KEY_ENV} is not set: stored secrets are encrypted with a key derived from "
                "SECRET_KEY.",
                hint=f"Set {KEY_ENV} to a Fernet key kept outside the database.",
                id="strands_deploy.W001",
            )
        )
    return problems
