from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from . import agentfile
from .models import Agent


def file_response(agent: Agent) -> HttpResponse:
    """The agent's file as a download named after the agent."""
    response = HttpResponse(agent.render().encode(), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        True, f"{agentfile.file_stem(agent.name)}.md"
    )
    return response


@require_GET
@login_required
def download(request: HttpRequest, name: str) -> HttpResponse:
    agent = get_object_or_404(Agent.objects.for_export(), name=name)
    return file_response(agent)
