"""A rename goes through review like any other change: the published file keeps its name and
its address until a revision with the new name is approved."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents import workflow
from agents.importing import import_file
from agents.models import Agent

from .factories import AgentFactory
from .test_admin import change_post, change_url
from .test_import_commands import REVIEWER

pytestmark = pytest.mark.django_db


def download(client, name: str):
    return client.get(reverse("agents:download", kwargs={"name": name}))


@pytest.fixture
def renamed(client, author) -> Agent:
    """code-reviewer, published, then renamed to code-critic in the admin (not approved)."""
    agent = AgentFactory(name="code-reviewer", owner=author, published=True)
    client.force_login(author)
    response = client.post(change_url(agent), change_post(agent, name="code-critic"))
    assert response.status_code == 302, response.content.decode()
    agent.refresh_from_db()
    assert agent.name == "code-critic"
    return agent


def test_a_renamed_agent_is_still_downloaded_under_its_published_name(client, renamed):
    old = download(client, "code-reviewer")

    assert old.status_code == 200
    assert old.content.decode().startswith("---\nname: code-reviewer\n")
    assert old["Content-Disposition"] == 'attachment; filename="code-reviewer.md"'
    assert download(client, "code-critic").status_code == 404


def test_the_new_name_is_served_once_a_revision_with_it_is_published(client, renamed):
    workflow.transition(renamed, "publish", None)

    new = download(client, "code-critic")

    assert new.status_code == 200
    assert new.content.decode().startswith("---\nname: code-critic\n")
    assert download(client, "code-reviewer").status_code == 404


def test_the_admin_links_to_the_published_address(client, renamed):
    page = client.get(change_url(renamed)).content.decode()

    assert f'href="{reverse("agents:download", kwargs={"name": "code-reviewer"})}"' in page


def test_no_other_agent_may_take_a_name_still_published_by_a_renamed_one(client, renamed):
    other = AgentFactory(name="another", owner=renamed.owner)

    response = client.post(change_url(other), change_post(other, name="code-reviewer"))

    assert response.status_code == 200
    assert (
        "code-reviewer is the published name of the agent now called code-critic"
        in response.content.decode()
    )
    other.refresh_from_db()
    assert other.name == "another"


def test_an_import_may_not_take_a_name_still_published_by_a_renamed_one(renamed):
    result = import_file("reviewer.md", REVIEWER.encode())

    assert result.outcome == "error"
    assert "the published name of the agent now called code-critic" in result.error.message
    assert Agent.objects.count() == 1


def test_renaming_back_to_the_published_name_is_allowed(client, renamed):
    response = client.post(change_url(renamed), change_post(renamed, name="code-reviewer"))

    assert response.status_code == 302
    renamed.refresh_from_db()
    assert renamed.name == "code-reviewer"


def test_migration_names_existing_revisions_after_their_file(django_db_blocker):
    from importlib import import_module

    from django.apps import apps

    agent = AgentFactory(name="code-reviewer", published=True)
    agent.revisions.update(name="")
    Agent.objects.filter(pk=agent.pk).update(name="code-critic")

    import_module("agents.migrations.0007_revision_name").name_revisions(apps, None)

    assert list(agent.revisions.values_list("name", flat=True)) == ["code-reviewer"]


def test_a_batch_import_may_not_take_a_name_still_published_by_a_renamed_one(renamed):
    from agents.importing import Entry, import_many

    other = REVIEWER.replace("name: code-reviewer", "name: style-checker")
    results = list(
        import_many(
            [
                Entry("reviewer.md", REVIEWER.encode(), path="reviewer.md"),
                Entry("style.md", other.encode(), path="style.md"),
            ]
        )
    )

    assert [result.outcome for result in results] == ["error", "created"]
    assert "the published name of the agent now called code-critic" in results[0].error.message
    assert sorted(Agent.objects.values_list("name", flat=True)) == ["code-critic", "style-checker"]
