"""An agent's page: its prompt, its exact file, tools, settings, state, conversation, revisions."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .common import visible_agent


@require_GET
@login_required
def detail(request: HttpRequest, name: str) -> HttpResponse:
    # Placeholder until the agent page is built (issue 8).
    agent = visible_agent(request, name)
    return render(request, "portal/agent.html", {"title": agent.name, "agent": agent})
