from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from agents import agentfile
from agents.models import Agent


class Command(BaseCommand):
    help = "Write agents to DIR/<name>.md: the agents named, or every agent with --all."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", metavar="NAME")
        parser.add_argument("--out", required=True, metavar="DIR", help="Folder to write into.")
        parser.add_argument("--all", action="store_true", help="Export every agent.")

    def handle(self, *args: Any, **options: Any) -> None:
        names: list[str] = options["names"]
        if options["all"] == bool(names):
            raise CommandError("give agent names, or --all (not both)")
        agents = Agent.objects.for_export()
        if names:
            agents = agents.filter(name__in=names)
            missing = sorted(set(names) - {agent.name for agent in agents})
            if missing:
                raise CommandError(f"no agent named: {', '.join(missing)}")
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        written = 0
        for agent in agents:
            path = out / f"{agentfile.file_stem(agent.name)}.md"
            path.write_bytes(agent.render().encode())
            self.stdout.write(f"wrote {path}")
            written += 1
        self.stdout.write(f"{written} agents exported to {out}")
