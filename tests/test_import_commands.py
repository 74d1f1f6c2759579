from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from agents import filebridge, workflow
from agents.models import Agent

pytestmark = pytest.mark.django_db

REVIEWER = """\
---
name: code-reviewer
description: Reviews code for quality and best practices. Use proactively after code changes.
tools: Read, Glob, Grep
model: sonnet
color: blue
---

You are a code reviewer.
"""


def run(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command(*args, stdout=out)
    except SystemExit as exc:
        return int(exc.code), out.getvalue()
    return 0, out.getvalue()


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_example_round_trips_byte_for_byte_through_the_commands(tmp_path, example_bytes):
    source = write(tmp_path / "in", "python-backend-expert.md", example_bytes)

    status, output = run("import_agents", str(source))
    assert status == 0
    assert output.startswith(f"created: {source} (python-backend-expert)")

    run("export_agents", "--out", str(tmp_path / "out"), "--drafts")
    assert (tmp_path / "out" / "python-backend-expert.md").read_bytes() == example_bytes


def test_example_instructions_become_seven_steps(tmp_path, example_bytes):
    run("import_agents", str(write(tmp_path, "agent.md", example_bytes)))

    agent = Agent.objects.get(name="python-backend-expert")
    steps = list(agent.steps.all())
    assert [step.position for step in steps] == [1, 2, 3, 4, 5, 6, 7]
    assert steps[0].title == "Assess the Request"
    assert steps[1].text.startswith("Determine which backend technologies are relevant:\n   - Web")
    assert filebridge.tool_names(agent) == [
        "Read", "Write", "Edit", "MultiEdit", "Bash", "Grep", "Glob", "NotebookRead", "NotebookEdit"
    ]  # fmt: skip


def test_editing_a_step_changes_only_that_step_in_the_export(tmp_path, example_bytes):
    run("import_agents", str(write(tmp_path, "agent.md", example_bytes)))
    agent = Agent.objects.get(name="python-backend-expert")
    agent.steps.filter(position=1).update(title="Understand the Request")

    exported = filebridge.render(Agent.objects.for_export().get(pk=agent.pk))

    assert exported == example_bytes.decode().replace(
        "1. **Assess the Request**", "1. **Understand the Request**"
    )


def test_folder_import_reports_each_file_and_a_summary(tmp_path):
    write(tmp_path, "a/code-reviewer.md", REVIEWER)
    write(tmp_path, "b/deep/tester.md", REVIEWER.replace("code-reviewer", "tester"))
    write(tmp_path, "notes.txt", "not an agent")

    status, output = run("import_agents", str(tmp_path))

    lines = output.splitlines()
    assert status == 0
    assert lines[0] == f"created: {tmp_path / 'a/code-reviewer.md'} (code-reviewer)"
    assert lines[1] == f"created: {tmp_path / 'b/deep/tester.md'} (tester)"
    assert lines[-1] == "2 files: 2 created, 0 updated, 0 unchanged, 0 conflict, 0 error"
    assert Agent.objects.count() == 2


def test_reimport_is_unchanged_then_conflict_then_updated_with_update(tmp_path):
    path = write(tmp_path, "code-reviewer.md", REVIEWER)
    run("import_agents", str(path))

    assert run("import_agents", str(path))[1].startswith("unchanged:")

    write(tmp_path, "code-reviewer.md", REVIEWER.replace("You are", "You were"))
    status, output = run("import_agents", str(path))
    assert status == 0
    assert output.startswith("conflict:")
    assert "You are" in filebridge.render(Agent.objects.for_export().get())

    status, output = run("import_agents", "--update", str(path))
    assert output.startswith("updated:")
    assert "You were" in filebridge.render(Agent.objects.for_export().get())


def test_dry_run_saves_nothing_and_shows_a_diff_for_an_update(tmp_path):
    path = write(tmp_path, "code-reviewer.md", REVIEWER)
    status, output = run("import_agents", "--dry-run", str(path))
    assert output.startswith("created:")
    assert "dry run, nothing saved: 1 files: 1 created" in output
    assert not Agent.objects.exists()

    run("import_agents", str(path))
    write(tmp_path, "code-reviewer.md", REVIEWER.replace("model: sonnet", "model: opus"))
    status, output = run("import_agents", "--dry-run", "--update", str(path))

    assert output.startswith("updated:")
    assert "-model: sonnet\n+model: opus\n" in output
    assert Agent.objects.get().model == "sonnet"


def test_a_failing_file_is_reported_with_its_line_saves_nothing_and_exits_1(tmp_path):
    write(tmp_path, "good.md", REVIEWER)
    bad = write(tmp_path, "zz-bad.md", "---\nname: broken\ndescription: [unclosed\n---\nBody\n")

    status, output = run("import_agents", str(tmp_path))

    assert status == 1
    assert f"error: {bad}:3: the frontmatter is not valid YAML" in output
    assert output.splitlines()[-1].endswith(
        "1 created, 0 updated, 0 unchanged, 0 conflict, 1 error"
    )
    assert list(Agent.objects.values_list("name", flat=True)) == ["code-reviewer"]


def test_owner_option_sets_the_owner_and_rejects_unknown_users(tmp_path, author):
    path = write(tmp_path, "code-reviewer.md", REVIEWER)
    with pytest.raises(CommandError, match="no user named 'ghost'"):
        call_command("import_agents", "--owner", "ghost", str(path), stdout=StringIO())

    run("import_agents", "--owner", "author", str(path))

    assert Agent.objects.get().owner == author


def test_unknown_tools_are_kept_with_a_warning(tmp_path):
    path = write(
        tmp_path, "a.md", REVIEWER.replace("Read, Glob, Grep", "Read, Search, mcp__gh__pr")
    )

    status, output = run("import_agents", str(path))

    assert status == 0
    assert f"warning: {path}:4: unknown tool 'Search' in tools" in output
    assert filebridge.tool_names(Agent.objects.get()) == ["Read", "Search", "mcp__gh__pr"]


def test_a_dry_run_reports_the_refusal_the_real_run_would_meet(tmp_path):
    path = write(tmp_path, "code-reviewer.md", REVIEWER)
    run("import_agents", str(path))
    workflow.transition(Agent.objects.get(), "submit", None)
    write(tmp_path, "code-reviewer.md", REVIEWER.replace("model: sonnet", "model: opus"))

    dry_status, dry_output = run("import_agents", "--update", "--dry-run", str(path))
    status, output = run("import_agents", "--update", str(path))

    assert (dry_status, status) == (1, 1)
    assert dry_output.splitlines()[0] == output.splitlines()[0]
    assert output.startswith(f"error: {path}:1: code-reviewer is in review: withdraw it")
    assert Agent.objects.get().model == "sonnet"


def test_comment_lines_before_the_first_key_come_back_from_the_database(tmp_path):
    # They are kept under the empty-string key of yaml_sources (a JSON column).
    text = REVIEWER.replace("---\nname:", "---\n# Maintained by the platform team.\n\n# v2\nname:")
    path = write(tmp_path, "code-reviewer.md", text)
    run("import_agents", str(path))

    agent = Agent.objects.for_export().get()

    assert filebridge.render(agent) == text
    assert agent.revisions.get().text == text
    run("export_agents", "--out", str(tmp_path / "out"), "--drafts")
    assert (tmp_path / "out" / "code-reviewer.md").read_text() == text
