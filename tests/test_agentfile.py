"""The format module: what a file becomes, and what the portal writes."""

from __future__ import annotations

import pytest
import yaml

from agents import agentfile
from agents.agentfile import AgentFileError, parse, render

REGISTRY = {"Read": None, "Grep": None, "Glob": None, "Agent": None, "Task": "Agent"}


def frontmatter_of(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text[4 : text.index("\n---\n", 3) + 1])


def test_render_writes_a_file_claude_code_loads():
    text = render(
        {
            "name": "code-reviewer",
            "description": "Reviews code. Use proactively.",
            "tools": ["Read", "Grep", "Agent(worker, researcher)"],
            "model": "sonnet",
            "color": "",
            "skills": [],
            "maxTurns": None,
        },
        "\nYou review code.\n",
    )
    assert text == (
        "---\n"
        "name: code-reviewer\n"
        "description: Reviews code. Use proactively.\n"
        "tools: Read, Grep, Agent(worker, researcher)\n"
        "model: sonnet\n"
        "---\n"
        "\nYou review code.\n"
    )


@pytest.mark.parametrize(
    "description",
    [
        "Use when: the build breaks",
        "**Bold** start",
        "* star",
        "- dash",
        "yes",
        "null",
        "123",
        "# not a comment",
        'He said "hi"',
        "It's fine",
        "line one\nline two",
        "trailing space ",
        "[bracket",
        "{brace",
        "&anchor",
        "!tag",
        ">folded",
        "|literal",
        "Ünïcödé and emoji 🎉",
    ],
)
def test_description_is_plain_when_safe_and_double_quoted_otherwise(description):
    text = render({"name": "a", "description": description}, "")

    line = text.splitlines()[2]
    assert frontmatter_of(text)["description"] == description
    if line == f"description: {description}":
        assert yaml.safe_load(description) == description  # plain only when it reads back as-is
    else:
        assert line.startswith('description: "')


def test_parse_reads_values_in_order_and_keeps_unknown_keys():
    parsed = parse(
        "---\nname: a\nversion: 1.0\ndescription: D\ntags: [x, y]\ncreated: 2024-01-15\n---\nB"
    )
    assert list(parsed.frontmatter) == ["name", "version", "description", "tags", "created"]
    assert parsed.frontmatter["version"] == 1.0
    assert str(parsed.frontmatter["created"]) == "2024-01-15"
    assert parsed.body == "B"
    assert parsed.warnings == []


def test_a_clean_file_renders_back_byte_for_byte_whatever_quoting_it_used():
    text = (
        "---\n"
        "name: 'quoted-name'\n"
        'description: "A description: with a colon"\n'
        "tools: Read,Grep\n"
        "notes: |\n"
        "  kept as\n"
        "  written\n"
        "# a comment between keys\n"
        "model: inherit\n"
        "---\n"
        "Body\n"
    )
    parsed = parse(text)
    assert render(parsed.frontmatter, parsed.body, parsed.sources, parsed.prefix) == text


def test_a_changed_value_keeps_the_style_it_was_written_in():
    parsed = parse("---\nname: a\ndescription: 'Single quoted'\n---\n")
    values = {**parsed.frontmatter, "description": "Now changed"}

    assert "description: 'Now changed'\n" in render(values, "", parsed.sources)


def test_crlf_and_bom_are_repaired_with_a_warning():
    parsed = parse(b"\xef\xbb\xbf---\r\nname: a\r\ndescription: D\r\n---\r\nBody\r\n")

    assert parsed.body == "Body\n"
    messages = [str(w) for w in parsed.warnings]
    assert "line 1: removed a UTF-8 byte order mark before the frontmatter" in messages
    assert "line 1: converted CRLF line endings to LF" in messages
    assert render(parsed.frontmatter, parsed.body, parsed.sources).startswith("---\nname: a\n")


@pytest.mark.parametrize(
    ("line", "value"),
    [
        (
            "description: Use this agent when: tests fail. Examples: <example>Context: x</example>",
            "Use this agent when: tests fail. Examples: <example>Context: x</example>",
        ),
        ("description: **Bold** expert for Go", "**Bold** expert for Go"),
        ("description: *", "*"),
        ("description: `make test` runner", "`make test` runner"),
        ("description: @reviewer's helper", "@reviewer's helper"),
    ],
)
def test_values_yaml_cannot_read_are_taken_as_written_with_a_warning(line, value):
    parsed = parse(f"---\nname: a\n{line}\nmodel: sonnet\n---\nBody\n")

    assert parsed.frontmatter == {"name": "a", "description": value, "model": "sonnet"}
    assert len(parsed.warnings) == 1
    assert parsed.warnings[0].line == 3
    assert "'description' is not valid YAML as written" in parsed.warnings[0].message
    out = render(parsed.frontmatter, parsed.body, parsed.sources)
    assert frontmatter_of(out)["description"] == value


def test_a_multi_line_unquoted_value_is_folded_as_yaml_would():
    parsed = parse("---\nname: a\ndescription: First: line\n  second line\n\n  third\n---\n")

    assert parsed.frontmatter["description"] == "First: line second line\nthird"


