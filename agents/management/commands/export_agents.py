from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import QuerySet

from agents import filebridge
from agents.distribution import files, formats
from agents.importing import printable
from agents.models import Agent

CHUNK = 100  # agents read from the database at a time


class Command(BaseCommand):
    help = (
        "Write the published file of every agent (not archived) to DIR/<its path>, or of the "
        "agents named; with --drafts, every agent's working copy instead (a backup). Files "
        "already up to date are left alone; --prune removes the .md files no agent claims."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "names",
            nargs="*",
            metavar="NAME",
            help="Only these agents: by the name in their published file (with --drafts, their "
            "current name).",
        )
        parser.add_argument("--out", required=True, metavar="DIR", help="Folder to write into.")
        parser.add_argument(
            "--drafts",
            action="store_true",
            help="Write each agent's working copy, drafts and archived agents included (for "
            "backups and round trips), instead of the published files.",
        )
        parser.add_argument(
            "--prune",
            action="store_true",
            help="Remove the .md files under DIR that no exported agent claims (with --drafts: "
            "no agent; else: no published agent), listing each.",
        )
        parser.add_argument(
            "--format",
            default="claude",
            choices=list(formats.FORMATS),
            help="Write the agents for another assistant: DIR is then that assistant's folder "
            "(.github/agents for copilot, .opencode/agents, .gemini/agents, .cursor/agents); "
            "what an agent cannot keep is printed as a warning. Default: claude.",
        )
        # Gone: it exported drafts, which is not what a script installing agents wants.
        parser.add_argument("--all", action="store_true", help="Removed: see --drafts.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["all"]:
            raise CommandError(
                "--all is gone: it wrote drafts, agents sent back and archived agents too. "
                "Without options export_agents writes every published agent; use --drafts for "
                "every agent's working copy (a backup)."
            )
        names: list[str] = options["names"]
        drafts: bool = options["drafts"]
        out = Path(options["out"])
        scope = Agent.objects.all() if drafts else files.distributed()
        chosen = self._named(scope, names, drafts) if names else scope

        format_id: str = options["format"]
        if format_id == "claude":
            claimed = list(scope.order_by("path").values_list("path", flat=True).iterator(2000))
            self._warn_about_case(claimed)
        else:  # where each agent lands in that assistant's folder (only --prune needs them all)
            every = self._files(scope, drafts, format_id) if options["prune"] else iter(())
            claimed = [out.path for out in every]
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError(f"cannot write into {out}: {exc.strerror}") from None
        root = out.resolve()
        counts = {"written": 0, "unchanged": 0, "removed": 0, "errors": 0}
        for file in self._files(chosen, drafts, format_id):
            name, path, data = file.name, file.path, file.data
            for warning in file.warnings:
                self.stdout.write(f"  warning: {printable(path)}: {warning.message}")
            target = out / path
            if not self._inside(root, target):
                self._error(counts, f"{printable(path)}: outside {out} (a symbolic link?); skipped")
                continue
            try:
                if target.is_file() and not target.is_symlink() and target.read_bytes() == data:
                    counts["unchanged"] += 1
                    self.stdout.write(f"unchanged: {printable(str(target))} ({printable(name)})")
                    continue
                _write(target, data)
            except OSError as exc:
                self._error(counts, f"{printable(str(target))}: cannot write: {exc.strerror}")
                continue
            counts["written"] += 1
            self.stdout.write(f"written: {printable(str(target))} ({printable(name)})")
        if options["prune"]:
            for stale in _unclaimed(out, set(claimed)):
                try:
                    stale.unlink()
                except OSError as exc:
                    self._error(counts, f"{printable(str(stale))}: cannot remove: {exc.strerror}")
                    continue
                counts["removed"] += 1
                self.stdout.write(f"removed: {printable(str(stale))}")

        what = "working copies" if drafts else "published files"
        summary = f"{counts['written']} written, {counts['unchanged']} unchanged"
        if options["prune"]:
            summary += f", {counts['removed']} removed"
        if counts["errors"]:
            summary += f", {counts['errors']} errors"
        if not counts["written"] and not counts["removed"] and not counts["errors"]:
            summary += ": nothing to do"
        self.stdout.write(f"{summary} ({what} in {out})")
        if counts["errors"]:
            raise SystemExit(1)

    def _named(self, scope: QuerySet[Agent], names: list[str], drafts: bool) -> QuerySet[Agent]:
        """The agents named, or an error naming those that cannot be exported."""
        if drafts:
            found = set(scope.filter(name__in=names).values_list("name", flat=True))
            missing = sorted(set(names) - found)
            if missing:
                raise CommandError(f"no agent named: {', '.join(missing)}")
            return scope.filter(name__in=names)
        # By the name in the published file: a rename counts once it is approved.
        rows = Agent.objects.filter(published_revision__name__in=names)
        published = dict(rows.values_list("published_revision__name", "status"))
        missing = sorted(set(names) - set(published))
        if missing:
            raise CommandError(
                f"nothing published under the name: {', '.join(missing)}; "
                "--drafts exports working copies"
            )
        archived = sorted(name for name, status in published.items() if status == "archived")
        if archived:
            raise CommandError(f"archived: {', '.join(archived)}; --drafts exports them too")
        return scope.filter(published_revision__name__in=names)

    def _files(
        self, agents: QuerySet[Agent], drafts: bool, format_id: str
    ) -> Iterator[files.OutFile]:
        """Each agent's file as written for ``format_id``, a few agents in memory at a time."""
        if drafts:
            exported = agents.for_export().order_by("path").iterator(CHUNK)
            rows: Iterator[tuple[str, str, str]] = (
                (agent.name, agent.path, filebridge.render(agent)) for agent in exported
            )
        else:
            rows = (
                agents.order_by("path")
                .values_list("published_revision__name", "path", "published_revision__text")
                .iterator(CHUNK)
            )
        return files.out_files(rows, format_id)

    def _warn_about_case(self, claimed: list[str]) -> None:
        seen: dict[str, str] = {}
        for path in claimed:
            other = seen.setdefault(path.lower(), path)
            if other != path:
                self.stdout.write(
                    f"warning: {printable(other)} and {printable(path)} differ only in case: on "
                    "a file system that ignores case (macOS, Windows) one replaces the other"
                )

    @staticmethod
    def _inside(root: Path, target: Path) -> bool:
        return target.parent.resolve().is_relative_to(root)

    def _error(self, counts: dict[str, int], message: str) -> None:
        counts["errors"] += 1
        self.stdout.write(self.style.ERROR(f"error: {message}"))


def _write(target: Path, data: bytes) -> None:
    """Write the file whole or not at all: a reader never sees half an agent."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".export-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _unclaimed(out: Path, claimed: set[str]) -> Iterator[Path]:
    """The regular ``.md`` files under ``out`` whose path no agent claims, in order. Links are
    neither followed nor removed: nothing outside ``out`` is touched."""
    for folder, subfolders, names in os.walk(out):
        subfolders.sort()
        for name in sorted(names):
            path = Path(folder) / name
            if not name.endswith(".md") or path.is_symlink() or not path.is_file():
                continue
            if path.relative_to(out).as_posix() not in claimed:
                yield path
