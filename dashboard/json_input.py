"""JSON from outside, read within limits and checked for values no database will store.

`parse` turns a request body into plain Python values: at most `MAX_BODY_BYTES`, nested at
most `MAX_DEPTH` deep (the parser itself stops at 200 levels, so a body 100,000 brackets deep
is refused without recursion), and free of the values PostgreSQL refuses or cannot even
compare: NUL in text, control characters in names (object keys), NaN and Infinity, integers
beyond 64 bits. Free text (a system prompt) may hold tabs, line breaks and other control
characters a paste can bring; a name has no use for them. The shape of each endpoint's body is its own schema's business;
this module only guarantees the values inside are safe to look at and to store.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pydantic_core

MAX_BODY_BYTES = 256 * 1024
MAX_DEPTH = 16
LARGEST_INT = 2**63 - 1
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


class JsonRefused(ValueError):
    """A body refused before any view logic ran: `status` is 400, or 413 when too large."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


def parse(raw: bytes) -> Any:
    """The body's JSON value ({} when empty), or `JsonRefused` saying what is wrong with it."""
    if len(raw) > MAX_BODY_BYTES:
        raise JsonRefused(
            f"the request body is larger than {MAX_BODY_BYTES // 1024} KB", status=413
        )
    try:
        value = pydantic_core.from_json(raw or b"{}", allow_inf_nan=False)
    except ValueError as exc:
        raise JsonRefused(f"the request body is not JSON ({exc})") from None
    where, problem = value_problem(value)
    if problem:
        raise JsonRefused(f"{where or 'the request body'}: {problem}", field=top_field(where))
    return value


def text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "text may not contain NUL characters"
    return None


def name_problem(text: str) -> str | None:
    """Names and keys: not even a tab or a line break belongs in one."""
    if CONTROL_CHARACTERS.search(text):
        return "a name may not contain NUL or other control characters"
    return None


def value_problem(value: Any, *, max_depth: int = MAX_DEPTH) -> tuple[str, str | None]:
    """(where, what) for the first unsafe value inside `value`, or ("", None).

    A loop over a stack, not recursion: it must not be the thing a deep value breaks.
    """
    stack: list[tuple[Any, int, str]] = [(value, 0, "")]
    while stack:
        item, depth, where = stack.pop()
        if depth > max_depth:
            return where, f"nested more than {max_depth} levels deep"
        problem = _scalar_problem(item)
        if problem:
            return where, problem
        if isinstance(item, dict):
            for key, inner in item.items():
                path = f"{where}.{key}" if where else str(key)
                problem = name_problem(str(key))
                if problem:
                    return path, problem
                stack.append((inner, depth + 1, path))
        elif isinstance(item, list | tuple):
            stack.extend((inner, depth + 1, f"{where}[{i}]") for i, inner in enumerate(item))
    return "", None


def _scalar_problem(item: Any) -> str | None:
    if isinstance(item, str):
        return text_problem(item)
    if isinstance(item, bool):
        return None
    if isinstance(item, int) and abs(item) > LARGEST_INT:
        return "the number is too large"
    if isinstance(item, float) and not math.isfinite(item):
        return "must be a finite number"
    return None


def top_field(where: str) -> str | None:
    """The request field a problem is in: "data" for "data.settings[0]"."""
    return re.split(r"[.\[]", where, maxsplit=1)[0] or None
