"""Agent lint rules: for each rule, a small file that fires it and a similar one that must not.

Pure: no database, no Django (the rules module must run without either).
"""

from __future__ import annotations

import textwrap

import pytest

from agents import agentfile
from agents.lint import (
    RULES,
    Finding,
    context_cost,
    diff_findings,
    estimate_tokens,
    lint,
    lint_collection,
    lint_text,
)


def agent(frontmatter: str, body: str = "You help.\n") -> str:
    return "---\n" + textwrap.dedent(frontmatter).strip("\n") + "\n---\n\n" + textwrap.dedent(body)


def rules_of(text: str | bytes, **options) -> list[str]:
    return [f.rule for f in lint_text(text, "agent.md", **options)]


def only(text: str, rule: str, **options) -> Finding:
    found = [f for f in lint_text(text, "agent.md", **options) if f.rule == rule]
    assert len(found) == 1, found
    return found[0]


CLEAN = agent(
    """
    name: code-reviewer
    description: Reviews code for quality. Use proactively after code changes.
    tools: Read, Grep, Glob
    """,
    "You review code and report what you find.\n",
)


def test_a_clean_file_has_no_findings():
    assert lint_text(CLEAN, "code-reviewer.md") == []


def test_every_finding_has_a_known_rule_and_its_severity():
    text = agent("description: Expert in Rust.\ntools: MultiEdit, Frobnicate\ncolour: red")
    found = lint_text(text, "x.md")
    assert found
    for f in found:
        assert f.severity == RULES[f.rule].severity


# --- Loading --------------------------------------------------------------------------------


def test_a_file_without_frontmatter_is_one_unreadable_error_with_its_line():
    found = lint_text("# Notes\n\nNot an agent.\n", "notes.md")
    assert [(f.rule, f.severity, f.line) for f in found] == [("unreadable", "error", 1)]
    assert "no frontmatter" in found[0].message


def test_an_unquoted_colon_in_the_description_is_not_loadable():
    text = agent(
        """
        name: helper
        description: Helps. Examples: when asked to help. Use when stuck.
        tools: Read
        """
    )
    f = only(text, "not-loadable")
    assert (f.severity, f.line, f.field) == ("error", 3, "description")
    assert "Claude Code does not load this file" in f.message
    assert "double quotes" in f.message
    quoted = text.replace("Helps. Examples", '"Helps. Examples').replace("stuck.", 'stuck."')
    assert "not-loadable" not in rules_of(quoted)


def test_crlf_line_endings_are_not_loadable():
    assert "not-loadable" in rules_of(CLEAN.replace("\n", "\r\n").encode())
    assert "not-loadable" not in rules_of(CLEAN.encode())


def test_an_empty_description_breaks_a_loading_rule():
    text = CLEAN.replace(
        "description: Reviews code for quality. Use proactively after code changes.",
        'description: ""',
    )
    f = only(text, "loading-rule")
    assert (f.severity, f.field, f.line) == ("error", "description", 3)


def test_an_unknown_color_is_an_invalid_value():
    f = only(CLEAN.replace("tools:", "color: magenta\ntools:"), "invalid-value")
    assert (f.severity, f.field, f.line) == ("warning", "color", 4)
    assert "invalid-value" not in rules_of(CLEAN.replace("tools:", "color: blue\ntools:"))


# --- Tools ----------------------------------------------------------------------------------


def test_tools_as_a_yaml_list_is_a_format_warning():
    as_list = CLEAN.replace("tools: Read, Grep, Glob", "tools:\n  - Read\n  - Grep")
    f = only(as_list, "tools-format")
    assert "comma-separated" in f.message and f.line == 4
    assert "tools-format" not in rules_of(CLEAN)


def test_a_legacy_tool_names_its_replacement():
    f = only(CLEAN.replace("Glob", "MultiEdit"), "legacy-tool")
    assert "'MultiEdit'" in f.message and "'Edit'" in f.message
    assert (f.field, f.line) == ("tools", 4)
    assert "legacy-tool" not in rules_of(CLEAN.replace("Glob", "Edit"))


def test_an_unknown_tool_gets_a_suggestion():
    lowercase = only(CLEAN.replace("Glob", "ls"), "unknown-tool")
    assert "case-sensitive" in lowercase.message and "'LS' (today 'Glob')" in lowercase.message
    agent_name = only(CLEAN.replace("Glob", "test-runner"), "unknown-tool")
    assert "'Agent(test-runner)'" in agent_name.message
    assert "'mcp__test-runner'" in agent_name.message
    # An MCP tool and a tool with arguments are not unknown.
    text = CLEAN.replace("Glob", "mcp__github__create_issue, Bash(git diff:*)")
    assert "unknown-tool" not in rules_of(text)


