"""The command line: arguments, dispatch, and every error turned into a message and an exit code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from strands_cli import __version__, commands
from strands_cli.client import ApiError
from strands_cli.context import Context
from strands_cli.outcome import EXIT_CODES_HELP, CliError, Exit

Command = Callable[[argparse.Namespace, Context], Exit]
DESCRIPTION = """Drive a Strands Deploy server over its REST API.
The server and token come from STRANDS_DEPLOY_URL and STRANDS_DEPLOY_TOKEN, else from the
file `login` writes (~/.config/strands-deploy/config.toml)."""


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    """argparse exits 2 on a usage error; ours is 3 (2 means "the plan has changes")."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> Parser:
    parser = Parser(
        prog="strands-deploy",
        description=DESCRIPTION,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=Parser
    )

    def command(name: str, handler: Command, help_text: str) -> argparse.ArgumentParser:
        found = sub.add_parser(
            name, help=help_text, description=help_text, epilog=EXIT_CODES_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )  # fmt: skip
        found.set_defaults(handler=handler)
        return found

    login = command("login", commands.login, "check a token against a server and save both")
    login.add_argument("--url", required=True, help="the server, e.g. https://deploy.example.com")
    login.add_argument("--token-stdin", action="store_true", help="read the token from stdin")

    apply = command("apply", commands.apply, "preview a project file's changes, then apply them")
    apply.add_argument("-f", "--file", required=True, help="the project file (strands-deploy.yaml)")
    apply.add_argument("--prune", action="store_true", help="also remove what the file leaves out")
    apply.add_argument("--yes", action="store_true", help="apply without asking")
    apply.add_argument("--dry-run", action="store_true", help="show the changes, apply nothing")

    plan = command("plan", commands.plan, "show what a deploy of a stage would change")
    _project_and_stage(plan)
    plan.add_argument("-f", "--file", help="check the project matches this file first")
    plan.add_argument("--apply", action="store_true", help="with -f: apply the file if it differs")
    plan.add_argument("--yes", action="store_true", help="with --apply: apply without asking")
    plan.add_argument(
        "--detailed-exitcode", action="store_true", help="exit 2 when the plan has changes"
    )
    plan.add_argument("--json", action="store_true", help="print the file preview and run as JSON")

    deploy = command("deploy", commands.deploy, "deploy a stage (with -f: apply the file first)")
    _project_and_stage(deploy)
    deploy.add_argument("-f", "--file", help="apply this project file before deploying")
    deploy.add_argument("--wait", action="store_true", help="follow the run until it ends")
    deploy.add_argument("--yes", action="store_true", help="apply the file without asking")

    destroy = command("destroy", commands.destroy, "delete every resource of a stage in AWS")
    destroy.add_argument("project")
    destroy.add_argument("--stage", required=True, help="the stage to destroy (no default)")
    destroy.add_argument("--wait", action="store_true", help="follow the run until it ends")
    destroy.add_argument("--yes", action="store_true", help="destroy without asking")

    status = command("status", commands.status, "a stage's last run, resources and endpoints")
    _project_and_stage(status)
    status.add_argument("--json", action="store_true")

    history = command("history", commands.history, "a project's latest runs")
    history.add_argument("project")
    history.add_argument("--limit", type=int, default=20)
    history.add_argument("--json", action="store_true")

    export = command("export", commands.export, "print or save a project's file (YAML)")
    export.add_argument("project")
    export.add_argument("-o", "--output", help="write to this file instead of stdout")
    return parser


def _project_and_stage(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project")
    parser.add_argument("--stage", default="dev", help="default: dev")


def run(argv: Sequence[str], ctx: Context) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as error:
        ctx.err.print(str(error), highlight=False, markup=False)
        return Exit.USAGE
    except SystemExit as done:  # --help and --version
        return int(done.code or 0)
    try:
        return int(args.handler(args, ctx))
    except CliError as error:
        ctx.err.print(f"error: {error.message}", highlight=False, markup=False)
        return error.code
    except ApiError as error:
        ctx.err.print(f"error: {_explain(error)}", highlight=False, markup=False)
        return Exit.USAGE if error.status == 401 else Exit.FAILED
    except KeyboardInterrupt:
        ctx.err.print("interrupted", highlight=False)
        return Exit.INTERRUPTED
    finally:
        ctx.close()


def _explain(error: ApiError) -> str:
    message = f"{error.field}: {error.message}" if error.field else error.message
    if error.status == 401:
        return f"{message} (log in again: strands-deploy login --url URL)"
    if error.status in (429, 503) and error.retry_after is not None:
        return f"{message} (the server asks to retry in {error.retry_after:.0f} s)"
    return message


def main(argv: Sequence[str] | None = None) -> int:
    return run(sys.argv[1:] if argv is None else argv, Context.real())


if __name__ == "__main__":
    sys.exit(main())
