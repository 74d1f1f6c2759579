"""What the admin's pages share: links to the portal, diff summaries, who may open the agents'
pages, and the read-only admin of records nobody edits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

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


class QuickRowsChangeList(ChangeList):
    """Django's list page, with each row's link to its object carrying the list's filters back
    as Django's would, without the template tag resolving every row's URL to learn whether it is
    the list's own (50 resolves through every URL pattern when the list is searched or filtered:
    a fifth of the page's time)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "_changelist_filters=q%3Dpython": the row links carry it (url_for_result); the
        # template tag, given none, adds nothing and resolves nothing.
        self.row_filters, self.preserved_filters = self.preserved_filters, ""

    def url_for_result(self, result: Any) -> str:
        url = super().url_for_result(result)
        return f"{url}?{self.row_filters}" if self.row_filters else url


class QuickRowsAdmin(admin.ModelAdmin):
    """A list whose rows cost only their columns: links built as above, and the action
    checkbox written as the HTML Django's widget renders (the widget goes through the form
    renderer's template engine once a row: a third of the review queue's time)."""

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return QuickRowsChangeList

    def action_checkbox(self, obj: Any) -> str:
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(gettext("Select this object for an action - {}"), str(obj)),
        )


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