def test_tools_that_all_fail_to_resolve_stop_the_agent_from_starting():
    f = only(CLEAN.replace("Read, Grep, Glob", "Frob, Nicate"), "no-usable-tools")
    assert f.severity == "error" and "zero tools" in f.message
    assert "no-usable-tools" not in rules_of(CLEAN.replace("Read, Grep, Glob", "Frob, Read"))


def test_no_tools_line_inherits_every_tool_and_gets_a_suggestion_from_the_prompt():
    text = agent(
        """
        name: tester
        description: Runs the tests. Use after code changes.
        """,
        "Run the test suite with pytest and report failures. Fix the failing code.\n",
    )
    f = only(text, "inherits-all-tools")
    assert "inherits every tool, MCP tools included" in f.message
    assert "'tools: Read, Grep, Glob, Edit, Write, Bash'" in f.message
    assert f.field == "tools"
    assert "inherits-all-tools" not in rules_of(CLEAN)


def test_a_misnamed_tools_key_is_named_in_the_inherits_warning():
    text = CLEAN.replace("tools: Read, Grep, Glob", "allowed-tools: Read, Grep")
    f = only(text, "inherits-all-tools")
    assert "'allowed-tools' is not read by Claude Code" in f.message
    assert "'tools: Read, Grep'" in f.message
    key = only(text, "unknown-key")
    assert "did you mean 'tools'?" in key.message and key.severity == "info"


def test_a_wildcard_grants_every_tool():
    f = only(CLEAN.replace("Read, Grep, Glob", '"*"'), "inherits-all-tools")
    assert f.message.startswith("'tools: *' grants every tool")


READ_ONLY = agent(
    """
    name: auditor
    description: Audits the code. Use before a release.
    tools: Read, Grep, Bash
    """,
    """
    You audit code.

    ```sh
    rm -rf build   # a command in a fence is not an instruction
    ```

    Never run commands. Report what you find.
    """,
)


def test_a_tool_the_prompt_forbids_is_flagged_on_the_tools_field_quoting_the_prompt():
    f = only(READ_ONLY, "read-only-with-write-tools")
    assert (f.field, f.line) == ("tools", 4)
    line = 1 + READ_ONLY.splitlines().index("Never run commands. Report what you find.")
    assert f.message.startswith(
        f'grants Bash but the prompt says "Never run commands" (line {line})'
    )


def test_scoped_prohibitions_are_not_read_only_claims():
    scoped = READ_ONLY.replace("Never run commands.", "Never run commands against production.")
    assert "read-only-with-write-tools" not in rules_of(scoped)
    edits = agent(
        """
        name: fixer
        description: Fixes failing tests. Use when tests fail.
        tools: Read, Edit, Write
        """,
        "Do not modify test files to make them pass. Do not modify files outside src/.\n",
    )
    assert "read-only-with-write-tools" not in rules_of(edits)
    claims = edits.replace(
        "Do not modify test files to make them pass. Do not modify files outside src/.",
        "You are **read-only**: never create or modify files.",
    )
    f = only(claims, "read-only-with-write-tools")
    assert f.message.startswith("grants Write, Edit but")


def test_a_claim_in_a_block_scalar_description_is_quoted_with_its_own_line():
    text = READ_ONLY.replace(
        "description: Audits the code. Use before a release.",
        "description: |\n  Audits the code. Use before a release.\n  Never run commands.",
    ).replace("Never run commands. Report", "Report")
    f = only(text, "read-only-with-write-tools")
    assert '"Never run commands" (line 5)' in f.message
    assert text.splitlines()[4] == "  Never run commands."


def test_a_restricted_bash_is_fine_for_a_read_only_agent():
    text = READ_ONLY.replace("Read, Grep, Bash", "Read, Grep, Bash(git diff:*)")
    assert "read-only-with-write-tools" not in rules_of(text)


def test_a_prompt_that_runs_tests_needs_bash():
    text = agent(
        """
        name: refactorer
        description: Refactors code. Use when asked to clean up code.
        tools: Read, Edit, Grep
        """,
        "1. Read the code.\n2. Run the existing tests to get a baseline.\n",
    )
    f = only(text, "prompt-needs-bash")
    assert '"Run the existing tests" (line 8)' in f.message and f.field == "tools"
    assert "prompt-needs-bash" not in rules_of(text.replace("Read, Edit", "Read, Edit, Bash"))
    someone_else = text.replace("Run the existing", "Ask the user to run the existing")
    assert "prompt-needs-bash" not in rules_of(someone_else)
    in_code = text.replace("Run the existing tests", "Check `npm run build` passes")
    assert "prompt-needs-bash" not in rules_of(in_code)
    in_fence = text.replace("2. Run the existing tests", "```\nRun the existing tests\n```")
    assert "prompt-needs-bash" not in rules_of(in_fence)


