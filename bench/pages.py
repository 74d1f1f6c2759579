"""Server time of the portal's reading pages with 10,000 agents on PostgreSQL.

Run:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/<database> .venv/bin/python bench/pages.py
      [--agents 10000] [--repeat 60] [--explain] [CORPUS_DIR]

An empty database is filled first (a few minutes): the corpus is imported and published, then
its agents are duplicated under new names (rows cloned with bulk_create, one published revision
each; one in ten has a newer draft, a few wait for review) up to ``--agents``. A database that
already holds that many agents is measured as it is.

Each page is requested through Django's test client (every middleware, a signed-in session, the
templates), ``--repeat`` times after a warm-up, and its median time is printed beside a floor
measured in the same run: a view behind the same middleware and sign-in that returns a fixed
string. ``--explain`` prints PostgreSQL's plan of the slowest query of each page.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import statistics
import sys
import time
import types
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 50.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", nargs="?", default=str(ROOT.parent / "shared/corpus/agents"))
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (the figures are PostgreSQL's).")
    setup()

    from django.core.management import call_command

    from agents.models import Agent

    call_command("migrate", verbosity=0)
    count = Agent.objects.count()
    if count == 0:
        corpus = Path(args.corpus)
        if not corpus.is_dir():
            sys.exit(f"{corpus} is absent: pass the corpus folder as the first argument")
        build(corpus, args.agents)
    elif count < args.agents:
        sys.exit(f"The database holds {count} agents, not {args.agents}: use an empty one.")
    else:
        print(f"Measuring the {count} agents already in the database.")
    measure(args.repeat, args.explain)


def setup() -> None:
    """Django as in production (DEBUG off: no query log), answering the test client."""
    os.environ["DEBUG"] = ""
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnop")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["DJANGO_SETTINGS_MODULE"] = "agentportal.settings"
    sys.path.insert(0, str(ROOT))
    import logging
    import warnings

    import django

    django.setup()
    logging.disable(logging.INFO)  # django-axes says every sign-in
    warnings.filterwarnings("ignore", message="No directory at")  # no collectstatic here
    from django.conf import settings
    from django.contrib.auth.decorators import login_required
    from django.http import HttpResponse
    from django.urls import include, path

    # Static files without collectstatic (the manifest storage needs it).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

    @login_required
    def floor(request: Any) -> HttpResponse:
        return HttpResponse("floor")

    urls = types.ModuleType("bench_urls")
    urls.urlpatterns = [path("bench-floor/", floor), path("", include("agentportal.urls"))]
    sys.modules["bench_urls"] = urls
    settings.ROOT_URLCONF = "bench_urls"


# --- building the data ----------------------------------------------------------------------------


def build(corpus: Path, total: int) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import transaction

    from agents.importing import Outcome, import_file
    from agents.models import Agent, Tool

    user_model = get_user_model()
    authors = Group.objects.get(name="Authors")
    owners = []
    for n in range(20):
        owner, _ = user_model.objects.get_or_create(username=f"bench-author-{n}")
        owner.groups.add(authors)
        owners.append(owner)

    start = time.perf_counter()
    registry = Tool.registry()
    files = sorted(p for p in corpus.rglob("*.md") if p.is_file())
    imported = 0
    for n, file in enumerate(files):
        result = import_file(
            file.name,
            file.read_bytes(),
            owner=owners[n % len(owners)],
            publish=True,
            registry=registry,
        )
        imported += result.outcome in (Outcome.CREATED, Outcome.UPDATED)
    print(
        f"imported {imported} of {len(files)} corpus files in {time.perf_counter() - start:.0f} s"
    )

    start = time.perf_counter()
    sources = list(
        Agent.objects.exclude(published_revision=None)
        .select_related("published_revision")
        .prefetch_related("tool_entries", "sections", "steps")
        .order_by("pk")
    )
    rng = random.Random(8)  # noqa: S311 (spread of dates, not secrets)
    made = Agent.objects.count()
    copy = 0
    while made < total:
        batch = min(1000, total - made)
        with transaction.atomic():
            clone_batch(sources, copy, batch, owners, rng)
        copy += batch
        made += batch
    settle()
    print(f"cloned up to {made} agents in {time.perf_counter() - start:.0f} s")


def settle() -> None:
    """The database as one in service is: statistics gathered and, on PostgreSQL, vacuumed.

    Autovacuum does that in service; where it is off (as on the machine these figures come
    from), the bulk build would leave the agents' table with more dead rows than live ones (the
    UPDATEs that link each agent to its revisions) and no visibility map, so that no query
    could count from an index alone.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def clone_batch(sources: list[Any], first: int, count: int, owners: list[Any], rng: Any) -> None:
    """``count`` new agents, each a copy of a corpus agent under a new name, published, with
    its tools, sections and steps; one in ten with a newer draft, one in thirty in review."""
    from django.db.models import OuterRef, Subquery
    from django.utils import timezone

    from agents.models import Agent, AgentTool, Event, InstructionStep, Revision, Section

    skip = {"id", "name", "slug", "status", "owner", "published_revision", "latest_revision"}
    fields = [f.attname for f in Agent._meta.concrete_fields if f.name not in skip]
    fields = [name for name in fields if name not in ("created_at", "updated_at", "owner_id")]
    picks = [sources[(first + n) % len(sources)] for n in range(count)]
    agents = []
    for n, source in enumerate(picks):
        number = first + n
        agent = Agent(**{name: getattr(source, name) for name in fields})
        agent.name = f"{source.name}-copy-{number}"
        agent.slug = f"{source.slug}-copy-{number}"
        agent.path = f"{agent.slug}.md"  # unique, as the name
        agent.owner = owners[number % len(owners)]
        agent.status = (
            Agent.Status.IN_REVIEW
            if number % 30 == 0
            else Agent.Status.DRAFT
            if number % 10 == 0
            else Agent.Status.APPROVED
        )
        agents.append(agent)
    Agent.objects.bulk_create(agents)

    now = timezone.now()
    revisions, tools, sections, steps, events = [], [], [], [], []
    for agent, source in zip(agents, picks, strict=True):
        published = source.published_revision
        text = renamed(published.text, agent.name)
        when = now - timedelta(minutes=rng.randrange(60 * 24 * 365))
        first_revision = Revision(
            agent=agent,
            number=1,
            name=agent.name,
            description=published.description,
            model=published.model,
            color=published.color,
            tools=published.tools,
            text=text,
            sha256=hashlib.sha256(text.encode()).hexdigest(),
            note="bench copy",
            created_at=when,
        )
        revisions.append(first_revision)
        if agent.status != Agent.Status.APPROVED:
            draft = text.replace("\n---\n", "\n---\nA newer draft.\n", 1)
            revisions.append(
                Revision(
                    agent=agent,
                    number=2,
                    name=agent.name,
                    description=published.description + " (draft)",
                    model=published.model,
                    color=published.color,
                    tools=published.tools,
                    text=draft,
                    sha256=hashlib.sha256(draft.encode()).hexdigest(),
                    note="bench draft",
                    created_at=when + timedelta(minutes=5),
                )
            )
        tools += [
            AgentTool(agent=agent, position=t.position, name=t.name)
            for t in source.tool_entries.all()
        ]
        sections += [
            Section(
                agent=agent, position=s.position, kind=s.kind, markdown=s.markdown, tight=s.tight
            )
            for s in source.sections.all()
        ]
        steps += [
            InstructionStep(agent=agent, position=s.position, title=s.title, text=s.text)
            for s in source.steps.all()
        ]
    Revision.objects.bulk_create(revisions)
    AgentTool.objects.bulk_create(tools)
    Section.objects.bulk_create(sections)
    InstructionStep.objects.bulk_create(steps)

    ids = [agent.pk for agent in agents]
    numbered = Revision.objects.filter(agent=OuterRef("pk")).values("pk")
    Agent.objects.filter(pk__in=ids).update(
        published_revision=Subquery(numbered.filter(number=1)[:1]),
        latest_revision=Subquery(numbered.order_by("-number")[:1]),
    )
    first_of = {r.agent_id: r for r in revisions if r.number == 1}
    last_of = {r.agent_id: r for r in revisions}
    for agent in agents:
        revision = first_of[agent.pk]
        events.append(
            Event(
                agent=agent,
                revision=revision,
                action=Event.Action.PUBLISH,
                from_status=Agent.Status.DRAFT,
                to_status=Agent.Status.APPROVED,
                created_at=revision.created_at,
                comment="bench",
            )
        )
        if agent.status == Agent.Status.IN_REVIEW:
            latest = last_of[agent.pk]
            events.append(
                Event(
                    agent=agent,
                    revision=latest,
                    action=Event.Action.SUBMIT,
                    actor=agent.owner,
                    actor_name=agent.owner.username,
                    from_status=Agent.Status.DRAFT,
                    to_status=Agent.Status.IN_REVIEW,
                    created_at=latest.created_at,
                    comment="Please review",
                )
            )
    Event.objects.bulk_create(events)


