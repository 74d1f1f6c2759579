"""The portal at 10,000 agents: every figure of issue 11 beside its floor, in one table.

Run:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> .venv/bin/python bench/scale.py
      [--agents 10000] [--repeat 30] [--requests 1000] [--keepdb] [CORPUS_DIR]

The agents are built in a separate database, ``test_<db>`` (created beside the one named, as the
test suite does, and dropped at the end unless ``--keepdb``; with ``--keepdb`` a database that
already holds the agents is migrated and measured as it is). Without DATABASE_URL it is SQLite,
in a temporary folder. Building: the corpus imported and published, then duplicated under new
names in bulk (``bench/pages.py``) up to ``--agents``; every agent with a draft goes into review
(1,000 of 10,000); one agent gets 500 revisions. The database is then vacuumed and analysed, as
autovacuum keeps one in service (``pages.settle``; a kept database too, before measuring).

Figures, each measured in this run:

- corpus import (``import_agents --publish``) into a fresh SQLite database, in a child process;
  floor: the portal's own parse + validate + render of the same files, without a database. And
  the SQL queries importing one new published file takes.
- ``export_agents`` of every published agent: time, then peak memory (``tracemalloc``, a second
  run); floor: the same files written from their stored texts, read in one query.
- ``/agents/<name>.md`` through gunicorn with 4 workers, against a view returning the same bytes
  from memory behind the same middleware and sign-in (requests per second, ``--requests`` each).
- the admin's changelist (search, tool filter), the review queues (admin and portal), the
  history of the agent with 500 revisions, the activity page (``?page=200``, ``?since=``):
  median server time through Django's test client, beside the floor view's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REVISIONS = 500  # of the agent whose history is measured
IN_REVIEW = 1000  # at 10,000 agents; in proportion for fewer

rows: list[tuple[str, str, str, str, str]] = []  # figure, measured, floor, ratio, target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", nargs="?", default=str(ROOT.parent / "shared/corpus/agents"))
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--keepdb", action="store_true")
    parser.add_argument("--import-figure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    corpus = Path(args.corpus)
    if not corpus.is_dir():
        sys.exit(f"{corpus} is absent: pass the corpus folder as the first argument")
    if args.import_figure:
        print(json.dumps(import_figure(corpus)))
        return

    started = time.perf_counter()
    import_row(corpus)
    workdir = tempfile.mkdtemp(prefix="agentportal-scale-")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3")
    from bench import pages

    pages.setup()
    from django.db import connection

    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = f"{workdir}/test.sqlite3"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=args.keepdb)
    try:
        from agents.models import Agent

        count = Agent.objects.count()
        if count < args.agents:
            if count:
                sys.exit(f"test database holds {count} agents: drop it (run without --keepdb)")
            start = time.perf_counter()
            pages.build(corpus, args.agents)
            prepare(args.agents)
            print(f"built {Agent.objects.count():,} agents in {time.perf_counter() - start:.0f} s")
        pages.settle()  # a kept database too: it may have been built before settle() was
        measure_pages(args.repeat)
        export_row(workdir)
        throughput_row(args.requests)
        throughput_row(args.requests, health_checks=False)
    finally:
        if not args.keepdb:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(
        f"{connection.vendor}, {Agent.objects.count() if args.keepdb else args.agents:,} agents, "
        f"{time.perf_counter() - started:.0f} s in all"
    )
    print_table()


# --- the table ------------------------------------------------------------------------------


def row(figure: str, measured: str, floor: str, ratio: str, target: str) -> None:
    rows.append((figure, measured, floor, ratio, target))
    print(f"  {figure}: {measured} | floor {floor} | {ratio}", flush=True)


def print_table() -> None:
    header = ("figure", "measured", "floor, same run", "ratio", "target")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for line in rows:
        print("| " + " | ".join(line) + " |")


# --- import (a child process: its own SQLite database) -----------------------------------------


def import_row(corpus: Path, runs: int = 3) -> None:
    """The import into a new SQLite database, best of ``runs`` (each its own process and
    database), as the floor is the best of its runs: a single run would count a busy moment of
    the shared machine against the import only."""
    figures = []
    for _ in range(runs):
        workdir = tempfile.mkdtemp(prefix="agentportal-import-")
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{workdir}/import.sqlite3"}
        try:
            output = subprocess.run(  # noqa: S603 (this script, with its own arguments)
                [sys.executable, __file__, str(corpus), "--import-figure"],
                env=env,
                capture_output=True,
                text=True,
            )
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        if output.returncode:
            sys.exit(f"the import figure failed:\n{output.stderr}")
        figures.append(json.loads(output.stdout.strip().splitlines()[-1]))
    figure = min(figures, key=lambda each: each["seconds"])
    floor_seconds = min(each["floor_seconds"] for each in figures)
    with_lint = min(each["floor_with_lint_seconds"] for each in figures)
    rate, floor = figure["files"] / figure["seconds"], figure["files"] / floor_seconds
    row(
        f"corpus import ({figure['files']} files), SQLite",
        f"{rate:.0f} files/s; {figure['queries']} queries for one new published file",
        f"parse + validate + render, no database: {floor:.0f} files/s",
        f"{rate / floor:.2f}",
        ">= 0.20",
    )
    # Informative: the same import against a floor that lints too (no target of its own).
    row(
        "corpus import, against a floor that lints too",
        f"{rate:.0f} files/s",
        f"parse + validate + render + lint, no database: {figure['files'] / with_lint:.0f} files/s",
        f"{rate * with_lint / figure['files']:.2f}",
        "(informative)",
    )


def import_figure(corpus: Path) -> dict[str, Any]:
    from bench import pages

    pages.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from agents.importing import import_file

    files, data, registry = pages.import_setup(corpus)
    floor_seconds = pages.import_floor_seconds(files, data, registry)
    with_lint = pages.import_floor_seconds(files, data, registry, lint=True)
    start = time.perf_counter()
    # Some corpus files are refused (duplicate names, errors): the command exits with 1.
    with contextlib.suppress(SystemExit):
        call_command("import_agents", str(corpus), "--publish", stdout=StringIO())
    seconds = time.perf_counter() - start

    one = b"---\nname: scale-one-new\ndescription: One more agent.\ntools: Read, Grep\n---\n\nHi.\n"
    with CaptureQueriesContext(connection) as queries:
        import_file("one.md", one, publish=True, registry=registry)
    return {
        "files": len(files),
        "seconds": seconds,
        "floor_seconds": floor_seconds,
        "floor_with_lint_seconds": with_lint,
        "queries": len(queries),
    }


# --- the data the pages need --------------------------------------------------------------------


def prepare(total: int) -> None:
    """Agents with a draft go into review (with their submission), up to IN_REVIEW per 10,000;
    one agent gets REVISIONS revisions."""
    import hashlib

    from django.db import transaction
    from django.db.models import F
    from django.utils import timezone

    from agents.models import Agent, Event, Revision

    wanted = max(1, IN_REVIEW * total // 10_000)
    wanted -= Agent.objects.filter(status=Agent.Status.IN_REVIEW).count()
    with transaction.atomic():
        drafts = list(
            Agent.objects.filter(status=Agent.Status.DRAFT)
            .exclude(latest_revision=None)
            .select_related("owner", "latest_revision")
            .order_by("pk")[:wanted]
        )
        ids = [agent.pk for agent in drafts]
        Agent.objects.filter(pk__in=ids).update(status=Agent.Status.IN_REVIEW)
        Event.objects.bulk_create(
            Event(
                agent=agent,
                revision=agent.latest_revision,
                action=Event.Action.SUBMIT,
                actor=agent.owner,
                actor_name=agent.owner.username if agent.owner else "",
                from_status=Agent.Status.DRAFT,
                to_status=Agent.Status.IN_REVIEW,
                created_at=agent.latest_revision.created_at + timedelta(minutes=1),
                comment="Please review",
            )
            for agent in drafts
        )
        agent = (
            Agent.objects.filter(status=Agent.Status.APPROVED)
            .select_related("published_revision")
            .order_by("pk")
            .first()
        )
        base = agent.published_revision
        now = timezone.now()
        revisions = []
        for number in range(base.number + 1, base.number + REVISIONS):
            text = base.text + f"\nRevision {number}.\n"
            revisions.append(
                Revision(
                    agent=agent,
                    number=number,
                    name=base.name,
                    description=base.description,
                    text=text,
                    sha256=hashlib.sha256(text.encode()).hexdigest(),
                    note=f"edit {number}",
                    created_at=now - timedelta(minutes=REVISIONS - number),
                )
            )
        Revision.objects.bulk_create(revisions)
        Event.objects.bulk_create(
            Event(
                agent=agent,
                revision=revision,
                action=Event.Action.EDIT,
                from_status=Agent.Status.APPROVED,
                to_status=Agent.Status.DRAFT,
                created_at=revision.created_at,
            )
            for revision in revisions
        )
        Agent.objects.filter(pk=agent.pk).update(
            status=Agent.Status.DRAFT, latest_revision=revisions[-1], updated_at=F("updated_at")
        )
    fill_submissions()


def fill_submissions() -> None:
    """Agents put in review in bulk get their submission on their row, as migration 0014 does
    for agents submitted before it (a database without that migration has nothing to fill)."""
    import importlib

    from django.apps import apps
    from django.db import connection

    from agents.models import Agent

    if not any(field.name == "submitted_at" for field in Agent._meta.fields):
        return
    migration = importlib.import_module("agents.migrations.0014_performance_indexes")
    migration.fill_submissions(apps, connection.schema_editor())


# --- pages ----------------------------------------------------------------------------------------


def measure_pages(repeat: int) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db.models import Count
    from django.test import Client

    from agents.models import Agent, Event
    from bench import pages

    users = get_user_model()
    admin = users.objects.filter(username="scale-admin").first() or users.objects.create_superuser(
        "scale-admin"
    )
    reviewer, _ = users.objects.get_or_create(username="scale-reviewer", is_staff=True)
    reviewer.groups.add(Group.objects.get(name="Reviewers"))
    busiest = Agent.objects.annotate(n=Count("revisions")).order_by("-n").first()
    middle = Event.objects.order_by("created_at").values_list("created_at", flat=True)
    since = middle[Event.objects.count() // 2].date().isoformat()
    in_review = Agent.objects.filter(status=Agent.Status.IN_REVIEW).count()
    # 200 pages of 50 back: ?page=200 before keyset pagination, the cursor of that place after.
    back = "?page=200"
    try:
        from agents.views.activity import cursor
    except ImportError:
        pass
    else:
        place = Event.objects.order_by("-created_at", "-pk")[199 * 50 - 1]
        back = f"?before={cursor(place)}"

    client = Client()
    client.force_login(admin)
    floor = pages.median_ms(client, "/bench-floor/", repeat)[0]
    figures = [
        ("admin changelist, search ?q=python", "/admin/agents/agent/?q=python", admin),
        ("admin changelist, tool filter", "/admin/agents/agent/?tool=Bash", admin),
        (f"admin review queue, {in_review} in review", "/admin/agents/submission/", reviewer),
        (f"portal review queue, {in_review} in review", "/agents/review/", reviewer),
        (
            f"history of an agent with {busiest.n} revisions",
            f"/agents/{busiest.slug}/history/",
            admin,
        ),
        ("activity, 200 pages back", f"/agents/activity/{back}", admin),
        ("activity ?since= (half the events)", f"/agents/activity/?since={since}", admin),
    ]
    for figure, url, user in figures:
        client = Client()
        client.force_login(user)
        ms = pages.median_ms(client, url, repeat)[0]
        response = client.get(url, secure=True)
        queries, _ = pages.profile(client, url)
        row(
            figure,
            f"{ms:.1f} ms, {len(response.content) / 1000:.0f} KB, {queries} queries",
            f"{floor:.1f} ms (fixed string)",
            f"{ms / floor:.1f}x",
            "< 50 ms",
        )


# --- export ---------------------------------------------------------------------------------------


def export_row(workdir: str) -> None:
    from django.core.management import call_command

    from agents.distribution import files
    from agents.management.commands.export_agents import _write

    counter = iter(range(1000))

    def export() -> None:
        out = Path(workdir) / f"export-{next(counter)}"
        call_command("export_agents", "--out", str(out), stdout=StringIO())
        shutil.rmtree(out)

    def floor() -> None:
        out = Path(workdir) / f"floor-{next(counter)}"
        texts = list(
            files.distributed().values_list("path", "published_revision__text").order_by("path")
        )
        for path, text in texts:
            _write(out / path, text.encode())
        shutil.rmtree(out)

    seconds, floor_seconds = timed(export), timed(floor)
    peak, floor_peak = peak_memory(export), peak_memory(floor)
    count = files.distributed().count()
    row(
        f"export_agents of {count:,}",
        f"{seconds:.1f} s, {peak / 1e6:.0f} MB peak",
        f"stored texts written: {floor_seconds:.1f} s, {floor_peak / 1e6:.0f} MB",
        f"{seconds / floor_seconds:.2f} (time)",
        "<= 1.2, < 150 MB",
    )


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def peak_memory(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- downloads through gunicorn -------------------------------------------------------------------


def throughput_row(requests: int, health_checks: bool = True) -> None:
    """One file's download through gunicorn (4 workers) against the floor view
    (``bench/scale_wsgi.py``: the same bytes from memory, the same middleware and sign-in);
    with the settings' CONN_HEALTH_CHECKS, or without."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from agents.distribution import files
    from agents.models import Agent

    agent = (
        Agent.objects.filter(status=Agent.Status.APPROVED)
        .order_by("-pk")
        .select_related("published_revision")
    ).first()
    name = agent.published_revision.name
    user = Agent.objects.filter(pk=agent.pk).values_list("owner__username", flat=True).first()
    client = Client()
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username=user or "scale-admin"))
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    size = len(files.published_file(name).text.encode())

    port = free_port()
    database = connection.settings_dict
    url = os.environ["DATABASE_URL"]
    if connection.vendor == "postgresql":
        url = url.rsplit("/", 1)[0] + "/" + database["NAME"]
    else:
        url = f"sqlite:///{database['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ALLOWED_HOSTS": "127.0.0.1",
        "BENCH_FLOOR_NAME": name,
        "PYTHONPATH": str(ROOT),
        "CONN_HEALTH_CHECKS": "1" if health_checks else "0",
    }
    server = subprocess.Popen(  # noqa: S603 (gunicorn from the virtualenv)
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--workers",
            "4",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "bench.scale_wsgi:application",
        ],
        env=env,
        cwd=ROOT,
        stderr=subprocess.DEVNULL,  # django-axes announces itself in every worker
    )
    try:
        wait_for(port)
        download, floor = f"/agents/{name}.md", "/bench-floor.md"
        for address in (download, floor):
            status, body = get(port, address, cookie)
            if status != 200 or len(body) != size:
                sys.exit(f"{address} through gunicorn answered {status}, {len(body)} bytes")
        best = {download: 0.0, floor: 0.0}
        for _ in range(3):  # interleaved, best of 3: the machine is shared
            for address in (download, floor):
                best[address] = max(best[address], rate(port, address, cookie, requests))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    row(
        "/agents/<name>.md throughput, gunicorn 4 workers"
        + ("" if health_checks else ", CONN_HEALTH_CHECKS off"),
        f"{best[download]:.0f} req/s ({size:,} bytes)",
        f"same bytes from memory: {best[floor]:.0f} req/s",
        f"{best[download] / best[floor]:.2f}",
        ">= 0.8",
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit("gunicorn did not start")


def get(port: int, address: str, cookie: str) -> tuple[int, bytes]:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", address, headers={"Cookie": cookie, "X-Forwarded-Proto": "https"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def rate(port: int, address: str, cookie: str, requests: int) -> float:
    """Requests per second with 8 clients at once (more than the workers: none waits idle)."""
    clients = 8
    failures: list[int] = []

    def client() -> None:
        for _ in range(requests // clients):
            status, _ = get(port, address, cookie)
            if status != 200:
                failures.append(status)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if failures:
        sys.exit(f"{address}: {len(failures)} requests failed ({failures[0]})")
    return (requests // clients) * clients / elapsed


if __name__ == "__main__":
    main()
