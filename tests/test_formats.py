"""Agents written for other assistants (agents/distribution/formats.py), checked on real files
from ../shared/corpus: the frontmatter each tool reads (parsed with yaml.safe_load, not with our
own splitter), the tool names it understands, the body kept byte for byte, and a warning exactly
where something cannot be carried."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from agents import agentfile
from agents.distribution import formats
from agents.distribution.formats import FORMATS, ConversionError, convert
from tests.conftest import CORPUS, shared_file

README = Path(__file__).resolve().parent.parent / "README.md"
OTHERS = ("copilot", "opencode", "gemini", "cursor")

# Real agents from the corpus, each chosen for what it exercises.
CODE_REVIEWER = "vijaythecoder__awesome-claude-agents/agents__core__code-reviewer.md"  # LS, Bash
BACKEND = "vijaythecoder__awesome-claude-agents/agents__universal__backend-developer.md"  # legacy
READ_ONLY = "wshobson__agents/plugins__plugin-eval__agents__eval-judge.md"  # Read, Grep, Glob
MCP = "wtb-agency__claude-code-subagents/agents__bullshit-detector.md"  # mcp__context7__...
NO_TOOLS = "0xfurai__claude-code-subagents/agents__elixir-expert.md"  # a dated model id
HOOKS = "shanraisshan__claude-code-best-practice/.claude__agents__weather-agent.md"
DENY = "Yeachan-Heo__oh-my-claudecode/agents__verifier.md"  # disallowedTools: Write, Edit
ODD_NAME = "vijaythecoder__awesome-claude-agents/agents__specialized__python__devops-cicd-expert.md"


def corpus_text(relative: str) -> str:
    return shared_file(CORPUS / relative).read_text(encoding="utf-8")


def split(text: str) -> tuple[dict, str]:
    """(frontmatter as YAML reads it, body) of a written file, found without our parser."""
    assert text.startswith("---\n"), "the file must start with '---' at byte 0"
    assert "\r" not in text and "\ufeff" not in text
    end = text.index("\n---\n", 3)
    frontmatter = yaml.safe_load(text[4 : end + 1])
    assert isinstance(frontmatter, dict)
    return frontmatter, text[end + 5 :]


def body_of(text: str) -> str:
    """The body of a source file as written, after its closing '---' line."""
    return text[text.index("\n---\n", 3) + 5 :]


def fields(converted) -> set[str]:
    return {warning.field for warning in converted.warnings}


def messages(converted) -> str:
    return "\n".join(str(warning) for warning in converted.warnings)


def with_frontmatter(relative: str, **changes) -> str:
    """A corpus file with some frontmatter keys changed (None removes one), written by the
    portal's own renderer, as the portal would store an edited agent."""
    parsed = agentfile.parse(corpus_text(relative))
    frontmatter = dict(parsed.frontmatter)
    for key, value in changes.items():
        frontmatter.pop(key, None) if value is None else frontmatter.__setitem__(key, value)
    return agentfile.render(frontmatter, parsed.body)


# --- Where each format goes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("format_id", "install_path"),
    [
        ("claude", ".claude/agents/code-reviewer.md"),
        ("copilot", ".github/agents/code-reviewer.agent.md"),
        ("opencode", ".opencode/agents/code-reviewer.md"),
        ("gemini", ".gemini/agents/code-reviewer.md"),
        ("cursor", ".cursor/agents/code-reviewer.md"),
    ],
)
def test_each_format_is_laid_out_in_its_tools_folder(format_id, install_path):
    converted = convert(corpus_text(CODE_REVIEWER), format_id)
    assert converted.install_path == install_path
    assert converted.path == install_path.rsplit("/", 1)[1]
    assert FORMATS[format_id].folder == install_path.rsplit("/", 1)[0]


def test_claude_format_is_the_file_itself():
    text = corpus_text(CODE_REVIEWER)
    converted = convert(text, "claude")
    assert converted.text == text
    assert converted.warnings == ()


@pytest.mark.parametrize("format_id", OTHERS)
@pytest.mark.parametrize("relative", [CODE_REVIEWER, BACKEND, MCP, NO_TOOLS, HOOKS, DENY])
def test_body_is_kept_byte_for_byte_and_description_as_written(relative, format_id):
    text = corpus_text(relative)
    converted = convert(text, format_id)
    frontmatter, body = split(converted.text)
    assert body == body_of(text)
    assert frontmatter["description"] == agentfile.parse(text).frontmatter["description"]


