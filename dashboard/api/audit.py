"""The audit log: a project's changes (its members) and every project's (staff)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Query, Router, Schema

from dashboard.api.core import project_for, user_of
from dashboard.audit import selectors as audit_selectors
from dashboard.projects.models import Project

router = Router(tags=["audit"])
MAX_PAGE = 200


class AuditQuery(Schema):
    actor: str = ""
    action: str = ""
    since: str = ""
    until: str = ""
    before: int | None = None
    size: int = 50


def _page(project: Project | None, query: AuditQuery) -> dict[str, Any]:
    page = audit_selectors.entries_page(
        project=project,
        filters=audit_selectors.clean_filters(query.dict()),
        before=query.before,
        size=max(1, min(MAX_PAGE, query.size)),
    )
    return {"entries": [e.as_row() for e in page.entries], "older": page.older}


@router.get("/projects/{name}/audit")
def audit_list(request: HttpRequest, name: str, query: Query[AuditQuery]) -> dict[str, Any]:
    """The project's changes, newest first; pass `older` back as `before` for the next page."""
    return _page(project_for(request, name), query)


@router.get("/audit")
def audit_all(request: HttpRequest, query: Query[AuditQuery]) -> dict[str, Any]:
    """Every project's changes (staff only)."""
    if not getattr(user_of(request), "is_staff", False):
        raise PermissionDenied("the log of every project is for staff")
    return _page(None, query)
