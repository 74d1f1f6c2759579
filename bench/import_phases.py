"""Where the corpus import's time goes: ``import_agents --publish`` into a fresh SQLite database,
each phase timed (wall clock, the calls wrapped), beside the floor of ``bench/scale.py``'s import
figure (the portal's own parse + validate + render, no database) measured in the same run.

Run:  .venv/bin/python bench/import_phases.py [CORPUS_DIR]

Phases nest (``_create_together`` holds ``create_agents``, which holds ``insert_rows``...), so
the rows do not add up to the total; "SQL <verb> <table>" rows are the time in the database
driver. The machine is shared: compare rows with the floor of the same run, not across runs.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
import tempfile
import time
from collections import defaultdict
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

spent: dict[str, float] = defaultdict(float)
calls: dict[str, int] = defaultdict(int)


def timed(owner: object, name: str, label: str | None = None) -> None:
    function = getattr(owner, name)
    label = label or f"{getattr(owner, '__name__', '?').rsplit('.', 1)[-1]}.{name}"

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - start
            calls[label] += 1

    setattr(owner, name, wrapper)


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared/corpus/agents"
    workdir = tempfile.mkdtemp(prefix="agentportal-phases-")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/import.sqlite3"
    from bench import pages

    pages.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import QuerySet

    from agents import agentfile, filebridge, importing, workflow
    from agents.lint import report

    files, data, registry = pages.import_setup(corpus)
    floor_s = pages.import_floor_seconds(files, data, registry)

    for owner, name in [
        (importing, "_read"),
        (importing, "_creatable"),
        (importing, "_create_together"),
        (importing, "_import_read"),
        (filebridge, "create_agents"),
        (filebridge, "file_rows"),
        (filebridge, "row_objects"),
        (filebridge, "insert_rows"),
        (filebridge, "render"),
        (workflow, "record_new_agents"),
        (workflow, "record_revision"),
        (report, "lint_record"),
        (agentfile, "parse"),
        (agentfile, "render"),
    ]:
        timed(owner, name)
    bulk_create = QuerySet.bulk_create

    def counted_bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)  # a generator's own work (lint, for revisions) is timed apart
        start = time.perf_counter()
        try:
            return bulk_create(self, objs, *args, **kwargs)
        finally:
            spent[f"bulk_create {self.model.__name__}"] += time.perf_counter() - start
            calls[f"bulk_create {self.model.__name__}"] += 1

    QuerySet.bulk_create = counted_bulk_create

    def sql_time(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            words = re.match(r'\s*(\w+)(?: INTO| FROM)? "?(\w+)', sql)
            label = "SQL " + (" ".join(words.groups()) if words else sql[:20])
            label = "SQL SAVEPOINT/RELEASE" if "SAVEPOINT" in label else label
            spent[label] += time.perf_counter() - start
            calls[label] += 1

    with connection.execute_wrapper(sql_time):
        start = time.perf_counter()
        with contextlib.suppress(SystemExit):  # some files are refused: the command exits 1
            call_command("import_agents", str(corpus), "--publish", stdout=StringIO())
        total = time.perf_counter() - start

    n = len(files)
    print(f"{n} files; import {total:.2f} s ({n / total:.0f} files/s), floor {floor_s:.2f} s")
    print(f"({n / floor_s:.0f} files/s), ratio {floor_s / total:.3f}\n")
    print(f"| phase | seconds | calls | ms a file (of {n}) | share of the import |")
    print("|---|---:|---:|---:|---:|")
    print(f"| floor: parse + validate + render | {floor_s:.3f} | | {1e3 * floor_s / n:.2f} | |")
    for label, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        if seconds >= 0.005:
            print(
                f"| {label} | {seconds:.3f} | {calls[label]} | {1e3 * seconds / n:.2f} | "
                f"{100 * seconds / total:.0f}% |"
            )


if __name__ == "__main__":
    main()
