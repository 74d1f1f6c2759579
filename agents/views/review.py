"""Review in the portal: the queue of agents waiting for a decision, and one agent's review page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .. import permissions
from .common import visible_agent


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    # Placeholder until the review pages are built (issue 8).
    if not permissions.can_review(request.user):
        raise PermissionDenied
    return render(request, "portal/queue.html", {"title": "Waiting for review"})


@login_required
def review(request: HttpRequest, name: str) -> HttpResponse:
    if not permissions.can_review(request.user):
        raise PermissionDenied
    agent = visible_agent(request, name)
    return render(request, "portal/review.html", {"title": f"Review {agent.name}", "agent": agent})
