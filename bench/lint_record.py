"""What storing lint's findings costs each recorded revision, against a floor measured in the same
run: parsing the same file (``agentfile.parse``), which every save of a revision does at least
once (the editor and the importer parse, ``record_revision`` renders).

Run:  .venv/bin/python bench/lint_record.py [CORPUS_DIR] [--rounds 3]

Prints, over the corpus's agent files: the time to parse them all (floor), the time to work out
their lint columns (``lint.report.lint_record``: parse + every one-file rule + the JSON), and the
ratio; and the slowest file's ratio. No database, no Django.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agents import agentfile  # noqa: E402
from agents.lint import builtin_registry, report  # noqa: E402


def texts(corpus: Path) -> list[str]:
    found = []
    for path in sorted(p for p in corpus.rglob("*.md") if p.is_file()):
        try:
            parsed = agentfile.parse(path.read_bytes(), path.name)
        except agentfile.AgentFileError:
            continue
        # What the portal stores: the file as it renders it.
        found.append(agentfile.render(parsed.frontmatter, parsed.body))
    return found


def best_of(rounds: int, action) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", default=str(ROOT.parent / "shared/corpus/agents"))
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    files = texts(Path(options.corpus))
    registry = builtin_registry()
    floor = best_of(options.rounds, lambda: [agentfile.parse(text) for text in files])
    linted = best_of(options.rounds, lambda: [report.lint_record(text, registry) for text in files])
    each = 1e6 / len(files)
    print(f"{len(files)} files, best of {options.rounds} rounds")
    print(f"floor: parse every file   {floor * 1000:8.1f} ms ({floor * each:.0f} us a file)")
    print(f"lint_record every file    {linted * 1000:8.1f} ms ({linted * each:.0f} us a file)")
    print(f"ratio lint_record / parse {linted / floor:8.2f}")


if __name__ == "__main__":
    main()