def test_a_prompt_that_searches_the_web_needs_a_web_tool():
    text = agent(
        """
        name: researcher
        description: Researches libraries. Use when choosing a dependency.
        tools: Read, Grep
        """,
        "Search the web for maintained alternatives.\n",
    )
    assert "prompt-needs-web" in rules_of(text)
    assert "prompt-needs-web" not in rules_of(text.replace("Read, Grep", "Read, WebSearch"))
    mcp = text.replace("Read, Grep", "Read, mcp__brave-search__web_search")
    assert "prompt-needs-web" not in rules_of(mcp)
    assert "prompt-needs-web" not in rules_of(text.replace("the web", "the codebase"))


def test_a_prompt_that_edits_files_needs_edit_or_write():
    text = agent(
        """
        name: migrator
        description: Migrates code. Use when upgrading a framework.
        tools: Read, Grep, Bash
        """,
        "Edit the files that use the old API.\n",
    )
    assert "prompt-needs-edit" in rules_of(text)
    assert "prompt-needs-edit" not in rules_of(text.replace("Bash", "Bash, Edit"))
    advice = text.replace("Edit the files", "Suggest how to edit the files")
    assert "prompt-needs-edit" not in rules_of(advice)


def test_an_mcp_tool_of_a_server_the_agent_does_not_declare():
    text = agent(
        """
        name: notifier
        description: Posts updates. Use after a release.
        tools: Read, mcp__slack__post_message
        mcpServers:
          - github
        """
    )
    f = only(text, "undeclared-mcp-server")
    assert "'slack'" in f.message and "declares github" in f.message
    assert "undeclared-mcp-server" not in rules_of(text.replace("slack", "github"))
    undeclared_nothing = text.replace("mcpServers:\n  - github\n", "")
    assert "undeclared-mcp-server" not in rules_of(undeclared_nothing)


# --- Delegation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "description",
    [
        "Use this agent when reviewing pull requests.",
        "Reviews code. Use PROACTIVELY for security reviews.",
        "Reviews code. MUST BE USED for all code changes.",
        "Reviews code; invoked by the release orchestrator.",
        "ビルドが失敗した際に積極的に使用してください。",  # Japanese
        "ワークフローの管理時に使用します。",
        "Build 실패 시 사용하세요.",  # Korean
        "在构建失败时主动使用。",  # Chinese
        "DOIT ÊTRE UTILISÉ pour les projets Django.",  # French
    ],
)
def test_a_description_that_says_when_to_use_the_agent(description):
    text = CLEAN.replace(
        "Reviews code for quality. Use proactively after code changes.", description
    )
    assert "no-delegation-trigger" not in rules_of(text)


@pytest.mark.parametrize(
    "description",
    [
        "Expert in Rust for building fast services.",
        "Security code review specialist",
        "ビルドおよびTypeScriptエラー解決のスペシャリスト。",
        "构建和TypeScript错误解决专家。",
    ],
)
def test_a_description_that_never_says_when_to_use_the_agent(description):
    text = CLEAN.replace(
        "Reviews code for quality. Use proactively after code changes.", description
    )
    f = only(text, "no-delegation-trigger")
    assert (f.field, f.line, f.severity) == ("description", 3, "warning")


def parsed(name: str, description: str, tools: str = "Read") -> agentfile.ParsedFile:
    return agentfile.parse(agent(f"name: {name}\ndescription: {description}\ntools: {tools}"))


def test_two_descriptions_claude_cannot_tell_apart_are_flagged_on_both():
    files = {
        "a/deploy.md": parsed(
            "deployment-engineer",
            "Use this agent when designing, building or optimizing CI/CD pipelines and "
            "deployment automation.",
        ),
        "a/devops.md": parsed(
            "devops-engineer",
            "Use this agent when building or optimizing CI/CD pipelines, deployment "
            "automation and infrastructure.",
        ),
        "a/other.md": parsed("poet", "Writes poems about databases. Use when asked."),
    }
    found = lint_collection(files)
    assert sorted((f.file, f.rule) for f in found) == [
        ("a/deploy.md", "similar-descriptions"),
        ("a/devops.md", "similar-descriptions"),
    ]
    assert "'devops-engineer' (a/devops.md)" in found[0].message
    assert "rapidfuzz token_set_ratio >= 90" in found[0].message


