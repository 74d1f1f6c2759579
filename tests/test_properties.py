"""Properties of the format module on generated agents: what ``render`` writes always loads,
reads back to the same values and body, and survives ``parse`` and ``render`` again unchanged;
and, through the database, that an imported file is exported byte for byte.

The read-back uses a strict reader written here (the first two ``---`` lines, then
``yaml.safe_load``), not ``agentfile.parse``.
"""

from __future__ import annotations

import datetime
import operator
from typing import Any

import pytest
import yaml
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from agents import agentfile, filebridge
from agents.agentfile import KNOWN_KEYS, TOOL_LIST_KEYS, parse, render, split_tools
from agents.importing import import_file
from agents.models import Agent, Tool

SETTINGS = settings(max_examples=200, deadline=None)
EMPTY_VALUES = (None, "", [], {})

# --- Text that YAML reads as something else, or cannot read plain ------------------------------

TRICKY_PIECES = [
    ": ",
    ":",
    "'",
    '"',
    "\n",
    "\n\n",
    "#",
    " #",
    "*",
    "**",
    "&",
    "!",
    ">",
    "|",
    "[",
    "]",
    "{",
    "}",
    "%",
    "@",
    "`",
    "- ",
    "-",
    "? ",
    ",",
    "=",
    "<<",
    "---",
    "...",
    "null",
    "Null",
    "NULL",
    "~",
    "yes",
    "Yes",
    "no",
    "NO",
    "on",
    "off",
    "y",
    "n",
    "true",
    "False",
    "123",
    "-7",
    "+1",
    "1.5",
    ".5",
    "0x1F",
    "0o17",
    "017",
    "0b101",
    "1e3",
    "1.0e+3",
    "1_000",
    "12:30:45",
    ".inf",
    "-.Inf",
    ".nan",
    "2024-01-01",
    "2024-01-01 10:00:00",
    "2024-01-01T10:00:00Z",
    "Use when: tests fail",
    "<example>Context: x</example>",
    "é",
    "café",
    "日本語のテキスト",
    "🎉",
    "👩‍💻",
    " ",
    "  ",
    "\t",
    "\\",
    "\\n",
    "\x85",
    "\u2028",
    "\u2029",
    "\ufeff",
    "\xa0",
    "\x00",
    "\r",
    "\r\n",
    "\x7f",
    "\x1b",
    "\x0b",
]
# Any character UTF-8 can encode (lone surrogates cannot be in a file at all).
ANY_CHAR = st.characters(codec="utf-8")
text_values = st.lists(
    st.one_of(
        st.sampled_from(TRICKY_PIECES),
        st.text(ANY_CHAR, max_size=6),
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12),
    ),
    max_size=6,
).map("".join)
nonempty_text = text_values.map(lambda text: text or "x")
# A description that starts with a character YAML gives a meaning to, or with white space.
descriptions = st.one_of(
    nonempty_text,
    st.builds(operator.add, st.sampled_from(list("*&!>|[{%@`#-?:'\" \t~")), text_values),
)

LOWER_DIGITS = "abcdefghijklmnopqrstuvwxyz0123456789"
WORD_CHARS = LOWER_DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
valid_names = st.lists(st.text(LOWER_DIGITS, min_size=1, max_size=8), min_size=1, max_size=3).map(
    "-".join
)
odd_names = st.one_of(
    st.sampled_from(
        [
            "Code Reviewer",
            "code_reviewer",
            "-lead",
            "a:b",
            "a: b",
            "yes",
            "null",
            "~",
            "true",
            "123",
            "1.5",
            "0x1F",
            "2024-01-01",
            " padded ",
            "名前",
        ]
    ),
    nonempty_text,
)
names = st.one_of(valid_names, odd_names)

BUILTIN_TOOLS = [
    "Agent",
    "Task",
    "Bash",
    "Edit",
    "MultiEdit",
    "Glob",
    "Grep",
    "LS",
    "Read",
    "Write",
    "NotebookEdit",
    "WebFetch",
    "WebSearch",
    "TodoWrite",
    "Skill",
    "TaskOutput",
    "AskUserQuestion",
]
mcp_part = st.text(WORD_CHARS + ".-", min_size=1, max_size=10)
mcp_tools = st.one_of(
    st.builds("mcp__{}".format, mcp_part),
    st.builds("mcp__{}__{}".format, mcp_part, mcp_part),
    st.builds("mcp__{}__*".format, mcp_part),
)
agent_tools = st.lists(valid_names, min_size=1, max_size=3).map(
    lambda agents: f"Agent({', '.join(agents)})"
)
# Any other name a file could list: no comma or parenthesis, no surrounding space.
odd_tools = text_values.map(
    lambda name: "".join(char for char in name if char not in ",()").strip() or "Odd"
)
tool_names = st.one_of(
    st.sampled_from(BUILTIN_TOOLS),
    mcp_tools,
    agent_tools,
    st.just("Bash(git status:*)"),
    odd_tools,
)


