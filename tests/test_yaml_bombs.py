"""YAML aliases that expand without bound are refused at once, wherever YAML is read: files on
the command line, the import page's uploads and the YAML boxes of the admin's agent form.

How fast the refusal is belongs to bench/yaml_bomb.py; here, that it comes without expanding:
the memory a refusal takes, measured with tracemalloc, stays at a few megabytes where the
expansion would take gigabytes.
"""

from __future__ import annotations

import tracemalloc

import pytest
import yaml

from agents import filebridge
from agents.models import Agent

from .test_admin import ADD, agent_post
from .test_admin_import import URL as IMPORT_URL
from .test_admin_import import upload
from .test_import_commands import REVIEWER, run, write

pytestmark = pytest.mark.django_db

FEW_MEGABYTES = 5 * 1024 * 1024


def alias_lines(levels: int) -> list[str]:
    """An anchor holding a list, then ``levels`` lists of ten aliases each to the one before:
    the last one expands to 10 ** (levels + 1) strings."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels + 1):
        previous, current = chr(ord("a") + level - 1), chr(ord("a") + level)
        lines.append(f"{current}: &{current} [" + ",".join([f"*{previous}"] * 10) + "]")
    return lines


def bomb_file(key: str = "tools", levels: int = 8) -> str:
    """The issue's file: about 400 bytes that expand to a billion tool names."""
    lines = alias_lines(levels)
    last = chr(ord("a") + levels)
    return "---\nname: bomb\ndescription: D\n" + "\n".join(lines) + f"\n{key}: *{last}\n---\nB\n"


def bomb_yaml(levels: int = 7) -> str:
    """The same in a YAML box of the admin form: a mapping ending with a key that uses it all."""
    last = chr(ord("a") + levels)
    return "\n".join(alias_lines(levels)) + f"\nall: *{last}\n"


def peak_memory(function, *args):
    """What ``function(*args)`` returns, and the most memory it held at once (warm the page up
    first: the first request also loads templates)."""
    tracemalloc.start()
    try:
        result = function(*args)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("key", ["tools", "disallowedTools", "skills", "x-extra"])
def test_command_refuses_an_alias_bomb_without_expanding_it_and_goes_on(tmp_path, key):
    bomb = write(tmp_path, "bomb.md", bomb_file(key))
    write(tmp_path, "good.md", REVIEWER)
    assert bomb.stat().st_size < 500

    (status, output), peak = peak_memory(run, "import_agents", str(tmp_path))

    assert status == 1
    # Line 8 holds 'e', the first list whose aliases repeat more than 100,000 values.
    assert f"error: {bomb}:8: YAML aliases (*name) in 'e' repeat more than 100,000" in output
    assert f"created: {tmp_path / 'good.md'} (code-reviewer)" in output
    assert output.splitlines()[-1] == (
        "2 files: 1 created, 0 updated, 0 unchanged, 0 conflict, 1 error"
    )
    assert list(Agent.objects.values_list("name", flat=True)) == ["code-reviewer"]
    assert peak < FEW_MEGABYTES


def test_a_recursive_alias_is_refused_with_its_line(tmp_path):
    path = write(
        tmp_path, "loop.md", "---\nname: loop\ndescription: D\nhooks: &h {Stop: [*h]}\n---\nB\n"
    )

    status, output = run("import_agents", str(path))

    assert status == 1
    assert f"error: {path}:4: 'hooks' holds a YAML alias inside its own anchor" in output
    assert not Agent.objects.exists()


def test_simple_aliases_in_a_real_file_still_import(tmp_path):
    text = (
        "---\n"
        "name: aliased\n"
        "description: D\n"
        "skills: &shared\n  - pdf\n  - xlsx\n"
        "x-also: *shared\n"
        "tools: &tools Read, Grep\n"
        "disallowedTools: *tools\n"
        "---\n"
        "Body\n"
    )
    path = write(tmp_path, "aliased.md", text)

    status, output = run("import_agents", str(path))

    assert status == 0, output
    agent = Agent.objects.for_export().get()
    assert agent.skills == ["pdf", "xlsx"]
    assert agent.extra_frontmatter == {"x-also": ["pdf", "xlsx"]}
    assert filebridge.tool_names(agent) == ["Read", "Grep"]
    assert agent.disallowed_tools == ["Read", "Grep"]
    exported = filebridge.render(agent)
    assert yaml.safe_load(exported.split("---\n")[1]) == yaml.safe_load(text.split("---\n")[1])