_NAME_LINE = re.compile(r"^name:.*$", re.M)


def renamed(text: str, name: str) -> str:
    """The file with its name line saying ``name`` (the new names are plain YAML)."""
    return _NAME_LINE.sub(f"name: {name}", text, count=1)


# --- measuring ------------------------------------------------------------------------------------


def measure(repeat: int, explain: bool) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from agents.models import Agent

    user_model = get_user_model()
    reader, _ = user_model.objects.get_or_create(username="bench-reader")
    reviewer, _ = user_model.objects.get_or_create(username="bench-reviewer")
    reviewer.groups.add(Group.objects.get(name="Reviewers"))
    # An agent published with a newer draft: its owner sees both, readers the published one.
    agent = (
        Agent.objects.filter(status=Agent.Status.DRAFT)
        .exclude(published_revision=None)
        .select_related("owner")
        .order_by("pk")
        .first()
    )
    author = agent.owner
    catalog = reverse("agents:list")
    pages = [
        ("catalog, page 1", catalog),
        ("catalog, page 40", catalog + "?page=40"),
        ("search 'security'", catalog + "?q=security"),
        ("search 'kubernetes -docker'", catalog + "?q=kubernetes+-docker"),
        ("tool filter Bash", catalog + "?tool=Bash"),
        ("search + tool + colour", catalog + "?q=review&tool=Read&color=blue"),
        ("agent page", agent.get_absolute_url()),
        ("home", reverse("home")),
    ]
    try:
        pages.append(("preview endpoint", reverse("agents:preview")))
    except NoReverseMatch:
        print("The preview endpoint is not on this branch (no agents:preview): not measured.")

    print(f"{Agent.objects.count()} agents; median of {repeat} requests each, in ms")
    print("wall: server time; cpu: the CPU time of the request (Django + PostgreSQL backend)\n")
    header = f"{'page':30} {'user':9} {'wall':>6} {'floor':>6} {'ratio':>6} {'cpu':>6}"
    print(f"{header} {'floor':>6} {'ratio':>6} {'queries':>7}")
    for label, user in (("reader", reader), ("author", author), ("reviewer", reviewer)):
        client = Client()
        client.force_login(user)
        floor, floor_cpu = median_ms(client, "/bench-floor/", repeat)
        for page, url in pages:
            ms, cpu = median_ms(client, url, repeat)
            queries, slowest = profile(client, url)
            flag = "" if ms < TARGET_MS else f"  wall over {TARGET_MS:.0f} ms"
            print(
                f"{page:30} {label:9} {ms:6.1f} {floor:6.1f} {ms / floor:5.1f}x {cpu:6.1f} "
                f"{floor_cpu:6.1f} {cpu / floor_cpu:5.1f}x {queries:7}{flag}"
            )
            if explain:
                print_plan(slowest)


