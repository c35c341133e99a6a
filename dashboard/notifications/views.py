"""The Notifications page (owners): channels with their delivery logs, a form for a new one,
and per channel "send test" and "delete". A webhook's signing secret is shown in the answer
that made the channel, and nowhere else."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.errors import ServiceError
from dashboard.notifications import selectors, services
from dashboard.notifications.forms import ChannelForm
from dashboard.notifications.models import Channel
from dashboard.projects.models import Project
from dashboard.web.helpers import (
    add_service_error,
    project_or_404,
    redirect_after_post,
    render_page,
)


def _page_url(project: Project) -> str:
    return reverse("notification_list", args=[project.name])


@login_required
@require_http_methods(["GET", "POST"])
def notification_list(request: HttpRequest, name: str) -> HttpResponse:
    """GET: channels and their logs. POST: a new channel."""
    project, _role = project_or_404(request, name, min_role="owner")
    form = ChannelForm(request.POST or None)
    made = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            made = services.channel_create(
                project=project,
                user=request.user,
                name=data["name"],
                kind=data["kind"],
                events=list(data["events"]),
                url=data["url"],
                addresses=services.parse_addresses(data["addresses"]),
            )
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            if made.secret is None:
                messages.success(request, f"Channel {made.channel.name} added.")
                return redirect_after_post(request, _page_url(project))
            form = ChannelForm()  # the secret is on this answer only: no redirect
    context = _context(project, form, made)
    status = 400 if form.errors else 200
    return render_page(request, "notifications/list.html", context, "channels", status=status)


def _context(project: Project, form: ChannelForm, made: Any) -> dict[str, Any]:
    channels = selectors.channels_of_project(project=project)
    return {
        "project": project,
        "form": form,
        "made": made,
        "channels": [(c, selectors.delivery_log(channel=c)) for c in channels],
    }


def _channel(request: HttpRequest, name: str, channel_id: int) -> Channel:
    project, _role = project_or_404(request, name, min_role="owner")
    return get_object_or_404(
        Channel.objects.select_related("project"), project=project, pk=channel_id
    )


@login_required
@require_POST
def notification_test(request: HttpRequest, name: str, channel_id: int) -> HttpResponse:
    channel = _channel(request, name, channel_id)
    services.channel_send_test(channel=channel, user=request.user)
    messages.success(request, f"Test sent to {channel.name}: its log below shows how it went.")
    return redirect_after_post(request, _page_url(channel.project) + f"#channel-{channel.pk}")


@login_required
@require_POST
def notification_delete(request: HttpRequest, name: str, channel_id: int) -> HttpResponse:
    channel = _channel(request, name, channel_id)
    services.channel_delete(channel=channel, user=request.user)
    messages.success(request, f"Channel {channel.name} deleted.")
    return redirect_after_post(request, _page_url(channel.project))
