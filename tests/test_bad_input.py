"""Bad files get a clear, located error and leave the database as it was."""

from __future__ import annotations

import pytest

from agents import filebridge
from agents.models import Agent, AgentTool, InstructionStep, Section

from .test_import_commands import REVIEWER, run, write

pytestmark = pytest.mark.django_db


def nothing_saved() -> bool:
    return not any(model.objects.exists() for model in (Agent, AgentTool, Section, InstructionStep))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("# Code reviewer\n\nNo frontmatter here.\n", ":1: no frontmatter"),
        (
            "---\nname: a\ndescription: D\ntools: [Read\n---\n",
            ":4: the frontmatter is not valid YAML",
        ),
        ("---\nname: yes\ndescription: D\n---\n", ":2: 'name' must be text, not True"),
        ('---\nname: "a\\nb"\ndescription: D\n---\n', ":2: 'name' must be one line"),
        ("---\nname: a\ndescription: ''\n---\n", ":3: 'description' is required"),
        ("---\nname: a\ndescription: D\ndescription: E\n---\n", ":4: duplicate key"),
    ],
)
def test_bad_file_gets_a_located_error_and_saves_nothing(tmp_path, content, expected):
    path = write(tmp_path, "bad.md", content)

    status, output = run("import_agents", str(path))

    assert status == 1
    assert output.startswith(f"error: {path}{expected}")
    assert nothing_saved()


def test_a_5_mb_file_is_refused_before_it_is_read(tmp_path):
    path = write(tmp_path, "huge.md", REVIEWER + "x" * (5 * 1024 * 1024))

    status, output = run("import_agents", str(path))

    assert status == 1
    assert f"error: {path}:1: file too large: 5,243," in output
    assert "an agent file may be at most 1,048,576 bytes" in output
    assert nothing_saved()


def test_a_bad_update_leaves_the_existing_agent_as_it_was(tmp_path):
    path = write(tmp_path, "code-reviewer.md", REVIEWER)
    run("import_agents", str(path))
    before = filebridge.render(Agent.objects.for_export().get())

    write(tmp_path, "code-reviewer.md", REVIEWER.replace("model: sonnet", "model: [sonnet"))
    status, _ = run("import_agents", "--update", str(path))

    assert status == 1
    assert filebridge.render(Agent.objects.for_export().get()) == before


def test_binary_content_is_refused(tmp_path):
    path = write(tmp_path, "image.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00")

    status, output = run("import_agents", str(path))

    assert status == 1
    assert "binary content: the file contains NUL bytes" in output
    assert nothing_saved()
