"""The audit tab of a project (its members see it) and the log of every project (staff)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import reverse

from dashboard.audit import selectors as audit_selectors
from dashboard.projects.models import Project
from dashboard.web.helpers import project_or_404, render_page

PAGE_SIZE = 50
FORMATS = ("csv", "json")


def _before(request: HttpRequest) -> int | None:
    value = request.GET.get("before", "")
    return int(value) if value.isdigit() else None


def _context(request: HttpRequest, project: Project | None) -> dict[str, Any]:
    filters = audit_selectors.clean_filters(request.GET)
    page = audit_selectors.entries_page(
        project=project, filters=filters, before=_before(request), size=PAGE_SIZE
    )
    return {
        "project": project,
        "page": page,
        "filters": filters,
        "query": urlencode(filters),
        "here": reverse("project_audit", args=[project.name]) if project else reverse("audit_all"),
        "actions": audit_selectors.action_names(project=project),
        "first_page": _before(request) is None,
    }


@login_required
def project_audit(request: HttpRequest, name: str) -> HttpResponse:
    project, _role = project_or_404(request, name)
    return render_page(request, "audit/list.html", _context(request, project), "entries")


@staff_member_required
def audit_all(request: HttpRequest) -> HttpResponse:
    return render_page(request, "audit/list.html", _context(request, None), "entries")


# --- exports -------------------------------------------------------------------------------
def _csv_chunks(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=audit_selectors.EXPORT_COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "changes": json.dumps(row["changes"], sort_keys=True)})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _json_chunks(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield "["
    for index, row in enumerate(rows):
        yield ("," if index else "") + "\n" + json.dumps(row)
    yield "\n]\n"


def _export(request: HttpRequest, project: Project | None, fmt: str) -> StreamingHttpResponse:
    if fmt not in FORMATS:
        raise Http404("export as csv or json")
    filters = audit_selectors.clean_filters(request.GET)
    rows = audit_selectors.export_rows(project=project, filters=filters)
    chunks = _csv_chunks(rows) if fmt == "csv" else _json_chunks(rows)
    content_type = "text/csv" if fmt == "csv" else "application/json"
    response = StreamingHttpResponse(chunks, content_type=content_type)
    stem = project.name if project else "all"
    response["Content-Disposition"] = f'attachment; filename="{stem}-audit.{fmt}"'
    return response


@login_required
def project_audit_export(request: HttpRequest, name: str, fmt: str) -> StreamingHttpResponse:
    project, _role = project_or_404(request, name)
    return _export(request, project, fmt)


@staff_member_required
def audit_export(request: HttpRequest, fmt: str) -> StreamingHttpResponse:
    return _export(request, None, fmt)