@st.composite
def tool_values(draw: st.DrawFn) -> Any:
    """A tools value as a caller may give it: a list, or a comma string with any spacing."""
    tools = draw(st.lists(tool_names, max_size=6))
    form = draw(st.sampled_from(["list", "comma", "comma-tight", "trailing-comma"]))
    if form == "list":
        return tools
    if form == "comma":
        return ", ".join(tools)
    if form == "comma-tight":
        return ",".join(tools)
    return ", ".join(tools) + ","


# --- Keys beyond the known ones, with any YAML value ---------------------------------------------

extra_keys = st.one_of(
    st.builds(operator.add, st.sampled_from("abcXYZ_"), st.text(WORD_CHARS, max_size=12)),
    st.sampled_from(
        ["version", "author", "tags", "null", "yes", "no", "on", "off", "true", "True", "y", "_"]
    ),
    st.sampled_from(["café", "名前", "ñame"]),
).filter(lambda key: key.isidentifier() and key not in KNOWN_KEYS)

scalars = st.one_of(
    text_values,
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.none(),
)
nested_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(text_values, children, max_size=3),
    ),
    max_leaves=8,
)
# A top-level value: sometimes empty, to check that it is left out.
top_values = st.one_of(nested_values, st.sampled_from(EMPTY_VALUES))
maybe_empty = st.sampled_from(EMPTY_VALUES)


@st.composite
def frontmatters(draw: st.DrawFn) -> dict[str, Any]:
    """Known keys in the order the portal writes them, extra keys mixed in anywhere."""
    known: dict[str, Any] = {
        "name": draw(names),
        "description": draw(descriptions),
    }
    optional = {
        "tools": tool_values(),
        "disallowedTools": tool_values(),
        "model": st.one_of(st.sampled_from(agentfile.MODEL_ALIASES), text_values),
        "color": st.one_of(st.sampled_from(agentfile.COLORS), text_values),
        "permissionMode": st.sampled_from(agentfile.PERMISSION_MODES),
        "maxTurns": st.integers(min_value=-5, max_value=10**6),
        "skills": st.lists(nonempty_text, max_size=3),
        "mcpServers": st.lists(
            st.one_of(nonempty_text, st.dictionaries(extra_keys, nested_values, max_size=2)),
            max_size=3,
        ),
        "hooks": st.dictionaries(extra_keys, nested_values, max_size=2),
        "memory": st.sampled_from(agentfile.MEMORY_SCOPES),
        "background": st.booleans(),
        "effort": st.sampled_from(agentfile.EFFORTS),
        "isolation": st.sampled_from(agentfile.ISOLATIONS),
        "initialPrompt": text_values,
    }
    for key, strategy in optional.items():
        choice = draw(st.sampled_from(["absent", "value", "empty"]))
        if choice == "value":
            known[key] = draw(strategy)
        elif choice == "empty":
            known[key] = draw(maybe_empty)
    extras = draw(st.dictionaries(extra_keys, top_values, max_size=4))
    items = list(known.items())
    for key, value in extras.items():
        items.insert(draw(st.integers(0, len(items))), (key, value))
    return dict(items)


# --- Bodies --------------------------------------------------------------------------------------

body_text = st.text(st.characters(codec="utf-8", exclude_characters="\r\n\x00"), max_size=20)
body_lines = st.one_of(
    st.sampled_from(
        [
            "",
            "---",
            "----",
            "--- ",
            "```",
            "```python",
            "~~~",
            "````",
            "# Purpose",
            "## Instructions",
            "## Steps",
            "### Workflow",
            "#### Not a step heading",
            "1. **Read**: Read the code.",
            "1. First",
            "2. **Think:** Think hard.",
            "2. Second",
            "3. Act without a title.",
            "4. **Bold**",
            "   - nested bullet",
            "\tindented with a tab",
            "    indented code",
            "- bullet",
            "* star",
            "> quote",
            "name: not frontmatter",
            "description: nor this",
        ]
    ),
    body_text,
)


