"""Bringing agent files into the portal: one file at a time, each all-or-nothing.

Used by ``manage.py import_agents`` (and by the admin's import page): it reads a file with
``agentfile.parse``, checks it with ``agentfile.validate`` and saves it with ``Agent.apply_file``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from . import agentfile
from .models import Agent, Tool


class Outcome:
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    ERROR = "error"


@dataclass
class ImportResult:
    """What happened (or, in a dry run, would happen) to one file."""

    source: str
    outcome: str
    name: str = ""
    error: agentfile.AgentFileError | None = None
    warnings: list[agentfile.Notice] = field(default_factory=list)
    old_text: str = ""
    new_text: str = ""

    @property
    def failed(self) -> bool:
        return self.outcome == Outcome.ERROR

    def line(self) -> str:
        """The one-line report the command prints for this file."""
        if self.error is not None:
            return f"error: {self.source}:{self.error.line or 1}: {self.error.message}"
        return f"{self.outcome}: {self.source} ({self.name})"


def find_agent_files(paths: list[str]) -> list[Path]:
    """The files named, and every ``*.md`` under the folders named, in a stable order."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.md") if p.is_file()))
        else:
            found.append(path)
    return found


def import_file(
    source: str,
    data: bytes,
    *,
    update: bool = False,
    dry_run: bool = False,
    owner: AbstractBaseUser | None = None,
    registry: dict[str, str | None] | None = None,
) -> ImportResult:
    """Create or update the agent a file describes. Saves nothing when the file has an error."""
    try:
        parsed = agentfile.parse(data, filename=source)
    except agentfile.AgentFileError as exc:
        return ImportResult(source, Outcome.ERROR, error=exc)

    errors, warnings = agentfile.validate(
        parsed.frontmatter, registry if registry is not None else Tool.registry(), strict=False
    )
    warnings = parsed.warnings + [
        agentfile.Notice(w.message, w.line or parsed.line_of(w.field), w.field) for w in warnings
    ]
    if errors:
        first = errors[0]
        error = agentfile.AgentFileError(first.message, parsed.line_of(first.field) or 1)
        return ImportResult(source, Outcome.ERROR, error=error, warnings=warnings)

    name = parsed.frontmatter["name"]
    new_text = agentfile.render(parsed.frontmatter, parsed.body, parsed.sources, parsed.prefix)
    existing = Agent.objects.for_export().filter(name=name).first()
    result = ImportResult(source, Outcome.CREATED, name=name, warnings=warnings, new_text=new_text)
    if existing is not None:
        result.old_text = existing.render()
        if result.old_text == new_text:
            result.outcome = Outcome.UNCHANGED
            return result
        if not update:
            result.outcome = Outcome.CONFLICT
            return result
        result.outcome = Outcome.UPDATED
    if dry_run:
        return result

    agent = existing or Agent(owner=owner)
    try:
        with transaction.atomic():
            agent.apply_file(parsed)
    except IntegrityError:
        # Someone created the same name between our check and our save.
        result.outcome = Outcome.CONFLICT
    return result
