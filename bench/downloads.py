"""Downloads at scale: the zip of 100, 1,000 and 10,000 published agents, and one file's download.

Run:  .venv/bin/python bench/downloads.py            (SQLite, a temporary file)
      DATABASE_URL=postgres://.../db .venv/bin/python bench/downloads.py
      (a test database ``test_<db>`` is created beside it and dropped at the end)
      BENCH_SIZES=100,1000 BENCH_REQUESTS=500 for a quicker run.

Agents are published in bulk with the corpus's files as their text (cycled; realistic sizes), at
paths spread over 50 folders. For each size, the whole zip is streamed through the real view
(Django's test client, every middleware, a signed-in reader) and its chunks thrown away as they
come, as a server sending them would: time, then peak memory (tracemalloc, a second run). Floors
from the same run: zipfile writing the same texts, already in memory, into an in-memory zip (no
database, no HTTP), whose memory holds the whole zip. Then the single-file download view against
a floor view that returns the same bytes behind the same middleware and sign-in.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import tempfile
import time
import tracemalloc
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared/corpus/agents"
SIZES = tuple(int(n) for n in os.environ.get("BENCH_SIZES", "100,1000,10000").split(","))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))  # single-file downloads per view


def main() -> None:
    workdir = tempfile.mkdtemp(prefix="agentportal-bench-")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnop")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ["DJANGO_SETTINGS_MODULE"] = "agentportal.settings"
    sys.path.insert(0, str(ROOT))

    import django

    # WhiteNoise warns that collectstatic has not run: no static file is served here.
    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    from django.db import connection

    if connection.vendor == "sqlite":
        # A file, as in production (the test database would be in memory otherwise).
        connection.settings_dict["TEST"]["NAME"] = f"{workdir}/test.sqlite3"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(connection.vendor)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(vendor: str) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    texts = [p.read_text() for p in sorted(CORPUS.rglob("*.md"))[:200]] or [FALLBACK]
    reader = get_user_model().objects.create_user("bench-reader")
    client = Client()
    client.force_login(reader)
    url = reverse("agents:download-zip")

    print(f"database: {vendor}; texts: {len(texts)} corpus files cycled")
    print()
    print(
        f"{'agents':>7} {'zip MB':>7} {'zip s':>7} {'peak MB':>8} {'304 s':>7} "
        f"{'floor s':>8} {'floor MB':>9}  (floor: zipfile into memory, texts preloaded)"
    )
    made = 0
    for size in SIZES:
        publish(range(made, size), texts)
        made = size

        def stream() -> tuple[int, str]:
            response = client.get(url, secure=True)
            digest, total = hashlib.sha256(), 0
            for chunk in response.streaming_content:
                digest.update(chunk)
                total += len(chunk)
            response.close()
            return total, response["ETag"]

        elapsed, (total, etag) = timed(stream)
        peak = peak_memory(stream)
        not_modified, _ = timed(
            lambda etag=etag: client.get(url, secure=True, headers={"if-none-match": etag})
        )
        files = floor_files(size, texts)
        floor_elapsed, _ = timed(lambda files=files: in_memory_zip(files))
        floor_peak = peak_memory(lambda files=files: in_memory_zip(files))
        print(
            f"{size:>7,} {total / 1e6:>7.1f} {elapsed:>7.2f} {peak / 1e6:>8.2f} "
            f"{not_modified:>7.3f} {floor_elapsed:>8.2f} {floor_peak / 1e6:>9.2f}"
        )

    print()
    throughput(client, made)


FALLBACK = "---\nname: x\ndescription: Fallback text when ../shared is absent.\n---\n\nBody.\n"


def publish(numbers: range, texts: list[str]) -> None:
    """Published agents ``agent-<n>`` in bulk: agent rows, a revision each, its publishing
    event, then the agents' revision links (what approving does, without the per-agent cost)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from agents.models import Agent, Event, Revision

    now = timezone.now()
    with transaction.atomic():
        agents = Agent.objects.bulk_create(
            Agent(
                name=f"agent-{n}",
                slug=f"agent-{n}",
                path=f"team-{n % 50}/agent-{n}.md",
                description=f"Bench agent {n}.",
                status=Agent.Status.APPROVED,
            )
            for n in numbers
        )
        revisions = Revision.objects.bulk_create(
            Revision(
                agent=agent,
                number=1,
                name=agent.name,
                description=agent.description,
                text=(text := texts[n % len(texts)]),
                sha256=hashlib.sha256(text.encode()).hexdigest(),
                created_at=now,
            )
            for n, agent in zip(numbers, agents, strict=True)
        )
        Event.objects.bulk_create(
            Event(
                agent=agent,
                revision=revision,
                action=Event.Action.PUBLISH,
                from_status=Agent.Status.DRAFT,
                to_status=Agent.Status.APPROVED,
                created_at=now,
            )
            for agent, revision in zip(agents, revisions, strict=True)
        )
        for agent, revision in zip(agents, revisions, strict=True):
            agent.published_revision = agent.latest_revision = revision
        Agent.objects.bulk_update(agents, ["published_revision", "latest_revision"], 1000)
    # What autovacuum does soon after a bulk load: without it PostgreSQL plans for the tables
    # it saw before the load.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def floor_files(size: int, texts: list[str]) -> list[tuple[str, bytes]]:
    return [
        (f".claude/agents/team-{n % 50}/agent-{n}.md", texts[n % len(texts)].encode())
        for n in range(size)
    ]