# --- GitHub Copilot -----------------------------------------------------------------------------


def test_copilot_maps_tools_to_its_aliases():
    converted = convert(corpus_text(CODE_REVIEWER), "copilot")  # tools: LS, Read, Grep, Glob, Bash
    frontmatter, _body = split(converted.text)
    assert frontmatter == {
        "name": "code-reviewer",
        "description": frontmatter["description"],
        "tools": ["search", "read", "execute"],
    }
    assert converted.warnings == ()


def test_copilot_maps_legacy_names_through_their_replacement():
    # LS, Read, Grep, Glob, Bash, Write, Edit, MultiEdit, WebSearch, WebFetch
    frontmatter, _body = split(convert(corpus_text(BACKEND), "copilot").text)
    assert frontmatter["tools"] == ["search", "read", "execute", "edit", "web"]


def test_copilot_writes_mcp_tools_as_server_slash_tool():
    converted = convert(corpus_text(MCP), "copilot")
    frontmatter, _body = split(converted.text)
    assert frontmatter["tools"] == [
        "search",
        "read",
        "edit",
        "context7/resolve-library-id",
        "context7/get-library-docs",
    ]
    assert frontmatter["model"] == "Claude Sonnet 5.5 (copilot)"
    assert fields(converted) == {"model"}  # the alias no longer floats


def test_copilot_leaves_tools_out_when_the_agent_inherits_them():
    converted = convert(corpus_text(NO_TOOLS), "copilot")
    frontmatter, _body = split(converted.text)
    assert "tools" not in frontmatter
    assert frontmatter["model"] == "Claude Sonnet 4 (copilot)"  # claude-sonnet-4-20250514
    assert converted.warnings == ()


def test_copilot_turns_a_deny_list_into_what_remains_and_says_mcp_is_not_in_it():
    converted = convert(corpus_text(DENY), "copilot")  # no tools, disallowedTools: Write, Edit
    frontmatter, _body = split(converted.text)
    assert frontmatter["tools"] == ["agent", "execute", "search", "read", "web", "todo"]
    assert "edit" not in frontmatter["tools"]
    assert "MCP" in messages(converted)
    assert fields(converted) == {"disallowedTools", "model", "level"}


def test_copilot_limits_subagents_with_agents():
    text = with_frontmatter(CODE_REVIEWER, tools="Read, Agent(worker, researcher)")
    converted = convert(text, "copilot")
    frontmatter, _body = split(converted.text)
    assert frontmatter["tools"] == ["read", "agent"]
    assert frontmatter["agents"] == ["worker", "researcher"]
    assert converted.warnings == ()


@pytest.mark.parametrize(
    ("model", "written"),
    [
        ("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5 (copilot)"),  # as in the corpus
        ("claude-opus-4-6", "Claude Opus 4.6 (copilot)"),  # as in the corpus
        ("claude-3-5-sonnet-20241022", "Claude Sonnet 3.5 (copilot)"),
        ("opus", "Claude Opus 5.5 (copilot)"),
        ("inherit", None),
        ("gpt-5", None),
    ],
)
def test_copilot_model_names(model, written):
    converted = convert(with_frontmatter(READ_ONLY, model=model), "copilot")
    frontmatter, _body = split(converted.text)
    assert frontmatter.get("model") == written
    assert ("model" in fields(converted)) == (model in ("opus", "gpt-5"))


def test_copilot_warns_about_a_prompt_longer_than_githubs_limit():
    short = convert(corpus_text(CODE_REVIEWER), "copilot")
    parsed = agentfile.parse(corpus_text(CODE_REVIEWER))
    long_text = agentfile.render(parsed.frontmatter, parsed.body + "x" * 30_000)
    long = convert(long_text, "copilot")
    assert "body" not in fields(short)
    assert "body" in fields(long) and "30,000" in messages(long)


# --- OpenCode -----------------------------------------------------------------------------------


def test_opencode_is_a_subagent_with_a_permission_allowlist():
    converted = convert(corpus_text(CODE_REVIEWER), "opencode")
    frontmatter, _body = split(converted.text)
    assert "name" not in frontmatter  # OpenCode names an agent after its file
    assert frontmatter["mode"] == "subagent"
    assert frontmatter["permission"] == {
        "*": "deny",
        "external_directory": "ask",
        "doom_loop": "ask",
        "glob": "allow",
        "list": "allow",
        "read": "allow",
        "grep": "allow",
        "bash": "ask",
    }
    assert list(frontmatter["permission"])[0] == "*"  # the last matching rule wins
    assert converted.warnings == ()


