from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.history.detail import blocking_findings, plan_findings
from dashboard.management.commands import _runs
from dashboard.management.commands.apply import load
from dashboard.projects import project_file

BLOCKED = 1
CHANGES = 2  # --detailed-exitcode, as Terraform: 0 nothing to change, 1 error, 2 changes


class Command(BaseCommand):
    help = (
        "Show what a deploy would change (reads AWS, changes nothing), with the advice and "
        "problems found in the project. Exit codes: 0 the plan can be deployed (warnings "
        "allowed); 1 blocking advice or a problem would stop the deploy; other errors (no such "
        "project, a failed plan) also exit 1 with a message on stderr; with --detailed-exitcode, "
        "2 when the plan would change something. With -f FILE the plan is of the project file, "
        "against the stage's deployed resources, and the project itself is left as it is."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project")
        parser.add_argument("--stage", default="dev")
        parser.add_argument(
            "--json",
            action="store_true",
            help='print Plan.as_dict() as JSON, its advice under "advice"',
        )
        parser.add_argument("-f", "--file", help="plan this project file instead of the project")
        parser.add_argument(
            "--detailed-exitcode",
            action="store_true",
            help="exit 2 when the plan has changes (0 none, 1 error)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stage = _runs.find_stage(options["project"], options["stage"])
        write = None if options["json"] else self.stdout.write
        snapshot = None
        if options["file"]:
            wanted = load(options["file"])
            if wanted.project.name != stage.project.name:
                raise CommandError(
                    f"{options['file']} describes project {wanted.project.name!r}, "
                    f"not {stage.project.name!r}"
                )
            snapshot = project_file.blueprint_of(wanted, stage).to_dict()
        deployment = _runs.run(stage, "plan", wait=True, write=write, snapshot=snapshot)
        _runs.check_outcome(deployment)
        plan = deployment.plan
        if options["json"]:
            self.stdout.write(json.dumps(plan, indent=2, sort_keys=True))
        else:
            self._print(plan)
        refusals = len(blocking_findings(plan))
        if refusals:
            raise CommandError(
                f"{refusals} blocking finding{'s' if refusals > 1 else ''}: fix "
                f"{'them' if refusals > 1 else 'it'} before deploying",
                returncode=BLOCKED,
            )
        if options["detailed_exitcode"] and _has_changes(plan):
            raise CommandError("the plan has changes", returncode=CHANGES)

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
        for found in plan_findings(plan):
            style = self.style.ERROR if found["severity"] == "blocking" else self.style.WARNING
            where = f"{found['node']} {found['field']}".strip()
            self.stdout.write(style(f"  {found['severity']}: {where}: {found['message']}"))
            if found["fix"]:
                self.stdout.write(f"      fix: {found['fix']}")
        summary = plan.get("summary", {})
        parts = [f"{n} {action.lower().replace('_', ' ')}" for action, n in sorted(summary.items())]
        self.stdout.write("plan: " + (", ".join(parts) if parts else "nothing to do"))


def _has_changes(plan: dict[str, Any]) -> bool:
    return any(change["action"] != "NO_CHANGE" for change in plan.get("changes", []))
