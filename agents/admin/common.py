"""What the admin's pages share: links to the portal, diff summaries, who may open the agents'
pages, and the read-only admin of records nobody edits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .. import permissions


def portal_url(page: str, query: str = "", **kwargs: Any) -> str:
    """The URL of a portal page (``agents:<page>``) about one agent or revision."""
    return reverse(f"agents:{page}", kwargs=kwargs) + query


def link_list(links: Iterable[tuple[str, str]]) -> SafeString:
    """Links (url, label) joined by a middle dot."""
    return format_html_join(" · ", '<a href="{}">{}</a>', links)


def changed_lines(diff: str) -> int:
    """Lines added or removed in a unified diff (its two header lines not counted)."""
    return sum(1 for line in diff.splitlines()[2:] if line.startswith(("+", "-")))


def diff_details(diff: str, summary: str) -> SafeString:
    return format_html(
        '<details class="agent-diff"><summary>{}</summary><pre class="agent-diff">{}</pre>'
        "</details>",
        summary,
        diff,
    )


def may_open_agents(user: Any) -> bool:
    """May use the agents' admin pages at all (which ones: per agent, ``can_see_drafts``)."""
    return permissions.can_author(user) or permissions.can_review(user)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record nobody adds, changes or deletes from the admin, superusers included."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_open_agents(request.user)
