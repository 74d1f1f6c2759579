"""Files as downloads: the published file, a draft, one revision."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from .. import agentfile, filebridge, permissions
from ..models import Agent
from ..tokens import accepts_token
from .common import visible_agent, visible_revisions


def file_response(name: str, text: str) -> HttpResponse:
    """An agent file as a download named after the agent."""
    response = HttpResponse(text.encode(), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        True, f"{agentfile.file_stem(name)}.md"
    )
    return response


def private(response: HttpResponse) -> HttpResponse:
    """Kept out of every cache, shared or not: drafts and old revisions are for some people
    only, and a draft changes without its address changing."""
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_GET
@accepts_token
@login_required
def download(request: HttpRequest, name: str) -> HttpResponse:
    """The published file: what everyone installs, even while a newer draft is under way."""
    agent = Agent.objects.for_download().published_as(name).first()
    if agent is None or not agent.is_downloadable:
        raise Http404("No agent is published under this name.")
    return file_response(name, agent.published_revision.text)


@require_GET
@accepts_token
@login_required
def download_draft(request: HttpRequest, name: str) -> HttpResponse:
    """The current working file, for the people who may edit or review it."""
    agent = Agent.objects.for_export().prefetch_related("maintainers").at_address(name).first()
    if agent is None or not permissions.can_see_drafts(request.user, agent):
        raise Http404("No such agent.")
    return private(file_response(agent.name, filebridge.render(agent)))


@require_GET
@accepts_token
@login_required
def revision_file(request: HttpRequest, name: str, number: int) -> HttpResponse:
    """One revision's exact file, as a download."""
    agent = visible_agent(request, name)
    revision = visible_revisions(agent, request.user).filter(number=number).first()
    if revision is None:
        raise Http404(f"{agent.name} has no revision {number} that you can see.")
    return private(file_response(agent.name, revision.text))
