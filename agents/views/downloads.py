"""Files as downloads: the published file, a draft, one revision, and the zip of published agents.

Every download carries a strong ``ETag`` (the sha256 of its bytes; the zip's, see
``distribution.files.zip_validators``) and ``Last-Modified``; a request whose ``If-None-Match``
matches gets ``304 Not Modified`` without the file being sent (or the zip built). What only some
people may see (drafts, revisions other than the published one) is never stored by any cache.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.utils.http import content_disposition_header, quote_etag
from django.views.decorators.http import require_GET

from .. import converters, filebridge, permissions
from ..distribution import files, formats
from ..distribution.responses import (
    conditional,
    file_response,
    private,
    revalidated,
    revision_response,
)
from ..models import Agent
from ..tokens import accepts_token
from .common import message_page, visible_agent


@require_GET
@accepts_token
@login_required
def download(request: HttpRequest, name: str) -> HttpResponseBase:
    """The published file: what everyone installs, even while a newer draft is under way.

    ``?revision=N`` gives revision N instead, to those who may see it; ``?format=copilot`` (or
    another of ``formats.FORMATS``) the published file written for that assistant.
    """
    if "revision" in request.GET:
        return _revision(request, name, request.GET["revision"])
    format_id = request.GET.get("format", "claude")
    if format_id not in formats.FORMATS:
        return unknown_format(request, format_id)
    published = files.published_file(name)
    if published is None:
        raise Http404("No agent is published under this name.")
    if format_id == "claude":
        response = file_response(published.path, published.text, published.sha256)
    else:
        [out] = files.out_files([(name, published.path, published.text)], format_id)
        response = file_response(out.path, out.data.decode())
    return conditional(request, revalidated(response), published.published_at)


def unknown_format(request: HttpRequest, format_id: str) -> HttpResponse:
    return message_page(
        request,
        "No such format",
        f"There is no format {format_id!r}: ?format= takes one of "
        + ", ".join(f"{key} ({fmt.label})" for key, fmt in formats.FORMATS.items())
        + ".",
        400,
    )


def _revision(request: HttpRequest, name: str, value: str) -> HttpResponseBase:
    number = converters.revision_number(value)
    if number is None:
        return message_page(
            request, "No such revision", "?revision= takes a revision number: 1, 2, 3...", 400
        )
    agent = (
        Agent.objects.for_workflow().published_as(name).first()
        or Agent.objects.for_workflow().at_address(name).first()
    )
    if agent is None or not permissions.can_view(request.user, agent):
        raise Http404("No agent by that name.")
    return revision_response(request, agent, number)


@require_GET
@accepts_token
@login_required
def download_draft(request: HttpRequest, name: str) -> HttpResponseBase:
    """The current working file, for the people who may edit or review it."""
    agent = Agent.objects.for_export().prefetch_related("maintainers").at_address(name).first()
    if agent is None or not permissions.can_see_drafts(request.user, agent):
        raise Http404("No such agent.")
    response = private(file_response(agent.path, filebridge.render(agent)))
    # The working copy changes through rows updated_at does not always follow: ETag only.
    return conditional(request, response, agent.updated_at, exact_time=False)


@require_GET
@accepts_token
@login_required
def revision_file(request: HttpRequest, name: str, number: int) -> HttpResponseBase:
    """One revision's exact file, as a download."""
    return revision_response(request, visible_agent(request, name), number)


@require_GET
@accepts_token
@login_required
def download_zip(request: HttpRequest) -> HttpResponseBase:
    """Every published agent the catalog's filters select (``?q=``, ``?tool=``, ``?model=``,
    ``?owner=``) at ``.claude/agents/<path>``: unzip it at a repository's root. ``?format=``
    writes them for another assistant, in its folder (``.github/agents/``, ...).

    Streamed (the zip is never whole in memory) and deterministic: the same agents give the
    same bytes. A client that has the current zip gets a 304 before anything is built.
    """
    format_id = request.GET.get("format", "claude")
    if format_id not in formats.FORMATS:
        return unknown_format(request, format_id)
    agents = files.published_agents(request.GET, request.user)
    validators = files.zip_validators(agents, format_id)
    response = StreamingHttpResponse(
        files.zip_stream(agents, format_id), content_type="application/zip"
    )
    archive = "agents.zip" if format_id == "claude" else f"agents-{format_id}.zip"
    response["Content-Disposition"] = content_disposition_header(True, archive)
    response["ETag"] = quote_etag(validators.etag)
    # Removing an agent from the set changes the ETag, not the latest publishing time.
    return conditional(request, revalidated(response), validators.last_modified, exact_time=False)
