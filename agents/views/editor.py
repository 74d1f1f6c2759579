"""The editor: create, edit and clone agents, with a live preview of the exact file."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .. import permissions
from .common import visible_agent


@login_required
def new(request: HttpRequest) -> HttpResponse:
    # Placeholder until the editor is built (issue 8).
    if not permissions.can_author(request.user):
        raise PermissionDenied
    return render(request, "portal/editor.html", {"title": "New agent"})


@login_required
def edit(request: HttpRequest, name: str) -> HttpResponse:
    agent = visible_agent(request, name)
    if not permissions.can_edit(request.user, agent):
        raise PermissionDenied
    return render(request, "portal/editor.html", {"title": f"Edit {agent.name}", "agent": agent})


@login_required
def clone(request: HttpRequest, name: str) -> HttpResponse:
    agent = visible_agent(request, name)
    if not permissions.can_author(request.user):
        raise PermissionDenied
    return render(request, "portal/editor.html", {"title": f"Copy of {agent.name}"})
