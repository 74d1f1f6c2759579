"""Values longer than the portal stores are refused with a located error before anything is
saved: on the command line (and the run goes on), on the import page's preview and in the agent
form. PostgreSQL enforces the columns' limits (SQLite does not): run this on both."""

from __future__ import annotations

import zipfile
from io import BytesIO

import pytest

from agents import agentfile, filebridge
from agents.models import Agent, AgentTool, Revision

from .test_admin import ADD, agent_post
from .test_admin_import import URL as IMPORT_URL
from .test_admin_import import batch_of, upload
from .test_import_commands import REVIEWER, run, write

pytestmark = pytest.mark.django_db

# (what replaces "color: blue" in the file, its line, the error)
TOO_BIG = [
    ("color: " + "b" * 21, 6, "color is 21 characters long; at most 20"),
    ("memory: " + "m" * 21, 6, "memory is 21 characters long; at most 20"),
    ("effort: " + "e" * 21, 6, "effort is 21 characters long; at most 20"),
    ("isolation: " + "w" * 21, 6, "isolation is 21 characters long; at most 20"),
    ("permissionMode: " + "p" * 41, 6, "permissionMode is 41 characters long; at most 40"),
    ("model: " + "claude-" + "x" * 94, 5, "model is 101 characters long; at most 100"),
    ("maxTurns: 3000000000", 6, "maxTurns is 3,000,000,000; at most 2,147,483,647"),
    (
        "maxTurns: 99999999999999999999999",
        6,
        "maxTurns is 99,999,999,999,999,999,999,999; at most 2,147,483,647",
    ),
    ("disallowedTools: Read, " + "T" * 301, 6, "a tool name in disallowedTools is 301 characters"),
    ('description: "a\\0b"', 3, "'description' holds a NUL character (\\0)"),
]


def too_big_file(replacement: str) -> str:
    key = replacement.split(":")[0]
    if key in ("model", "description"):  # in place of the key's own line
        lines = REVIEWER.splitlines(keepends=True)
        return "".join(replacement + "\n" if line.startswith(key) else line for line in lines)
    return REVIEWER.replace("color: blue", replacement)


@pytest.mark.parametrize(("replacement", "line", "message"), TOO_BIG)
def test_command_refuses_values_too_big_to_store_and_goes_on(tmp_path, replacement, line, message):
    bad = write(tmp_path, "a-bad.md", too_big_file(replacement))
    write(tmp_path, "b-good.md", REVIEWER.replace("code-reviewer", "tester"))

    status, output = run("import_agents", str(tmp_path))

    assert status == 1
    assert f"error: {bad}:{line}: {message}" in output
    assert f"created: {tmp_path / 'b-good.md'} (tester)" in output
    assert output.splitlines()[-1] == (
        "2 files: 1 created, 0 updated, 0 unchanged, 0 conflict, 1 error"
    )
    assert list(Agent.objects.values_list("name", flat=True)) == ["tester"]


def test_a_tool_name_too_long_for_its_column_is_refused(tmp_path):
    long_tool = "mcp__server__" + "t" * 288
    path = write(tmp_path, "a.md", REVIEWER.replace("Read, Glob, Grep", f"Read, {long_tool}"))

    status, output = run("import_agents", str(path))

    assert status == 1
    assert f"error: {path}:4: a tool name in tools is 301 characters long; at most 300" in output
    assert not AgentTool.objects.exists()


def test_a_name_too_long_is_refused(tmp_path):
    path = write(tmp_path, "a.md", REVIEWER.replace("code-reviewer", "n" * 201))

    status, output = run("import_agents", str(path))

    assert status == 1
    assert f"error: {path}:2: name is 201 characters long; at most 200" in output


def test_values_at_the_limits_are_stored(tmp_path):
    text = REVIEWER.replace(
        "color: blue",
        "color: " + "b" * 20 + "\nmaxTurns: 2147483647\npermissionMode: " + "p" * 40,
    ).replace("Read, Glob, Grep", "Read, mcp__s__" + "t" * 292)
    path = write(tmp_path, "a.md", text)

    status, output = run("import_agents", str(path))

    assert status == 0, output
    agent = Agent.objects.for_export().get()
    assert (agent.color, agent.max_turns, agent.permission_mode) == ("b" * 20, 2**31 - 1, "p" * 40)
    assert len(filebridge.tool_names(agent)[1]) == 300
    assert filebridge.render(agent) == text


