"""`manage.py deployer_policy`: the IAM policy a real-AWS stage's identity needs, as JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from provisioning import engine


class Command(BaseCommand):
    help = (
        "Print the IAM policy the identity that deploys to a real AWS account needs "
        "(attach it to the role a stage assumes, or to the user of its keys)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(engine.deployer_policy(), indent=2))