def in_memory_zip(files: list[tuple[str, bytes]]) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files:
            archive.writestr(name, data)
    return len(buffer.getvalue())


def timed(action: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    """The best of ``repeat`` runs (the machine is shared), and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    return best, result


def peak_memory(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def throughput(client: object, agents: int) -> None:
    """One file's download against a floor view: the same bytes, the same middleware and
    sign-in (session and user loaded), no query of its own, no ETag."""
    from django.contrib.auth.decorators import login_required
    from django.http import HttpRequest, HttpResponse
    from django.test.utils import override_settings
    from django.urls import path
    from django.views.decorators.http import require_GET

    from agents.distribution import files

    name = "agent-4321" if agents > 4321 else "agent-1"
    data = files.published_file(name).text.encode()

    @require_GET
    @login_required
    def floor(request: HttpRequest) -> HttpResponse:
        return HttpResponse(data, content_type="text/markdown; charset=utf-8")

    from agentportal import urls as portal_urls

    module = type(sys)("bench_urls")
    module.urlpatterns = [path("floor.md", floor), *portal_urls.urlpatterns]
    sys.modules["bench_urls"] = module

    with override_settings(ROOT_URLCONF="bench_urls"):
        address = f"/agents/{name}.md"
        assert (
            client.get(address, secure=True).content
            == client.get("/floor.md", secure=True).content
            == data
        )

        etag = client.get(address, secure=True)["ETag"]

        def many(url: str, **headers: str) -> Callable[[], None]:
            def go() -> None:
                for _ in range(REQUESTS):
                    client.get(url, secure=True, headers=headers)

            return go

        # Interleaved, best of 5 each: the machine is shared, and load that comes and goes
        # then weighs on every view alike. CPU time (this process's) is shown too: it does not
        # count waiting for a core, nor, on PostgreSQL, the database server's own work.
        wall = {"view": float("inf"), "304": float("inf"), "floor": float("inf")}
        cpu = dict(wall)
        for _ in range(5):
            for label, action in [
                ("view", many(address)),
                ("floor", many("/floor.md")),
                ("304", many(address, if_none_match=etag)),
            ]:
                start_wall, start_cpu = time.perf_counter(), time.process_time()
                action()
                wall[label] = min(wall[label], time.perf_counter() - start_wall)
                cpu[label] = min(cpu[label], time.process_time() - start_cpu)
    print(
        f"one file ({len(data):,} bytes) among {agents:,} agents, {REQUESTS:,} requests each, "
        "best of 5 interleaved:"
    )
    print(f"  {'':14} {'req/s':>8} {'req/s (CPU)':>12}")
    for label, title in [("view", "download view"), ("304", "304 (ETag)"), ("floor", "floor view")]:
        print(f"  {title:14} {REQUESTS / wall[label]:8.0f} {REQUESTS / cpu[label]:12.0f}")
    print(
        f"  {'ratio':14} {wall['floor'] / wall['view']:8.2f} {cpu['floor'] / cpu['view']:12.2f}"
        "  (download / floor throughput; target >= 0.8)"
    )


if __name__ == "__main__":
    main()
