"""``python -m agents.lint``: the command-line linter any repository can run, without the portal.

The subprocess tests run it the way CI does: a fresh interpreter, no DJANGO_SETTINGS_MODULE, no
database reachable.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from agents.lint import RULES, lint_text

PROJECT = Path(__file__).resolve().parent.parent

GOOD = """\
---
name: code-reviewer
description: Reviews code for quality. Use proactively after code changes.
tools: Read, Grep, Glob
---

You review code.
"""
WARNS = """\
---
name: tester
description: Tests things. Use after code changes.
tools: Read, MultiEdit
---

You test.
"""
BROKEN = """\
---
name: helper
description: Helps. Examples: when asked. Use when stuck.
tools: Read
---

You help.
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def run_lint(*args: str | Path, cwd: Path = PROJECT) -> subprocess.CompletedProcess:
    """``python -m agents.lint`` in a fresh interpreter without Django settings or a database."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "PYTHONPATH")
    }
    env["DATABASE_URL"] = "postgres://nobody@127.0.0.1:9/none"  # nothing listens on port 9
    env["PYTHONPATH"] = str(PROJECT)
    return subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "-m", "agents.lint", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_text_output_is_file_line_severity_rule_message_and_errors_exit_1(tmp_path):
    good = write(tmp_path, "agents/good.md", GOOD)
    broken = write(tmp_path, "agents/broken.md", BROKEN)
    result = run_lint(good, broken)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{broken}:3: error not-loadable Claude Code does not load this file: 'description' is "
        "not valid YAML (an unquoted ': ' inside it): put the value in double quotes"
    ]
    assert "2 agent files: 1 errors, 0 warnings, 0 notes" in result.stderr
    assert "4 characters a token" in result.stderr


def test_warnings_exit_0_unless_strict(tmp_path):
    path = write(tmp_path, "tester.md", WARNS)
    result = run_lint(path)
    assert result.returncode == 0
    assert f"{path}:4: warning legacy-tool 'MultiEdit'" in result.stdout
    assert run_lint("--strict", path).returncode == 1
    assert run_lint("--strict", write(tmp_path, "good.md", GOOD)).returncode == 0


def test_usage_errors_exit_2(tmp_path):
    missing = run_lint(tmp_path / "nope.md")
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
    bad_rule = run_lint("--ignore", "no-such-rule", write(tmp_path, "good.md", GOOD))
    assert bad_rule.returncode == 2 and "no-such-rule" in bad_rule.stderr
    assert run_lint().returncode == 2


def test_ignore_leaves_rules_out(tmp_path):
    path = write(tmp_path, "tester.md", WARNS)
    result = run_lint("--strict", "--ignore", "legacy-tool", path)
    assert result.returncode == 0 and result.stdout == ""


def test_json_output_is_a_list_of_findings(tmp_path):
    path = write(tmp_path, "tester.md", WARNS)
    found = json.loads(run_lint("--format", "json", path).stdout)
    assert found == [
        {
            "file": str(path),
            "line": 4,
            "severity": "warning",
            "rule": "legacy-tool",
            "field": "tools",
            "message": "'MultiEdit' is a legacy tool name: Claude Code maps it to 'Edit' "
            "today; write 'Edit'",
        }
    ]


def test_github_output_is_workflow_annotations_with_escaping(tmp_path):
    # A file name with a comma and a colon must not break the annotation's properties.
    path = write(tmp_path, "odd, name: x.md", WARNS.replace("MultiEdit", "MultiEdit, 100%"))
    lines = run_lint("--format", "github", path).stdout.splitlines()
    escaped = str(path).replace(",", "%2C").replace(":", "%3A")
    assert f"::warning file={escaped},line=4,title=legacy-tool::'MultiEdit' is a" in lines[0]
    assert lines[1].startswith(f"::warning file={escaped},line=4,title=unknown-tool::")
    assert "unknown tool '100%25' in tools" in lines[1]


def test_a_folder_lints_its_agents_folders_and_skips_readmes(tmp_path):
    write(tmp_path, ".claude/agents/good.md", GOOD)
    write(tmp_path, ".claude/agents/README.md", "# Our agents\n")
    write(tmp_path, "docs/guide.md", "# Not an agent\n")
    result = run_lint(tmp_path)
    assert result.returncode == 0, result.stdout
    assert "1 agent file:" in result.stderr


def test_a_plugin_agent_is_told_what_plugins_ignore(tmp_path):
    write(tmp_path, "kit/.claude-plugin/plugin.json", json.dumps({"name": "review-kit"}))
    path = write(tmp_path, "kit/agents/good.md", GOOD.replace("tools:", "hooks: {}\ntools:"))
    result = run_lint(tmp_path / "kit")
    assert f"{path}:4: warning ignored-in-plugin 'hooks' does nothing here" in result.stdout
    assert "(review-kit)" in result.stdout
    outside = write(tmp_path, "project/.claude/agents/good.md", path.read_text())
    assert "ignored-in-plugin" not in run_lint(outside).stdout


def test_the_files_of_a_run_form_one_collection_with_a_budget(tmp_path):
    one = write(tmp_path, "agents/one.md", GOOD)
    two = write(tmp_path, "agents/two.md", WARNS.replace("MultiEdit", "Grep"))
    result = run_lint("--budget", "10", tmp_path / "agents")
    assert f"{one}:3: warning description-budget the 2 agents' descriptions" in result.stdout
    assert "over the budget of 10" in result.stdout
    assert str(two) not in result.stdout
    assert "description-budget" not in run_lint(tmp_path / "agents").stdout


def test_the_linter_runs_where_django_cannot_be_imported(tmp_path):
    """Isolated mode (-I: no PYTHONPATH, no user site, not the current folder), only the project
    and site-packages on sys.path, Django made unimportable, no settings, no database."""
    path = write(tmp_path, "tester.md", WARNS)
    script = textwrap.dedent(
        f"""
        import runpy, sys

        class NoDjango:
            def find_spec(self, name, path=None, target=None):
                if name == "django" or name.startswith("django."):
                    raise ImportError("django is not installed here")

        sys.meta_path.insert(0, NoDjango())
        sys.path.insert(0, {str(PROJECT)!r})
        sys.argv = ["agents.lint", "--format", "json", {str(path)!r}]
        try:
            runpy.run_module("agents.lint", run_name="__main__", alter_sys=True)
        except SystemExit as exit:
            print("EXIT", exit.code, file=sys.stderr)
        """
    )
    env = {"PATH": os.environ.get("PATH", ""), "DATABASE_URL": "postgres://nobody@127.0.0.1:9/x"}
    result = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "-I", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "EXIT 0" in result.stderr, result.stderr
    assert [f["rule"] for f in json.loads(result.stdout)] == ["legacy-tool"]


# The linter's runtime requirements: what `python -m agents.lint` imports besides the standard
# library (README: "only PyYAML and rapidfuzz are imported").
LINT_REQUIREMENTS = ("PyYAML", "rapidfuzz")


def install_from_this_environment(distribution: str, site_packages: Path) -> None:
    """Install ``distribution`` into another environment by copying the files its RECORD lists,
    as pip does from a wheel (offline: the files come from the environment running the tests)."""
    for file in importlib.metadata.distribution(distribution).files or []:
        source = Path(file.locate())
        if source.is_file() and ".." not in file.parts:
            target = site_packages / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def test_the_linter_runs_in_a_fresh_virtualenv_with_only_its_requirements(tmp_path):
    """A new virtualenv (not this one, no system site-packages) with PyYAML and rapidfuzz and
    nothing else: Django, DRF and the database drivers cannot be imported there, and the linter
    still lints, from the project folder, with no settings and no database."""
    venv = tmp_path / "venv"
    subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    site_packages = Path(
        subprocess.run(  # noqa: S603 (the venv's interpreter)
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    for requirement in LINT_REQUIREMENTS:
        install_from_this_environment(requirement, site_packages)
    path = write(tmp_path / "repo" / ".claude" / "agents", "tester.md", WARNS)
    env = {"PATH": os.environ.get("PATH", ""), "DATABASE_URL": "postgres://nobody@127.0.0.1:9/x"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603 (the venv's interpreter, our arguments)
            [python, *args], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=60
        )

    for absent in ("django", "rest_framework", "psycopg"):
        assert run("-c", f"import {absent}").returncode != 0, f"{absent} is in the fresh venv"
    result = run("-m", "agents.lint", "--format", "json", str(path.parent))
    assert result.returncode == 0, result.stderr
    assert [f["rule"] for f in json.loads(result.stdout)] == ["legacy-tool"]
    broken = write(tmp_path / "repo" / ".claude" / "agents", "helper.md", BROKEN)
    assert run("-m", "agents.lint", str(broken)).returncode == 1


def corpus() -> Path:
    folder = PROJECT.parent / "shared" / "corpus" / "agents"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent: the shared test data lives beside the project")
    return folder


def test_the_corpus_table_script_counts_every_rule():
    result = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, str(PROJECT / "bench" / "lint_corpus.py"), str(corpus())],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    rows = [line for line in result.stdout.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == list(RULES)


def test_every_corpus_file_whose_frontmatter_yaml_rejects_gets_an_error():
    """Oracle: yaml.safe_load on the text between the first two '---' lines."""
    checked = 0
    for path in sorted(corpus().rglob("*.md")):
        text = path.read_text("utf-8")
        if not text.startswith("---\n") or "\n---\n" not in text[4:]:
            continue
        try:
            yaml.safe_load(text[4 : text.index("\n---\n", 3)])
            continue
        except yaml.YAMLError:
            checked += 1
        errors = [f.rule for f in lint_text(text, path.name) if f.severity == "error"]
        assert errors, path
    assert checked >= 40  # SOURCES.md lists dozens of unquoted ': ' descriptions
