"""The home page: what each person has to do next, and what was published lately.

Authors see their agents (owned or maintained) by state, with the reviewer's last comment next
to each one sent back; reviewers see what waits for review, oldest first; everyone sees the
agents published lately, as published (their published revision, never a newer draft).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Case, Count, F, OuterRef, Q, QuerySet, Subquery, When, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from .. import permissions
from ..models import PUBLISHING_ACTIONS, Agent, Event
from .common import render_page

RECENT = 8
WAITING_SHOWN = 10
MINE_SHOWN = 10  # in each state
# The order an author's agents are grouped in: what needs them first.
STATE_ORDER = (
    Agent.Status.CHANGES_REQUESTED,
    Agent.Status.DRAFT,
    Agent.Status.IN_REVIEW,
    Agent.Status.APPROVED,
    Agent.Status.ARCHIVED,
)


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context: dict[str, Any] = {
        "title": "Home",
        "recent": recently_published(),
        "is_author": permissions.can_author(user),
        "is_reviewer": permissions.can_review(user),
    }
    if context["is_author"]:
        context["my_groups"] = by_state(list(my_agents(user)))
    if context["is_reviewer"]:
        waiting = list(Agent.objects.in_review()[: WAITING_SHOWN + 1])
        context["waiting"] = waiting[:WAITING_SHOWN]
        context["more_waiting"] = len(waiting) > WAITING_SHOWN
    return render_page(request, "portal/home.html", context)


def my_agents(user: Any) -> QuerySet[Agent]:
    """The agents the author owns or maintains: in each state the latest changed ones (up to
    MINE_SHOWN, each with its state's total), with the last request for changes of those sent
    back. One query, however many agents the author has."""
    maintained = Agent.maintainers.through.objects.filter(user_id=user.pk).values("agent_id")
    last_request = Event.objects.filter(
        agent=OuterRef("pk"), action=Event.Action.REQUEST_CHANGES
    ).order_by("-created_at", "-pk")

    def when_sent_back(field: str) -> Case:
        return Case(
            When(
                status=Agent.Status.CHANGES_REQUESTED,
                then=Subquery(last_request.values(field)[:1]),
            )
        )

    return (
        Agent.objects.filter(Q(owner_id=user.pk) | Q(pk__in=maintained))
        .select_related("published_revision", "latest_revision")
        .defer("yaml_sources", "published_revision__text", "latest_revision__text")
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=F("status"),
                order_by=[F("updated_at").desc(), F("pk").desc()],
            ),
            in_state=Window(Count("pk"), partition_by=F("status")),
        )
        .filter(rank__lte=MINE_SHOWN)
        .annotate(
            request_comment=when_sent_back("comment"),
            request_by=when_sent_back("actor_name"),
            request_at=when_sent_back("created_at"),
        )
        .order_by("-updated_at", "-pk")
    )


def by_state(agents: list[Agent]) -> list[dict[str, Any]]:
    """The agents grouped by state, in STATE_ORDER, leaving out empty groups."""
    groups = []
    for state in STATE_ORDER:
        members = [agent for agent in agents if agent.status == state]
        if members:
            groups.append(
                {
                    "state": state,
                    "label": state.label,
                    "agents": members,
                    "total": members[0].in_state,
                }
            )
    return groups


def recently_published(limit: int = RECENT) -> list[Event]:
    """The latest publishing events of agents that everyone may download, newest first: one per
    agent (its latest), for the revision it still publishes, with that revision."""
    latest_for_agent = Event.objects.filter(
        agent=OuterRef("agent_id"), action__in=PUBLISHING_ACTIONS
    ).order_by("-created_at", "-pk")
    return list(
        Event.objects.filter(
            action__in=PUBLISHING_ACTIONS,
            revision_id=F("agent__published_revision_id"),
            pk=Subquery(latest_for_agent.values("pk")[:1]),
        )
        .exclude(agent__status=Agent.Status.ARCHIVED)
        .select_related("agent", "revision")
        .defer("agent__yaml_sources", "revision__text")
        .order_by("-created_at", "-pk")[:limit]
    )