def test_opencode_writes_models_as_provider_slash_model():
    no_tools, _ = split(convert(corpus_text(NO_TOOLS), "opencode").text)
    alias = convert(corpus_text(READ_ONLY), "opencode")  # model: sonnet
    aliased, _ = split(alias.text)
    assert no_tools["model"] == "anthropic/claude-sonnet-4-20250514"
    assert "permission" not in no_tools
    assert aliased["model"] == "anthropic/claude-sonnet-5-5"
    assert fields(alias) == {"model"}


def test_opencode_carries_mcp_tools_turns_and_colour():
    converted = convert(corpus_text(MCP), "opencode")
    frontmatter, _body = split(converted.text)
    assert frontmatter["permission"]["context7_resolve-library-id"] == "ask"
    assert frontmatter["permission"]["context7_get-library-docs"] == "ask"
    assert frontmatter["permission"]["edit"] == "ask"  # Write
    weather, _body = split(convert(corpus_text(HOOKS), "opencode").text)
    assert weather["steps"] == 5 and weather["color"] == "#1f9d55"


def test_opencode_denies_what_the_agent_denies():
    frontmatter, _body = split(convert(corpus_text(DENY), "opencode").text)
    assert frontmatter["permission"] == {"edit": "deny"}


def test_opencode_limits_subagents_through_task_permission():
    text = with_frontmatter(CODE_REVIEWER, tools="Read, Agent(worker, researcher)")
    frontmatter, _body = split(convert(text, "opencode").text)
    assert frontmatter["permission"]["task"] == {
        "*": "deny",
        "worker": "allow",
        "researcher": "allow",
    }


# --- Gemini CLI ---------------------------------------------------------------------------------


def test_gemini_lists_its_own_tool_names():
    converted = convert(corpus_text(CODE_REVIEWER), "gemini")
    frontmatter, _body = split(converted.text)
    assert frontmatter["name"] == "code-reviewer"
    assert frontmatter["tools"] == [
        "glob",
        "list_directory",
        "read_file",
        "read_many_files",
        "grep_search",
        "run_shell_command",
    ]
    assert converted.warnings == ()


def test_gemini_names_mcp_tools_its_way_and_leaves_claude_models_out():
    converted = convert(corpus_text(MCP), "gemini")
    frontmatter, _body = split(converted.text)
    assert frontmatter["tools"][-2:] == [
        "mcp_context7_resolve-library-id",
        "mcp_context7_get-library-docs",
    ]
    assert "write_file" in frontmatter["tools"]
    assert "model" not in frontmatter
    assert fields(converted) == {"model"}


def test_gemini_keeps_mcp_tools_when_only_denying():
    frontmatter, _body = split(convert(corpus_text(DENY), "gemini").text)
    assert "mcp_*" in frontmatter["tools"]
    assert "write_file" not in frontmatter["tools"] and "replace" not in frontmatter["tools"]
    assert "run_shell_command" in frontmatter["tools"]


def test_gemini_warns_that_its_subagents_cannot_start_subagents():
    text = with_frontmatter(CODE_REVIEWER, tools="Read, Agent(worker, researcher)")
    converted = convert(text, "gemini")
    frontmatter, _body = split(converted.text)
    assert frontmatter["tools"] == ["read_file", "read_many_files"]
    assert fields(converted) == {"tools"}
    assert "Agent" in messages(converted)


def test_gemini_and_cursor_names_are_slugs():
    for format_id in ("gemini", "cursor"):
        converted = convert(corpus_text(ODD_NAME), format_id)  # "Python DevOps/CI-CD Expert"
        frontmatter, _body = split(converted.text)
        assert frontmatter["name"] == "python-devops-ci-cd-expert"
        assert converted.path == "python-devops-ci-cd-expert.md"
        assert "name" in fields(converted)
    copilot, _body = split(convert(corpus_text(ODD_NAME), "copilot").text)
    assert copilot["name"] == "Python DevOps/CI-CD Expert"  # Copilot takes any display name


# --- Cursor -------------------------------------------------------------------------------------


def test_cursor_marks_a_read_only_agent_readonly():
    converted = convert(corpus_text(READ_ONLY), "cursor")  # tools: Read, Grep, Glob
    frontmatter, _body = split(converted.text)
    assert frontmatter["readonly"] is True
    assert fields(converted) == {"model"}


