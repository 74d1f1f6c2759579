"""What every portal page shows around its content: the main navigation for the signed-in user."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from . import permissions
from .models import Agent


def portal(request: HttpRequest) -> dict[str, Any]:
    # Lazy: built only by the pages that show it (not the admin's), at most once a request.
    return {"portal_nav": SimpleLazyObject(lambda: navigation(request))}


def navigation(request: HttpRequest) -> list[dict[str, Any]]:
    user = request.user
    if not permissions.is_signed_in(user):
        return []
    current = getattr(request.resolver_match, "view_name", "")
    items = [("home", "Home", None), ("agents:list", "Agents", None)]
    items.append(("collections", "Collections", None))
    if permissions.can_author(user):
        items.append(("agents:new", "New agent", None))
        items.append(("import", "Import", None))
    if permissions.can_review(user):
        waiting = Agent.objects.filter(status=Agent.Status.IN_REVIEW).count()
        items.append(("agents:queue", "Review", waiting))
    items.append(("agents:activity", "Activity", None))
    nav = [
        {"url": reverse(name), "label": label, "count": count, "current": name == current}
        for name, label, count in items
    ]
    if user.is_staff:
        nav.append({"url": reverse("admin:index"), "label": "Admin", "count": None})
    return nav
