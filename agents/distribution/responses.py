"""An agent's file as an HTTP answer: named as its file, with a strong ``ETag`` (the sha256 of its
bytes) and ``Last-Modified``, answered with ``304 Not Modified`` when the client has it already,
and kept out of shared caches. The pages' downloads and the API's ``/file`` answer with these.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import content_disposition_header, http_date, quote_etag

from .. import permissions
from ..models import Agent, Revision


def file_response(path: str, text: str, sha256: str | None = None) -> HttpResponse:
    """An agent file as a download, named as the file at the agent's path is named."""
    data = text.encode()
    response = HttpResponse(data, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, path.rsplit("/", 1)[-1])
    response["ETag"] = quote_etag(sha256 or hashlib.sha256(data).hexdigest())
    return response


def private(response: HttpResponseBase) -> HttpResponseBase:
    """Kept out of every cache, shared or not: drafts and old revisions are for some people
    only, and a draft changes without its address changing."""
    patch_cache_control(response, private=True, no_store=True)
    return response


def revalidated(response: HttpResponseBase) -> HttpResponseBase:
    """Published content: only the person's own client keeps it (the portal needs a sign-in),
    and asks again each time (the ETag makes asking cheap)."""
    patch_cache_control(response, private=True, no_cache=True)
    return response


def conditional(
    request: HttpRequest,
    response: HttpResponseBase,
    last_modified: datetime | None,
    *,
    exact_time: bool = True,
) -> HttpResponseBase:
    """``response``, or ``304 Not Modified`` (with its validators and Cache-Control) when the
    request's ``If-None-Match`` (or ``If-Modified-Since``) says the client has it already.

    ``exact_time``: ``last_modified`` changes whenever the content does, so If-Modified-Since
    may be answered by it; otherwise only the ETag is trusted.
    """
    timestamp = int(last_modified.timestamp()) if last_modified else None
    if timestamp is not None:
        response["Last-Modified"] = http_date(timestamp)
    return get_conditional_response(
        request,
        etag=response["ETag"],
        last_modified=timestamp if exact_time else None,
        response=response,
    )


def revision_response(request: HttpRequest, agent: Agent, number: int) -> HttpResponseBase:
    """Revision ``number`` of the agent, if the user may see it; kept out of caches, as every
    revision is (one may be a draft, and who may see which changes with the agent's state)."""
    revision: Revision | None = (
        permissions.visible_revisions(agent, request.user).filter(number=number).first()
    )
    if revision is None:
        raise Http404(f"{agent.name} has no revision {number} that you can see.")
    response = private(file_response(agent.path, revision.text, revision.sha256))
    # A revision never changes once written: its time is exact.
    return conditional(request, response, revision.created_at)
