"""The project file in the browser: its JSON Schema, a download, and import with a preview.

Import never writes on the first post: it shows what would change (or every problem of the
file at its line), and applies only when the same text is posted back with "apply".
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods

from dashboard.errors import ServiceError
from dashboard.projects import project_file
from dashboard.web.helpers import project_or_404, redirect_after_post
from provisioning.model import project_file as pf
from provisioning.model import project_file_text as pft

TEXT_LIMIT = pf.MAX_BYTES


@require_GET
@cache_control(max_age=3600, public=True)
def file_schema(request: HttpRequest) -> HttpResponse:
    """Public: it describes the format, nothing of any project."""
    return JsonResponse(pft.json_schema(), json_dumps_params={"indent": 2})


@login_required
@require_GET
def project_file_download(request: HttpRequest, name: str) -> HttpResponse:
    project, _role = project_or_404(request, name)
    url = request.build_absolute_uri(reverse("file_schema"))
    text = project_file.export_text(project, schema_url=url)
    response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
    if "inline" not in request.GET:
        response["Content-Disposition"] = f'attachment; filename="{pf.FILE_NAME}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def project_import(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"text": "", "prune": False}
    status = 200
    if request.method == "POST":
        text = _posted_text(request)
        prune = request.POST.get("prune") == "on"
        context.update(text=text, prune=prune)
        try:
            wanted = pf.parse(text)
        except pf.ProjectFileError as exc:
            context["problems"] = exc.problems
            status = 400
        else:
            if request.POST.get("action") == "apply":
                try:
                    project = project_file.apply(
                        project_file=wanted, user=request.user, prune=prune
                    )
                except ServiceError as exc:
                    context["refused"] = exc.message
                    status = 400
                else:
                    url = reverse("project_detail", args=[project.name])
                    return redirect_after_post(request, url)
            context["preview"] = project_file.preview(wanted, prune=prune)
    return render(request, "projects/import.html", context, status=status)


def _posted_text(request: HttpRequest) -> str:
    upload = request.FILES.get("file")
    if upload is not None:
        if upload.size and upload.size > TEXT_LIMIT:
            return "x" * (TEXT_LIMIT + 1)  # parse says it is too big, with the limit
        return upload.read(TEXT_LIMIT + 1).decode("utf-8", errors="replace")
    return request.POST.get("text", "")