def test_the_import_page_refuses_an_uploaded_alias_bomb_in_its_preview(admin_client):
    admin_client.post(IMPORT_URL, {"files": [upload("good.md", REVIEWER)]})  # templates loaded
    response, peak = peak_memory(
        admin_client.post,
        IMPORT_URL,
        {"files": [upload("bomb.md", bomb_file()), upload("good.md", REVIEWER)]},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "line 8: YAML aliases (*name) in &#x27;e&#x27; repeat more than 100,000" in page
    assert "Nothing can be imported until every file is fixed or removed." in page
    assert 'name="batch"' not in page
    assert len(response.content) < 100_000
    assert peak < FEW_MEGABYTES
    assert not Agent.objects.exists()


@pytest.mark.parametrize("field", ["skills", "mcp_servers", "hooks", "extra_frontmatter"])
def test_the_agent_form_refuses_an_alias_bomb_in_each_yaml_box(admin_client, field):
    data = agent_post(**{field: bomb_yaml()})
    admin_client.get(ADD)  # templates loaded

    response, peak = peak_memory(admin_client.post, ADD, data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    assert errors[field] == [
        "Line 5: YAML aliases (*name) in 'e' repeat more than 100,000 values and characters: "
        "refused as an alias bomb; write the values out instead"
    ]
    assert len(response.content) < 200_000
    assert peak < FEW_MEGABYTES
    assert not Agent.objects.exists()


def test_the_agent_form_refuses_a_recursive_alias(admin_client):
    response = admin_client.post(ADD, agent_post(hooks="Stop: &s\n  - *s\n"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["hooks"] == [
        "Line 1: 'Stop' holds a YAML alias inside its own anchor (&name ... *name): "
        "a value cannot contain itself"
    ]
    assert not Agent.objects.exists()


@pytest.mark.parametrize(
    ("tools", "message"),
    [
        ("[Read, [Grep, Glob]]", "entry 2 of tools is a list, not a tool name"),
        ("[Read, {Grep: yes}]", "entry 2 of tools is a mapping, not a tool name"),
        ("[Read, 5]", "entry 2 of tools is a number (5), not a tool name"),
        ("[Read, null]", "entry 2 of tools is empty, not a tool name"),
        ("{Read: yes}", "tools must be tool names separated by commas, not a mapping"),
        ("12", "tools must be tool names separated by commas, not a number (12)"),
    ],
)
def test_tool_entries_that_are_not_text_are_refused_with_the_line(tmp_path, tools, message):
    path = write(tmp_path, "a.md", REVIEWER.replace("tools: Read, Glob, Grep", f"tools: {tools}"))
    write(tmp_path, "b.md", REVIEWER.replace("code-reviewer", "tester"))

    status, output = run("import_agents", str(tmp_path))

    assert status == 1
    assert f"error: {path}:4: {message}" in output
    assert list(Agent.objects.values_list("name", flat=True)) == ["tester"]


def test_the_import_page_refuses_tool_entries_that_are_not_text(admin_client):
    text = REVIEWER.replace("tools: Read, Glob, Grep", "disallowedTools: [Bash, [a, b]]")

    response = admin_client.post(IMPORT_URL, {"files": [upload("a.md", text)]})

    page = response.content.decode()
    assert "line 4: entry 2 of disallowedTools is a list, not a tool name" in page
    assert 'name="batch"' not in page


@pytest.mark.parametrize(
    ("value", "line", "message"),
    [
        ("9" * 5000, 4, "a number of more than 4,000 digits"),
        ("0x" + "f" * 4000, 4, "a number of more than 4,000 digits"),
        ("2024-02-30", 4, "day is out of range for month"),
    ],
)
def test_values_python_cannot_hold_are_refused_in_the_agent_form(
    admin_client, value, line, message
):
    extra = f"a: 1\nb: 2\nc: 3\nd: {value}\n"

    response = admin_client.post(ADD, agent_post(extra_frontmatter=extra))

    assert response.status_code == 200
    [error] = response.context["adminform"].form.errors["extra_frontmatter"]
    assert error == f"Not valid YAML (line {line}): cannot read this value: {message}"
    assert not Agent.objects.exists()


def test_a_file_with_a_number_python_cannot_print_is_imported_as_text(tmp_path):
    path = write(tmp_path, "a.md", REVIEWER.replace("color: blue", "version: " + "9" * 5000))

    status, output = run("import_agents", str(path))

    assert status == 0, output
    assert (
        f"warning: {path}:6: 'version' is not valid YAML as written (cannot read this value: "
        "a number of more than 4,000 digits)"
    ) in output
    assert Agent.objects.get().extra_frontmatter == {"version": "9" * 5000}


def test_an_alias_bomb_in_one_key_of_a_file_that_needs_repairs_is_refused(tmp_path):
    # The unquoted ': ' sends the file through the key-by-key repair, which loads each key alone.
    levels = ['&a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 8):
        previous, current = chr(ord("a") + level - 1), chr(ord("a") + level)
        levels.append(f"&{current} [" + ",".join([f"*{previous}"] * 10) + "]")
    text = (
        "---\nname: bomb\ndescription: Use when: tests fail\n"
        f"x-bomb: [{', '.join(levels)}]\n---\nB\n"
    )
    path = write(tmp_path, "bomb.md", text)

    (status, output), peak = peak_memory(run, "import_agents", str(path))

    assert status == 1
    assert output.startswith(f"error: {path}:4: YAML aliases (*name) in 'x-bomb' repeat more than")
    assert peak < FEW_MEGABYTES
