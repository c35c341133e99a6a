"""Reads about notifications: a project's channels and each one's recent delivery log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from dashboard.notifications.models import Attempt, Channel, Delivery
from dashboard.projects.models import Project

LOG_LENGTH = 20


@dataclass(frozen=True)
class LogLine:
    """One try of one delivery, as the page and the API show it."""

    at: datetime
    event: str
    attempt: int
    status_code: int | None
    error: str
    delivery_status: str


def channels_of_project(*, project: Project) -> QuerySet[Channel]:
    return Channel.objects.filter(project=project)


def delivery_log(*, channel: Channel, limit: int = LOG_LENGTH) -> list[LogLine]:
    """The latest tries, newest first; a delivery not yet tried shows as attempt 0."""
    deliveries = list(Delivery.objects.filter(channel=channel)[:limit])
    tries = Attempt.objects.filter(delivery__in=deliveries).order_by("-at", "-id")
    by_delivery: dict[int, list[Attempt]] = {}
    for attempt in tries:
        by_delivery.setdefault(attempt.delivery_id, []).append(attempt)
    lines: list[LogLine] = []
    for delivery in deliveries:
        made = by_delivery.get(delivery.pk) or []
        lines.extend(
            LogLine(a.at, delivery.event, a.number, a.status_code, a.error, delivery.status)
            for a in made
        )
        if not made:
            lines.append(LogLine(delivery.created_at, delivery.event, 0, None, "", delivery.status))
    lines.sort(key=lambda line: (line.at, line.attempt), reverse=True)
    return lines[:limit]
