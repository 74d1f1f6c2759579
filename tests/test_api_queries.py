"""The API's lists run as many queries for a few rows as for many (tests/helpers.py)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from agents import workflow
from agents.models import Collection, CollectionMember, Tool

from .factories import AgentFactory
from .helpers import assert_same_query_count

pytestmark = pytest.mark.django_db


def signed_in(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def get_ok(client: APIClient, url: str):
    def action() -> None:
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]

    return action


def agents(count: int, owner=None) -> None:
    for _ in range(count):
        AgentFactory(owner=owner, tools=3, steps=2, published=True)


@pytest.mark.parametrize("who", ["reader", "author", "reviewer"])
def test_the_agent_list(who, request):
    user = request.getfixturevalue(who)
    owner = user if who == "author" else None
    agents(3, owner)
    # session, user, groups, tool registry (the tool filter's choices), the page's ids, its
    # agents (+owner, revisions), their tools (those who see drafts), throttle cache
    assert_same_query_count(
        get_ok(signed_in(user), "/api/agents/?page_size=20"), lambda: agents(15, owner)
    )


def test_the_events_list(reviewer, author):
    def grow(count: int) -> None:
        for agent in AgentFactory.create_batch(count, owner=author):
            workflow.transition(agent, "submit", author)

    grow(2)
    # session, user, groups, the page of events (+agent, actor, revision number), throttle
    assert_same_query_count(get_ok(signed_in(reviewer), "/api/events/"), lambda: grow(12))


def test_the_revisions_list(author):
    agent = AgentFactory(name="many-revisions", owner=author, published=True)

    def grow(count: int) -> None:
        for n in range(count):
            agent.description = f"Revision {agent.revisions.count() + 1} {n}. Use proactively."
            agent.save()
            workflow.record_revision(agent, author)

    grow(2)
    # session, user, the agent (+prefetches), groups, the page of revisions (+author), throttle
    assert_same_query_count(
        get_ok(signed_in(author), "/api/agents/many-revisions/revisions/"), lambda: grow(12)
    )


def test_the_tools_list(reader):
    # session, user, the tools with their replacements, throttle
    assert_same_query_count(
        get_ok(signed_in(reader), "/api/tools/"),
        lambda: Tool.objects.bulk_create(Tool(name=f"Custom{n}") for n in range(20)),
    )


def test_the_collections_list(reader, author):
    def grow(count: int) -> None:
        start = Collection.objects.count()
        for n in range(start, start + count):
            collection = Collection.objects.create(
                slug=f"team-{n}", title=f"Team {n}", owner=author
            )
            for position, agent in enumerate(AgentFactory.create_batch(2, published=True), 1):
                CollectionMember.objects.create(
                    collection=collection, agent=agent, position=position
                )

    grow(1)
    # session, user, the page of collections (+owner, plugin), their members (+agent), throttle
    assert_same_query_count(get_ok(signed_in(reader), "/api/collections/"), lambda: grow(8))
