"""The keys of an HTTP API in api_key mode: list, create (the key is in this answer only),
revoke, rotate. Keys start or stop working at the stage's next deploy."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from dashboard.api.core import note_change, project_for, user_of
from dashboard.projects import api_keys
from dashboard.projects.models import Component

router = Router(tags=["blueprint"])
PATH = "/projects/{name}/components/http_api/{component}/api-keys"
EDIT = "deployer"


class ApiKeyIn(Schema):
    label: str = ""


def _api(request: HttpRequest, name: str, component: str) -> Component:
    project = project_for(request, name, min_role=EDIT)
    return get_object_or_404(project.components, kind=Component.Kind.HTTP_API, name=component)


def _issued(issued: api_keys.IssuedKey) -> dict[str, Any]:
    return {
        **dataclasses.asdict(issued.entry),
        "key": issued.key,
        "note": "Shown this once: only its hash is kept. It works after the next deploy.",
    }


@router.get(PATH)
def api_key_list(request: HttpRequest, name: str, component: str) -> list[dict[str, Any]]:
    """Each key's id (its hash's first digits), prefix, label and creation time; never a key."""
    keys = api_keys.api_key_list(component=_api(request, name, component))
    return [dataclasses.asdict(key) for key in keys]


@router.post(PATH, response={201: dict[str, Any]})
def api_key_create(
    request: HttpRequest, name: str, component: str, payload: ApiKeyIn
) -> Status[dict[str, Any]]:
    issued = api_keys.api_key_create(
        component=_api(request, name, component), user=user_of(request), label=payload.label
    )
    note_change(request, f"API key {issued.entry.prefix}… of http_api:{component} created")
    return Status(201, _issued(issued))


@router.post(PATH + "/{key_id}/revoke")
def api_key_revoke(request: HttpRequest, name: str, component: str, key_id: str) -> dict[str, Any]:
    gone = api_keys.api_key_revoke(
        component=_api(request, name, component), user=user_of(request), key_id=key_id
    )
    note_change(request, f"API key {gone.id} of http_api:{component} revoked")
    return dataclasses.asdict(gone)


@router.post(PATH + "/{key_id}/rotate", response={201: dict[str, Any]})
def api_key_rotate(
    request: HttpRequest, name: str, component: str, key_id: str
) -> Status[dict[str, Any]]:
    """A new key; the old one keeps working until it is revoked, once its callers switched."""
    issued = api_keys.api_key_rotate(
        component=_api(request, name, component), user=user_of(request), key_id=key_id
    )
    note_change(request, f"API key {key_id} of http_api:{component} rotated")
    return Status(201, _issued(issued))
