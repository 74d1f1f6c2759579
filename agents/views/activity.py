"""The portal-wide audit trail, of the agents the user may see."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from .. import permissions
from ..forms.activity import ActivityFilterForm
from ..models import Event
from .common import render_page

ACTIVITY_PAGE_SIZE = 50


@require_GET
@login_required
def activity(request: HttpRequest) -> HttpResponse:
    """The portal-wide audit trail, of the agents the user may see, newest first."""
    form = ActivityFilterForm(request.GET)
    events = form.apply(permissions.visible_events(request.user, Event.objects.all()).for_trail())
    page = Paginator(events, ACTIVITY_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"title": "Activity", "form": form, "page": page}
    return render_page(request, "agents/activity.html", context)
