"""Downloads: one agent's published file (or a given revision), and the zip of published agents;
HTTP caching on each (a strong ETag, Last-Modified, 304 for a client that has the file)."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from django.urls import reverse
from django.utils.http import http_date

from agents import workflow
from agents.importing import import_file
from agents.models import Agent, Event

from .factories import AgentFactory
from .helpers import assert_same_query_count, queries_of
from .test_import_zip import agent

pytestmark = pytest.mark.django_db

ZIP = reverse("agents:download-zip")


def publish(name: str, path: str = "", text: str = "", **owner) -> Agent:
    import_file(f"{name}.md", (text or agent(name)).encode(), publish=True, path=path, **owner)
    return Agent.objects.get(name=name)


def url(name: str, **query: str) -> str:
    address = reverse("agents:download", kwargs={"name": name})
    return address + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def published_time(agent: Agent) -> str:
    event = Event.objects.filter(revision=agent.published_revision, action="publish").get()
    return http_date(int(event.created_at.timestamp()))


def edit(agent: Agent, **changes) -> None:
    for field, value in changes.items():
        setattr(agent, field, value)
    agent.save()
    workflow.record_revision(agent, None)


def members(response) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None
    return {info.filename: archive.read(info) for info in archive.infolist()}


# --- one file ---------------------------------------------------------------------------------


def test_the_download_has_a_strong_etag_and_the_publishing_time(client, reader):
    reviewer = publish("code-reviewer")
    client.force_login(reader)

    response = client.get(url("code-reviewer"))

    assert response.status_code == 200
    assert response["ETag"] == f'"{hashlib.sha256(response.content).hexdigest()}"'
    assert response["Last-Modified"] == published_time(reviewer)
    assert response["Cache-Control"] == "private, no-cache"


def test_a_client_that_has_the_file_gets_304_and_no_body(client, reader):
    publish("code-reviewer")
    client.force_login(reader)
    first = client.get(url("code-reviewer"))

    by_etag = client.get(url("code-reviewer"), headers={"if-none-match": first["ETag"]})
    by_time = client.get(
        url("code-reviewer"), headers={"if-modified-since": first["Last-Modified"]}
    )
    other = client.get(url("code-reviewer"), headers={"if-none-match": '"something-else"'})

    assert by_etag.status_code == by_time.status_code == 304
    assert by_etag.content == b""
    assert by_etag["ETag"] == first["ETag"]
    assert by_etag["Cache-Control"] == "private, no-cache"
    assert other.status_code == 200 and other.content == first.content


def test_a_newly_published_revision_is_sent_to_a_client_with_the_old_one(client, reader):
    reviewer = publish("code-reviewer")
    client.force_login(reader)
    first = client.get(url("code-reviewer"))
    edit(reviewer, model="opus")
    workflow.transition(reviewer, "publish", None)

    response = client.get(url("code-reviewer"), headers={"if-none-match": first["ETag"]})

    assert response.status_code == 200
    assert b"model: opus" in response.content
    assert response["ETag"] != first["ETag"]


def test_the_file_is_named_as_the_file_at_the_agents_path(client, reader):
    publish("python-pro", path="engineering/python_pro.md")
    client.force_login(reader)

    response = client.get(url("python-pro"))

    assert response["Content-Disposition"] == 'attachment; filename="python_pro.md"'


def test_a_given_revision_is_served_to_a_reader_if_it_was_published(client, reader):
    reviewer = publish("code-reviewer")
    edit(reviewer, model="opus")
    workflow.transition(reviewer, "publish", None)  # revision 2 published
    edit(reviewer, model="haiku")  # revision 3: a draft
    client.force_login(reader)

    old = client.get(url("code-reviewer", revision="1"))
    current = client.get(url("code-reviewer", revision="2"))
    draft = client.get(url("code-reviewer", revision="3"))

    assert old.status_code == 200 and old.content == agent("code-reviewer").encode()
    assert old["ETag"] == f'"{hashlib.sha256(old.content).hexdigest()}"'
    assert current.status_code == 200 and b"model: opus" in current.content
    assert old["Cache-Control"] == current["Cache-Control"] == "private, no-store"
    assert draft.status_code == 404


def test_a_given_revision_is_served_to_its_author_even_as_a_draft(client, author):
    reviewer = publish("code-reviewer", owner=author)
    edit(reviewer, model="haiku")
    client.force_login(author)

    draft = client.get(url("code-reviewer", revision="2"))
    again = client.get(url("code-reviewer", revision="2"), headers={"if-none-match": draft["ETag"]})

    assert draft.status_code == 200 and b"model: haiku" in draft.content
    assert draft["Cache-Control"] == "private, no-store"
    assert again.status_code == 304


def test_an_unpublished_agent_s_revision_is_found_by_its_address_for_its_author(client, author):
    import_file("new.md", agent("brand-new").encode(), owner=author)
    client.force_login(author)

    response = client.get(url("brand-new", revision="1"))

    assert response.status_code == 200 and response.content == agent("brand-new").encode()


def test_a_revision_that_is_not_a_number_is_a_400_that_says_so(client, reader):
    publish("code-reviewer")
    client.force_login(reader)

    for value in ("abc", "0", "-1", "99999999999999999999999"):
        response = client.get(url("code-reviewer", revision=value))
        assert response.status_code == 400
        assert "?revision= takes a revision number" in response.content.decode()
    assert client.get(url("code-reviewer", revision="7")).status_code == 404


def test_the_revision_address_and_the_draft_carry_etags_too(client, author):
    reviewer = publish("code-reviewer", owner=author)
    client.force_login(author)
    revision = client.get(reverse("agents:revision", kwargs={"name": reviewer.slug, "number": 1}))
    draft = client.get(reverse("agents:download-draft", kwargs={"name": reviewer.slug}))

    for response in (revision, draft):
        assert response["ETag"] == f'"{hashlib.sha256(response.content).hexdigest()}"'
        assert "Last-Modified" in response
        repeat = client.get(response.wsgi_request.path, headers={"if-none-match": response["ETag"]})
        assert repeat.status_code == 304
        assert repeat["Cache-Control"] == "private, no-store"


def test_a_changed_draft_is_not_answered_304(client, author):
    reviewer = publish("code-reviewer", owner=author)
    client.force_login(author)
    address = reverse("agents:download-draft", kwargs={"name": reviewer.slug})
    first = client.get(address)
    edit(reviewer, model="haiku")

    response = client.get(
        address,
        headers={"if-none-match": first["ETag"], "if-modified-since": first["Last-Modified"]},
    )

    assert response.status_code == 200 and b"model: haiku" in response.content


def test_a_draft_whose_rows_changed_is_sent_again_whatever_its_time(client, author):
    reviewer = publish("code-reviewer", owner=author)
    client.force_login(author)
    address = reverse("agents:download-draft", kwargs={"name": reviewer.slug})
    first = client.get(address)
    reviewer.tool_entries.filter(name="Grep").update(name="WebFetch")  # updated_at stays

    response = client.get(address, headers={"if-modified-since": first["Last-Modified"]})

    assert response.status_code == 200 and b"WebFetch" in response.content


def test_the_download_loads_only_what_it_serves(client, reader):
    publish("code-reviewer")
    client.force_login(reader)

    queries = queries_of(lambda: client.get(url("code-reviewer")))

    # session, user, the agent with its published revision (one query)
    assert len(queries) == 3
    download = queries[-1]
    assert "yaml_sources" not in download and "extra_frontmatter" not in download
    # Its Last-Modified comes from the agent's row (Agent.published_at), not the events.
    assert "agents_event" not in download


@pytest.mark.postgresql_only
def test_the_download_query_is_prepared_once_a_connection_has_run_it_a_few_times(client, reader):
    from django.db import connection

    def prepared() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return [
                statement for (statement,) in cursor.fetchall() if "agents_revision" in statement
            ]

    publish("code-reviewer")
    publish("test-runner")
    client.force_login(reader)
    threshold = connection.settings_dict["OPTIONS"]["prepare_threshold"]
    assert threshold and prepared() == []
    for n in range(threshold + 1):
        # Another name each time: the statement is prepared with the name as a parameter.
        response = client.get(url("code-reviewer" if n % 2 else "test-runner"))
        assert response.status_code == 200
    [statement] = prepared()
    assert '"agents_revision"."name" = $' in statement
    assert (
        client.get(url("code-reviewer")).content
        == Agent.objects.get(name="code-reviewer").published_revision.text.encode()
    )


@pytest.mark.postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_migration_that_changes_a_returned_column_s_type_does_not_break_downloads(reader):
    # A prepared statement is refused once a column it returns changes type ("cached plan must
    # not change result type"): what a release's migration does under running app servers.
    from django.db import connection
    from django.test import Client

    publish("code-reviewer")
    client = Client()
    client.force_login(reader)
    threshold = connection.settings_dict["OPTIONS"]["prepare_threshold"]
    for _ in range(threshold + 1):
        assert client.get(url("code-reviewer")).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone() == (1,)
    # The migration runs elsewhere (psycopg forgets its statements after an ALTER of its own).
    import psycopg

    wanted = ("dbname", "user", "password", "host", "port")
    params = {k: v for k, v in connection.get_connection_params().items() if k in wanted}
    column = Agent._meta.get_field("path")
    with psycopg.connect(**params, autocommit=True) as migrating:
        migrating.execute("ALTER TABLE agents_agent ALTER COLUMN path TYPE text")
        try:
            response = client.get(url("code-reviewer"))

            assert response.status_code == 200
            text = Agent.objects.get(name="code-reviewer").published_revision.text
            assert response.content == text.encode()
            assert client.get(url("code-reviewer")).status_code == 200
        finally:
            connection.close()  # nothing of this connection may hold up the ALTER below
            migrating.execute(
                f"ALTER TABLE agents_agent ALTER COLUMN path TYPE varchar({column.max_length})"
            )


def test_last_modified_is_when_the_file_was_approved_not_when_it_was_written(
    client, author, reviewer, reader
):
    from datetime import timedelta

    from django.utils import timezone

    agent = AgentFactory(owner=author, name="approved-later")
    workflow.record_revision(agent, author)
    workflow.transition(agent, "submit", author)
    # Written two days before its approval: Last-Modified is the approval.
    agent.latest_revision.__class__.objects.filter(pk=agent.latest_revision_id).update(
        created_at=timezone.now() - timedelta(days=2)
    )
    workflow.transition(agent, "approve", reviewer, revision_number=1)
    approval = Event.objects.get(agent=agent, action="approve")
    client.force_login(reader)

    response = client.get(url("approved-later"))

    assert response["Last-Modified"] == http_date(int(approval.created_at.timestamp()))
    assert Agent.objects.get(pk=agent.pk).published_at == approval.created_at


def test_the_migration_fills_the_publishing_time_of_agents_published_before_it(client, reader):
    from importlib import import_module

    from django.apps import apps
    from django.db import connection

    reviewer = publish("code-reviewer")
    edit(reviewer, model="opus")
    workflow.transition(reviewer, "publish", None)
    never = AgentFactory(name="never-published")
    Agent.objects.update(published_at=None)  # as before the migration

    migration = import_module("agents.migrations.0019_agent_published_at")
    migration.fill_published_at(apps, connection.schema_editor())

    latest = Event.objects.filter(agent=reviewer, action="publish").latest("created_at", "pk")
    assert Agent.objects.get(pk=reviewer.pk).published_at == latest.created_at
    assert Agent.objects.get(pk=never.pk).published_at is None
    client.force_login(reader)
    assert client.get(url("code-reviewer"))["Last-Modified"] == published_time(reviewer)


# --- the zip ----------------------------------------------------------------------------------


def test_the_zip_holds_each_published_agent_at_its_path_under_claude_agents(client, reader):
    publish("site-reliability", path="engineering/sre.md")
    publish("python-pro", path="python_pro.md")
    import_file("draft.md", agent("only-a-draft").encode())
    client.force_login(reader)

    response = client.get(ZIP)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="agents.zip"'
    assert members(response) == {
        ".claude/agents/engineering/sre.md": agent("site-reliability").encode(),
        ".claude/agents/python_pro.md": agent("python-pro").encode(),
    }


def test_the_zip_is_deterministic_and_changes_when_an_agent_does(client, reader):
    publish("site-reliability", path="engineering/sre.md")
    reviewer = publish("code-reviewer")
    client.force_login(reader)

    first = b"".join(client.get(ZIP).streaming_content)
    second = b"".join(client.get(ZIP).streaming_content)
    edit(reviewer, model="opus")
    unpublished_edit = b"".join(client.get(ZIP).streaming_content)
    workflow.transition(reviewer, "publish", None)
    third = b"".join(client.get(ZIP).streaming_content)

    assert first == second == unpublished_edit
    assert hashlib.sha256(third).hexdigest() != hashlib.sha256(first).hexdigest()


def test_the_zip_has_fixed_timestamps_permissions_and_code_point_order(client, reader):
    for name, path in [
        ("zed", "Z/x.md"),
        ("alpha", "a.md"),
        ("bravo", "B.md"),
        ("echo", "é.md"),
        ("under", "_.md"),
    ]:
        publish(name, path=path)
    client.force_login(reader)

    archive = zipfile.ZipFile(io.BytesIO(b"".join(client.get(ZIP).streaming_content)))

    infos = archive.infolist()
    names = [info.filename.removeprefix(".claude/agents/") for info in infos]
    assert names == sorted(names) == ["B.md", "Z/x.md", "_.md", "a.md", "é.md"]
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}
    assert {info.extra for info in infos} == {b""}
    assert {info.compress_type for info in infos} == {zipfile.ZIP_STORED}
    assert archive.comment == b""


@pytest.mark.postgresql_only
def test_the_zip_is_in_code_point_order_on_a_database_that_sorts_by_locale(client, reader):
    from django.db import connection

    with connection.cursor() as cursor:  # rolled back with the test
        cursor.execute(
            'ALTER TABLE agents_agent ALTER COLUMN path TYPE varchar(500) COLLATE "en-US-x-icu"'
        )
    for name, path in [("alpha", "a.md"), ("bravo", "B.md"), ("under", "_.md")]:
        publish(name, path=path)
    assert list(Agent.objects.order_by("path").values_list("path", flat=True)) == [
        "_.md",
        "a.md",
        "B.md",
    ]  # the locale's order
    client.force_login(reader)

    archive = zipfile.ZipFile(io.BytesIO(b"".join(client.get(ZIP).streaming_content)))

    names = [info.filename.removeprefix(".claude/agents/") for info in archive.infolist()]
    assert names == ["B.md", "_.md", "a.md"]


def test_the_zip_etag_gives_304_without_building_the_zip(client, reader):
    publish("code-reviewer")
    client.force_login(reader)
    first = client.get(ZIP)
    b"".join(first.streaming_content)

    queries = []
    response = None

    def again() -> None:
        nonlocal response
        response = client.get(ZIP, headers={"if-none-match": first["ETag"]})

    queries = queries_of(again)

    assert response.status_code == 304
    assert response["ETag"] == first["ETag"]
    assert not any("published_revision" in q and '"text"' in q for q in queries)


def test_the_zip_etag_changes_when_an_agent_is_added_moved_or_archived(client, reader):
    reviewer = publish("code-reviewer")
    client.force_login(reader)
    etags = [client.get(ZIP)["ETag"]]
    publish("tester")
    etags.append(client.get(ZIP)["ETag"])
    Agent.objects.filter(pk=reviewer.pk).update(path="review/code-reviewer.md")
    etags.append(client.get(ZIP)["ETag"])
    workflow.transition(reviewer, "archive", None)
    etags.append(client.get(ZIP)["ETag"])

    assert len(set(etags)) == 4
    stale = client.get(ZIP, headers={"if-none-match": etags[0]})
    assert stale.status_code == 200


def test_a_zip_that_lost_an_agent_is_sent_again_whatever_its_time(client, reader):
    publish("tester")
    reviewer = publish("code-reviewer")
    client.force_login(reader)
    first = client.get(ZIP)
    workflow.transition(reviewer, "archive", None)

    response = client.get(ZIP, headers={"if-modified-since": first["Last-Modified"]})

    assert response.status_code == 200
    assert list(members(response)) == [".claude/agents/tester.md"]


def test_the_zip_filters_like_the_catalog(client, reader, author, other_author):
    publish("shell-runner", text=agent("shell-runner").replace("Read, Glob", "Bash, Read"))
    publish("git-only", text=agent("git-only").replace("Read, Glob", "Bash(git *), Read"))
    publish("opus-writer", text=agent("opus-writer").replace("sonnet", "opus"), owner=author)
    publish("plain", owner=other_author)
    drafted = Agent.objects.get(name="plain")
    edit(drafted, model="opus", description="Mentions kubernetes in a draft only.")
    client.force_login(reader)

    def names(**query: str) -> list[str]:
        response = client.get(ZIP, query)
        return sorted(path.rsplit("/", 1)[-1] for path in members(response))

    # One implementation with the catalog (agents/catalog.py): a tool matches with or without
    # arguments, as the catalog's tool filter does.
    assert names(tool="Bash") == ["git-only.md", "shell-runner.md"]
    assert names(tool="Bash(git *)") == ["git-only.md"]
    assert names(model="opus") == ["opus-writer.md"]
    assert names(owner="author") == ["opus-writer.md"]
    assert names(owner="other", model="sonnet") == ["plain.md"]
    assert names(q="OPUS-writer") == ["opus-writer.md"]
    assert names(q="kubernetes") == []
    assert names(owner="nobody") == []


def test_the_zip_needs_a_signed_in_user(client):
    publish("code-reviewer")

    response = client.get(ZIP)

    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_the_zip_query_count_does_not_grow_with_agents(client, reader):
    AgentFactory.create_batch(3, steps=2, tools=3, published=True)
    client.force_login(reader)

    def download() -> None:
        b"".join(client.get(ZIP).streaming_content)

    # session, user, the validators (paths, sha256, publishing times), the files
    count = assert_same_query_count(
        download, lambda: AgentFactory.create_batch(30, steps=2, tools=3, published=True)
    )
    assert count == 4
