"""``manage.py lint_agents``: the same lint, on the portal's agents (their current files)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.lint import builtin_registry
from agents.models import AgentTool, Tool
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("lint_agents", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_findings_name_the_agent_in_place_of_the_file():
    clean = AgentFactory(name="clean", tools=3)
    AgentTool.objects.create(agent=clean, position=4, name="MultiEdit")
    AgentFactory(name="no-tools", description="Expert in Rust.")
    status, out, err = run("--all")
    lines = out.splitlines()
    assert status == 0  # warnings only
    assert "clean:4: warning legacy-tool 'MultiEdit' is a legacy tool name" in lines[0]
    assert [line.split(": ", 2)[1].split()[1] for line in lines[1:]] == [
        "inherits-all-tools",
        "no-delegation-trigger",
    ]
    assert all(line.startswith("no-tools:") for line in lines[1:])
    assert "2 agent files: 0 errors, 3 warnings, 0 notes" in err
    assert run("--all", "--strict")[0] == 1


def test_names_lint_only_those_agents_and_unknown_names_are_refused():
    AgentFactory(name="first", description="Expert in Rust.", tools=1)
    AgentFactory(name="second", description="Expert in Go.", tools=1)
    status, out, _ = run("second")
    assert out.startswith("second:3: warning no-delegation-trigger")
    assert "first" not in out
    with pytest.raises(CommandError, match="no agent named: missing") as refused:
        call_command("lint_agents", "second", "missing")
    assert refused.value.returncode == 2  # a usage error, as for python -m agents.lint
    with pytest.raises(CommandError, match="give agent names, or --all"):
        call_command("lint_agents", "second", "--all")


def test_an_agent_with_an_error_makes_the_command_exit_1():
    broken = AgentFactory(name="broken", tools=0)
    AgentTool.objects.create(agent=broken, position=1, name="Frobnicate")
    status, out, _ = run("--all", "--format", "json")
    assert status == 1
    assert '"rule": "no-usable-tools"' in out


def test_the_tool_registry_comes_from_the_portal():
    Tool.objects.create(name="DeployTool")
    agent = AgentFactory(name="deployer", tools=1)
    AgentTool.objects.create(agent=agent, position=2, name="DeployTool")
    assert "unknown-tool" not in run("deployer")[1]
    Tool.objects.filter(name="DeployTool").delete()
    assert "warning unknown-tool unknown tool 'DeployTool' in tools" in run("deployer")[1]


def test_cross_agent_rules_look_at_the_agents_linted_together(settings):
    text = "Use this agent when designing or optimizing CI/CD pipelines and deployment automation."
    AgentFactory(name="deployment-engineer", description=text, tools=1)
    AgentFactory(name="devops-engineer", description=text + " And infrastructure.", tools=1)
    out = run("--all")[1]
    assert out.count("similar-descriptions") == 2
    assert "description-budget" not in out
    settings.AGENT_LINT_DESCRIPTION_TOKEN_BUDGET = 20
    out = run("--all")[1]
    assert "over the budget of 20" in out
    assert "over the budget of 5" in run("--all", "--budget", "5")[1]
    # Linting one agent alone compares it with nothing.
    assert "similar-descriptions" not in run("devops-engineer")[1]


def test_query_count_does_not_grow_with_the_agents_linted():
    AgentFactory.create_batch(2, tools=2, steps=2)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            run("--all")
        return len(captured)

    # agents, tool entries, sections, steps (prefetched), the tool registry
    few = queries()
    AgentFactory.create_batch(20, tools=2, steps=2)
    assert queries() == few


def test_the_linters_built_in_tool_names_are_the_portals_starting_registry():
    """agentfile's vocabulary (used without a database) and migration 0002 must agree."""
    assert Tool.registry() == builtin_registry()
