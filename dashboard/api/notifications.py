"""A project's notification channels and their delivery logs (owners). A webhook's signing
secret is in the answer that made the channel, and in no answer after it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from dashboard.api.core import note_change, project_for, user_of
from dashboard.notifications import selectors, services
from dashboard.notifications.models import Channel

router = Router(tags=["notifications"])


class ChannelIn(Schema):
    name: str = Field(..., max_length=64)
    kind: str = Field(..., description="webhook, slack or email.")
    events: list[str] = Field(..., description='E.g. ["run.failed", "drift.found"].')
    url: str = Field("", description="webhook and slack: where to POST.")
    addresses: list[str] = Field(default_factory=list, description="email: where to send.")


class ChannelOut(Schema):
    id: int
    name: str
    kind: str
    events: list[str]
    url: str = Field(..., description="A Slack URL is shown as its host only.")
    addresses: list[str]
    created_at: datetime


class NewChannelOut(ChannelOut):
    secret: str | None = Field(
        None, description="A webhook's signing secret: in this answer only, never again."
    )


class DeliveryOut(Schema):
    at: datetime
    event: str
    attempt: int
    status_code: int | None
    error: str
    delivery_status: str


def channel_out(channel: Channel) -> dict[str, Any]:
    return {
        "id": channel.pk,
        "name": channel.name,
        "kind": channel.kind,
        "events": list(channel.events or []),
        "url": channel.url,
        "addresses": list(channel.addresses or []),
        "created_at": channel.created_at,
    }


def _channel(request: HttpRequest, name: str, channel_id: int) -> Channel:
    project = project_for(request, name, min_role="owner")
    return get_object_or_404(
        Channel.objects.select_related("project"), project=project, pk=channel_id
    )


@router.get("/projects/{name}/notifications", response=list[ChannelOut])
def notification_channel_list(request: HttpRequest, name: str) -> list[dict[str, Any]]:
    project = project_for(request, name, min_role="owner")
    return [channel_out(c) for c in selectors.channels_of_project(project=project)]


@router.post("/projects/{name}/notifications", response={201: NewChannelOut})
def notification_channel_create(
    request: HttpRequest, name: str, payload: ChannelIn
) -> Status[dict[str, Any]]:
    project = project_for(request, name, min_role="owner")
    made = services.channel_create(
        project=project,
        user=user_of(request),
        name=payload.name,
        kind=payload.kind,
        events=payload.events,
        url=payload.url,
        addresses=payload.addresses,
    )
    note_change(request, f"notification channel {made.channel.name} of {name} made")
    return Status(201, {**channel_out(made.channel), "secret": made.secret})


@router.delete("/projects/{name}/notifications/{channel_id}", response={204: None})
def notification_channel_delete(request: HttpRequest, name: str, channel_id: int) -> Status[None]:
    channel = _channel(request, name, channel_id)
    services.channel_delete(channel=channel, user=user_of(request))
    note_change(request, f"notification channel {channel.name} of {name} deleted")
    return Status(204, None)


@router.post("/projects/{name}/notifications/{channel_id}/test", response={202: DeliveryOut})
def notification_channel_test(
    request: HttpRequest, name: str, channel_id: int
) -> Status[dict[str, Any]]:
    """Queue a test event; its tries appear in the channel's deliveries."""
    channel = _channel(request, name, channel_id)
    delivery = services.channel_send_test(channel=channel, user=user_of(request))
    line = {
        "at": delivery.created_at,
        "event": delivery.event,
        "attempt": 0,
        "status_code": None,
        "error": "",
        "delivery_status": delivery.status,
    }
    return Status(202, line)


@router.get("/projects/{name}/notifications/{channel_id}/deliveries", response=list[DeliveryOut])
def notification_delivery_list(
    request: HttpRequest, name: str, channel_id: int
) -> list[dict[str, Any]]:
    """The latest tries, newest first: time, event, attempt, status code or error."""
    channel = _channel(request, name, channel_id)
    return [line.__dict__ for line in selectors.delivery_log(channel=channel)]
