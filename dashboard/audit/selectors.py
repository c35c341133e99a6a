"""Reading the audit log: filtered pages for the audit tab and the API, exports, and the walk
that checks the chain (`manage.py audit verify`).

Pages are keyset-paged on the id, newest first (ids follow the chain's order). The walk reads
the whole chain oldest first in batches and recomputes every hash: an edited row no longer
matches its hash, a deleted or inserted row breaks the next entry's link to it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date

from dashboard.audit.models import GENESIS, AuditEntry
from dashboard.projects.models import Project

FILTERS = ("actor", "action", "since", "until")
EXPORT_COLUMNS = [
    "id", "at", "actor", "source", "address", "project", "action", "target", "changes", "hash",
]  # fmt: skip
BATCH = 2000


@dataclass
class Page:
    entries: list[AuditEntry]
    older: int | None = None
    """The id to pass as `before` for the next (older) page, or None on the last page."""
    filters: dict[str, str] = field(default_factory=dict)


def clean_filters(raw: Mapping[str, Any]) -> dict[str, str]:
    """The recognised, non-empty filters of a query string (a date that is not one is dropped)."""
    cleaned = {k: str(raw.get(k, "") or "").strip()[:150] for k in FILTERS}
    for key in ("since", "until"):
        if cleaned[key] and parse_date(cleaned[key]) is None:
            cleaned[key] = ""
    return {k: v for k, v in cleaned.items() if v}


def _day(value: str, *, end: bool) -> datetime:
    day = parse_date(value) or date.today()
    moment = datetime.combine(day, time.max if end else time.min)
    return timezone.make_aware(moment, timezone.get_default_timezone())


def entries(
    *, project: Project | None, filters: Mapping[str, str] | None = None
) -> QuerySet[AuditEntry]:
    """Entries of one project (None: every entry, for staff), filtered, newest first."""
    rows = (
        AuditEntry.objects.all() if project is None else AuditEntry.objects.filter(project=project)
    )
    filters = filters or {}
    if filters.get("actor"):
        rows = rows.filter(actor_name__icontains=filters["actor"])
    if filters.get("action"):
        # "node" finds node.create, node.update and node.delete; "node.create" only that.
        action = filters["action"]
        rows = (
            rows.filter(action=action)
            if "." in action
            else rows.filter(action__startswith=f"{action}.")
        )
    if filters.get("since"):
        rows = rows.filter(at__gte=_day(filters["since"], end=False))
    if filters.get("until"):
        rows = rows.filter(at__lte=_day(filters["until"], end=True))
    return rows.order_by("-id")


def entries_page(
    *,
    project: Project | None,
    filters: Mapping[str, str] | None = None,
    before: int | None = None,
    size: int = 50,
) -> Page:
    rows = entries(project=project, filters=filters)
    if before is not None:
        rows = rows.filter(id__lt=before)
    found = list(rows[: size + 1])
    older = found[size - 1].pk if len(found) > size else None
    return Page(entries=found[:size], older=older, filters=dict(filters or {}))


def export_rows(
    *, project: Project | None, filters: Mapping[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    for entry in entries(project=project, filters=filters).iterator(chunk_size=BATCH):
        yield entry.as_row()


def action_names(*, project: Project | None) -> list[str]:
    rows = (
        AuditEntry.objects.all() if project is None else AuditEntry.objects.filter(project=project)
    )
    return sorted(set(rows.values_list("action", flat=True).distinct()))


# --- the chain ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ChainBreak:
    entry: AuditEntry
    reason: str

    def __str__(self) -> str:
        at = self.entry.at.isoformat().replace("+00:00", "Z")
        return f"entry #{self.entry.pk} ({at}, {self.entry.action}): {self.reason}"


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def chain_verify(*, project: Project | None = None) -> ChainReport:
    """Walk the whole chain, oldest first. With a project, count and report only its entries
    (the chain is one for all projects, so every link is still checked up to them)."""
    expected = GENESIS
    checked = 0
    for entry in _oldest_first():
        problem = _problem(entry, expected)
        mine = project is None or entry.project_id == project.pk
        if problem and mine:
            return ChainReport(checked=checked, broken=ChainBreak(entry, problem))
        expected = entry.hash
        checked += int(mine)
    return ChainReport(checked=checked, broken=None)


def _problem(entry: AuditEntry, expected_prev: str) -> str:
    if entry.computed_hash() != entry.hash:
        return "its content does not match its hash (the row was edited, or forged)"
    if entry.prev_hash != expected_prev:
        return (
            "it does not follow the entry before it (an entry before it was deleted, "
            "or it was inserted)"
        )
    return ""


def _oldest_first() -> Iterator[AuditEntry]:
    last = 0
    while True:
        batch = list(AuditEntry.objects.filter(id__gt=last).order_by("id")[:BATCH])
        yield from batch
        if len(batch) < BATCH:
            return
        last = batch[-1].pk
