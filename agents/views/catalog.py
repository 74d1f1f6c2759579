"""The catalog: every agent the user may see, searchable, filterable and sortable.

Each agent is shown as the user may see it. People who may see its drafts
(``permissions.can_see_drafts``) see the working copy and its state; everyone else sees the
published revision (its name, description, tools, model and colour, kept on ``Revision``) and
never a field of an unreviewed draft. Search and filters look at the same thing: the latest
revision for the first, the published revision for the others (``shown_revision_in``).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.postgres.aggregates import StringAgg
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Expression,
    F,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
    prefetch_related_objects,
)
from django.db.models.expressions import Col, RawSQL
from django.db.models.functions import Cast
from django.db.models.lookups import Contains
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_GET

from .. import agentfile, permissions, toolinfo
from ..distribution.collections import editable_by
from ..forms.catalog import ANY_MCP_TOOL, OTHER_MODEL, CatalogForm
from ..models import Agent, Revision, Tool
from .common import render_page

PAGE_SIZE = 25
DESCRIPTION_SHOWN = 300  # characters of each description in the list
# PostgreSQL's text search configuration: the documents of RevisionSearch are built with it.
SEARCH_CONFIG = "english"


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
    revisions = matching_revisions(chosen)
    agents = filtered(visible_agents(user, chosen.get("state")), user, chosen)
    ids = ordered(agents, user, chosen.get("sort", "name"), revisions).values_list("pk", flat=True)
    counted = agents if revisions is None else agents.filter(shown_revision_in(user, revisions))
    page = Pages(ids, counted=counted).get_page(request.GET.get("page"))
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


# --- which agents, seen how ---------------------------------------------------------------------


def page_of_agents(user: Any, ids: list[int]) -> list[Agent]:
    """The agents ``ids`` names, in that order, with what their rows show for this user."""
    related = ["owner", "published_revision"]
    if permissions.sees_any_drafts(user):
        related.append("latest_revision")
    shown = ["name", "slug", "description", "model", "color", "status", "created_at"]
    shown += ["updated_at", "owner__username", "published_revision__number"]
    shown += [f"published_revision__{field}" for field in ("name", "description", "model")]
    shown += [f"published_revision__{field}" for field in ("color", "tools", "created_at")]
    if "latest_revision" in related:
        shown.append("latest_revision__number")
    agents = (
        Agent.objects.filter(pk__in=ids)
        .select_related(*related)
        # only what rows show: the other fields hold YAML that would be parsed for nothing
        .only(*shown)
        .annotate(sees_drafts=per_viewer(user, Value(True), Value(False)))
    )
    by_id = {agent.pk: agent for agent in agents}
    return [by_id[pk] for pk in ids if pk in by_id]  # one deleted meanwhile is left out


def visible_agents(user: Any, state: str | None) -> QuerySet[Agent]:
    """The agents the user may see; archived ones only when that state is asked for."""
    agents = Agent.objects.all()
    allowed = permissions.view_filter(user)
    if allowed is not None:
        agents = agents.filter(allowed)
    return agents if state == Agent.Status.ARCHIVED else agents.listed()


def per_viewer(user: Any, drafts: Any, published: Any) -> Any:
    """``drafts`` for the agents whose drafts the user may see, ``published`` for the others:
    two filters (Q) or two expressions, combined into one that the database evaluates per row."""
    if not permissions.sees_any_drafts(user):
        return published
    sees = permissions.drafts_filter(user)
    if sees is None:
        return drafts
    if isinstance(drafts, Q):
        return (sees & drafts) | (~sees & published)
    output = BooleanField() if isinstance(drafts, Value) else None
    return Case(When(sees, then=drafts), default=published, output_field=output)


def filtered(agents: QuerySet[Agent], user: Any, chosen: dict[str, str]) -> QuerySet[Agent]:
    """The agents in the state and of the owner chosen (what is asked of their revisions is
    ``matching_revisions``)."""
    if chosen.get("state"):
        state = chosen["state"]
        published = Q() if state == Agent.Status.APPROVED else Q(pk__in=[])
        agents = agents.filter(per_viewer(user, Q(status=state), published))
    if chosen.get("owner"):
        agents = agents.filter(owner__username__iexact=chosen["owner"])
    return agents


def revision_filter(chosen: dict[str, str]) -> Q | None:
    """What the search and the filters ask of the revision shown (None: nothing)."""
    conditions = []
    if chosen.get("q"):
        conditions.append(search(chosen["q"]))
    if chosen.get("tool"):
        conditions.append(uses_tool(chosen["tool"]))
    if chosen.get("model"):
        conditions.append(uses_model(chosen["model"]))
    if chosen.get("color"):
        conditions.append(Q(color=chosen["color"]))
    return reduce(operator.and_, conditions) if conditions else None


# The revisions the search and the filters match: on PostgreSQL their ids as one string, read
# once; elsewhere a subquery; None when nothing is asked of revisions.
Revisions = str | QuerySet[Revision] | None


def matching_revisions(chosen: dict[str, str]) -> Revisions:
    """The revisions that meet the search and the filters, whoever looks at them.

    On PostgreSQL they are read once, and their ids sent with the queries that count and list
    the agents: the planner then knows how many there are (it cannot tell how many revisions a
    word or a tool matches, and guessed few: thousands of index probes). As one string:
    thousands of ids never pass through Python one by one.
    """
    condition = revision_filter(chosen)
    if condition is None:
        return None
    matching = Revision.objects.filter(condition).order_by()
    if connection.vendor == "postgresql":
        return matching.aggregate(ids=StringAgg(Cast("pk", TextField()), ","))["ids"] or ""
    return matching.values("pk")


def shown_revision_in(user: Any, revisions: Revisions) -> Q:
    """Agents whose shown revision (latest or published, ``per_viewer``) is one of these."""
    if isinstance(revisions, str):
        return per_viewer(
            user,
            Q(InArray("latest_revision_id", revisions)),
            Q(InArray("published_revision_id", revisions)),
        )
    return per_viewer(user, Q(latest_revision__in=revisions), Q(published_revision__in=revisions))


class JoinedPk(Expression):
    """The primary key of the table a relation joins, read from that table (``relation__pk``
    is read from the foreign key instead, which keeps the database from using the joined
    table's indexes with it)."""

    def __init__(self, relation: str) -> None:
        super().__init__()
        self.relation = relation

    def resolve_expression(self, query: Any = None, *args: Any, **kwargs: Any) -> Col:
        joined = query.setup_joins([self.relation], query.get_meta(), query.get_initial_alias())
        return Col(joined.joins[-1], joined.targets[0])


class InArray(Expression):
    """PostgreSQL: the column is one of the ids, given as one comma-separated string (turned
    into an array while the query is planned: the planner sees how many there are)."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, column: str | Expression, ids: str) -> None:
        super().__init__()
        self.column: Any = F(column) if isinstance(column, str) else column
        self.ids = ids

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, expressions: list[Any]) -> None:
        (self.column,) = expressions

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.column)
        return f"{sql} = ANY(string_to_array(%s, ',')::bigint[])", [*params, self.ids]


def search(query: str) -> Q:
    """Revisions whose name, description or prompt matches ``query``.

    PostgreSQL: full-text search (web search syntax: "a phrase", -excluded, or) in the stored
    documents of ``RevisionSearch``, through their GIN index (the function of migration 0011,
    whatever the word). Elsewhere: every word, as typed, somewhere in the three.
    """
    if connection.vendor == "postgresql":
        return Q(
            pk__in=RawSQL(
                "SELECT agents_revisions_matching(websearch_to_tsquery(%s::regconfig, %s))",
                [SEARCH_CONFIG, query],
            )
        )
    condition = Q()
    for word in query.split():
        condition &= (
            Q(name__icontains=word) | Q(description__icontains=word) | Q(text__icontains=word)
        )
    return condition


def uses_tool(tool: str) -> Q:
    """Revisions whose tools line lists ``tool`` (also with arguments: ``Bash(git:*)``), or
    any MCP tool.

    Matched in the JSON text of the list, where each name is a quoted string: the same SQL on
    every database, and cheap for the one short column it reads.
    """
    listed = Cast(F("tools"), TextField())
    if tool == ANY_MCP_TOOL:
        return Q(Contains(listed, f'"{ANY_MCP_TOOL}'))
    return Q(Contains(listed, f'"{tool}"')) | Q(Contains(listed, f'"{tool}('))


def uses_model(model: str) -> Q:
    if model == OTHER_MODEL:
        return ~Q(model__in=[*agentfile.MODEL_ALIASES, ""])
    if model == "inherit":  # a file without a model inherits the conversation's
        return Q(model__in=["inherit", ""])
    return Q(model=model)


def ordered(
    agents: QuerySet[Agent], user: Any, sort: str, revisions: Revisions = None
) -> QuerySet[Agent]:
    """The agents whose shown revision is one of ``revisions`` (if given), sorted by the name
    or the last change the user sees, or newest first."""
    if sort == "name" and not permissions.sees_any_drafts(user):
        # Every agent such a user sees is published: joined as such (not as an outer join), and
        # with the revisions' condition on the joined revision itself, the database walks the
        # published names' index and stops at the end of the page.
        agents = agents.filter(published_revision__name__isnull=False)
        if isinstance(revisions, str):
            agents = agents.filter(InArray(JoinedPk("published_revision"), revisions))
            revisions = None
    if revisions is not None:
        agents = agents.filter(shown_revision_in(user, revisions))
    if sort == "changed":
        changed = per_viewer(user, F("updated_at"), F("published_revision__created_at"))
        return agents.order_by(changed.desc(), "-pk")
    if sort == "newest":
        return agents.order_by("-created_at", "-pk")
    return agents.order_by(per_viewer(user, F("name"), F("published_revision__name")), "pk")


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
    )
