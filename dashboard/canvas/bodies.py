"""The body each canvas edit accepts, declared once per endpoint as a pydantic model.

`read` takes the request through `json_input.parse` (size, depth, no control characters,
finite numbers), then validates the value against the endpoint's model: a wrong type, a
missing or unexpected field is refused with a message naming it (`moves[0].x: ...`), so no
view or service sees a shape it did not ask for. Free-form parts (a node's `data`) are only
known to be JSON objects here; the services check their fields.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue, ValidationError
from pydantic_core import ErrorDetails

from dashboard import json_input
from dashboard.json_input import JsonRefused

MAX_ITEMS = 1000  # nodes moved or links restored in one edit; a canvas has far fewer


def _name(text: str) -> str:
    problem = json_input.name_problem(text)
    if problem:
        raise ValueError(problem)
    return text


Name = Annotated[str, AfterValidator(_name)]  # a node key, a kind: no control characters
Version = Annotated[int, Field(ge=0, le=json_input.LARGEST_INT)]
Coordinate = Annotated[float, Field(allow_inf_nan=False)]
NodeData = dict[str, JsonValue]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Edit(Body):
    """Every edit says which version of the project it saw: otherwise it could overwrite anything."""

    version: Version


class LinkIn(Body):
    source: Name
    target: Name
    kind: Name | None = None
    settings: NodeData | None = (
        None  # the link's own settings (schema.LINKS); the services check them
    )


class NodeAdd(Edit):
    kind: Name
    x: Coordinate = 0
    y: Coordinate = 0
    data: NodeData | None = None
    links: Annotated[list[LinkIn], Field(max_length=MAX_ITEMS)] | None = None  # undo of a delete


class Move(Body):
    key: Name
    x: Coordinate
    y: Coordinate


class NodesMove(Edit):
    moves: Annotated[list[Move], Field(min_length=1, max_length=MAX_ITEMS)]


class NodeUpdate(Edit):
    data: NodeData = Field(default_factory=dict)


class LinkAdd(Edit):
    source: Name
    target: Name
    kind: Name | None = None
    settings: NodeData | None = None


class Deploy(Body):
    version: Version | None = None


def read[B: Body](request: HttpRequest, schema: type[B]) -> B:
    """The request's body as `schema`, or `JsonRefused` (400; 413 too large; 415 not JSON)."""
    if request.content_type != "application/json":
        # A form post is not an edit, and its multipart stream may already be consumed
        raise JsonRefused("send the edit as application/json", status=415)
    try:
        raw = request.body
    except RequestDataTooBig:
        raise JsonRefused("the request body is too large", status=413) from None
    value = json_input.parse(raw)
    try:
        return schema.model_validate(value)
    except ValidationError as exc:
        where, message = _describe(exc.errors(include_url=False)[0])
        raise JsonRefused(
            f"{where}: {message}" if where else message, field=json_input.top_field(where)
        ) from None


_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a field of this request",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "list_type": "must be a JSON list",
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "too_short": "must not be empty",
}


def _describe(error: ErrorDetails) -> tuple[str, str]:
    where = _path(error["loc"])
    if error["type"] == "model_type" and not where:
        return "", "the request body must be a JSON object"
    if error["type"] == "value_error":
        return where, str(error.get("ctx", {}).get("error", error["msg"]))
    return where, _MESSAGES.get(error["type"], error["msg"])


def _path(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