def median_ms(client: Any, url: str, repeat: int) -> tuple[float, float]:
    """The median wall time of the page, and the median CPU time it took: this process's
    thread plus the PostgreSQL backend serving it (from /proc: the work itself, without the
    time spent waiting for a processor that other programs hold)."""
    for _ in range(3):
        response = client.get(url, secure=True)
        if response.status_code != 200:
            sys.exit(f"{url} answered {response.status_code}")
    backend = postgres_backend()
    walls, cpus = [], []
    for _ in range(repeat):
        cpu = time.thread_time() + on_cpu(backend)
        start = time.perf_counter()
        client.get(url, secure=True)
        walls.append(time.perf_counter() - start)
        cpus.append(time.thread_time() + on_cpu(backend) - cpu)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def postgres_backend() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def on_cpu(pid: int) -> float:
    """Seconds the process has run on a processor (0 if /proc cannot tell: another host)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


def profile(client: Any, url: str) -> tuple[int, str]:
    """How many queries the page runs, and the slowest one's SQL."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url, secure=True)
    timed = defaultdict(float)
    for query in captured.captured_queries:
        timed[query["sql"]] += float(query["time"])
    slowest = max(timed, key=timed.get) if timed else ""
    return len(captured.captured_queries), slowest


def print_plan(sql: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        print("    " + "\n    ".join(line for (line,) in cursor.fetchall()))


if __name__ == "__main__":
    main()


def corpus_files(corpus: Path) -> tuple[list[Path], list[bytes]]:
    """The corpus's .md files, in path order, and their bytes (read once, before timing)."""
    files = sorted(p for p in corpus.rglob("*.md") if p.is_file())
    return files, [p.read_bytes() for p in files]


def import_setup(corpus: Path) -> tuple[list[Path], list[bytes], dict[str, str | None]]:
    """For an import figure, in a new database (``setup()`` done): the tables migrated, the
    corpus files read into memory and the tool registry loaded."""
    from django.core.management import call_command

    from agents.models import Tool

    call_command("migrate", verbosity=0)
    files, data = corpus_files(corpus)
    return files, data, Tool.registry()


def import_floor_seconds(
    files: list[Path], data: list[bytes], registry: dict[str, str | None], lint: bool = False
) -> float:
    """``import_floor``'s time, the best of three runs."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        import_floor(files, data, registry, lint=lint)
        best = min(best, time.perf_counter() - start)
    return best


def import_floor(
    files: list[Path], data: list[bytes], registry: dict[str, str | None], lint: bool = False
) -> None:
    """The floor of the import figures (``bench/scale.py``, ``bench/import_phases.py``): the
    portal's own parse + validate + render of the corpus files, without a database. With
    ``lint``, also the lint columns every stored revision gets (``lint.report.lint_record``),
    work the import has done since issue 12, after issue 11 set its target."""
    from agents import agentfile
    from agents.lint import report

    for n, raw in enumerate(data):
        try:
            parsed = agentfile.parse(raw, filename=files[n].name)
        except agentfile.AgentFileError:
            continue
        errors, _ = agentfile.validate(parsed.frontmatter, registry, strict=False)
        if not errors:
            text = agentfile.render(parsed.frontmatter, parsed.body, parsed.sources, parsed.prefix)
            if lint:
                report.lint_record(text, registry, parsed=parsed if raw == text.encode() else None)