def test_cursor_warns_by_name_when_it_cannot_limit_an_agent_that_needs_bash():
    converted = convert(corpus_text(CODE_REVIEWER), "cursor")  # LS, Read, Grep, Glob, Bash
    frontmatter, _body = split(converted.text)
    assert "readonly" not in frontmatter
    assert fields(converted) == {"tools"}
    assert "Bash" in messages(converted)


def test_cursor_gives_an_agent_that_inherits_every_tool_every_tool_without_a_warning():
    converted = convert(corpus_text(NO_TOOLS), "cursor")
    frontmatter, _body = split(converted.text)
    assert "readonly" not in frontmatter
    assert fields(converted) == {"model"}  # claude-sonnet-4-20250514 is not a Cursor model name


def test_cursor_carries_inherit_and_background():
    text = with_frontmatter(READ_ONLY, model="inherit", background=True)
    converted = convert(text, "cursor")
    frontmatter, _body = split(converted.text)
    assert frontmatter["model"] == "inherit"
    assert frontmatter["is_background"] is True
    assert converted.warnings == ()


# --- Warnings exactly where something is lost ---------------------------------------------------


@pytest.mark.parametrize(
    ("format_id", "expected"),
    [
        (
            "copilot",
            {"model", "color", "maxTurns", "permissionMode", "memory", "skills", "hooks"},
        ),
        ("opencode", {"model", "permissionMode", "memory", "skills", "hooks"}),
        ("gemini", {"model", "color", "permissionMode", "memory", "skills", "hooks"}),
        (
            "cursor",
            {"model", "color", "maxTurns", "permissionMode", "memory", "skills", "hooks"},
        ),
    ],
)
def test_fields_without_an_equivalent_are_each_named_in_a_warning(format_id, expected):
    # weather-agent: model sonnet, color, maxTurns, permissionMode, memory, skills, hooks, and
    # allowedTools (a key Claude Code does not read)
    converted = convert(corpus_text(HOOKS), format_id)
    assert fields(converted) == expected | {"allowedTools"}
    frontmatter, _body = split(converted.text)
    assert not {"hooks", "memory", "skills", "permissionMode", "allowedTools"} & set(frontmatter)


@pytest.mark.parametrize("format_id", OTHERS)
def test_mcp_servers_are_never_dropped_silently(format_id):
    servers = ["context7", {"local-db": {"type": "stdio", "command": "db-mcp", "args": ["-q"]}}]
    text = with_frontmatter(MCP, mcpServers=servers)
    converted = convert(text, format_id)
    assert "mcpServers" in fields(converted)
    assert "context7" in messages(converted) and "local-db" in messages(converted)
    assert "mcpServers" not in split(converted.text)[0]
    assert "mcpServers" not in fields(convert(corpus_text(MCP), format_id))


@pytest.mark.parametrize("format_id", ("copilot", "opencode", "gemini"))
def test_bash_is_carried_as_each_tools_shell(format_id):
    shell = {"copilot": "execute", "opencode": "bash", "gemini": "run_shell_command"}[format_id]
    converted = convert(corpus_text(CODE_REVIEWER), format_id)
    text = converted.text
    assert re.search(rf"^\s+(- )?{shell}\b", text, re.MULTILINE)
    assert "Bash" not in messages(converted)


@pytest.mark.parametrize("format_id", OTHERS)
def test_a_tool_limited_to_some_commands_warns_that_the_limit_is_lost(format_id):
    text = with_frontmatter(CODE_REVIEWER, tools="Read, Bash(git status:*)")
    converted = convert(text, format_id)
    assert "Bash(git status:*)" in messages(converted)


@pytest.mark.parametrize(
    ("format_id", "tool"),
    [("copilot", "Skill"), ("opencode", "SendMessage"), ("gemini", "NotebookEdit")],
)
def test_a_tool_without_an_equivalent_is_named_in_a_warning(format_id, tool):
    text = with_frontmatter(CODE_REVIEWER, tools=f"Read, {tool}")
    converted = convert(text, format_id)
    assert fields(converted) == {"tools"}
    assert f"{tool} is left out" in messages(converted)


def test_a_legacy_name_is_mapped_through_its_replacement_and_named_as_written():
    text = with_frontmatter(CODE_REVIEWER, tools="Task, NotebookRead, KillShell")
    copilot, _ = split(convert(text, "copilot").text)
    gemini = convert(text, "gemini")
    assert copilot["tools"] == ["agent", "read"]
    assert split(gemini.text)[0]["tools"] == ["read_file", "read_many_files"]
    assert "Task (today Agent) is left out" in messages(gemini)
    assert "KillShell (today TaskStop) is left out" in messages(gemini)


