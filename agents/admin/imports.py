"""The admin's import page: the portal's import flow (``views.imports.import_flow``) in the
admin's look, all or nothing."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from ..models import Agent
from ..views.imports import import_flow


def import_page(request: HttpRequest) -> HttpResponse:
    """Upload agent files, see what each would do, then confirm: all of the batch, or nothing."""
    return import_flow(
        request,
        "admin/agents/agent/import.html",
        {**admin.site.each_context(request), "title": "Import agent files", "opts": Agent._meta},
        done_url=reverse("admin:agents_agent_changelist"),
        offer_skip=False,
    )
