from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from dashboard.management.commands import _runs


class Command(BaseCommand):
    help = "Show what a deploy would change (reads AWS, changes nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project")
        parser.add_argument("--stage", default="dev")
        parser.add_argument("--json", action="store_true", help="print Plan.as_dict() as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        stage = _runs.find_stage(options["project"], options["stage"])
        write = None if options["json"] else self.stdout.write
        deployment = _runs.run(stage, "plan", wait=True, write=write)
        _runs.check_outcome(deployment)
        if options["json"]:
            self.stdout.write(json.dumps(deployment.plan, indent=2, sort_keys=True))
            return
        self._print(deployment.plan)

    def _print(self, plan: dict[str, Any]) -> None:
        for change in plan.get("changes", []):
            if change["action"] == "NO_CHANGE":
                continue
            reason = f"  ({change['reason']})" if change.get("reason") else ""
            self.stdout.write(f"  {change['action']:<9} {change['logical_id']}{reason}")
            for prop in change.get("changes", []):
                replace = "  forces replacement" if prop.get("replacement_reason") else ""
                self.stdout.write(
                    f"      {prop['name']}: {prop['old']!r} -> {prop['new']!r}{replace}"
                )
        for problem in plan.get("problems", []):
            self.stdout.write(
                self.style.WARNING(
                    f"  problem: {problem['node']} {problem['field']}: {problem['message']}"
                )
            )
        summary = plan.get("summary", {})
        parts = [f"{n} {action.lower().replace('_', ' ')}" for action, n in sorted(summary.items())]
        self.stdout.write("plan: " + (", ".join(parts) if parts else "nothing to do"))
