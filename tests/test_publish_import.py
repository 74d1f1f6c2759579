"""The command line and the workflow: imports are drafts unless the operator publishes them,
and exports of named agents write what everyone downloads."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from agents import workflow
from agents.models import Agent

pytestmark = pytest.mark.django_db


def agent_file(name: str, description: str = "Reviews code. Use proactively.") -> str:
    return f"---\nname: {name}\ndescription: {description}\ntools: Read, Grep\n---\n\nYou review.\n"


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.md"
    path.write_text(text)
    return path


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def get(client, view: str, name: str):
    return client.get(reverse(f"agents:{view}", kwargs={"name": name}))


def test_an_import_is_a_draft_only_its_editors_and_reviewers_see(
    client, tmp_path, author, reviewer, reader
):
    source = write(tmp_path, "code-reviewer", agent_file("code-reviewer"))

    run("import_agents", str(source), "--owner", "author")

    agent = Agent.objects.get(name="code-reviewer")
    assert agent.status == "draft"
    assert agent.published_revision is None
    event = agent.events.get()
    assert (event.action, event.actor, event.revision.number) == ("create", None, 1)

    client.force_login(reader)
    assert get(client, "download", "code-reviewer").status_code == 404
    assert get(client, "download-draft", "code-reviewer").status_code == 404
    assert get(client, "history", "code-reviewer").status_code == 404
    for user in [author, reviewer]:
        client.force_login(user)
        assert get(client, "download", "code-reviewer").status_code == 404
        assert get(client, "download-draft", "code-reviewer").content == (
            agent_file("code-reviewer").encode()
        )
        assert get(client, "history", "code-reviewer").status_code == 200


def test_import_with_publish_publishes_each_revision_as_the_operator(client, tmp_path, reader):
    folder = tmp_path / "agents"
    for name in ["code-reviewer", "test-writer"]:
        write(folder, name, agent_file(name))

    output = run("import_agents", str(folder), "--publish")

    assert "2 created" in output
    client.force_login(reader)
    for name in ["code-reviewer", "test-writer"]:
        agent = Agent.objects.get(name=name)
        assert agent.status == "approved"
        assert agent.published_revision == agent.latest_revision
        publish = agent.events.get(action="publish")
        assert (publish.actor, publish.from_status, publish.to_status) == (
            None,
            "draft",
            "approved",
        )
        assert publish.revision == agent.published_revision
        assert get(client, "download", name).content == agent_file(name).encode()
        history = get(client, "history", name)
        assert [rev.number for rev in history.context["revisions"]] == [1]
        assert "Published by an operator" in history.content.decode()
        assert "operator" in history.content.decode()


def test_reimport_with_update_and_publish_replaces_the_published_file(client, tmp_path, reader):
    first = agent_file("code-reviewer")
    second = agent_file("code-reviewer", description="Reviews code, second edition.")
    run("import_agents", str(write(tmp_path / "v1", "code-reviewer", first)), "--publish")
    source = write(tmp_path / "v2", "code-reviewer", second)

    run("import_agents", str(source), "--update", "--publish")

    agent = Agent.objects.get(name="code-reviewer")
    assert agent.published_revision.number == 2
    assert [e.action for e in agent.events.order_by("pk")] == [
        "create",
        "publish",
        "edit",
        "publish",
    ]
    client.force_login(reader)
    assert get(client, "download", "code-reviewer").content == second.encode()


def test_reimport_with_update_alone_leaves_the_published_file_online(client, tmp_path, reader):
    first = agent_file("code-reviewer")
    second = agent_file("code-reviewer", description="Reviews code, second edition.")
    run("import_agents", str(write(tmp_path / "v1", "code-reviewer", first)), "--publish")

    run("import_agents", str(write(tmp_path / "v2", "code-reviewer", second)), "--update")

    agent = Agent.objects.get(name="code-reviewer")
    assert agent.status == "draft"
    assert agent.published_revision.number == 1
    client.force_login(reader)
    assert get(client, "download", "code-reviewer").content == first.encode()


def test_export_of_a_name_writes_the_published_file_and_drafts_the_working_copy(tmp_path, author):
    published = agent_file("code-reviewer")
    source = write(tmp_path / "in", "code-reviewer", published)
    run("import_agents", str(source), "--publish", "--owner", "author")
    agent = Agent.objects.get(name="code-reviewer")
    agent.description = "A newer draft."
    agent.save()
    draft = workflow.record_revision(agent, author, note="Newer draft")
    assert draft.text != published

    run("export_agents", "code-reviewer", "--out", str(tmp_path / "published"))
    run("export_agents", "--drafts", "--out", str(tmp_path / "current"))

    assert (tmp_path / "published" / "code-reviewer.md").read_text() == published
    assert (tmp_path / "current" / "code-reviewer.md").read_text() == draft.text


def test_export_of_a_name_refuses_an_agent_that_was_never_published(tmp_path):
    run("import_agents", str(write(tmp_path / "in", "code-reviewer", agent_file("code-reviewer"))))

    with pytest.raises(CommandError, match="nothing published under the name: code-reviewer"):
        run("export_agents", "code-reviewer", "--out", str(tmp_path / "out"))
    assert not (tmp_path / "out" / "code-reviewer.md").exists()