def test_an_allowlist_with_nothing_that_maps_gives_no_tools_not_all_tools():
    text = with_frontmatter(CODE_REVIEWER, tools="SendMessage, CronList")
    copilot, _ = split(convert(text, "copilot").text)
    gemini, _ = split(convert(text, "gemini").text)
    opencode, _ = split(convert(text, "opencode").text)
    assert copilot["tools"] == [] and gemini["tools"] == []
    assert opencode["permission"] == {"*": "deny", "external_directory": "ask", "doom_loop": "ask"}


def test_a_wildcard_tools_list_means_every_tool_as_the_linter_reads_it():
    text = with_frontmatter(CODE_REVIEWER, tools="*")
    for format_id in OTHERS:
        converted = convert(text, format_id)
        frontmatter, _body = split(converted.text)
        assert not {"tools", "permission", "readonly"} & set(frontmatter)
        assert converted.warnings == ()


# --- Mapping tables -----------------------------------------------------------------------------


def test_every_claude_code_tool_has_a_decision_for_every_format():
    assert set(formats.TOOL_NAMES) == set(agentfile.BUILTIN_TOOLS)
    for row in formats.TOOL_NAMES.values():
        assert set(row) == set(formats.TOOL_FORMATS)


def test_no_target_tool_name_grants_file_writes_or_commands_it_is_not_mapped_from():
    kinds = [{"Write", "Edit", "NotebookEdit"}, {"Bash", "PowerShell"}]
    for format_id in formats.TOOL_FORMATS:
        names = {name for row in formats.TOOL_NAMES.values() for name in row[format_id] or ()}
        for name in names:
            covered = {
                tool for tool, row in formats.TOOL_NAMES.items() if name in (row[format_id] or ())
            }
            mutating = covered & formats.MUTATING_TOOLS
            assert not mutating or any(covered <= kind for kind in kinds), (format_id, name)


def test_readme_table_of_tool_names_is_the_code_s_table():
    readme = README.read_text(encoding="utf-8")
    start, end = "<!-- tool-names:start -->\n", "<!-- tool-names:end -->"
    assert start in readme and end in readme, "the README has lost its tool-name table markers"
    shown = readme[readme.index(start) + len(start) : readme.index(end)]
    assert shown.strip() == formats.tool_mapping_markdown().strip(), (
        "README's tool-name table differs from agents/distribution/formats.py: paste the output "
        "of formats.tool_mapping_markdown() between the markers"
    )


# --- Bad input ----------------------------------------------------------------------------------


def test_an_unknown_format_is_refused_with_the_list_of_formats():
    with pytest.raises(ConversionError, match="unknown format 'vim'.*copilot, opencode"):
        convert(corpus_text(CODE_REVIEWER), "vim")


def test_text_that_is_not_an_agent_file_is_refused_with_the_reason():
    with pytest.raises(ConversionError, match="not an agent file: .*frontmatter"):
        convert("# just a heading\n", "copilot")
    with pytest.raises(ConversionError, match="no description"):
        convert("---\nname: x\n---\nbody\n", "gemini")


# --- The whole corpus ---------------------------------------------------------------------------


def test_every_importable_corpus_file_converts_to_every_format():
    known = dict.fromkeys(agentfile.BUILTIN_TOOLS) | dict(agentfile.LEGACY_TOOLS)
    files = sorted(shared_file(CORPUS).rglob("*.md"))
    converted_files = 0
    for path in files:
        try:
            parsed = agentfile.parse(path.read_bytes(), path.name)
        except agentfile.AgentFileError:
            continue
        errors, _warnings = agentfile.validate(parsed.frontmatter, known, strict=False)
        if errors:
            continue  # the portal would not import it
        converted_files += 1
        for format_id in FORMATS:
            converted = convert(parsed, format_id)
            frontmatter, body = split(converted.text)
            assert body == parsed.body, (path, format_id)
            assert isinstance(frontmatter.get("description"), str), (path, format_id)
            if format_id in ("gemini", "cursor"):
                assert re.fullmatch(r"[a-z0-9_-]+", frontmatter["name"]), (path, format_id)
    print(f"\n{converted_files} of {len(files)} corpus files converted to {len(FORMATS)} formats")
    assert converted_files >= 0.95 * len(files)
