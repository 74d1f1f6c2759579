from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from agents import agentfile, filebridge
from agents.models import Agent


class Command(BaseCommand):
    help = (
        "Write agents to DIR/<name>.md: the published file of each agent named, or, with --all, "
        "every agent's current file, drafts included (a complete copy of the portal)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", metavar="NAME")
        parser.add_argument("--out", required=True, metavar="DIR", help="Folder to write into.")
        parser.add_argument("--all", action="store_true", help="Export every agent.")

    def handle(self, *args: Any, **options: Any) -> None:
        names: list[str] = options["names"]
        if options["all"] == bool(names):
            raise CommandError("give agent names, or --all (not both)")
        if names:
            # By the name in the published file: a rename counts once it is approved.
            agents = Agent.objects.for_download().filter(published_revision__name__in=names)
            published = {agent.published_revision.name: agent for agent in agents}
            missing = sorted(set(names) - set(published))
            if missing:
                raise CommandError(
                    f"nothing published under the name: {', '.join(missing)}; "
                    "--all exports drafts too"
                )
            archived = sorted(
                name for name, agent in published.items() if not agent.is_downloadable
            )
            if archived:
                raise CommandError(f"archived: {', '.join(archived)}; --all exports drafts too")
            files = [(name, agent.published_revision.text) for name, agent in published.items()]
        else:
            files = [(agent.name, filebridge.render(agent)) for agent in Agent.objects.for_export()]
        out = Path(options["out"])
        by_path: dict[Path, list[str]] = {}
        for name, _ in files:
            by_path.setdefault(out / f"{agentfile.file_stem(name)}.md", []).append(name)
        clashes = [
            f"{', '.join(names)} -> {path}" for path, names in by_path.items() if len(names) > 1
        ]
        if clashes:
            raise CommandError(
                "these agents would be written to the same file; rename one of each: "
                + "; ".join(clashes)
            )
        out.mkdir(parents=True, exist_ok=True)
        written = 0
        for name, text in files:
            path = out / f"{agentfile.file_stem(name)}.md"
            path.write_bytes(text.encode())
            self.stdout.write(f"wrote {path}")
            written += 1
        self.stdout.write(f"{written} agents exported to {out}")
