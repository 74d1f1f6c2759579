"""What importing costs in queries, and the import command's batched commits."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from agents.importing import Entry, Outcome, import_file, import_many
from agents.models import Agent, Event, Tool

from .factories import AgentFactory
from .helpers import assert_same_query_count, queries_of, query_counts

pytestmark = pytest.mark.django_db


def new_file(name: str) -> bytes:
    return (
        f"---\nname: {name}\ndescription: Checks one thing.\ntools: Read, Grep\n---\n\n"
        "You check.\n\n## Instructions\n\n1. **Read** the file.\n2. **Say** what is wrong.\n"
    ).encode()


def test_importing_one_new_published_file_takes_a_fixed_short_list_of_queries():
    registry = Tool.registry()
    names = iter(f"imported-{n}" for n in range(10))

    def import_one() -> None:
        name = next(names)
        result = import_file(f"{name}.md", new_file(name), publish=True, registry=registry)
        assert result.outcome == Outcome.CREATED, result.line()

    # Expected, for a new agent published on import (the test runs inside a transaction, so
    # the file's own BEGIN/COMMIT are a SAVEPOINT/RELEASE here):
    #  1 the agent of that name, if any          2 another agent publishing that name?
    #  3 BEGIN (the file's own savepoint)        4 slugs taken  5 paths taken
    #  6 INSERT agent  7 INSERT tools  8 INSERT sections (one executemany each; this file's
    #    numbered list stays Markdown, so no steps)
    #  9 SAVEPOINT (the revision and its steps)  10 the agent's row, held (SELECT FOR UPDATE)
    # 11 INSERT revision (its lint columns worked out with the registry the importer loaded,
    #    not queried again)  12 INSERT event "create"  13 UPDATE agent: latest revision, draft
    # 14 INSERT event "publish"  15 UPDATE agent: published  16 RELEASE SAVEPOINT  17 COMMIT
    # No DELETE (the agent is new: it has no rows to replace), no reading the agent or its
    # rows back to render the file (the importer rendered it from the file), one savepoint.
    count = assert_same_query_count(import_one, lambda: AgentFactory.create_batch(5, steps=3))
    assert count <= 17
    sql = queries_of(import_one)
    assert not [query for query in sql if query.startswith("DELETE")]
    assert len([query for query in sql if query.startswith("SAVEPOINT")]) <= 2  # 3 and 10

    agent = Agent.objects.get(name="imported-2")
    assert agent.status == Agent.Status.APPROVED
    assert agent.published_revision == agent.latest_revision
    assert [event.action for event in agent.events.order_by("pk")] == [
        Event.Action.CREATE,
        Event.Action.PUBLISH,
    ]
    assert agent.published_revision.tools == ["Read", "Grep"]


def test_a_batch_commits_many_files_together_and_a_failing_file_saves_nothing_of_itself():
    bad = b"---\nname: broken\ndescription: [unclosed\n---\nBody.\n"
    entries = [
        Entry("a.md", new_file("first-agent"), path="a.md"),
        Entry("b.md", bad, path="b.md"),
        Entry("c.md", new_file("third-agent"), path="c.md"),
        Entry("d.md", new_file("first-agent").replace(b"Checks", b"Looks at"), path="d.md"),
    ]
    results: list = []
    sql = queries_of(lambda: results.extend(import_many(entries, commit_every=10)))
    assert [result.outcome for result in results] == [
        Outcome.CREATED,
        Outcome.ERROR,
        Outcome.CREATED,
        Outcome.CONFLICT,
    ]
    assert sorted(Agent.objects.values_list("name", flat=True)) == ["first-agent", "third-agent"]
    assert Agent.objects.get(name="first-agent").description == "Checks one thing."
    # One transaction around the four files (a savepoint here, in the test's transaction), the
    # two new agents created together on one savepoint inside it: not a transaction a file.
    assert len([query for query in sql if query.startswith("RELEASE SAVEPOINT")]) == 2


def _batch_with_repeats(repeats: int, prefix: str = "") -> list[Entry]:
    """Three new agents, the first of them then given again ``repeats`` times, changed."""
    one, two, three = (f"{prefix}{name}" for name in ("one", "two", "three"))
    entries = [Entry(f"{name}.md", new_file(name)) for name in (one, two, three)]
    for n in range(repeats):
        text = new_file(one).replace(b"Checks one thing.", f"Checks {n} things.".encode())
        text = text.replace(b"what is wrong", f"what is wrong, {n}".encode())
        entries.append(Entry(f"again-{n}/{one}.md", text))
    return entries


def test_a_name_repeated_in_a_batch_is_created_with_the_others_and_its_repeats_look_nothing_up():
    # The first file of the name is created with the other new agents; the later ones, which
    # save nothing (conflicts: no --update), are compared with the agent loaded once for all.
    counts = []
    for repeats in (2, 6):
        results: list = []
        entries = _batch_with_repeats(repeats, prefix=f"r{repeats}-")
        counts.append(len(queries_of(lambda e=entries, r=results: r.extend(import_many(e)))))
        assert [r.outcome for r in results] == [Outcome.CREATED] * 3 + [Outcome.CONFLICT] * repeats
        assert Agent.objects.get(name=f"r{repeats}-one").description == "Checks one thing."
        assert "Checks 0 things." in results[3].diff
    assert counts[0] == counts[1]


def test_with_update_each_repeat_of_a_name_updates_what_the_one_before_saved():
    results = list(import_many(_batch_with_repeats(3), update=True))
    assert [r.outcome for r in results] == [Outcome.CREATED] * 3 + [Outcome.UPDATED] * 3
    # Each update's diff is against the file imported just before it, not the first one.
    assert "-description: Checks 1 things." in results[5].diff
    assert "-2. **Say** what is wrong, 1" in results[5].diff
    agent = Agent.objects.get(name="one")
    assert agent.description == "Checks 2 things."
    assert agent.latest_revision.number == 4


def test_the_import_command_commits_in_batches_and_keeps_the_files_that_import(tmp_path: Path):
    for n in range(5):
        (tmp_path / f"agent-{n}.md").write_bytes(new_file(f"batch-agent-{n}"))
    (tmp_path / "bad.md").write_bytes(b"---\nname: Bad Name!\n---\nNo description.\n")
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("import_agents", str(tmp_path), "--publish", stdout=out)
    assert "5 created" in out.getvalue() and "1 error" in out.getvalue()
    assert Agent.objects.filter(status=Agent.Status.APPROVED).count() == 5


def snapshot() -> list[tuple]:
    """What an import leaves, agent by agent, as people see it."""
    from agents import filebridge

    rows = []
    agents = Agent.objects.for_export().select_related("latest_revision", "published_revision")
    for agent in agents.order_by("name"):
        rows.append(
            (
                agent.name,
                agent.slug,
                agent.path,
                agent.status,
                filebridge.render(agent),
                agent.latest_revision.text,
                agent.latest_revision.tools,
                (
                    agent.latest_revision.lint_errors,
                    agent.latest_revision.lint_warnings,
                    agent.latest_revision.lint_findings,
                ),
                agent.published_revision_id == agent.latest_revision_id,
                [(e.action, e.from_status, e.to_status, e.comment) for e in agent.events.all()],
            )
        )
    return rows


@pytest.mark.parametrize("update", [False, True])
def test_a_batch_ends_as_its_files_imported_one_by_one_would(update):
    from django.db import transaction

    from .conftest import CORPUS, shared_file

    files = sorted(p for p in shared_file(CORPUS).rglob("*.md") if p.is_file())[:120]
    entries = [Entry(p.name, p.read_bytes(), path=p.relative_to(CORPUS).as_posix()) for p in files]
    registry = Tool.registry()
    with transaction.atomic():
        together = [
            r.line() for r in import_many(entries, update=update, publish=True, registry=registry)
        ]
        created_together = snapshot()
        transaction.set_rollback(True)
    with transaction.atomic():
        one_by_one = [
            import_file(
                e.source, e.data, path=e.path, update=update, publish=True, registry=registry
            ).line()
            for e in entries
        ]
        created_one_by_one = snapshot()
        transaction.set_rollback(True)

    assert together == one_by_one
    assert len(created_together) > 80
    # Files sharing a name (the corpus has such): the second one is a conflict, or an update.
    assert [line for line in together if line.startswith(("conflict", "updated"))]
    assert created_together == created_one_by_one


# "Bash" in lower case: an unknown tool (a warning), so no tool Claude Code knows (an error), and
# a prompt that runs tests without Bash (a warning).
LINTED = (
    b"---\nname: shell-runner\ndescription: Use when a command must run.\ntools: bash\n---\n\n"
    b"You run the tests.\n"
)


def stored_lint(name: str) -> tuple:
    revision = Agent.objects.get(name=name).latest_revision
    return revision.lint_errors, revision.lint_warnings, revision.lint_findings


def test_agents_created_by_a_batch_store_what_lint_says_as_one_file_alone_would():
    from django.db import transaction

    entries = [
        Entry("a.md", new_file("first-agent"), path="a.md"),
        Entry("runner.md", LINTED, path="runner.md"),
        Entry("c.md", new_file("third-agent"), path="c.md"),
    ]
    with transaction.atomic():
        assert [r.outcome for r in import_many(entries, publish=True)] == [Outcome.CREATED] * 3
        together = stored_lint("shell-runner")
        transaction.set_rollback(True)
    with transaction.atomic():
        # One file on its own goes through workflow.record_revision.
        assert import_file("runner.md", LINTED, publish=True).outcome == Outcome.CREATED
        alone = stored_lint("shell-runner")
        transaction.set_rollback(True)

    assert together == alone
    errors, warnings, findings = together
    assert (errors, warnings) == (1, 2)
    assert [f["rule"] for f in findings] == ["no-usable-tools", "prompt-needs-bash", "unknown-tool"]


def stored_columns() -> dict[str, list[tuple]]:
    """Every column an import writes for agents, revisions and events, keys and clock times
    aside (they differ from one import to the next), in a stable order."""
    from agents.models import Revision

    def values(model, order: str, skip: set[str]) -> list[tuple]:
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in skip]
        return list(model.objects.order_by(order, "pk").values_list(*fields))

    times = {"id", "created_at", "updated_at", "published_at"}
    return {
        "agents": values(Agent, "name", times | {"latest_revision_id", "published_revision_id"}),
        "revisions": values(Revision, "name", times | {"agent_id"}),
        "events": values(Event, "comment", times | {"agent_id", "revision_id"}),
        # A clock time too: whether each agent has its publishing time.
        "published": [
            moment is not None
            for moment in Agent.objects.order_by("name", "pk").values_list(
                "published_at", flat=True
            )
        ],
    }


def test_agents_saved_together_store_every_column_as_one_file_saved_alone_would():
    # The batch writes its agents, revisions and events as plain values (agents.bulk); one
    # file alone goes through Model.save. JSON columns, defaults and booleans must agree.
    from django.db import transaction

    from .conftest import CORPUS, shared_file

    files = sorted(p for p in shared_file(CORPUS).rglob("*.md") if p.is_file())[:60]
    entries = [Entry(p.name, p.read_bytes(), path=p.relative_to(CORPUS).as_posix()) for p in files]
    with transaction.atomic():
        results = list(import_many(entries, publish=True))
        together = stored_columns()
        transaction.set_rollback(True)
    with transaction.atomic():
        for e in entries:
            import_file(e.source, e.data, path=e.path, publish=True)
        one_by_one = stored_columns()
        transaction.set_rollback(True)

    assert len([r for r in results if r.outcome == Outcome.CREATED]) > 40
    assert together["agents"] == one_by_one["agents"]
    assert together["revisions"] == one_by_one["revisions"]
    assert together["events"] == one_by_one["events"]
    assert together["published"] == one_by_one["published"] == [True] * len(together["agents"])


def test_a_batch_of_new_files_takes_as_many_queries_for_few_files_as_for_many():
    registry = Tool.registry()
    start = iter(range(0, 1000, 100))

    def import_batch_of(size: int):
        def run() -> None:
            first = next(start)
            entries = [
                Entry(f"a{n}.md", new_file(f"batch-{n}"), path=f"a{n}.md")
                for n in range(first, first + size)
            ]
            results = list(import_many(entries, publish=True, registry=registry))
            assert [r.outcome for r in results] == [Outcome.CREATED] * size

        return run

    few, many = query_counts(import_batch_of(3), import_batch_of(30))
    assert few == many
    assert Agent.objects.count() == 33


def test_files_conflicting_with_saved_agents_take_as_many_queries_for_few_as_for_many():
    # A second import of a folder: each file names an agent already there. Their agents are
    # loaded together, and whether another agent publishes their name is asked once.
    registry = Tool.registry()
    entries = [Entry(f"a{n}.md", new_file(f"again-{n}"), path=f"a{n}.md") for n in range(33)]
    list(import_many(entries, publish=True, registry=registry))
    changed = [
        Entry(e.source, e.data.replace(b"Checks", b"Looks at"), path=e.path) for e in entries
    ]

    def again(files: list[Entry]):
        def run() -> None:
            results = list(import_many(files, registry=registry))
            assert [r.outcome for r in results] == [Outcome.CONFLICT] * len(files)

        return run

    few, many = query_counts(again(changed[:3]), again(changed[3:]))
    assert few == many
