"""The home page at /: an author's agents by state with the reviewer's last comment on each one
sent back, what waits for a reviewer (oldest first), and what was published lately, for
everyone."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from agents import workflow
from agents.models import Agent, Event

from .conftest import member_of
from .factories import AgentFactory, UserFactory, approve
from .helpers import assert_same_query_count

pytestmark = pytest.mark.django_db

HOME = reverse("home")


def edit(agent: Agent, user, **fields) -> None:
    for field, value in fields.items():
        setattr(agent, field, value)
    agent.save()
    workflow.record_revision(agent, user, note="draft")


def section(page: str, heading_id: str) -> str:
    """The part of the page under one heading (up to the end of its section)."""
    start = page.index(f'id="{heading_id}"')
    return page[start : page.index("</section>", start)]


def test_an_author_sees_their_agents_by_state_with_the_reviewers_comment(
    client, author, other_author, reviewer
):
    draft = AgentFactory(name="a-draft", owner=author)
    sent_back = AgentFactory(name="sent-back", owner=author)
    workflow.transition(sent_back, "submit", author, comment="first try")
    workflow.transition(sent_back, "request_changes", reviewer, comment="Too vague, say when.")
    maintained = AgentFactory(name="maintained", owner=other_author, published=True)
    maintained.maintainers.add(author)
    AgentFactory(name="not-mine", owner=other_author)
    client.force_login(author)

    response = client.get(HOME)

    groups = [
        (group["label"], [agent.name for agent in group["agents"]])
        for group in response.context["my_groups"]
    ]
    assert groups == [
        ("Changes requested", ["sent-back"]),
        ("Draft", ["a-draft"]),
        ("Approved", ["maintained"]),
    ]
    mine = section(response.content.decode(), "mine-heading")
    assert "Changes requested by reviewer" in mine
    assert "Too vague, say when." in mine
    assert "not-mine" not in mine
    assert reverse("agents:edit", kwargs={"name": "sent-back"}) in mine
    assert draft.get_absolute_url() in mine


def test_the_comment_shown_is_the_last_request_for_changes(client, author, reviewer):
    agent = AgentFactory(name="sent-back", owner=author)
    workflow.transition(agent, "submit", author, comment="one")
    workflow.transition(agent, "request_changes", reviewer, comment="First remark.")
    workflow.transition(agent, "submit", author, comment="two")
    workflow.transition(agent, "request_changes", reviewer, comment="Second remark.")
    client.force_login(author)

    mine = section(client.get(HOME).content.decode(), "mine-heading")

    assert "Second remark." in mine
    assert "First remark." not in mine


def test_an_author_without_agents_is_told_how_to_start(client, author):
    client.force_login(author)

    mine = section(client.get(HOME).content.decode(), "mine-heading")

    assert "No agents yet" in mine
    assert f'href="{reverse("agents:new")}">create one</a>' in mine


def test_a_reviewer_sees_what_waits_oldest_first_with_submitter_and_note(
    client, author, other_author, reviewer
):
    newer = AgentFactory(name="newer", owner=author)
    older = AgentFactory(name="older", owner=other_author)
    workflow.transition(older, "submit", other_author, comment="Older one, please")
    workflow.transition(newer, "submit", author, comment="Newer one")
    Event.objects.filter(agent=older).update(created_at=timezone.now() - datetime.timedelta(days=2))
    AgentFactory(name="just-a-draft", owner=author)
    client.force_login(reviewer)

    response = client.get(HOME)

    assert [agent.name for agent in response.context["waiting"]] == ["older", "newer"]
    waiting = section(response.content.decode(), "waiting-heading")
    assert "Submitted by other" in waiting
    assert "Older one, please" in waiting
    assert reverse("agents:review", kwargs={"name": "older"}) in waiting
    assert "just-a-draft" not in waiting


def test_a_reviewer_with_nothing_to_review_is_told_so(client, reviewer):
    client.force_login(reviewer)

    assert "Nothing waits for review" in client.get(HOME).content.decode()


def test_readers_see_no_author_or_reviewer_sections(client, reader):
    client.force_login(reader)

    page = client.get(HOME).content.decode()

    assert 'id="mine-heading"' not in page
    assert 'id="waiting-heading"' not in page
    assert "Nothing is published yet" in page


def test_everyone_sees_what_was_published_lately_as_published(client, reader, author, reviewer):
    old = AgentFactory(name="old-one", owner=author, description="Published first.")
    workflow.transition(old, "submit", author)
    approve(old, reviewer)
    Event.objects.filter(agent=old).update(created_at=timezone.now() - datetime.timedelta(days=3))
    new = AgentFactory(name="new-one", owner=author, description="Published last.")
    workflow.transition(new, "submit", author)
    approve(new, reviewer)
    edit(new, author, description="Secret draft.")  # a newer draft is not what is published
    archived = AgentFactory(name="archived", owner=author, published=True)
    workflow.transition(archived, "archive", None)
    AgentFactory(name="unpublished", owner=author)
    client.force_login(reader)

    response = client.get(HOME)

    assert [event.agent.name for event in response.context["recent"]] == ["new-one", "old-one"]
    recent = section(response.content.decode(), "recent-heading")
    assert "Published last." in recent
    assert "Secret draft." not in recent
    assert "approved by reviewer" in recent
    assert new.get_absolute_url() in recent


def test_an_agent_published_twice_is_listed_once_at_its_latest_publication(
    client, reader, author, reviewer
):
    agent = AgentFactory(name="twice", owner=author, published=True)
    edit(agent, author, description="Second version.")
    workflow.transition(agent, "submit", author)
    approve(agent, reviewer)
    client.force_login(reader)

    recent = client.get(HOME).context["recent"]

    assert [(event.agent.name, event.revision.number) for event in recent] == [("twice", 2)]


@pytest.mark.parametrize("who", ["reader", "author", "reviewer"])
def test_home_query_count_does_not_grow(client, request, who, author, reviewer):
    client.force_login(request.getfixturevalue(who))

    def grow() -> None:
        for n in range(6):
            owner = author if n % 2 else member_of(UserFactory(), "Authors")
            published = AgentFactory(owner=owner, published=True)
            published.maintainers.add(author)
            sent = AgentFactory(owner=owner)
            workflow.transition(sent, "submit", owner, comment="please")
            workflow.transition(sent, "request_changes", reviewer, comment="again")
            waiting = AgentFactory(owner=owner)
            workflow.transition(waiting, "submit", owner, comment="please")

    grow()

    def page() -> None:
        assert client.get(HOME).status_code == 200

    assert_same_query_count(page, grow)


def test_an_author_with_many_agents_sees_the_latest_of_each_state_and_a_link_to_all(client, author):
    for n in range(12):
        AgentFactory(name=f"draft-{n:02}", owner=author)
    client.force_login(author)

    response = client.get(HOME)

    [group] = response.context["my_groups"]
    assert group["total"] == 12
    assert [agent.name for agent in group["agents"]] == [f"draft-{n:02}" for n in range(11, 1, -1)]
    assert "?state=draft&amp;owner=author&amp;sort=changed" in response.content.decode()