@st.composite
def instruction_sections(draw: st.DrawFn) -> str:
    """A '## Instructions' heading and a numbered list the portal should lift out as steps."""
    heading = draw(st.sampled_from(["## Instructions", "## Steps", "### Workflow", "# Process"]))
    intro = draw(st.sampled_from(["", "When invoked:\n\n"]))
    tight = draw(st.booleans())
    steps = draw(
        st.lists(
            st.builds(
                agentfile.Step,
                st.sampled_from(["", "Read", "Think hard", "Check:", "Done.", "Ask?", "Go!"]),
                st.builds(
                    operator.add,
                    st.text(WORD_CHARS + " .,:*`", min_size=1, max_size=30).map(str.strip),
                    st.sampled_from(["", "\n   - nested", "\n   - one\n   - two"]),
                ).map(lambda text: text if text[:1].isalnum() else "Do" + text),
            ),
            min_size=2,
            max_size=5,
        )
    )
    return f"{heading}\n\n{intro}" + agentfile.render_steps(steps, tight)


@st.composite
def bodies(draw: st.DrawFn) -> str:
    chunks = draw(
        st.lists(
            st.one_of(
                st.lists(body_lines, max_size=6).map(
                    lambda lines: "".join(f"{x}\n" for x in lines)
                ),
                instruction_sections(),
            ),
            max_size=5,
        )
    )
    body = "".join(chunks)
    if draw(st.booleans()):
        body = body.removesuffix("\n")  # a file need not end with a newline
    return body


# --- An independent reader -----------------------------------------------------------------------


def strict_read(text: str) -> tuple[dict[str, Any], str]:
    """(frontmatter, body): the YAML between the first two '---' lines, and what follows.

    NEL, LS and PS are line breaks to YAML 1.1 (PyYAML) and text to YAML 1.2: written raw, the
    two would read different values, so a frontmatter must have them escaped.
    """
    lines = text.split("\n")
    assert lines[0] == "---"
    close = lines.index("---", 1)
    yaml_text = "".join(line + "\n" for line in lines[1:close])
    assert not set(yaml_text) & {"\x85", "\u2028", "\u2029"}
    values = yaml.safe_load(yaml_text)
    assert isinstance(values, dict)
    return values, "\n".join(lines[close + 1 :])


