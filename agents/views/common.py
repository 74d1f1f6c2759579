"""What the portal's pages share: finding the agent an address names (a 404 for one the user may
not see, so names do not leak) and rendering a page. The revisions each person may see are
``permissions.visible_revisions``.

Who sees what: people who may edit or review an agent (``permissions.can_see_drafts``) see all
its revisions and its whole trail. Everyone else who may see it (it is published) sees only the
revisions that were published at some point and the events that published them: submissions,
review comments and edits are about drafts, and review comments often quote them.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from .. import permissions
from ..models import Agent


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """A portal page (the template extends ``portal/base.html``)."""
    return render(request, template, context, status=status)


def message_page(
    request: HttpRequest, title: str, message: str, status: int, agent: Agent | None = None
) -> HttpResponse:
    return render_page(
        request, "agents/message.html", {"title": title, "message": message, "agent": agent}, status
    )


def visible_agent(request: HttpRequest, name: str) -> Agent:
    agent = Agent.objects.for_workflow().at_address(name).first()
    if agent is None:
        raise Http404("No agent by that name.")
    if not permissions.can_view(request.user, agent):
        raise Http404("No agent by that name.")
    return agent