def test_alike_descriptions_told_apart_by_their_subject_are_not_flagged():
    files = {
        "py.md": parsed(
            "sdk-verifier-py",
            "Use this agent to verify that a Python SDK app follows the SDK best practices.",
        ),
        "ts.md": parsed(
            "sdk-verifier-ts",
            "Use this agent to verify that a TypeScript SDK app follows the SDK best practices.",
        ),
    }
    assert lint_collection(files) == []


# --- Context cost ---------------------------------------------------------------------------

EXAMPLE = (
    "<example>Context: the user finished a feature. user: 'Review my change' assistant: 'I will "
    "use the code-reviewer agent to review it.' <commentary>Code changed, so review.</commentary>"
    "</example>"
)


def test_a_long_description_costs_tokens_and_examples_are_counted_apart():
    long = CLEAN.replace(
        "Use proactively after code changes.",
        "Use proactively after code changes. " + " ".join([EXAMPLE] * 8),
    )
    f = only(long, "description-cost")
    assert f.severity == "info" and f.field == "description"
    assert "in 8 <example> blocks" in f.message
    assert "4 characters a token" in f.message  # the estimate's method, where it is shown
    assert "move the <example> blocks" in f.message
    assert "description-cost" not in rules_of(CLEAN)


def test_token_estimate_counts_cjk_characters_one_each():
    assert estimate_tokens("abcd" * 10) == 10
    assert estimate_tokens("積極的に使用") == 6
    cost = context_cost(agentfile.parse(CLEAN))
    assert cost.examples == 0 and cost.example_blocks == 0
    assert cost.description == estimate_tokens(
        "Reviews code for quality. Use proactively after code changes."
    )


def test_a_collection_over_its_description_budget_names_the_longest_description():
    files = {
        "short.md": parsed("short", "Writes release notes. Use before a release."),
        "long.md": parsed("long", "Reviews code in great depth. " * 20 + "Use after changes."),
    }
    found = lint_collection(files, budget=100)
    assert [(f.rule, f.file) for f in found] == [("description-budget", "long.md")]
    assert "over the budget of 100" in found[0].message
    assert lint_collection(files, budget=1000) == []


# --- Settings that do nothing ---------------------------------------------------------------


def test_plugin_agents_ignore_hooks_mcp_servers_and_permission_mode():
    text = CLEAN.replace("tools:", "permissionMode: plan\ntools:")
    f = only(text, "ignored-in-plugin", collection="review-kit")
    assert (f.field, f.line) == ("permissionMode", 4) and "review-kit" in f.message
    assert "ignored-in-plugin" not in rules_of(text)


def test_an_unknown_model_and_an_unknown_key():
    assert "unknown-model" in rules_of(CLEAN.replace("tools:", "model: gpt-4\ntools:"))
    assert "unknown-model" not in rules_of(CLEAN.replace("tools:", "model: sonnet\ntools:"))
    f = only(CLEAN.replace("tools:", "max_turns: 3\ntools:"), "unknown-key")
    assert f.message == "Claude Code ignores the key 'max_turns'; did you mean 'maxTurns'?"
    assert "unknown-key" not in rules_of(CLEAN.replace("tools:", "maxTurns: 3\ntools:"))


# --- The API for the portal -----------------------------------------------------------------


def test_lint_of_a_parsed_file_works_out_where_the_body_starts():
    parsed_file = agentfile.parse(READ_ONLY)
    assert lint(parsed_file) == lint_text(READ_ONLY)


def test_a_registry_from_the_portal_replaces_the_built_in_one():
    text = CLEAN.replace("Glob", "Deploy")
    assert "unknown-tool" in rules_of(text)
    registry = {"Read": None, "Grep": None, "Deploy": None}
    assert "unknown-tool" not in rules_of(text, registry=registry)


def test_diff_findings_compares_rule_and_message_not_line():
    old = lint_text(CLEAN.replace("Glob", "MultiEdit"))
    moved = lint_text(CLEAN.replace("Glob", "MultiEdit").replace("tools:", "model: opus\ntools:"))
    assert [f.line for f in old] != [f.line for f in moved]
    assert diff_findings(old, moved) == ([], [])
    worse = READ_ONLY.replace("Read, Grep, Bash", "Read, Grep, Bash, MultiEdit")
    added, removed = diff_findings(lint_text(READ_ONLY), lint_text(worse))
    assert [f.rule for f in added] == ["legacy-tool"] and removed == []
    added, removed = diff_findings(lint_text(worse), lint_text(READ_ONLY))
    assert added == [] and [f.rule for f in removed] == ["legacy-tool"]
