"""The home page: what each person has to do next, and what was published lately.

Authors see their agents (owned or maintained) by state, with the reviewer's last comment next
to each one sent back; reviewers see what waits for review, oldest first; everyone sees the
agents published lately, as published (their published revision, never a newer draft).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, Q, Window
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
        context["my_groups"] = by_state(my_agents(user))
    if context["is_reviewer"]:
        waiting = list(Agent.objects.in_review()[: WAITING_SHOWN + 1])
        context["waiting"] = waiting[:WAITING_SHOWN]
        context["more_waiting"] = len(waiting) > WAITING_SHOWN
    return render_page(request, "portal/home.html", context)


def my_agents(user: Any) -> list[Agent]:
    """The agents the author owns or maintains: in each state the latest changed (up to
    MINE_SHOWN, each knowing its state's total), those sent back with the reviewer's last
    request for changes. Ranked on ids alone, then the shown rows loaded: three queries, however
    many agents the author has."""
    maintained = Agent.maintainers.through.objects.filter(user_id=user.pk).values("agent_id")
    latest_first = [F("updated_at").desc(), F("pk").desc()]
    ranked = (
        Agent.objects.filter(Q(owner_id=user.pk) | Q(pk__in=maintained))
        .annotate(
            rank=Window(RowNumber(), partition_by=F("status"), order_by=latest_first),
            in_state=Window(Count("pk"), partition_by=F("status")),
        )
        .filter(rank__lte=MINE_SHOWN)
        .values_list("pk", "in_state")
    )
    totals = dict(ranked)
    agents = list(
        Agent.objects.filter(pk__in=totals)
        .select_related("published_revision", "latest_revision")
        .defer("yaml_sources", "published_revision__text", "latest_revision__text")
        .order_by(*latest_first)
    )
    sent_back = [agent.pk for agent in agents if agent.status == Agent.Status.CHANGES_REQUESTED]
    requests: dict[int, Event] = {}
    if sent_back:
        for event in Event.objects.filter(
            agent_id__in=sent_back, action=Event.Action.REQUEST_CHANGES
        ).order_by("created_at", "pk"):
            requests[event.agent_id] = event  # the last one wins
    for agent in agents:
        agent.in_state = totals[agent.pk]
        agent.last_request = requests.get(agent.pk)
    return agents


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
    """The agents published lately, newest first, as published: the latest events that
    published what an agent still publishes (and not archived since), with that revision; one
    per agent.

    Read backwards along the events' time index and checked here, so the cost does not grow
    with the number of agents (compared in SQL, the planner misjudges the condition and joins
    every event). Events whose revision was replaced since are skipped: a few more are read
    than shown.
    """
    events = (
        Event.objects.filter(action__in=PUBLISHING_ACTIONS)
        .exclude(agent__status=Agent.Status.ARCHIVED)
        .select_related("agent", "revision")
        .defer("agent__yaml_sources", "revision__text")
        .order_by("-created_at", "-pk")[: limit * 4]
    )
    latest: dict[int, Event] = {}
    for event in events:
        if event.revision_id == event.agent.published_revision_id:
            latest.setdefault(event.agent_id, event)
    return list(latest.values())[:limit]
