"""The catalog's query logic: which agents a user sees, searched, filtered and sorted.

One implementation for the catalog page, the download zip (``distribution.files``) and the
API. Each agent is seen as the user may see it: people who may see its drafts
(``permissions.can_see_drafts``) see the working copy and its state; everyone else sees the
published revision (its name, description, tools, model and colour, kept on ``Revision``) and
never a field of an unreviewed draft. Search and filters look at the same thing: the latest
revision for the first, the published revision for the others (``shown_revision_in``).

``chosen`` is what a person asked for, as cleaned by ``forms.catalog.CatalogForm``: ``q``,
``state``, ``tool``, ``model``, ``color``, ``lint``, ``owner`` and ``sort``.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from functools import reduce
from typing import Any

from django.contrib.postgres.aggregates import StringAgg
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
)
from django.db.models.expressions import Col, RawSQL
from django.db.models.functions import Cast
from django.db.models.lookups import Contains

from . import agentfile, permissions
from .models import Agent, Revision

ANY_MCP_TOOL = "mcp__"  # not a tool name itself: MCP tools are mcp__<server>...
OTHER_MODEL = "id"  # any model that is not one of the aliases: a full model id
SORTS = {
    "name": "Name",
    "changed": "Last change",
    "newest": "Newest",
}
# The lint filter: what lint said about the revision shown (stored with it when recorded).
LINT_WARNINGS, LINT_ERRORS = "warnings", "errors"
LINT_FILTERS = {
    LINT_WARNINGS: Q(lint_warnings__gt=0) | Q(lint_errors__gt=0),
    LINT_ERRORS: Q(lint_errors__gt=0),
}
# PostgreSQL's text search configuration: the documents of RevisionSearch are built with it.
SEARCH_CONFIG = "english"


# --- which agents, seen how ---------------------------------------------------------------------


def page_of_agents(user: Any, ids: list[int]) -> list[Agent]:
    """The agents ``ids`` names, in that order, with what their rows show for this user."""
    related = ["owner", "published_revision"]
    if permissions.sees_any_drafts(user):
        related.append("latest_revision")
    shown = ["name", "slug", "path", "description", "model", "color", "status", "created_at"]
    shown += ["updated_at", "owner__username", "published_revision__number"]
    shown += [f"published_revision__{field}" for field in ("name", "description", "model")]
    shown += [f"published_revision__{field}" for field in ("color", "tools", "created_at")]
    shown += ["published_revision__lint_errors", "published_revision__lint_warnings"]
    if "latest_revision" in related:
        shown += ["latest_revision__number", "latest_revision__lint_errors"]
        shown.append("latest_revision__lint_warnings")
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
    if chosen.get("lint") in LINT_FILTERS:
        conditions.append(LINT_FILTERS[chosen["lint"]])
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
    key, descending = sort_key(user, sort)
    if descending:
        return agents.order_by(key.desc(), "-pk")
    return agents.order_by(key, "pk")


def sort_key(user: Any, sort: str) -> tuple[Any, bool]:
    """What agents are sorted by for this user (then by id), and whether newest first: the
    name or the last change the user sees, or the creation time."""
    if sort == "changed":
        return per_viewer(user, F("updated_at"), F("published_revision__created_at")), True
    if sort == "newest":
        return F("created_at"), True
    return per_viewer(user, F("name"), F("published_revision__name")), False


@dataclass(frozen=True)
class Listing:
    """The agents a user's search, filters and sort select: ``ordered`` (their order, to page
    through) and ``counted`` (the same agents without the joins the order needs, to count)."""

    ordered: QuerySet[Agent]
    counted: QuerySet[Agent]


def listing(user: Any, chosen: dict[str, str]) -> Listing:
    """What the catalog lists for ``user`` given ``chosen`` (the page and the API both ask)."""
    revisions = matching_revisions(chosen)
    agents = filtered(visible_agents(user, chosen.get("state")), user, chosen)
    ordering = ordered(agents, user, chosen.get("sort", "name"), revisions)
    counted = agents if revisions is None else agents.filter(shown_revision_in(user, revisions))
    return Listing(ordering, counted)


def with_published_matching(agents: QuerySet[Agent], chosen: dict[str, str]) -> QuerySet[Agent]:
    """``agents`` whose published revision meets the catalog's search and revision filters
    (``q``, ``tool``, ``model``, ``color``) and the owner filter: what people who see no
    drafts find in the catalog, used by the download zip."""
    condition = revision_filter(chosen)
    if condition is not None:
        agents = agents.filter(published_revision__in=Revision.objects.filter(condition))
    if chosen.get("owner"):
        agents = agents.filter(owner__username__iexact=chosen["owner"])
    return agents
