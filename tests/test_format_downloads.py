"""Other assistants' files where people get agents: the agent page offers each one with what it
cannot keep, the download and the zip take ``?format=``, and export_agents takes ``--format``."""

from __future__ import annotations

import io
import zipfile
from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse

from agents import workflow

from .factories import AgentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shell_agent():
    """A published agent that runs commands, and has hooks no other assistant knows."""
    agent = AgentFactory(name="test-runner", tools=5, published=True)  # Read ... Bash
    agent.hooks = {"PostToolUse": [{"matcher": "Edit", "hooks": []}]}
    agent.save()
    workflow.record_revision(agent, None)
    workflow.transition(agent, "publish", None)
    return agent


def frontmatter(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n", 2)[1])


def test_the_agent_page_offers_each_assistant_with_what_it_cannot_keep(client, reader, shell_agent):
    client.force_login(reader)

    page = client.get(shell_agent.get_absolute_url()).content.decode()

    assert "GitHub Copilot / VS Code: test-runner.agent.md" in page
    assert f'href="{shell_agent.get_download_url()}?format=cursor"' in page
    assert "hooks" in page.split("For other assistants")[1]  # the hooks cannot come along


def test_the_download_writes_the_published_file_for_copilot(client, reader, shell_agent):
    client.force_login(reader)

    response = client.get(shell_agent.get_download_url() + "?format=copilot")

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="test-runner.agent.md"'
    text = response.content.decode()
    data = frontmatter(text)
    assert data["name"] == "test-runner"
    assert "hooks" not in data
    assert text.endswith(shell_agent.published_revision.text.split("---\n", 2)[2])
    assert response["ETag"]
    again = client.get(
        shell_agent.get_download_url() + "?format=copilot", HTTP_IF_NONE_MATCH=response["ETag"]
    )
    assert again.status_code == 304


def test_an_unknown_format_says_which_there_are(client, reader, shell_agent):
    client.force_login(reader)

    response = client.get(shell_agent.get_download_url() + "?format=word")

    assert response.status_code == 400
    assert "copilot (GitHub Copilot / VS Code)" in response.content.decode()


def test_the_zip_for_gemini_lays_agents_out_in_its_folder_with_a_readme(
    client, reader, shell_agent
):
    AgentFactory(name="a-draft")  # never in any zip
    client.force_login(reader)

    response = client.get(reverse("agents:download-zip") + "?format=gemini")

    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.namelist() == [".gemini/agents/test-runner.md", ".gemini/agents/README.md"]
    assert (
        "run_shell_command"
        in frontmatter(archive.read(".gemini/agents/test-runner.md").decode())["tools"]
    )
    assert "hooks" in archive.read(".gemini/agents/README.md").decode()
    assert response["Content-Disposition"] == 'attachment; filename="agents-gemini.zip"'
    claude = client.get(reverse("agents:download-zip"))
    assert claude["ETag"] != response["ETag"]  # the format is part of what the zip is


def test_export_agents_writes_cursor_files_and_prints_what_they_lose(tmp_path, shell_agent):
    out = StringIO()

    call_command("export_agents", "--out", str(tmp_path), "--format", "cursor", stdout=out)

    written = (tmp_path / "test-runner.md").read_text()
    assert frontmatter(written)["name"] == "test-runner"
    assert "warning: test-runner.md:" in out.getvalue()
    assert "1 written" in out.getvalue()
    again = StringIO()
    call_command("export_agents", "--out", str(tmp_path), "--format", "cursor", stdout=again)
    assert "0 written, 1 unchanged" in again.getvalue()


def test_two_agents_whose_converted_names_collide_get_distinct_files(client, reader):
    AgentFactory(name="Code Reviewer", published=True)
    AgentFactory(name="code-reviewer", published=True)
    client.force_login(reader)

    response = client.get(reverse("agents:download-zip") + "?format=cursor")

    names = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist()
    agents = [name for name in names if not name.endswith("README.md")]
    assert len(agents) == len(set(agents)) == 2
