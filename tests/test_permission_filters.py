"""Each permission check and the queryset filter that lists the same agents agree, for every
kind of person and every kind of agent: a list never shows what the page would refuse, and
never hides what it would show."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from agents import permissions, workflow
from agents.models import Agent, Event

from .conftest import member_of
from .factories import AgentFactory, approve

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(django_user_model, author, other_author, reviewer, reader):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    both = member_of(
        django_user_model.objects.create_user("both", "both@example.com", "pw"),
        "Authors",
        "Reviewers",
    )
    former = django_user_model.objects.create_user("former", "former@example.com", "pw")
    inactive = member_of(
        django_user_model.objects.create_user("gone", "gone@example.com", "pw", is_active=False),
        "Authors",
    )
    return {
        "operator": None,
        "anonymous": AnonymousUser(),
        "reader": reader,
        "author": author,
        "other_author": other_author,
        "reviewer": reviewer,
        "both": both,
        "admin": admin,
        "former_author": former,  # owns an agent but is no longer in Authors
        "inactive": inactive,
    }


@pytest.fixture
def agents(people, author, other_author, reviewer) -> list[Agent]:
    owned = AgentFactory(name="owned-draft", owner=author)
    maintained = AgentFactory(name="maintained", owner=other_author)
    maintained.maintainers.add(author, people["inactive"])
    published = AgentFactory(name="published", owner=other_author, published=True)
    in_review = AgentFactory(name="in-review", owner=other_author)
    workflow.transition(in_review, "submit", other_author)
    approved = AgentFactory(name="approved", owner=other_author)
    workflow.transition(approved, "submit", other_author)
    approve(approved, reviewer)
    archived = AgentFactory(name="archived", owner=other_author, published=True)
    workflow.transition(archived, "archive", None)
    orphan = AgentFactory(name="former-authors", owner=people["former_author"], published=True)
    return [owned, maintained, published, in_review, approved, archived, orphan]


def test_can_see_drafts_agrees_with_drafts_filter(people, agents):
    for who, user in people.items():
        allowed = {agent.name for agent in agents if permissions.can_see_drafts(user, agent)}
        condition = permissions.drafts_filter(user)
        rows = Agent.objects.all() if condition is None else Agent.objects.filter(condition)
        assert set(rows.values_list("name", flat=True)) == allowed, who


def test_can_view_agrees_with_view_filter(people, agents):
    for who, user in people.items():
        allowed = {agent.name for agent in agents if permissions.can_view(user, agent)}
        condition = permissions.view_filter(user)
        rows = Agent.objects.all() if condition is None else Agent.objects.filter(condition)
        assert set(rows.values_list("name", flat=True)) == allowed, who


def test_the_filters_give_each_person_what_their_role_allows(people, agents):
    def visible(who: str) -> set[str]:
        condition = permissions.view_filter(people[who])
        rows = Agent.objects.all() if condition is None else Agent.objects.filter(condition)
        return set(rows.values_list("name", flat=True))

    published = {"published", "approved", "former-authors"}
    assert visible("anonymous") == set()
    assert visible("reader") == published
    assert visible("former_author") == published  # no longer edits even what they own
    assert visible("author") == published | {"owned-draft", "maintained"}
    assert visible("reviewer") == {agent.name for agent in agents}
    assert visible("inactive") == set()


def test_visible_events_show_drafts_only_to_those_who_may_see_them(people, agents):
    def actions(who: str, name: str) -> set[str]:
        events = permissions.visible_events(people[who], Event.objects.filter(agent__name=name))
        return set(events.values_list("action", flat=True))

    assert actions("reader", "approved") == {"approve"}
    assert actions("author", "approved") == {"approve"}
    assert actions("other_author", "approved") == {"create", "submit", "approve"}
    assert actions("reader", "in-review") == set()
    assert actions("reviewer", "in-review") == {"create", "submit"}


def test_sees_any_drafts_agrees_with_drafts_filter(people, agents):
    for who, user in people.items():
        condition = permissions.drafts_filter(user)
        rows = Agent.objects.all() if condition is None else Agent.objects.filter(condition)
        # the agents fixture has a draft owned by the author and one maintained by them
        assert permissions.sees_any_drafts(user) == rows.exists(), who
