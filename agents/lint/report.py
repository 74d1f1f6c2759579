"""Findings as the portal keeps and shows them: stored with each revision (counts and a JSON
list), read back, and what one revision adds or removes said in a sentence. Pure: the portal
passes in its tool registry, nothing here reads a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import agentfile
from .rules import (
    ERROR,
    INFO,
    RULES,
    SEVERITIES,
    WARNING,
    Finding,
    body_line,
    diff_findings,
    lint,
    lint_text,
)

_PLURAL = {ERROR: "errors", WARNING: "warnings", INFO: "notes"}
_SINGULAR = {ERROR: "error", WARNING: "warning", INFO: "note"}


def lint_record(
    text: str,
    registry: Mapping[str, str | None] | None = None,
    *,
    parsed: agentfile.ParsedFile | None = None,
) -> dict[str, Any]:
    """The lint columns of a revision of ``text``: its error and warning counts and every
    finding (notes included) as JSON. One agent's file on its own: the rules about agents
    installed together (similar descriptions, the description budget) depend on the others and
    are run by ``lint_agents`` and the command-line linter.

    ``parsed``: ``agentfile.parse(text)``, when the caller has it already (the importer)."""
    if parsed is None:
        return record_of(lint_text(text, registry=registry))
    return record_of(lint(parsed, registry=registry, body_line=body_line(text, parsed)))


def record_of(findings: Iterable[Finding]) -> dict[str, Any]:
    findings = list(findings)
    return {
        "lint_errors": sum(1 for f in findings if f.severity == ERROR),
        "lint_warnings": sum(1 for f in findings if f.severity == WARNING),
        "lint_findings": [
            {key: value for key, value in f.as_dict().items() if key != "file"} for f in findings
        ],
    }


def from_record(stored: Iterable[Mapping[str, Any]]) -> list[Finding]:
    """The findings a revision stored (``lint_findings``), as findings again."""
    return [
        Finding(
            rule=str(item.get("rule", "")),
            severity=str(item.get("severity", INFO)),
            message=str(item.get("message", "")),
            line=item.get("line"),
            field=item.get("field"),
        )
        for item in stored
    ]


def summary(findings: Iterable[Finding], how: str = "") -> str:
    """'2 new warnings: write tools granted, prompt says read-only; ...' for the errors and
    warnings among ``findings`` (notes are left out: they are no reason to act), with ``how``
    "new", "fixed" or "". Empty when there are none."""
    findings = list(findings)
    parts = []
    for severity in (ERROR, WARNING):
        of_kind = [f for f in findings if f.severity == severity]
        if not of_kind:
            continue
        label = _SINGULAR[severity] if len(of_kind) == 1 else _PLURAL[severity]
        count = {"new": f"{len(of_kind)} new {label}", "fixed": f"{len(of_kind)} {label} fixed"}
        what = dict.fromkeys(RULES[f.rule].summary if f.rule in RULES else f.rule for f in of_kind)
        parts.append(f"{count.get(how, f'{len(of_kind)} {label}')}: {'; '.join(what)}")
    return ". ".join(parts)


@dataclass(frozen=True)
class Change:
    """What one revision's findings add to and remove from another's (``diff_findings``)."""

    added: list[Finding]
    removed: list[Finding]

    @property
    def headline(self) -> str:
        """'1 new warning: write tools granted, prompt says read-only. 1 error fixed: ...'"""
        said = [summary(self.added, "new"), summary(self.removed, "fixed")]
        return ". ".join(part for part in said if part)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


def change(old: Iterable[Finding], new: Iterable[Finding]) -> Change:
    added, removed = diff_findings(old, new)
    return Change(added, removed)


def by_severity(findings: Iterable[Finding]) -> list[Finding]:
    """Errors first, then warnings, then notes; in line order within each."""
    return sorted(findings, key=lambda f: (SEVERITIES.index(f.severity), f.line or 0))
