"""pip requirements as data: a package name, extras, version specifiers and markers, no more.

Requirement lines come from people (the agent form, the canvas, a requirements.txt in an
uploaded zip) and end up on pip's command line on the server. pip reads far more than
requirements from such a line: URLs and paths it fetches or opens, options that change the
index, editable installs that run a VCS. So every line is parsed with the PyPA parser
(`packaging.requirements`, the one pip itself uses) and only plain requirements pass; the
dashboard refuses the others when they are saved and the engine again just before pip runs.

A refusal names the line and the package or option, never a URL: the messages reach forms,
plans and run events, and a URL someone tried to make the server fetch is not worth showing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from packaging.requirements import InvalidRequirement, Requirement

from provisioning.errors import EngineError

_COMMENT = re.compile(r"(^|\s)#.*$")
"""pip's rule: a # at the start of a line or after whitespace starts a comment."""
_OPTION = re.compile(r"(?:^|\s)(-[^\s=]*)")
_DRIVE = re.compile(r"^[A-Za-z]:")
_ARCHIVES = (".whl", ".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz")
"""pip installs a name ending so from a local file of that name when one exists."""
_SHOWN = 80
_EXAMPLE = "like package==1.2.3"
_ALLOWED = "only package names, extras, versions and markers are"
_INDEX = "name a version on the package index instead"


class RequirementRefused(EngineError):
    """Requirement lines that must not reach pip, one message each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def requirement_lines(text: str) -> list[str]:
    """The lines of requirements text that ask for something: comments and blanks dropped."""
    stripped = (_COMMENT.sub("", line).strip() for line in text.splitlines())
    return [line for line in stripped if line]


def requirement_problem(line: str) -> str | None:
    """Why pip must not be given this one line, or None for a plain requirement."""
    line = line.strip()
    if not line:
        return "an empty line is not a requirement"
    option = _OPTION.search(line)
    if option:
        return f"the pip option {option.group(1)} is not allowed: {_ALLOWED}"
    if "://" in line or line.lower().startswith("file:"):
        return f"{_subject(line)} is given by a URL: {_INDEX}"
    if "/" in line or "\\" in line or line[0] in ".~" or _DRIVE.match(line):
        return f"{_subject(line)} is given by a local path: {_INDEX}"
    try:
        requirement = Requirement(line)
    except InvalidRequirement:
        return f"{_shown(line)} is not a pip requirement {_EXAMPLE}"
    if requirement.url:
        return f"{requirement.name} is given by a URL or path: {_INDEX}"
    if requirement.name.lower().endswith(_ARCHIVES):
        return f"{requirement.name} names a file, not a package: {_INDEX}"
    return None


def requirements_problems(requirements: Iterable[str]) -> list[str]:
    """One message per refused requirement of a list, numbered from 1 in the order given."""
    return [
        f"requirement {number}: {problem}"
        for number, line in enumerate(requirements, start=1)
        if (problem := requirement_problem(line))
    ]


def parse_requirements(text: str, *, source: str = "") -> list[str]:
    """The requirements in requirements text (a form's box, a requirements.txt), or a
    refusal naming every line pip must not see, numbered as the text's lines are."""
    numbered = [
        (number, wanted[0])
        for number, line in enumerate(text.splitlines(), start=1)
        if (wanted := requirement_lines(line))
    ]
    where = f"{source} line" if source else "line"
    problems = [
        f"{where} {number}: {problem}"
        for number, line in numbered
        if (problem := requirement_problem(line))
    ]
    if problems:
        raise RequirementRefused(problems)
    return [line for _, line in numbered]


def requirements_file(text: str | bytes, name: str = "requirements.txt") -> list[str]:
    """The requirements of a requirements.txt, or a refusal naming every line pip must not see."""
    try:
        raw = text.decode("utf-8") if isinstance(text, bytes) else text
    except UnicodeDecodeError:
        raise RequirementRefused([f"{name} is not UTF-8 text"]) from None
    return parse_requirements(raw, source=name)


def pip_arguments(requirements: Iterable[str]) -> list[str]:
    """The requirements as pip will be given them: checked, then in the parser's own
    spelling, so what pip reads is exactly what was checked."""
    wanted = list(requirements)
    problems = [f"layer {problem}" for problem in requirements_problems(wanted)]
    if problems:
        raise RequirementRefused(problems)
    return [str(Requirement(line.strip())) for line in wanted]


def _subject(line: str) -> str:
    """The package a refused line is about, without the rest of it (which may be a URL)."""
    name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*(?=\s*(\[|@|;|$))", line)
    return name.group(0) if name else "this line"


def _shown(line: str) -> str:
    return repr(line if len(line) <= _SHOWN else line[:_SHOWN] + "...")
