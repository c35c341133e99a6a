"""One function per command: each takes the parsed arguments and the context and returns an
exit code, or raises `CliError` (API errors are turned into messages by `main`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from strands_cli import render
from strands_cli.client import ApiClient, ApiError
from strands_cli.config import Config, normalise_url, save_config
from strands_cli.context import Context
from strands_cli.follow import RunFollower
from strands_cli.outcome import CliError, Exit
from strands_cli.progress import display_for

SUCCEEDED = "SUCCEEDED"


def login(args: argparse.Namespace, ctx: Context) -> Exit:
    url = normalise_url(args.url)
    if args.token_stdin:
        token = ctx.stdin.readline().strip()
    else:
        token = ctx.read_secret(f"token for {url} (sdp_...): ").strip()
    if not token:
        raise CliError("no token given", Exit.USAGE)
    config = Config(url=url, token=token)
    try:
        ctx.client(config).projects()
    except ApiError as error:
        if error.status == 401:
            raise CliError(
                f"{url} refused this token (unknown, expired or revoked): {error.message}",
                Exit.USAGE,
            ) from error
        raise
    save_config(config, ctx.config_path)
    ctx.out.print(f"logged in to {url}; token saved in {ctx.config_path}", highlight=False)
    return Exit.OK


def apply(args: argparse.Namespace, ctx: Context) -> Exit:
    client = ctx.client()
    text = _read(args.file)
    preview = _preview(client, ctx, args.file, text, prune=args.prune)
    render.print_preview(ctx.out, preview, path=args.file)
    if preview.get("unchanged") or args.dry_run:
        return Exit.OK
    _apply_confirmed(client, ctx, args.file, text, preview, prune=args.prune, yes=args.yes)
    return Exit.OK


def plan(args: argparse.Namespace, ctx: Context) -> Exit:
    client = ctx.client()
    preview = _file_first(client, ctx, args, refuse_changes=not args.apply) if args.file else None
    run = _follow(client, ctx, client.start_run(args.project, args.stage, "plan"))
    found = _plan_of(client, run) if run.get("status") == SUCCEEDED else {}
    if args.json:
        document = {"project": args.project, "stage": args.stage, "file": preview, "run": run,
                    "plan": found}  # fmt: skip
        ctx.out.print_json(json.dumps(document, default=str))
    else:
        render.print_plan(ctx.out, found)
    _require_success(run)
    refusals = render.blocking(found)
    if refusals:
        raise CliError(f"{len(refusals)} blocking finding(s): a deploy would be refused")
    if args.detailed_exitcode and render.plan_has_changes(found):
        return Exit.CHANGES
    return Exit.OK


def _plan_of(client: ApiClient, run: dict[str, Any]) -> dict[str, Any]:
    """The plan run's changes, summary, problems and advice: from its own page where the
    server has one, else the summary and advice the run carries."""
    try:
        plan = client.run_plan(int(run["id"])).get("plan")
    except ApiError as error:
        if error.status != 404:
            raise
        plan = None
    if isinstance(plan, dict):
        return plan
    return {"summary": run.get("plan_summary") or {}, "advice": run.get("advice") or []}


def deploy(args: argparse.Namespace, ctx: Context) -> Exit:
    client = ctx.client()
    if args.file:
        _file_first(client, ctx, args, refuse_changes=False)
    run = client.start_run(args.project, args.stage, "deploy")
    return _finish_run(client, ctx, args, run)


def destroy(args: argparse.Namespace, ctx: Context) -> Exit:
    client = ctx.client()
    question = f"Destroy every resource of {args.project}/{args.stage} in AWS?"
    if not args.yes and not ctx.confirm(question):
        raise CliError("not confirmed: nothing destroyed (pass --yes to skip the question)")
    run = client.start_run(args.project, args.stage, "destroy")
    return _finish_run(client, ctx, args, run)


def status(args: argparse.Namespace, ctx: Context) -> Exit:
    answer = ctx.client().stage_status(args.project, args.stage)
    if args.json:
        ctx.out.print_json(json.dumps(answer))
    else:
        render.print_status(ctx.out, answer)
    return Exit.OK


def history(args: argparse.Namespace, ctx: Context) -> Exit:
    runs = ctx.client().runs(args.project, limit=args.limit).get("runs", [])
    if args.json:
        ctx.out.print_json(json.dumps(runs))
    elif runs:
        ctx.out.print(render.history_table(runs))
    else:
        ctx.out.print(f"{args.project} has no runs yet", highlight=False)
    return Exit.OK


def export(args: argparse.Namespace, ctx: Context) -> Exit:
    text = ctx.client().project_file(args.project)
    if args.output:
        Path(args.output).write_text(text)
        ctx.err.print(f"wrote {args.output}", highlight=False)
    else:
        ctx.out.file.write(text)
    return Exit.OK


# --- shared steps ----------------------------------------------------------------------------
def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except FileNotFoundError:
        raise CliError(f"{path}: no such file", Exit.USAGE) from None
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"{path}: cannot read it: {error}", Exit.USAGE) from error


def _preview(
    client: ApiClient, ctx: Context, path: str, text: str, *, prune: bool
) -> dict[str, Any]:
    try:
        return client.preview_file(text, prune=prune)
    except ApiError as error:
        raise _file_error(ctx, path, error) from error


def _file_error(ctx: Context, path: str, error: ApiError) -> Exception:
    if not error.problems:
        return error
    for line in render.problem_lines(path, error.problems):
        ctx.err.print(line, highlight=False, markup=False)
    count = len(error.problems)
    return CliError(f"{path}: {count} problem{'s' if count > 1 else ''}; nothing changed")


def _apply_confirmed(
    client: ApiClient,
    ctx: Context,
    path: str,
    text: str,
    preview: dict[str, Any],
    *,
    prune: bool,
    yes: bool,
) -> None:
    project = preview.get("project", "?")
    if not yes and not ctx.confirm(f"Apply {path} to project {project}?"):
        raise CliError("not confirmed: nothing changed (pass --yes to skip the question)")
    try:
        applied = client.apply_file(text, prune=prune)
    except ApiError as error:
        raise _file_error(ctx, path, error) from error
    ctx.out.print(f"applied {path} to {project}: {render.change_count(applied)}", highlight=False)


def _file_first(
    client: ApiClient, ctx: Context, args: argparse.Namespace, *, refuse_changes: bool
) -> dict[str, Any]:
    """Checks the file describes the project; applies it (confirmed) or refuses a change."""
    text = _read(args.file)
    preview = _preview(client, ctx, args.file, text, prune=False)
    if preview.get("project") != args.project:
        raise CliError(
            f"{args.file} describes project {preview.get('project')!r}, not {args.project!r}"
        )
    if preview.get("unchanged"):
        return preview
    render.print_preview(ctx.err, preview, path=args.file)
    if refuse_changes:
        raise CliError(
            f"{args.file} would change project {args.project} (above): apply it first "
            f"(`strands-deploy apply -f {args.file}`) or pass --apply"
        )
    _apply_confirmed(client, ctx, args.file, text, preview, prune=False, yes=args.yes)
    return preview


def _follow(client: ApiClient, ctx: Context, run: dict[str, Any]) -> dict[str, Any]:
    return RunFollower(client, display_for(ctx.err), sleep=ctx.sleep).follow(run)


def _finish_run(
    client: ApiClient, ctx: Context, args: argparse.Namespace, run: dict[str, Any]
) -> Exit:
    if not args.wait:
        ctx.out.print(
            f"{run.get('kind')} #{run['id']} {run.get('status')}: {run.get('url', '')}",
            highlight=False,
        )
        return Exit.OK
    run = _follow(client, ctx, run)
    ctx.out.print(render.run_line(run), highlight=False)
    _require_success(run)
    if run.get("kind") == "deploy":
        endpoints = client.stage_status(args.project, args.stage).get("endpoints") or []
        if endpoints:
            ctx.out.print(render.endpoints_table(endpoints))
    return Exit.OK


def _require_success(run: dict[str, Any]) -> None:
    if run.get("status") != SUCCEEDED:
        reason = f": {run['error']}" if run.get("error") else ""
        raise CliError(f"{run.get('kind', 'run')} #{run.get('id')} {run.get('status')}{reason}")
