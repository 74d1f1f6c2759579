"""The portal's import page: upload agent files, see what each would do, then confirm."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .. import permissions


@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    # Placeholder until the portal's import page is built (issue 8).
    if not permissions.can_author(request.user):
        raise PermissionDenied
    return render(request, "portal/import.html", {"title": "Import agent files"})
