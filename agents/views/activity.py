"""The portal-wide audit trail, of the agents the user may see."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from .. import permissions
from ..forms.activity import ActivityFilterForm
from ..models import Event
from .common import render_page

ACTIVITY_PAGE_SIZE = 50

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR_RE = re.compile(r"^(\d{1,20})-(\d{1,20})$")


@dataclass
class TrailPage:
    """One page of the trail, found by its place (keyset pagination): the events just older
    (``?before=``) or just newer (``?after=``) than an event, read through the index on the
    time however far back the page is. No page numbers: counting every matching event and
    skipping all those before the page (OFFSET) cost more the further back one went.

    ``older`` and ``newer`` are the cursors of the neighbouring pages, if there are any.
    """

    object_list: list[Event] = field(default_factory=list)
    older: str = ""
    newer: str = ""
    bad_cursor: bool = False

    def __iter__(self) -> Iterator[Event]:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def has_other_pages(self) -> bool:
        return bool(self.older or self.newer)


def cursor(event: Event) -> str:
    """An event's place in the trail: its time (microseconds since 1970) and its id."""
    return f"{(event.created_at - EPOCH) // timedelta(microseconds=1)}-{event.pk}"


def parse_cursor(value: str) -> tuple[datetime, int] | None:
    match = _CURSOR_RE.match(value)
    if not match:
        return None
    try:
        moment = EPOCH + timedelta(microseconds=int(match.group(1)))
    except OverflowError:
        return None
    return moment, int(match.group(2))


def trail_page(
    events: QuerySet[Event], before: str = "", after: str = "", size: int = ACTIVITY_PAGE_SIZE
) -> TrailPage:
    """The page of ``events`` (newest first) older than ``before``, newer than ``after``, or
    the newest; one query (one row more than the page, to know whether another follows)."""
    page = TrailPage()
    place = parse_cursor(after or before) if (after or before) else None
    if (after or before) and place is None:
        page.bad_cursor = True
    if place is not None and after:
        moment, pk = place
        rows = list(
            events.filter(created_at__gte=moment)
            .filter(Q(created_at__gt=moment) | Q(pk__gt=pk))
            .order_by("created_at", "pk")[: size + 1]
        )
        page.object_list = rows[:size][::-1]
        page.newer = cursor(page.object_list[0]) if len(rows) > size else ""
        page.older = cursor(page.object_list[-1]) if page.object_list else ""
        return page
    if place is not None:
        moment, pk = place
        # created_at <= moment first: the range the index on the time reads.
        events = events.filter(created_at__lte=moment).filter(
            Q(created_at__lt=moment) | Q(pk__lt=pk)
        )
    rows = list(events.order_by("-created_at", "-pk")[: size + 1])
    page.object_list = rows[:size]
    page.older = cursor(page.object_list[-1]) if len(rows) > size else ""
    page.newer = cursor(page.object_list[0]) if place is not None and page.object_list else ""
    return page


@require_GET
@login_required
def activity(request: HttpRequest) -> HttpResponse:
    """The portal-wide audit trail, of the agents the user may see, newest first."""
    form = ActivityFilterForm(request.GET)
    events = form.apply(permissions.visible_events(request.user, Event.objects.all()).for_trail())
    page = trail_page(events, request.GET.get("before", ""), request.GET.get("after", ""))
    context = {"title": "Activity", "form": form, "page": page}
    return render_page(request, "agents/activity.html", context)
