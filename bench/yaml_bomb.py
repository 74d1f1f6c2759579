"""How fast, and in how little memory, a YAML alias bomb is refused.

Run:  .venv/bin/python bench/yaml_bomb.py

The issue's file (about 400 bytes: an anchor holding a list, eight levels of ten aliases each,
then ``tools: *i``) used 30 s of CPU and 2.6 GB per import. Each refusal below is timed beside a
floor measured in the same run: ``agentfile.parse`` of an ordinary agent file of about the same
size. The last rows go through ``import_file`` (a fresh SQLite database in a temporary folder)
and the admin form's YAML box loader (``agentfile.load_yaml``), and time the largest document the
limit still accepts, parsed and rendered.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agents import agentfile  # noqa: E402  (pure: no Django needed yet)

ORDINARY = """\
---
name: code-reviewer
description: Reviews code for quality, security and maintainability. Use proactively after \
writing or changing code, before a commit, and when asked to review a pull request.
tools: Read, Glob, Grep, Bash
model: sonnet
color: blue
---

You are a senior code reviewer. Read the diff, run the tests, and report problems by severity.
"""


def alias_yaml(levels: int, last: str) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels + 1):
        previous, current = chr(ord("a") + level - 1), chr(ord("a") + level)
        lines.append(f"{current}: &{current} [" + ",".join([f"*{previous}"] * 10) + "]")
    return "\n".join(lines) + f"\n{last}: *{chr(ord('a') + levels)}\n"


def bomb_file(levels: int = 8, key: str = "tools") -> str:
    return f"---\nname: bomb\ndescription: D\n{alias_yaml(levels, key)}---\nB\n"


def median_seconds(function: Callable[[], object], runs: int = 50) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_bytes(function: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def refused(function: Callable[..., object], *args: object) -> Callable[[], None]:
    def call() -> None:
        try:
            function(*args)
        except agentfile.AgentFileError:
            return
        raise SystemExit(f"not refused: {function.__name__}{args!r:.60}")

    return call


def row(label: str, size: int, seconds: float, peak: int, floor: float) -> None:
    print(
        f"{label:<44} {size:>5} B  {seconds * 1e3:8.3f} ms  {seconds / floor:6.1f}x floor  "
        f"peak {peak / 1024:8.1f} KiB"
    )


def main() -> None:
    floor = median_seconds(lambda: agentfile.parse(ORDINARY), runs=200)
    print(f"floor: agentfile.parse of an ordinary {len(ORDINARY)}-byte agent file")
    ordinary_peak = peak_bytes(lambda: agentfile.parse(ORDINARY))
    row("ordinary file (the floor)", len(ORDINARY), floor, ordinary_peak, floor)

    cases = [
        ("bomb, 8 levels, tools: *i", bomb_file(8, "tools")),
        ("bomb, 8 levels, disallowedTools: *i", bomb_file(8, "disallowedTools")),
        ("bomb, 20 levels, tools: *u", bomb_file(20, "tools")),
        ("recursive alias", "---\nname: r\ndescription: D\nhooks: &h {Stop: [*h]}\n---\nB\n"),
    ]
    for label, text in cases:
        call = refused(agentfile.parse, text)
        row(label, len(text), median_seconds(call), peak_bytes(call), floor)

    box = alias_yaml(7, "all")
    call = refused(agentfile.load_yaml, box)
    row(
        "admin YAML box, 7 levels (load_yaml)",
        len(box),
        median_seconds(call),
        peak_bytes(call),
        floor,
    )

    # The largest the limit accepts: aliases repeating about 45,000 values and characters.
    accepted = bomb_file(3, "x-extra")

    def parse_and_render() -> None:
        parsed = agentfile.parse(accepted)
        agentfile.render(parsed.frontmatter, parsed.body, parsed.sources, parsed.prefix)

    seconds = median_seconds(parse_and_render, runs=10)
    row(
        "accepted: 3 levels, parsed and rendered",
        len(accepted),
        seconds,
        peak_bytes(parse_and_render),
        floor,
    )

    # The command's path: import_file into a fresh SQLite database.
    workdir = tempfile.mkdtemp(prefix="agentportal-bench-")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnop")
    os.environ["DJANGO_SETTINGS_MODULE"] = "agentportal.settings"
    import django

    django.setup()
    from django.core.management import call_command

    from agents.importing import import_file
    from agents.models import Tool

    call_command("migrate", verbosity=0)
    registry = Tool.registry()
    bomb = bomb_file(8, "tools").encode()

    def import_bomb() -> None:
        result = import_file("bomb.md", bomb, registry=registry, dry_run=True)
        assert result.failed and "alias bomb" in result.error.message, result.line()

    def import_ordinary() -> None:
        assert not import_file("a.md", ORDINARY.encode(), registry=registry, dry_run=True).failed

    import_floor = median_seconds(import_ordinary)
    row(
        "import_file, ordinary file (dry run)",
        len(ORDINARY),
        import_floor,
        peak_bytes(import_ordinary),
        floor,
    )
    seconds = median_seconds(import_bomb)
    row("import_file, bomb 8 levels (dry run)", len(bomb), seconds, peak_bytes(import_bomb), floor)
    print(f"import_file refuses the bomb in {seconds / import_floor:.2f}x an ordinary import")


if __name__ == "__main__":
    main()