def same(a: Any, b: Any) -> bool:
    """Equality that also compares types, all the way down (``True`` is not ``1``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def expected_values(frontmatter: dict[str, Any]) -> dict[str, Any]:
    """What the file must say: empty values left out, tool lists as the names they list."""
    expected = {}
    for key, value in frontmatter.items():
        if key in TOOL_LIST_KEYS:
            value = split_tools(value)
        if not any(same(value, empty) for empty in EMPTY_VALUES):
            expected[key] = value
    return expected


def read_values(values: dict[str, Any]) -> dict[str, Any]:
    return {
        key: split_tools(value) if key in TOOL_LIST_KEYS else value for key, value in values.items()
    }


def entry_lines(text: str, key: str) -> list[str]:
    """The frontmatter lines of one top-level key: its own line and any continuation lines."""
    lines = text.split("\n")[1:]
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{key}:"))
    stop = start + 1
    while lines[stop] != "---" and lines[stop][:1] in (" ", "\t", ""):
        stop += 1
    return lines[start:stop]


# --- Properties ----------------------------------------------------------------------------------


@SETTINGS
@given(frontmatters(), bodies())
@example({"name": "a", "description": "Use when: x", "tools": ["Read", "Agent(a, b)"]}, "")
@example({"name": "yes", "description": "null", "version": 1.0, "created": "2024-01-01"}, "---\n")
def test_a_rendered_agent_reads_back_to_the_same_values_and_body(frontmatter, body):
    text = render(frontmatter, body)

    values, read_body = strict_read(text)
    assert same(read_values(values), expected_values(frontmatter))
    assert read_body == body


@SETTINGS
@given(frontmatters(), bodies())
def test_a_rendered_agent_follows_the_loading_rules(frontmatter, body):
    data = render(frontmatter, body).encode("utf-8")

    assert data.startswith(b"---\n")
    assert b"\r" not in data
    assert not data.startswith(b"\xef\xbb\xbf")
    values, _ = strict_read(data.decode("utf-8"))
    for key in TOOL_LIST_KEYS:
        if key in values:
            assert isinstance(values[key], str)
            assert all(part.strip() for part in values[key].split(","))
    assert not [key for key, value in values.items() if value in EMPTY_VALUES]

    [line] = entry_lines(data.decode("utf-8"), "description")  # one line: no block, no folding
    written = line.removeprefix("description: ")
    if not written.startswith('"'):
        assert yaml.safe_load(written) == frontmatter["description"]
        assert yaml.safe_load(line) == {"description": frontmatter["description"]}


@SETTINGS
@given(frontmatters(), bodies())
def test_parse_then_render_gives_the_same_bytes_and_no_warnings(frontmatter, body):
    text = render(frontmatter, body)

    parsed = parse(text)
    assert parsed.warnings == []
    assert parsed.body == body
    assert render(parsed.frontmatter, parsed.body, parsed.sources, parsed.prefix) == text
    assert render(parsed.frontmatter, parsed.body) == text


@SETTINGS
@given(bodies())
def test_split_body_and_join_body_give_back_the_body(body):
    assert agentfile.join_body(agentfile.split_body(body)) == body


@SETTINGS
@given(instruction_sections(), bodies())
def test_a_numbered_list_under_an_instructions_heading_becomes_steps(section, rest):
    body = section + "## Notes\n" + rest
    parts = agentfile.split_body(body)

    steps = next(part for part in parts if part.is_steps)
    assert agentfile.render_steps(steps.steps, steps.tight) in section
    assert agentfile.join_body(parts) == body


PREVIOUS_STYLES = [
    "plain old value\n",
    "plain # with a comment\n",
    "'single quoted'\n",
    "'it''s single quoted'\n",
    '"double quoted"\n',
    '"escaped \\t tab\\n"\n',
    "|\n  literal\n  block\n",
    "|-\n  literal, stripped\n",
    "|+\n  literal, kept\n\n",
    "|2\n   indented literal\n",
    ">\n  folded\n  block\n",
    ">-\n  folded, stripped\n",
    "\n  on the next line\n",
    '"multi\n  line"\n',
]


@SETTINGS
@given(
    st.sampled_from(["description", "initialPrompt", "notes"]),
    st.sampled_from(PREVIOUS_STYLES),
    text_values,
)
@example("description", "|\n  literal\n  block\n", "ends with blank lines\n\n")
@example("notes", ">\n  folded\n  block\n", "\n")
@example("description", "'single quoted'\n", "next\x85line")
@example("initialPrompt", "|-\n  literal, stripped\n", "line\u2028separator")
def test_a_new_value_reads_back_whatever_style_the_old_one_was_written_in(key, previous, new):
    description = "" if key == "description" else "description: D\n"
    parsed = parse(f"---\nname: a\n{description}{key}: {previous}model: sonnet\n---\nBody\n")
    assert parsed.warnings == []

    text = render({**parsed.frontmatter, key: new}, parsed.body, parsed.sources, parsed.prefix)

    values, body = strict_read(text)
    expected = {**parsed.frontmatter, key: new}
    assert same(values, {k: v for k, v in expected.items() if v != ""})
    assert body == "Body\n"
    assert b"\r" not in text.encode("utf-8")
    again = parse(text)
    assert again.warnings == []
    assert render(again.frontmatter, again.body, again.sources, again.prefix) == text


def test_the_strict_reader_notices_a_changed_value():
    # The properties above are only as good as the reader: it must see what render wrote.
    text = render({"name": "a", "description": "x", "version": datetime.date(2024, 1, 1)}, "")
    values, _ = strict_read(text)
    assert not same(values, {"name": "a", "description": "x", "version": "2024-01-01"})
    assert same(values, {"name": "a", "description": "x", "version": datetime.date(2024, 1, 1)})


# --- Through the database ------------------------------------------------------------------------

PREFIXES = ["", "# A comment before the first key.\n", "# one\n\n# two\n"]


@pytest.mark.django_db
@settings(
    max_examples=100,
    deadline=None,
    # Each example runs in its own savepoint, rolled back: the database is empty for the next.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(frontmatters(), bodies(), st.sampled_from(PREFIXES))
@example({"name": "a", "description": "x", "maxTurns": -1, "hooks": {"_": None}}, "", PREFIXES[2])
@example({"name": "a", "description": "nul \x00 here"}, "", "")
@example({"name": "a", "description": "x", "hooks": {"a": "\x85"}}, "", "")  # NEL in a YAMLField
def test_an_imported_file_comes_back_from_the_database_byte_for_byte(frontmatter, body, prefix):
    text = render(frontmatter, body).replace("---\n", "---\n" + prefix, 1)
    registry = Tool.registry()
    errors, _ = agentfile.validate(parse(text).frontmatter, registry, strict=False)

    with transaction.atomic():
        result = import_file("agent.md", text.encode("utf-8"), registry=registry)
        if errors:
            assert result.failed
            assert not Agent.objects.exists()
        else:
            assert not result.failed, result.line()
            assert filebridge.render(Agent.objects.for_export().get(name=result.name)) == text
        transaction.set_rollback(True)
