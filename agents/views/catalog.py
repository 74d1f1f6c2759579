"""The catalog: every agent the user may see, searchable and filterable."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
@login_required
def catalog(request: HttpRequest) -> HttpResponse:
    # Placeholder until the catalog is built (issue 8).
    return render(request, "portal/catalog.html", {"title": "Agents"})
