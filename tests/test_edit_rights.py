"""Who may change an agent, and saves that must not go through: editing needs the Authors group
(being the owner or a maintainer is not enough), and the change page's save names the revision
it was opened on."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from agents import permissions, workflow
from agents.models import Agent

from .conftest import member_of
from .factories import AgentFactory
from .test_admin import change_post, change_url

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def messages_after(client: Client, response) -> list[str]:
    assert response.status_code == 302
    return [str(m) for m in client.get(response["Location"]).context["messages"]]


@pytest.fixture(params=["owner", "maintainer"])
def relation(request) -> str:
    return request.param


@pytest.fixture(params=["never an author", "no longer an author"])
def former(request, django_user_model, author, relation):
    """A staff user who owns or maintains code-reviewer (revision 1 published, revision 2 a
    draft of theirs) and is not, or no longer, in the Authors group."""
    user = django_user_model.objects.create_user(
        "former", "former@example.com", "pw-former", is_staff=True
    )
    member_of(user, "Authors")
    agent = AgentFactory(
        name="code-reviewer",
        owner=user if relation == "owner" else author,
        steps=1,
        published=True,
    )
    if relation == "maintainer":
        agent.maintainers.add(user)
    agent.description = "Their draft."
    agent.save()
    workflow.record_revision(agent, user, note="Draft by former")
    if request.param == "never an author":
        user.groups.clear()
    else:
        user.groups.remove(Group.objects.get(name="Authors"))
    return django_user_model.objects.get(pk=user.pk)


@pytest.fixture
def agent(former) -> Agent:
    return Agent.objects.get(name="code-reviewer")


def test_an_owner_or_maintainer_outside_the_authors_group_may_not_edit(former, agent):
    assert not permissions.can_edit(former, agent)
    assert not permissions.can_see_drafts(former, agent)
    assert not Agent.objects.filter(permissions.drafts_filter(former)).exists()


def test_they_cannot_open_or_save_the_admin_change_page(former, agent):
    browser = client_for(former)
    data = change_post(agent, description="Changed after leaving.")

    assert browser.get(change_url(agent)).status_code == 403
    assert browser.post(change_url(agent), data).status_code == 403
    assert Agent.objects.get(pk=agent.pk).description == "Their draft."
    assert agent.revisions.count() == 2


def test_the_portal_shows_them_only_what_was_published_and_refuses_their_steps(former, agent):
    browser = client_for(former)

    history = browser.get(reverse("agents:history", kwargs={"name": agent.name}))
    draft = browser.get(reverse("agents:download-draft", kwargs={"name": agent.name}))
    activity = browser.get(reverse("agents:activity"))

    assert history.status_code == 200
    assert [rev.number for rev in history.context["revisions"]] == [1]
    assert history.context["actions"] == []
    assert "Draft by former" not in history.content.decode()
    assert draft.status_code == 404
    assert [event.action for event in activity.context["page"]] == ["publish"]

    submit = browser.post(
        reverse("agents:transition", kwargs={"name": agent.name, "action": "submit"})
    )
    assert messages_after(browser, submit) == [
        "You may not submit code-reviewer: that needs the editor role."
    ]
    restore = browser.post(reverse("agents:restore", kwargs={"name": agent.name, "number": 1}))
    assert messages_after(browser, restore) == ["You may not restore revisions of code-reviewer."]
    agent.refresh_from_db()
    assert agent.status == "draft"
    assert agent.revisions.count() == 2
    assert not agent.events.filter(action__in=["submit", "rollback"]).exists()


def test_a_reviewer_who_owns_an_agent_but_is_not_an_author_may_look_but_not_change(
    django_user_model,
):
    owner = member_of(
        django_user_model.objects.create_user("rev-owner", "ro@example.com", is_staff=True),
        "Reviewers",
    )
    agent = AgentFactory(name="reviewed", owner=owner, steps=1)
    browser = client_for(owner)

    page = browser.get(change_url(agent))
    saved = browser.post(change_url(agent), change_post(agent, description="Changed."))

    assert page.status_code == 200
    assert "base_revision" not in page.content.decode()  # shown read-only: no save form
    assert saved.status_code == 403
    assert Agent.objects.get(pk=agent.pk).description != "Changed."
    assert not permissions.can_edit(owner, agent)


# --- the base revision of a save ----------------------------------------------------------


def test_a_save_that_does_not_say_which_revision_it_edited_is_refused(author):
    agent = AgentFactory(name="code-reviewer", owner=author, steps=1)
    agent.description = "Someone else's newer version."
    agent.save()
    workflow.record_revision(agent, author)  # revision 2, which the page posting below never showed
    data = change_post(agent, description="An old page's version.")
    del data["base_revision"]

    response = client_for(author).post(change_url(agent), data)

    assert response.status_code == 200
    assert "Reload the page: it did not say which revision you edited." in (
        response.content.decode()
    )
    assert Agent.objects.get(pk=agent.pk).description == "Someone else's newer version."
    assert agent.revisions.count() == 2
    assert agent.events.filter(action="edit").count() == 1  # revision 2's
