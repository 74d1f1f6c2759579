"""Import the whole corpus into a fresh database and report files per second.

Run:  .venv/bin/python bench/import_corpus.py [CORPUS_DIR]

Alongside, it times merely splitting and YAML-parsing the same files (yaml.safe_load with the C
loader when available): the floor any importer pays. The database is a fresh SQLite file in a
temporary folder unless DATABASE_URL is set (then it must point at an empty database).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared/corpus/agents"
    if not corpus.is_dir():
        sys.exit(f"{corpus} is absent: pass the corpus folder as the first argument")
    files = sorted(p for p in corpus.rglob("*.md") if p.is_file())
    data = [(p.name, p.read_bytes()) for p in files]

    workdir = tempfile.mkdtemp(prefix="agentportal-bench-")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnop")
    os.environ["DJANGO_SETTINGS_MODULE"] = "agentportal.settings"
    sys.path.insert(0, str(ROOT))

    import django
    import yaml

    django.setup()
    from django.core.management import call_command

    from agents.importing import Outcome, import_file
    from agents.models import Agent, Tool

    call_command("migrate", verbosity=0)
    if Agent.objects.exists():
        sys.exit("the database is not empty")

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    start = time.perf_counter()
    parsed = 0
    for _, raw in data:
        text = raw.decode("utf-8", errors="replace")
        match = re.match(r"\A---\r?\n(.*?)^---", text, re.S | re.M)
        if match:
            try:
                yaml.load(match.group(1), Loader=loader)  # noqa: S506 (a safe loader)
                parsed += 1
            except yaml.YAMLError:
                pass
    floor = time.perf_counter() - start

    registry = Tool.registry()
    start = time.perf_counter()
    outcomes: dict[str, int] = {}
    for name, raw in data:
        result = import_file(name, raw, registry=registry)
        outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
    elapsed = time.perf_counter() - start

    n = len(data)
    print(f"{n} files from {corpus}")
    print(f"import:     {elapsed:7.2f} s  {n / elapsed:8.1f} files/s  {sorted(outcomes.items())}")
    print(f"YAML floor: {floor:7.2f} s  {n / floor:8.1f} files/s  ({parsed} frontmatters parse)")
    print(f"import costs {elapsed / floor:.1f}x the YAML floor; {Outcome.CONFLICT} = name taken")


if __name__ == "__main__":
    main()
