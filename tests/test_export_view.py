from __future__ import annotations

import pytest
from django.urls import reverse

from agents import filebridge, workflow
from agents.importing import import_file
from agents.models import Agent

from .factories import AgentFactory
from .helpers import assert_same_query_count, query_counts

pytestmark = pytest.mark.django_db


def test_download_serves_the_example_byte_for_byte(client, author, example_bytes):
    import_file("python-backend-expert.md", example_bytes, publish=True)
    client.force_login(author)

    response = client.get(reverse("agents:download", kwargs={"name": "python-backend-expert"}))

    assert response.status_code == 200
    assert response.content == example_bytes
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="python-backend-expert.md"'


def test_download_needs_a_logged_in_user(client):
    AgentFactory(name="code-reviewer", published=True)

    response = client.get(reverse("agents:download", kwargs={"name": "code-reviewer"}))

    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_download_of_an_unknown_agent_is_404(client, author):
    client.force_login(author)

    response = client.get(reverse("agents:download", kwargs={"name": "no-such-agent"}))

    assert response.status_code == 404


def test_download_refuses_other_methods(client, author):
    AgentFactory(name="code-reviewer", published=True)
    client.force_login(author)

    response = client.post(reverse("agents:download", kwargs={"name": "code-reviewer"}))

    assert response.status_code == 405


def test_download_file_name_is_safe_for_an_imported_name_with_a_slash(client, author):
    text = "---\nname: Python DevOps/CI-CD Expert\ndescription: Builds pipelines.\n---\nBody\n"
    import_file("odd.md", text.encode(), publish=True)
    client.force_login(author)

    response = client.get("/agents/Python DevOps/CI-CD Expert.md")

    assert response.status_code == 200
    assert response.content == text.encode()
    assert response["Content-Disposition"] == 'attachment; filename="Python-DevOps-CI-CD-Expert.md"'


def test_download_query_count_does_not_grow(client, author, other_author):
    agent = AgentFactory(name="download-me", steps=3, tools=3, published=True)
    client.force_login(author)
    url = reverse("agents:download", kwargs={"name": agent.name})

    def grow() -> None:
        # What the download could be tempted to load: more revisions and maintainers of this
        # agent, more published agents.
        for n in range(10):
            agent.description = f"Edition {n}. Use proactively."
            agent.save()
            workflow.record_revision(agent, None)
        workflow.transition(agent, "publish", None)
        agent.maintainers.add(author, other_author)
        AgentFactory.create_batch(10, steps=3, tools=3, published=True)

    # session, user, the agent with its published revision
    count = assert_same_query_count(lambda: client.get(url), grow)
    assert count <= 3
    response = client.get(url)
    assert response.content.decode().startswith("---\nname: download-me\n")
    assert "Edition 9." in response.content.decode()


def test_draft_download_query_count_does_not_grow_with_steps_and_tools(admin_client):
    few = AgentFactory(name="few-steps", steps=1, tools=1)
    many = AgentFactory(name="many-steps", steps=40, tools=8)

    def download(agent):
        url = reverse("agents:download-draft", kwargs={"name": agent.name})
        return admin_client.get(url).content.decode()

    # session, user, agent, tools, sections, steps, maintainers
    small, large = query_counts(lambda: download(few), lambda: download(many))
    assert small == large
    assert download(many).count("**Step ") == 40


def test_agent_render_numbers_steps_in_position_order():
    agent = AgentFactory(name="ordered", steps=3)
    agent.steps.filter(position=1).update(position=10)

    text = filebridge.render(Agent.objects.get(pk=agent.pk))

    assert "1. **Step 2**: Do thing 2.\n\n2. **Step 3**: Do thing 3.\n\n3. **Step 1**" in text
