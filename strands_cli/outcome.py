"""Exit codes, and the one exception a command raises to end with one of them."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    OK = 0
    FAILED = 1
    """The server said no, a run failed or was cancelled, or the user did not confirm."""
    CHANGES = 2
    """`plan --detailed-exitcode`: the plan would change something."""
    USAGE = 3
    """A wrong command line, a missing file, no server configured or a refused token."""
    INTERRUPTED = 130


EXIT_CODES_HELP = """exit codes:
  0    success (plan --detailed-exitcode: nothing would change)
  1    failure: a run failed or was cancelled, the server refused, or not confirmed
  2    plan --detailed-exitcode: the plan has changes
  3    usage or configuration error (bad arguments, no server, token refused)
  130  interrupted (Ctrl-C): a run being waited for is asked to cancel"""


class CliError(Exception):
    """Ends the command with `message` on stderr and `code` as the exit code."""

    def __init__(self, message: str, code: Exit = Exit.FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
