"""Reads for the audit pages: the history list, a run's snapshot diff and timeline, exports.

Runs belong to a project's identity (`Deployment.project`), never its name: a user sees
the runs of the projects they are a member of, by id, so a new project named like a
deleted one sees none of the old runs. The list is keyset-paged on (created_at, id),
newest first, over the indexes `deployment_project_id_recent` and `deployment_recent`; it never loads a run's events,
blueprint or plan (only the plan's summary, by a JSON key lookup in the query).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from dashboard.access.roles import DeployTokenUser, User
from dashboard.projects.models import Project
from dashboard.runs.models import Deployment, DeploymentEvent

LIST_FIELDS = (
    "id", "stage_id", "project_id", "project_name", "stage_name", "kind", "status",
    "triggered_by_name", "counts", "error", "created_at", "started_at", "finished_at",
    "source_deployment_id", "from_plan_id",
)  # fmt: skip
FILTERS = ("stage", "status", "user", "kind", "since", "until")


@dataclass
class Page:
    runs: list[Deployment]
    newer: str | None = None
    """Cursor of the page before (newer runs), or None on the first page."""
    older: str | None = None
    filters: dict[str, str] = field(default_factory=dict)


def visible_project_ids(*, user: User) -> list[int] | None:
    """None: every run (staff, including deleted projects'); else the user's live projects."""
    if getattr(user, "is_staff", False):
        return None
    if isinstance(user, DeployTokenUser):
        return [user.api_token.project_id]
    if not user.is_authenticated:
        return []
    return list(Project.objects.filter(memberships__user=user).values_list("pk", flat=True))


def projects_named(name: str) -> list[Project]:
    """Every project that had this name: the live one first, then deleted ones, newest first."""
    rows = Project.with_deleted.filter(name=name)
    return list(rows.order_by(F("deleted_at").desc(nulls_first=True), "-pk"))


def clean_filters(raw: Mapping[str, Any]) -> dict[str, str]:
    """The recognised, non-empty filters from a query string."""
    cleaned = {k: str(raw.get(k, "")).strip() for k in FILTERS}
    if cleaned["status"] and cleaned["status"] not in Deployment.Status.values:
        cleaned["status"] = ""
    if cleaned["kind"] and cleaned["kind"] not in Deployment.Kind.values:
        cleaned["kind"] = ""
    for key in ("since", "until"):
        if cleaned[key] and parse_date(cleaned[key]) is None:
            cleaned[key] = ""
    return {k: v for k, v in cleaned.items() if v}


def _day(value: str, end: bool) -> datetime:
    day = parse_date(value) or date.today()
    moment = datetime.combine(day, time.max if end else time.min)
    return timezone.make_aware(moment, timezone.get_default_timezone())


def history_queryset(
    *, user: User, project: Project | None = None, filters: Mapping[str, str] | None = None
) -> QuerySet[Deployment]:
    runs = Deployment.objects.only(*LIST_FIELDS).annotate(plan_summary=F("plan__summary"))
    if project is not None:
        runs = runs.filter(project=project)
    else:
        ids = visible_project_ids(user=user)
        if ids is not None:
            runs = runs.filter(project_id__in=ids)
    f = filters or {}
    if f.get("stage"):
        runs = runs.filter(stage_name=f["stage"])
    if f.get("status"):
        runs = runs.filter(status=f["status"])
    if f.get("kind"):
        runs = runs.filter(kind=f["kind"])
    if f.get("user"):
        runs = runs.filter(triggered_by_name=f["user"])
    if f.get("since"):
        runs = runs.filter(created_at__gte=_day(f["since"], end=False))
    if f.get("until"):
        runs = runs.filter(created_at__lte=_day(f["until"], end=True))
    return runs


def encode_cursor(run: Deployment) -> str:
    return f"{run.created_at.isoformat()}_{run.pk}"


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor or "_" not in cursor:
        return None
    moment, _, pk = cursor.rpartition("_")
    parsed = parse_datetime(moment.replace(" ", "+"))  # "+" arrives as a space from a URL
    if parsed is None or not pk.isdigit():
        return None
    return parsed, int(pk)


def history_page(
    *,
    user: User,
    project: Project | None = None,
    filters: Mapping[str, str] | None = None,
    older_than: str | None = None,
    newer_than: str | None = None,
    size: int = 25,
) -> Page:
    """One page, newest first; `older_than` / `newer_than` are cursors from a previous page."""
    runs = history_queryset(user=user, project=project, filters=filters)
    after = decode_cursor(newer_than)
    before = decode_cursor(older_than)
    if after is not None:
        moment, pk = after
        newer = runs.filter(Q(created_at__gt=moment) | Q(created_at=moment, id__gt=pk))
        rows = list(newer.order_by("created_at", "id")[: size + 1])
        has_newer = len(rows) > size
        rows = list(reversed(rows[:size]))
        page = Page(_mark_deleted_projects(rows, project), filters=dict(filters or {}))
        page.newer = encode_cursor(rows[0]) if has_newer and rows else None
        page.older = encode_cursor(rows[-1]) if rows else None
        return page
    if before is not None:
        moment, pk = before
        runs = runs.filter(Q(created_at__lt=moment) | Q(created_at=moment, id__lt=pk))
    rows = list(runs.order_by("-created_at", "-id")[: size + 1])
    page = Page(_mark_deleted_projects(rows[:size], project), filters=dict(filters or {}))
    page.older = encode_cursor(rows[size - 1]) if len(rows) > size else None
    page.newer = encode_cursor(rows[0]) if before is not None and rows else None
    return page


def _mark_deleted_projects(runs: list[Deployment], project: Project | None) -> list[Deployment]:
    """Across projects, flag the runs of deleted ones (`project_deleted`), in one query for
    the page: a join in the list's query would cost a lookup for every run it sorts."""
    if project is not None:
        return runs  # a project's own page: the project is live
    ids = {run.project_id for run in runs}
    deleted = set(
        Project.with_deleted.filter(pk__in=ids, deleted_at__isnull=False).values_list(
            "pk", flat=True
        )
    )
    for run in runs:
        run.project_deleted = run.project_id in deleted  # type: ignore[attr-defined]
    return runs


def history_users(*, project: Project | None, user: User) -> list[str]:
    """Who has run anything here, for the filter's choices (distinct over the index)."""
    runs = history_queryset(user=user, project=project)
    names = runs.order_by().values_list("triggered_by_name", flat=True).distinct()
    return sorted(n for n in names[:200] if n)


# --- one run -----------------------------------------------------------------------------------
def previous_success(deployment: Deployment) -> Deployment | None:
    """The last successful deploy of the same stage before this run: what it changed from."""
    return (
        Deployment.objects.filter(
            project_id=deployment.project_id,
            stage_name=deployment.stage_name,
            kind=Deployment.Kind.DEPLOY,
            status=Deployment.Status.SUCCEEDED,
        )
        .filter(
            Q(created_at__lt=deployment.created_at)
            | Q(created_at=deployment.created_at, id__lt=deployment.pk)
        )
        .order_by("-created_at", "-id")
        .first()
    )


def export_rows(
    *, user: User, project: Project | None, filters: Mapping[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    """Every run (newest first) as flat, secret-free data; streamed in chunks."""
    runs = history_queryset(user=user, project=project, filters=filters).order_by(
        "-created_at", "-id"
    )
    for run in runs.iterator(chunk_size=500):
        yield export_row(run)


EXPORT_COLUMNS = (
    "id", "project", "stage", "kind", "status", "triggered_by", "created_at", "started_at",
    "finished_at", "duration_s", "succeeded", "failed", "skipped", "unchanged", "total",
    "plan_summary", "source_deployment", "from_plan", "error", "project_id",
)  # fmt: skip


def export_row(run: Deployment) -> dict[str, Any]:
    counts = dict(run.counts or {})
    summary = getattr(run, "plan_summary", None) or {}

    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "id": run.pk,
        "project": run.project_name,
        "stage": run.stage_name,
        "kind": run.kind,
        "status": run.status,
        "triggered_by": run.triggered_by_name,
        "created_at": iso(run.created_at),
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "duration_s": run.duration_s,
        **{k: counts.get(k) for k in ("succeeded", "failed", "skipped", "unchanged", "total")},
        "plan_summary": summary,
        "source_deployment": run.source_deployment_id,
        "from_plan": run.from_plan_id,
        "error": run.error,
        "project_id": run.project_id,
    }


def export_events(run_ids: list[int]) -> Iterator[dict[str, Any]]:
    """The events of these runs, in order, for the JSON export."""
    rows = DeploymentEvent.objects.filter(deployment_id__in=run_ids).order_by("deployment", "seq")
    for row in rows.iterator(chunk_size=2000):
        yield row.as_message()
