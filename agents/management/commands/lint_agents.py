from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from agents import filebridge
from agents.lint.cli import FORMATS, FORMATTERS, exit_status, lint_paths, summary
from agents.models import Agent, Tool


class Command(BaseCommand):
    help = (
        "Lint agents' current files (drafts included) as `python -m agents.lint` lints files: "
        "'<name>:<line>: <severity> <rule-id> <message>'. Exits 1 on errors (--strict: also "
        "on warnings). The cross-agent rules (similar descriptions, description budget) look "
        "at the agents linted together."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", metavar="NAME")
        parser.add_argument("--all", action="store_true", help="Lint every agent.")
        parser.add_argument("--format", choices=FORMATS, default="text")
        parser.add_argument("--strict", action="store_true", help="Exit 1 on warnings too.")
        parser.add_argument(
            "--budget",
            type=int,
            metavar="TOKENS",
            help="Description tokens the agents may spend together (default: the "
            "AGENT_LINT_DESCRIPTION_TOKEN_BUDGET setting).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        names: list[str] = options["names"]
        if options["all"] == bool(names):
            raise CommandError("give agent names, or --all (not both)", returncode=2)
        budget = options["budget"]
        if budget is None:
            budget = settings.AGENT_LINT_DESCRIPTION_TOKEN_BUDGET
        if budget < 0:
            raise CommandError("--budget must be 0 or more", returncode=2)
        agents = Agent.objects.for_export().order_by("name")
        if names:
            agents = agents.filter(name__in=names)
        agents = list(agents)
        missing = sorted(set(names) - {agent.name for agent in agents})
        if missing:
            raise CommandError(f"no agent named: {', '.join(missing)}", returncode=2)
        files = [(agent.name, filebridge.render(agent).encode(), None) for agent in agents]
        findings, tokens = lint_paths(files, budget=budget, registry=Tool.registry())
        self.stdout.write(FORMATTERS[options["format"]](findings), ending="")
        self.stderr.write(summary(findings, len(files), tokens, budget), ending="")
        status = exit_status(findings, options["strict"])
        if status:
            sys.exit(status)
