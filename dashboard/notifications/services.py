"""Writes about notifications: owners make, test and delete channels; the worker delivers.

A webhook's signing secret is made here and handed back once (`NewChannel.secret`); only its
sealed form is kept. Delivery is tried up to `NOTIFICATION_ATTEMPTS` times, waiting
`NOTIFICATION_BACKOFF_S` x 2^(n-1) before try n+1; each try is an `Attempt` in the log.
"""

from __future__ import annotations

import re
import secrets as random
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.forms import ValidationError
from django.utils import timezone

from dashboard.access import secrets
from dashboard.access.roles import OWNER, User, require_role
from dashboard.audit import services as audit_log
from dashboard.errors import ServiceError
from dashboard.notifications import dispatch, transport
from dashboard.notifications.models import SUBSCRIBABLE, Attempt, Channel, Delivery, Event
from dashboard.projects.models import Project

ATTEMPTS = 5
BACKOFF_S = 30.0
MAX_ADDRESSES = 20
SECRET_PREFIX = "whsec_"


def max_attempts() -> int:
    return max(1, int(getattr(settings, "NOTIFICATION_ATTEMPTS", ATTEMPTS)))


def backoff_s(attempt: int) -> float:
    """The wait after failed try number `attempt` (1-based): 30 s, 1 min, 2 min, 4 min."""
    return float(getattr(settings, "NOTIFICATION_BACKOFF_S", BACKOFF_S)) * 2 ** (attempt - 1)


@dataclass(frozen=True)
class NewChannel:
    channel: Channel
    secret: str | None
    """A webhook's signing secret: shown in the answer that made it, and never again."""


# --- channels ----------------------------------------------------------------------------------
def channel_create(
    *,
    project: Project,
    user: User | None,
    name: str,
    kind: str,
    events: list[str],
    url: str = "",
    addresses: list[str] | None = None,
) -> NewChannel:
    require_role(project=project, user=user, role=OWNER)
    name = _clean_name(name)
    channel = Channel(
        project=project,
        name=name,
        kind=_clean_kind(kind),
        events=_clean_events(events),
        created_by=user if isinstance(user, AbstractBaseUser) else None,
    )
    secret = None
    if channel.kind == Channel.Kind.EMAIL:
        channel.addresses = _clean_addresses(addresses or [])
    else:
        clean = _clean_url(url)
        if channel.kind == Channel.Kind.SLACK:
            # The URL is the credential: keep it sealed, show only where it goes.
            channel.url_sealed = secrets.seal(clean)
            channel.url = shown_url(clean)
        else:
            channel.url = clean
            secret = SECRET_PREFIX + random.token_urlsafe(32)
            channel.secret_sealed = secrets.seal(secret)
    try:
        with transaction.atomic():
            channel.save()
            audit_log.entry_record(
                action="notification.create",
                user=user,
                project=project,
                target=channel.name,
                # Where it goes as shown (a Slack URL masked); the signing secret only as "set".
                changes={"kind": channel.kind, "events": channel.events, "url": channel.url,
                         "addresses": channel.addresses, "secret": "set" if secret else ""},
            )  # fmt: skip
    except IntegrityError:
        raise ServiceError(f"{project.name} already has a channel named {name}", "name") from None
    return NewChannel(channel, secret)


def channel_delete(*, channel: Channel, user: User | None) -> None:
    require_role(project=channel.project, user=user, role=OWNER)
    with transaction.atomic():
        audit_log.entry_record(
            action="notification.delete", user=user, project=channel.project, target=channel.name
        )
        channel.delete()


def channel_send_test(*, channel: Channel, user: User | None) -> Delivery:
    """A test event, through the same queue, retries and log as the real ones."""
    require_role(project=channel.project, user=user, role=OWNER)
    text = f"test notification from {channel.project.name} to {channel.name}"
    payload = {"event": Event.TEST.value, "project": channel.project.name, "text": text, "data": {}}
    with transaction.atomic():
        return dispatch.deliver(channel=channel, event=Event.TEST, payload=payload)


def shown_url(url: str) -> str:
    """What a page may show of a secret URL: where it goes, none of the credential."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}/{secrets.MASK}"


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ServiceError("give the channel a name of 1 to 64 characters", "name")
    return name


def _clean_kind(kind: str) -> str:
    if kind not in Channel.Kind.values:
        raise ServiceError(f"a channel is one of {', '.join(Channel.Kind.values)}", "kind")
    return kind


def _clean_events(events: list[str]) -> list[str]:
    known = [value for value, _label in SUBSCRIBABLE]
    unknown = sorted(set(events) - set(known))
    if unknown:
        raise ServiceError(f"unknown events {unknown}: choose from {known}", "events")
    if not events:
        raise ServiceError("subscribe the channel to at least one event", "events")
    return [e for e in known if e in events]


def _clean_url(url: str) -> str:
    try:
        return transport.clean_url(url)
    except ValueError as exc:
        raise ServiceError(str(exc), "url") from None


def _clean_addresses(addresses: list[str]) -> list[str]:
    found = [a.strip() for a in addresses if a.strip()]
    if not found or len(found) > MAX_ADDRESSES:
        raise ServiceError(f"give 1 to {MAX_ADDRESSES} email addresses", "addresses")
    for address in found:
        try:
            validate_email(address)
        except ValidationError:
            raise ServiceError(f"{address!r} is not an email address", "addresses") from None
    return found


def parse_addresses(text: str) -> list[str]:
    return [a for a in re.split(r"[\s,;]+", text or "") if a]


# --- delivering (the worker) -------------------------------------------------------------------
def delivery_attempt(*, delivery_id: int) -> float | None:
    """Try once; returns the seconds to wait before the next try, or None when done.

    Safe to run twice: a try is claimed by bumping `attempts` from the value read, so a
    duplicate message finds its try taken and does nothing.
    """
    delivery = Delivery.objects.select_related("channel").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != Delivery.Status.PENDING:
        return None
    number = delivery.attempts + 1
    claimed = Delivery.objects.filter(
        pk=delivery.pk, status=Delivery.Status.PENDING, attempts=delivery.attempts
    ).update(attempts=number)
    if not claimed:
        return None
    try:
        status_code = _send(delivery.channel, delivery.payload)
    except transport.SendError as exc:
        return _failed(delivery, number, exc)
    Attempt.objects.create(delivery=delivery, number=number, status_code=status_code)
    _finish(delivery, Delivery.Status.DELIVERED)
    return None


def _send(channel: Channel, payload: dict[str, Any]) -> int | None:
    if channel.kind == Channel.Kind.EMAIL:
        transport.send_email(channel.addresses, payload)
        return None
    if channel.kind == Channel.Kind.SLACK:
        return transport.post_slack(_open(channel.url_sealed), payload)
    return transport.post_webhook(channel.url, payload, secret=_open(channel.secret_sealed))


def _open(sealed: str) -> str:
    try:
        return secrets.open_(sealed)
    except secrets.SecretError as exc:
        raise transport.SendError(str(exc), retry=False) from None


def _failed(delivery: Delivery, number: int, exc: transport.SendError) -> float | None:
    # Error texts may quote a URL: the channel's secrets are blanked whatever the wording.
    error = secrets.redact(exc.message)[:500]
    Attempt.objects.create(
        delivery=delivery, number=number, status_code=exc.status_code, error=error
    )
    if exc.retry and number < max_attempts():
        return backoff_s(number)
    _finish(delivery, Delivery.Status.FAILED)
    return None


def _finish(delivery: Delivery, status: str) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(status=status, finished_at=timezone.now())