def test_tools_list_and_trailing_comma_are_written_as_a_clean_comma_string():
    parsed = parse("---\nname: a\ndescription: D\ntools:\n  - Read\n  - Grep\n---\n")
    assert "line 4: 'tools' is a YAML list" in str(parsed.warnings[0])
    assert "tools: Read, Grep\n" in render(parsed.frontmatter, parsed.body, parsed.sources)

    parsed = parse("---\nname: a\ndescription: D\ntools: Read, Grep,\n---\n")
    assert "empty entry" in parsed.warnings[0].message
    assert "tools: Read, Grep\n" in render(parsed.frontmatter, parsed.body, parsed.sources)


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        (b"# Just markdown\n", 1, "no frontmatter"),
        (b"# Title\n\n```yaml\n---\nname: a\n---\n```\n", 4, "must be the very first thing"),
        (b"\n    ---\n    name: a\n    ---\n", 2, "indented or comes after other text"),
        (b"---\nname: a\ndescription: D\n", 1, "never closed"),
        (b"---\nname: a\ndescription: D\nname: b\n---\n", 4, "duplicate key 'name'"),
        (b"---\nname: a\ndescription: [x\n---\n", 3, "not valid YAML"),
        (b"---\n- a\n- b\n---\n", 2, "must be YAML 'key: value' lines"),
        (b"---\nname: a\x00\n---\n", 2, "NUL bytes"),
        (b"---\nname: a\ndescription: caf\xe9\n---\n", 3, "not UTF-8"),
        (b"---\n---\nBody", None, "frontmatter is empty"),
    ],
)
def test_files_that_cannot_be_agents_are_refused_with_a_line(data, line, message):
    with pytest.raises(AgentFileError) as caught:
        parse(data)
    assert caught.value.line == line
    assert message in caught.value.message


def test_a_file_over_one_megabyte_is_refused():
    data = b"---\nname: a\ndescription: D\n---\n" + b"x" * (5 * 1024 * 1024)
    with pytest.raises(AgentFileError, match="file too large: 5,242,911 bytes"):
        parse(data)


def test_a_missing_name_comes_from_the_file_name_with_a_warning():
    parsed = parse("---\ndescription: D\n---\n", filename="some/dir/Task Agent.md")

    assert parsed.frontmatter == {"name": "task-agent", "description": "D"}
    assert "named it 'task-agent' after the file" in parsed.warnings[0].message


def test_split_tools_keeps_arguments_together():
    assert agentfile.split_tools("Read, Agent(worker, researcher),, mcp__gh__*") == [
        "Read",
        "Agent(worker, researcher)",
        "mcp__gh__*",
    ]
    assert agentfile.split_tools(["Read", "Grep"]) == ["Read", "Grep"]


def test_validate_strict_explains_each_problem():
    errors, _ = agentfile.validate(
        {
            "name": "Bad Name",
            "description": " ",
            "model": "gpt-4",
            "color": "violet",
            "tools": "Read, Search, mcp__github__create_issue, Agent(a, b)",
        },
        REGISTRY,
        strict=True,
    )
    messages = {error.field: error.message for error in errors}
    assert "does not match" in messages["name"] and "code-reviewer" in messages["name"]
    assert "'description' is required" in messages["description"]
    assert "unknown model 'gpt-4': use one of inherit, sonnet" in messages["model"]
    assert "unknown color 'violet': use one of red, blue" in messages["color"]
    assert "unknown tool 'Search'" in messages["tools"]
    assert len(errors) == 5


def test_validate_lenient_keeps_the_file_but_warns():
    errors, warnings = agentfile.validate(
        {"name": "Odd_Name", "description": "D", "tools": "Task, Search"}, REGISTRY, strict=False
    )
    assert errors == []
    assert [w.field for w in warnings] == ["name", "tools", "tools"]
    assert "'Task' is a legacy tool name; today it is 'Agent'" in warnings[1].message
    assert "unknown tool 'Search'" in warnings[2].message


BODY = """\

# Purpose

You help.

## Instructions

When invoked:

1. **Read**: Read the code.
   - nested bullet

2. **Think:** Think hard.

3. Act without a title.

## Report

```bash
# not a heading
```
"""


def test_body_sections_and_steps_rebuild_the_exact_text():
    parts = agentfile.split_body(BODY)

    assert agentfile.join_body(parts) == BODY
    steps = next(part for part in parts if part.is_steps)
    assert [(s.title, s.text) for s in steps.steps] == [
        ("Read", "Read the code.\n   - nested bullet"),
        ("Think:", "Think hard."),
        ("", "Act without a title."),
    ]
    headings = [agentfile.section_heading(p.markdown) for p in parts if not p.is_steps]
    assert headings == ["Purpose", "Instructions", "", "Report"]


def test_a_numbered_list_that_would_not_render_back_identically_stays_markdown():
    body = "## Steps\n\n1. One\n\n3. Three\n"
    parts = agentfile.split_body(body)
    assert not any(part.is_steps for part in parts)
    assert agentfile.join_body(parts) == body
