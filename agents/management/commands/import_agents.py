from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from agents import agentfile
from agents.importing import (
    BatchError,
    Entry,
    ImportResult,
    Outcome,
    find_agent_files,
    import_many,
    printable,
    read_path,
)
from agents.models import Tool


class Command(BaseCommand):
    help = (
        "Import agent files (.md, or folders searched recursively for *.md). Prints one line per "
        "file (created, updated, unchanged, conflict or error: <file>:<line>: <what>) and a "
        "summary; exits with status 1 when any file failed. A failing file saves nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "paths", nargs="+", metavar="PATH", help=".md or .zip files, or folders of them."
        )
        parser.add_argument(
            "--update", action="store_true", help="Replace agents that already exist."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would happen; save nothing."
        )
        parser.add_argument("--owner", metavar="USERNAME", help="Owner of created agents.")
        parser.add_argument(
            "--publish",
            action="store_true",
            help="Publish each imported revision at once; the audit trail records the approval "
            "as the operator's. Without it, imports are drafts waiting for review.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        owner = None
        if options["owner"]:
            User = get_user_model()
            try:
                owner = User.objects.get(**{User.USERNAME_FIELD: options["owner"]})
            except User.DoesNotExist:
                raise CommandError(f"no user named {options['owner']!r}") from None

        files, skipped = find_agent_files(options["paths"])
        for warning in skipped:
            self.stdout.write(f"warning: {warning}")
        if not files:
            raise CommandError("no .md or .zip files found in the paths given")
        registry = Tool.registry()
        counts = dict.fromkeys(
            [Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED, Outcome.CONFLICT, Outcome.ERROR],
            0,
        )

        def entries() -> Iterator[Entry]:
            for path, relative in files:
                try:
                    yield from read_path(path, relative)
                except BatchError as exc:
                    yield Entry(str(path), error=agentfile.AgentFileError(str(exc)))

        # Committed a hundred files at a time; each file is still saved or refused on its own.
        for result in import_many(
            entries(),
            update=options["update"],
            dry_run=options["dry_run"],
            owner=owner,
            publish=options["publish"],
            registry=registry,
        ):
            counts[result.outcome] += 1
            self._report(result, options["dry_run"])

        prefix = "dry run, nothing saved: " if options["dry_run"] else ""
        summary = ", ".join(f"{count} {outcome}" for outcome, count in counts.items())
        self.stdout.write(f"{prefix}{sum(counts.values())} files: {summary}")
        if counts[Outcome.ERROR]:
            raise SystemExit(1)

    def _report(self, result: ImportResult, dry_run: bool) -> None:
        style = self.style.ERROR if result.failed else None
        line = result.line()
        self.stdout.write(style(line) if style else line)
        for warning in result.warnings:
            self.stdout.write(
                f"  warning: {result.source}:{warning.line or 1}: {printable(warning.message)}"
            )
        if dry_run and result.outcome == Outcome.UPDATED:
            diff = difflib.unified_diff(
                result.old_text.splitlines(keepends=True),
                result.new_text.splitlines(keepends=True),
                fromfile=f"{printable(result.name)}.md (portal)",
                tofile=f"{printable(result.name)}.md ({result.source})",
            )
            self.stdout.write("".join(diff), ending="")
