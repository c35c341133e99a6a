"""The project file (strands-deploy.yaml) through the API: export, preview and apply.

Preview and apply take the same body; preview never writes. A file that does not parse is
answered 400 with every problem at its line and column.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Router

from dashboard.access.roles import DeployTokenUser
from dashboard.api.core import note_change, project_for, user_of
from dashboard.api.schemas import FileIn
from dashboard.errors import ServiceError
from dashboard.projects import project_file
from dashboard.projects.models import Project
from provisioning.model import project_file as pf

router = Router(tags=["project files"])


class FileInvalid(ServiceError):
    """The text is not a valid project file; `problems` lists each one where it is."""

    def __init__(self, error: pf.ProjectFileError) -> None:
        super().__init__(f"the project file has {len(error.problems)} problem(s) to fix")
        self.problems = [
            {"line": p.line, "column": p.column, "path": p.path, "message": p.message}
            for p in error.problems
        ]


def _parsed(text: str) -> pf.ProjectFile:
    try:
        return pf.parse(text)
    except pf.ProjectFileError as exc:
        raise FileInvalid(exc) from None


def _preview_out(preview: project_file.Preview) -> dict[str, Any]:
    return {
        "project": preview.project,
        "exists": preview.exists,
        "prune": preview.prune,
        "unchanged": preview.unchanged,
        "changes": [
            {
                "action": change.action,
                "key": change.key,
                "fields": [{"path": p, "old": old, "new": new} for p, old, new in change.fields],
            }
            for change in preview.changes
        ],
        "kept": preview.kept,
        "notes": preview.notes,
    }


def _may_write(request: HttpRequest, wanted: pf.ProjectFile, min_role: str) -> None:
    """An existing project only if the token sees it (another team's is not described);
    a new one only with a personal token (a deploy token has its one project)."""
    if Project.objects.filter(name=wanted.project.name).exists():
        project_for(request, wanted.project.name, min_role=min_role)
    elif isinstance(user_of(request), DeployTokenUser):
        raise PermissionDenied("a deploy token reaches its own project only")


@router.get(
    "/projects/{name}/file",
    openapi_extra={
        "responses": {200: {"description": "YAML", "content": {"application/yaml": {}}}}
    },
)
def project_file_export(request: HttpRequest, name: str) -> HttpResponse:
    project = project_for(request, name)
    url = request.build_absolute_uri(reverse("file_schema"))
    text = project_file.export_text(project, schema_url=url)
    return HttpResponse(text, content_type="application/yaml; charset=utf-8")


@router.post("/files/preview")
def file_preview(request: HttpRequest, payload: FileIn) -> dict[str, Any]:
    """What applying the file would change; nothing is written."""
    wanted = _parsed(payload.text)
    _may_write(request, wanted, min_role="viewer")
    return _preview_out(project_file.preview(wanted, prune=payload.prune))


@router.post("/files/apply")
def file_apply(request: HttpRequest, payload: FileIn) -> dict[str, Any]:
    """Create or update the project to be what the file says, all or nothing; answers what
    changed (the preview made just before writing)."""
    wanted = _parsed(payload.text)
    _may_write(request, wanted, min_role="deployer")
    preview = project_file.preview(wanted, prune=payload.prune)
    project = project_file.apply(project_file=wanted, user=user_of(request), prune=payload.prune)
    note_change(request, f"project file applied to {project.name}")
    return {**_preview_out(preview), "version": project.version}
