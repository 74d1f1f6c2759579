"""``python -m agents.lint PATH...``: lint agent files in any repository, without the portal.

No database and no Django: only the format module, the rules and rapidfuzz. Exit status 1 when
an error was found (with ``--strict``, also a warning), 0 otherwise, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from .collection import DESCRIPTION_TOKEN_BUDGET, SIMILARITY_THRESHOLD, lint_collection
from .rules import ERROR, RULES, WARNING, Finding, context_cost, lint, parse_for_lint
from .text import ESTIMATE_METHOD

FORMATS = ("text", "json", "github")
_SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox"}
_NOT_AGENTS = {"readme.md", "changelog.md", "license.md", "contributing.md"}


def agent_files(path: Path) -> list[Path]:
    """The agent files a PATH names: the file itself, or in a folder every ``.md`` file under a
    directory called ``agents`` (``.claude/agents/``, a plugin's ``agents/``), or every ``.md``
    file when the folder has no such directory. READMEs and the like are left out of folders."""
    if path.is_file():
        return [path]
    found: list[Path] = []
    every: list[Path] = []
    for file in sorted(path.rglob("*.md")):
        parts = file.relative_to(path).parts
        if _SKIP_DIRS & set(parts[:-1]) or file.name.lower() in _NOT_AGENTS or not file.is_file():
            continue
        every.append(file)
        if "agents" in (path.resolve().name, *parts[:-1]):
            found.append(file)
    return found or every


def plugin_of(file: Path) -> str | None:
    """The plugin a file ships in: ``<plugin>/agents/...`` beside ``.claude-plugin/plugin.json``."""
    for parent in file.resolve().parents:
        if parent.name == "agents":
            manifest = parent.parent / ".claude-plugin" / "plugin.json"
            if manifest.is_file():
                try:
                    name = json.loads(manifest.read_text("utf-8")).get("name")
                except (ValueError, OSError, AttributeError):
                    name = None
                return str(name or parent.parent.name)
    return None


def lint_paths(
    files: Sequence[tuple[str, bytes, str | None]],
    *,
    budget: int = DESCRIPTION_TOKEN_BUDGET,
    threshold: float = SIMILARITY_THRESHOLD,
    registry: dict[str, str | None] | None = None,
) -> tuple[list[Finding], int]:
    """Findings for (label, content, plugin) files linted together, and their description tokens."""
    found: list[Finding] = []
    parsed_files = {}
    for label, content, plugin in files:
        read = parse_for_lint(content, label)
        if isinstance(read, Finding):
            found.append(replace(read, file=label))
            continue
        parsed, body_line = read
        parsed_files[label] = parsed
        found += [
            replace(f, file=label)
            for f in lint(parsed, registry=registry, collection=plugin, body_line=body_line)
        ]
    found += lint_collection(parsed_files, budget=budget, threshold=threshold)
    order = {label: index for index, (label, _, _) in enumerate(files)}
    found.sort(key=lambda f: (order.get(f.file or "", 0), f.line or 0))
    tokens = sum(context_cost(parsed).description for parsed in parsed_files.values())
    return found, tokens


# --- Output -----------------------------------------------------------------------------------


def format_text(findings: Iterable[Finding]) -> str:
    return "".join(f"{f.file}:{f.line or 1}: {f.severity} {f.rule} {f.message}\n" for f in findings)


def format_json(findings: Iterable[Finding]) -> str:
    return json.dumps([f.as_dict() for f in findings], ensure_ascii=False, indent=2) + "\n"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


_GITHUB_LEVELS = {"error": "error", "warning": "warning", "info": "notice"}


def format_github(findings: Iterable[Finding]) -> str:
    """GitHub Actions workflow commands: each finding an annotation on its file and line."""
    return "".join(
        f"::{_GITHUB_LEVELS[f.severity]} file={_escape_property(f.file or '')},"
        f"line={f.line or 1},title={_escape_property(f.rule)}::{_escape_data(f.message)}\n"
        for f in findings
    )


FORMATTERS = {"text": format_text, "json": format_json, "github": format_github}


def exit_status(findings: Iterable[Finding], strict: bool) -> int:
    severities = {f.severity for f in findings}
    return 1 if ERROR in severities or (strict and WARNING in severities) else 0


def summary(findings: Sequence[Finding], files: int, tokens: int, budget: int) -> str:
    counts = dict.fromkeys(("error", "warning", "info"), 0)
    for f in findings:
        counts[f.severity] += 1
    return (
        f"{files} agent file{'s' if files != 1 else ''}: {counts['error']} errors, "
        f"{counts['warning']} warnings, {counts['info']} notes. Descriptions ~{tokens:,} tokens "
        f"in all (budget {budget:,}; {ESTIMATE_METHOD}).\n"
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m agents.lint",
        description="Lint Claude Code agent files: what loads but will not work. Prints "
        "'<file>:<line>: <severity> <rule-id> <message>'; exits 1 on errors.",
        epilog="Rules: " + ", ".join(RULES),
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="agent files or folders")
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    p.add_argument(
        "--budget",
        type=int,
        default=DESCRIPTION_TOKEN_BUDGET,
        metavar="TOKENS",
        help="description tokens the files may spend together "
        f"(default {DESCRIPTION_TOKEN_BUDGET:,})",
    )
    p.add_argument(
        "--ignore",
        default="",
        metavar="RULE,...",
        help="rule ids to leave out",
    )
    p.add_argument(
        "--plugin",
        metavar="NAME",
        help="lint every file as an agent of this plugin (found by itself next to "
        ".claude-plugin/plugin.json)",
    )
    return p


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None) -> int:
    stdout = stdout or sys.stdout
    p = parser()
    args = p.parse_args(argv)
    ignored = {rule.strip() for rule in args.ignore.split(",") if rule.strip()}
    unknown = sorted(ignored - set(RULES))
    if unknown:
        p.error(f"unknown rule id(s) in --ignore: {', '.join(unknown)}")
    if args.budget < 0:
        p.error("--budget must be 0 or more")
    files: list[tuple[str, bytes, str | None]] = []
    for raw in args.paths:
        path = Path(raw)
        if not path.exists():
            p.error(f"no such file or folder: {raw}")
        for file in agent_files(path):
            try:
                content = file.read_bytes()
            except OSError as exc:
                p.error(f"cannot read {file}: {exc.strerror}")
            files.append((str(file), content, args.plugin or plugin_of(file)))
    findings, tokens = lint_paths(files, budget=args.budget)
    findings = [f for f in findings if f.rule not in ignored]
    stdout.write(FORMATTERS[args.format](findings))
    sys.stderr.write(summary(findings, len(files), tokens, args.budget))
    return exit_status(findings, args.strict)
