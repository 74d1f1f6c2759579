"""The catalog page: every agent the user may see, searchable, filterable and sortable.

Which agents, seen how, in which order, is ``agents.catalog`` (shared with the download zip and
the API); this module is the page: its form, its pages of 25 and what each row shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_GET

from .. import permissions, toolinfo
from ..catalog import listing, page_of_agents
from ..distribution.collections import editable_by
from ..forms.catalog import CatalogForm
from ..models import Agent, Tool
from .common import render_page

PAGE_SIZE = 25
DESCRIPTION_SHOWN = 300  # characters of each description in the list


@require_GET
@login_required
def catalog(request: HttpRequest) -> HttpResponse:
    user = request.user
    registry = Tool.registry()
    form = CatalogForm(
        request.GET,
        registry=registry,
        with_states=permissions.sees_any_drafts(user),
    )
    chosen = form.filters()
    # Sorted and counted on the agents' ids alone, then the page's 25 rows loaded in full: the
    # database never sorts wide rows it will not show.
    selected = listing(user, chosen)
    ids = selected.ordered.values_list("pk", flat=True)
    page = Pages(ids, counted=selected.counted).get_page(request.GET.get("page"))
    rows = catalog_rows(page_of_agents(user, list(page)), registry)
    context = {
        "title": "Agents",
        "form": form,
        "page": page,
        "rows": rows,
        "filtered": bool(chosen.keys() - {"sort"}),
        "can_author": permissions.can_author(user),
        # "Add these results to a collection": the collections this person may change.
        "collections": list(editable_by(user).only("slug", "title")) if rows else [],
    }
    return render_page(request, "portal/catalog.html", context)


class Pages(Paginator):
    """Pages of agent ids in their order, counted without the joins the order needs."""

    def __init__(self, ids: QuerySet[Agent], counted: QuerySet[Agent]) -> None:
        super().__init__(ids, PAGE_SIZE)
        self.counted = counted

    @cached_property
    def count(self) -> int:
        return self.counted.count()


# --- what each row shows ------------------------------------------------------------------------


@dataclass
class Row:
    """One agent as the catalog lists it for this user."""

    agent: Agent
    name: str
    description: str
    tools: list[Any]
    model: str
    color: str
    state: str
    state_label: str
    revisions: str
    changed: datetime
    lint_errors: int = 0  # of the revision shown (the latest, for those who see drafts)
    lint_warnings: int = 0

    def __post_init__(self) -> None:
        if len(self.description) > DESCRIPTION_SHOWN:
            self.description = self.description[: DESCRIPTION_SHOWN - 1].rstrip() + "…"
        local = timezone.localtime(self.changed)
        self.changed_iso = local.isoformat()
        self.changed_text = local.strftime("%Y-%m-%d %H:%M")


def catalog_rows(agents: list[Agent], registry: dict[str, str | None]) -> list[Row]:
    # The working copy's tools, for the rows that show it: one query, none when no row does.
    prefetch_related_objects([agent for agent in agents if agent.sees_drafts], "tool_entries")
    return [row(agent, registry) for agent in agents]


def row(agent: Agent, registry: dict[str, str | None]) -> Row:
    published = agent.published_revision
    if not agent.sees_drafts:
        return Row(
            agent=agent,
            name=published.name,
            description=published.description,
            tools=[toolinfo.explain(name, registry) for name in published.tools],
            model=published.model,
            color=published.color,
            state="published",
            state_label="Published",
            revisions=f"r{published.number}",
            changed=published.created_at,
            lint_errors=published.lint_errors,
            lint_warnings=published.lint_warnings,
        )
    latest = agent.latest_revision
    if published is not None and latest is not None and latest.pk != published.pk:
        revisions = f"published r{published.number} · draft r{latest.number}"
    elif published is not None:
        revisions = f"published r{published.number}"
    elif latest is not None:
        revisions = f"r{latest.number}, never published"
    else:
        revisions = "not saved as a file yet"
    return Row(
        agent=agent,
        name=agent.name,
        description=agent.description,
        tools=[toolinfo.explain(entry.name, registry) for entry in agent.tool_entries.all()],
        model=agent.model,
        color=agent.color,
        state=agent.status,
        state_label=agent.get_status_display(),
        revisions=revisions,
        changed=agent.updated_at,
        lint_errors=latest.lint_errors if latest else 0,
        lint_warnings=latest.lint_warnings if latest else 0,
    )
