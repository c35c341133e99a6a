"""The fault proxy's view of the wire: which AWS action a request is, and how an error looks.

JSON protocols name it in `X-Amz-Target`, query protocols in `Action=`; REST
services (Lambda, API Gateway v2, S3, ...) only by method and path, which we
match against the request URIs in botocore's own service models.
The service comes from the SigV4 credential scope (`Credential=AKID/date/region/SERVICE/aws4_request`).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qs, urlsplit

import botocore.exceptions
import botocore.model
import botocore.session

_SCOPE = re.compile(r"Credential=[^/,]+/[^/]+/[^/]+/([^/]+)/aws4_request")
# Signing name -> botocore service names that sign with it, tried in order.
_MODELS_BY_SCOPE = {"apigateway": ("apigatewayv2", "apigateway"), "tagging": ()}
_NAME_BY_SCOPE = {"tagging": "resourcegroupstaggingapi"}
_session_lock = threading.Lock()


@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    pattern: re.Pattern[str]
    query: tuple[tuple[str, str | None], ...]
    literal: int
    """Characters of fixed path text: more means a more specific route."""
    headers: tuple[str, ...]
    """Required header members (CopyObject is PutObject's path plus x-amz-copy-source)."""


def scope_of(headers: Mapping[str, str]) -> str:
    auth = _header(headers, "authorization")
    found = _SCOPE.search(auth)
    return found.group(1) if found else "unknown"


def identify(method: str, path: str, headers: Mapping[str, str], body: bytes) -> str:
    """ "service:Operation", or "service:METHOD /path" when nothing matches."""
    scope = scope_of(headers)
    target = _header(headers, "x-amz-target")
    if target:
        return f"{_NAME_BY_SCOPE.get(scope, scope)}:{target.rsplit('.', 1)[-1]}"
    parts = urlsplit(path)
    params = parse_qs(parts.query, keep_blank_values=True)
    if "Action" not in params and "form-urlencoded" in _header(headers, "content-type"):
        params = {**params, **parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)}
    if "Action" in params:
        return f"{_NAME_BY_SCOPE.get(scope, scope)}:{params['Action'][0]}"
    for service in _MODELS_BY_SCOPE.get(scope, (scope,)):
        operation = _match(service, method, parts.path, params, headers)
        if operation:
            return f"{service}:{operation}"
    return f"{scope}:{method} {parts.path}"


def protocol_of(action: str, headers: Mapping[str, str]) -> str:
    """botocore's protocol name for the service an action belongs to (error formats differ)."""
    if _header(headers, "x-amz-target"):
        return "json"
    service = action.split(":", 1)[0]
    return _service_protocol(service) or "query"


@lru_cache(maxsize=64)
def _service_protocol(service: str) -> str:
    model = _model(service)
    return "" if model is None else str(model.protocol)


def _match(
    service: str,
    method: str,
    path: str,
    params: Mapping[str, list[str]],
    headers: Mapping[str, str],
) -> str | None:
    best: tuple[int, int, str] | None = None
    for route in _routes(service):
        if route.method != method or not route.pattern.fullmatch(path):
            continue
        if not all(k in params and (v is None or v in params[k]) for k, v in route.query):
            continue
        if not all(_header(headers, h) for h in route.headers):
            continue
        rank = (len(route.query), route.literal, route.operation)
        if best is None or rank[:2] > best[:2]:
            best = rank
    return best[2] if best else None


@lru_cache(maxsize=64)
def _routes(service: str) -> tuple[_Route, ...]:
    model = _model(service)
    if model is None or model.protocol not in ("rest-json", "rest-xml"):
        return ()
    routes = []
    for name in model.operation_names:
        operation = model.operation_model(name)
        uri_path, _, uri_query = str(operation.http["requestUri"]).partition("?")
        routes.append(
            _Route(
                name,
                str(operation.http["method"]),
                _path_pattern(uri_path),
                _query(uri_query),
                _literal(uri_path),
                _required_headers(operation),
            )
        )
    return tuple(routes)


def _required_headers(operation: botocore.model.OperationModel) -> tuple[str, ...]:
    shape = operation.input_shape
    if shape is None:
        return ()
    required = set(shape.required_members)
    return tuple(
        str(member.serialization["name"]).lower()
        for name, member in shape.members.items()
        if name in required and member.serialization.get("location") == "header"
    )


def _model(service: str) -> botocore.model.ServiceModel | None:
    with _session_lock:
        try:
            return _botocore_session().get_service_model(service)
        except botocore.exceptions.UnknownServiceError:
            return None


@lru_cache(maxsize=1)
def _botocore_session() -> botocore.session.Session:
    return botocore.session.get_session()


def _path_pattern(uri: str) -> re.Pattern[str]:
    out, pos = [], 0
    for found in re.finditer(r"\{([^}]+)\}", uri):
        out.append(re.escape(uri[pos : found.start()]))
        out.append(".+" if found.group(1).endswith("+") else "[^/]+")
        pos = found.end()
    out.append(re.escape(uri[pos:]))
    trailing = "" if uri.endswith("/") else "/?"
    return re.compile("".join(out) + trailing)


def _query(uri_query: str) -> tuple[tuple[str, str | None], ...]:
    pairs = []
    for item in filter(None, uri_query.split("&")):
        key, eq, value = item.partition("=")
        pairs.append((key, value if eq else None))
    return tuple(pairs)


def _literal(uri: str) -> int:
    return len(re.sub(r"\{[^}]+\}", "", uri))


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""


def error_body(
    protocol: str, status: int, code: str, message: str
) -> tuple[list[tuple[str, str]], bytes]:
    """An error in the shape the service's botocore parser reads, for `protocol`."""
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id)]
    if protocol in ("json", "rest-json"):
        headers += [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code)]
        if protocol == "json":
            headers.append(("x-amzn-query-error", f"{code};Sender"))  # awsQueryCompatible (SQS)
        return headers, json.dumps({"__type": code, "message": message}).encode()
    headers.append(("Content-Type", "text/xml"))
    if protocol == "rest-xml":
        xml = f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
    elif protocol == "ec2":
        xml = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error>"
            f"</Errors><RequestID>{request_id}</RequestID></Response>"
        )
    else:
        xml = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}"
            f"</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    return headers, xml.encode()