def test_the_models_take_their_limits_from_the_format_module():
    fields = {field.name: field for field in Agent._meta.fields}
    assert fields["color"].max_length == agentfile.MAX_LENGTH["color"]
    assert fields["permission_mode"].max_length == agentfile.MAX_LENGTH["permissionMode"]
    assert AgentTool._meta.get_field("name").max_length == agentfile.MAX_TOOL_NAME_LENGTH


@pytest.mark.parametrize(("replacement", "line", "message"), TOO_BIG[:7])
def test_the_import_preview_refuses_values_too_big_to_store(
    admin_client, replacement, line, message
):
    response = admin_client.post(IMPORT_URL, {"files": [upload("a.md", too_big_file(replacement))]})

    page = response.content.decode()
    assert response.status_code == 200
    assert "<strong>error</strong>" in page and "<strong>created</strong>" not in page
    assert f"line {line}: {message}" in page
    assert 'name="batch"' not in page
    assert not Agent.objects.exists()


def test_the_agent_form_shows_a_max_turns_too_big_next_to_the_field(admin_client):
    response = admin_client.post(ADD, agent_post(max_turns="3000000000"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "max_turns": ["maxTurns is 3,000,000,000; at most 2,147,483,647"]
    }
    assert not Agent.objects.exists()


def test_the_agent_form_shows_a_known_key_too_long_in_the_other_keys_box(admin_client):
    response = admin_client.post(
        ADD, agent_post(color="", extra_frontmatter="color: " + "c" * 25 + "\n")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "extra_frontmatter": ["color is 25 characters long; at most 20"]
    }


def test_a_value_the_database_refuses_becomes_that_files_error_and_the_run_goes_on(
    tmp_path, monkeypatch
):
    # validate() knows every column's limit; this stands for one it would not know.
    monkeypatch.setattr(agentfile, "MAX_TURNS", 10**30)
    bad = write(tmp_path, "a-bad.md", REVIEWER.replace("color: blue", "maxTurns: " + "9" * 25))
    write(tmp_path, "b-good.md", REVIEWER.replace("code-reviewer", "tester"))

    status, output = run("import_agents", str(tmp_path))

    assert status == 1
    assert f"error: {bad}:1: the database refused this file: " in output
    assert output.splitlines()[-1] == (
        "2 files: 1 created, 0 updated, 0 unchanged, 0 conflict, 1 error"
    )
    assert list(Agent.objects.values_list("name", flat=True)) == ["tester"]


def test_the_import_confirmation_reports_a_value_the_database_refuses(admin_client, monkeypatch):
    monkeypatch.setattr(agentfile, "MAX_TURNS", 10**30)
    text = REVIEWER.replace("color: blue", "maxTurns: " + "9" * 25)
    preview = admin_client.post(IMPORT_URL, {"files": [upload("a.md", text)]})

    response = admin_client.post(IMPORT_URL, {"batch": batch_of(preview)})

    assert response.status_code == 200
    assert "the database refused this file" in response.content.decode()
    assert not Agent.objects.exists()


def test_a_long_member_path_is_shortened_in_the_middle_of_the_revision_note(tmp_path):
    member = "/".join(["folder-" + "f" * 40] * 12) + "/code-reviewer.md"
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(member, REVIEWER)
    path = write(tmp_path, "agents.zip", buffer.getvalue())

    status, output = run("import_agents", str(path))

    assert status == 0, output
    note = Revision.objects.get().note
    limit = Revision._meta.get_field("note").max_length
    assert len(f"Imported from {path}:{member}") > limit
    assert len(note) == limit
    assert note.startswith(f"Imported from {path}:folder-fff")
    assert note.endswith("ffff/code-reviewer.md")
    assert "…" in note


def test_a_step_title_too_long_for_its_column_stays_in_the_steps_text(tmp_path):
    title = "Read " * 50  # 250 characters, in bold
    text = REVIEWER + f"\n## Instructions\n\n1. **{title.strip()}**: every file.\n2. Report.\n"
    path = write(tmp_path, "a.md", text)

    status, output = run("import_agents", str(path))

    assert status == 0, output
    agent = Agent.objects.for_export().get()
    first = agent.steps.get(position=1)
    assert (first.title, first.text) == ("", f"**{title.strip()}**: every file.")
    assert filebridge.render(agent) == text
