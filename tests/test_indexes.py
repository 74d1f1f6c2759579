"""The indexes of migrations 0014 and 0018 serve the queries the pages send, and the submission
each agent keeps on its row (written by the submit step, filled by the migration for agents
submitted before it).

The plans are PostgreSQL's. On tables this small the planner would rather read them whole, so
each EXPLAIN runs with ``enable_seqscan`` off: what is checked is that the index matches the
query as Django writes it (the same expression, the same columns), which the planner then
uses at 10,000 agents (plans from bench/scale.py's database quoted beside each test).
"""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agents import workflow
from agents.models import Agent, AgentTool, Event

from .factories import AgentFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("agents.migrations.0014_performance_indexes")


def test_submitting_keeps_who_and_when_on_the_agents_row(author):
    agent = AgentFactory(owner=author)
    workflow.transition(agent, "submit", author, comment="Ready for a look")

    row = Agent.objects.select_related("submission").get(pk=agent.pk)
    event = Event.objects.get(agent=agent, action="submit")
    assert row.submission == event and row.submitted_at == event.created_at
    [queued] = Agent.objects.in_review()
    assert (queued.submitted_by_name, queued.submitted_note) == ("author", "Ready for a look")


def test_the_migration_fills_the_submission_of_agents_submitted_before_it(author, reviewer):
    waiting = AgentFactory(owner=author)
    workflow.transition(waiting, "submit", author, comment="first")
    workflow.transition(waiting, "withdraw", author)
    workflow.transition(waiting, "submit", author, comment="second")
    never = AgentFactory(owner=author)
    Agent.objects.update(submission=None, submitted_at=None)  # as before the migration

    migration.fill_submissions(apps, connection.schema_editor())

    latest = Event.objects.filter(agent=waiting, action="submit").latest("created_at", "pk")
    row = Agent.objects.get(pk=waiting.pk)
    assert (row.submission_id, row.submitted_at) == (latest.pk, latest.created_at)
    assert Agent.objects.filter(pk=never.pk, submission=None, submitted_at=None).exists()


# --- plans (PostgreSQL) -------------------------------------------------------------------------


def plan_of(sql: str, params: tuple = (), *, ordered_by_index: bool = False) -> str:
    """The plan of ``sql`` as it would be on a large table (no sequential scan). With
    ``ordered_by_index``, no sort step either: the order must come from an index (on a few
    rows the planner would rather sort what another index found, whatever the table's size
    will be)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        if ordered_by_index:
            cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params or None)
        return "\n".join(line for (line,) in cursor.fetchall())


def sent_by(client: Client, address: str, marker: str) -> str:
    """The SQL the page at ``address`` sends that contains ``marker``."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(address).status_code == 200
    matching = [query["sql"] for query in captured.captured_queries if marker in query["sql"]]
    assert matching, f"no query of {address} contains {marker!r}"
    return matching[0]


@pytest.mark.postgresql_only
def test_the_admin_search_reads_the_trigram_indexes(admin_client):
    AgentFactory.create_batch(3)
    # At 10,000 agents, ?q=python:
    #   Bitmap Heap Scan on agents_agent
    #     Recheck Cond: ((upper((name)::text) ~~ '%PYTHON%'::text)
    #                    OR (upper(description) ~~ '%PYTHON%'::text))
    #     ->  BitmapOr
    #           ->  Bitmap Index Scan on agents_agent_name_trgm
    #           ->  Bitmap Index Scan on agents_agent_description_trgm
    sql = sent_by(admin_client, reverse("admin:agents_agent_changelist") + "?q=python", "LIKE")
    plan = plan_of(sql)
    assert "agents_agent_name_trgm" in plan and "agents_agent_description_trgm" in plan, plan


@pytest.mark.postgresql_only
def test_the_tool_filter_reads_the_index_on_the_tool_name(admin_client):
    AgentFactory.create_batch(3, tools=3)
    # At 10,000 agents, ?tool=Bash (name = 'Bash' OR name LIKE 'Bash(%'):
    #   ->  Bitmap Heap Scan on agents_agenttool
    #         ->  BitmapOr
    #               ->  Bitmap Index Scan on agents_agenttool_name_..._like  (name = 'Bash')
    #               ->  Bitmap Index Scan on agents_agenttool_name_..._like  (~>=~ / ~<~ 'Bash(')
    address = reverse("admin:agents_agent_changelist") + "?tool=Bash"
    plan = plan_of(sent_by(admin_client, address, "agents_agenttool"))
    assert "agents_agenttool_name" in plan, plan
    assert AgentTool._meta.get_field("name").db_index


@pytest.mark.postgresql_only
@pytest.mark.django_db(transaction=True)  # VACUUM runs outside a transaction
def test_the_tool_filter_counts_its_agents_from_the_listing_index_alone(admin_client):
    # The planner prefers the index to the table only when the table is the larger read (wide
    # rows, as real agents have) and vacuumed (a visibility map, as autovacuum keeps): 2,000
    # agents with their prose, a third of them with Bash. At 10,000 agents, ?tool=Bash:
    #   Aggregate
    #     ->  Hash Join  (agents_agent.id = u0.agent_id)
    #           ->  Index Only Scan using agents_agent_listing on agents_agent
    #                 Filter: ((status)::text <> 'archived'::text)
    #           ->  Hash -> HashAggregate -> Bitmap Heap Scan on agents_agenttool u0
    # The id in the listing index (migration 0018) spares the scan of the agents' wide rows:
    # 2.5 ms instead of 15. Without it no index holds both the status and the id.
    prose = "Reviews code for correctness, security and style; explains each finding. " * 12
    agents = Agent.objects.bulk_create(
        Agent(name=f"agent-{n}", slug=f"agent-{n}", path=f"agent-{n}.md", description=prose)
        for n in range(2000)
    )
    AgentTool.objects.bulk_create(
        AgentTool(agent=agent, position=1, name="Bash" if n % 3 == 0 else "Read")
        for n, agent in enumerate(agents)
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE agents_agent, agents_agenttool")
    address = reverse("admin:agents_agent_changelist") + "?tool=Bash"

    sql = sent_by(admin_client, address, "COUNT(")
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(line for (line,) in cursor.fetchall())

    assert "Index Only Scan using agents_agent_listing" in plan, plan


@pytest.mark.postgresql_only
def test_an_agents_latest_event_of_a_kind_is_one_probe_of_the_event_index(author):
    agent = AgentFactory(owner=author)
    workflow.transition(agent, "submit", author)
    # Who submitted the agent last (the approval's four-eyes check), at 10,000 agents:
    #   Limit -> Index Scan Backward using agents_event_agent_action on agents_event
    #              Index Cond: ((agent_id = 42) AND (action = 'submit'))
    query = agent.events.filter(action="submit").order_by("-created_at", "-pk")[:1]
    plan = plan_of(*query.values("actor_id").query.sql_with_params())
    assert "agents_event_agent_action" in plan, plan


@pytest.mark.postgresql_only
def test_the_review_queue_and_the_status_filters_read_their_indexes(author):
    for agent in AgentFactory.create_batch(3, owner=author):
        workflow.transition(agent, "submit", author)
    # The queue, oldest submission first, at 10,000 agents (1,000 in review):
    #   Index Scan using agents_agent_queue on agents_agent
    #     Index Cond: ((status)::text = 'in_review'::text)
    for queue in (Agent.objects.in_review(), Agent.objects.for_queue()):
        plan = plan_of(*queue.query.sql_with_params(), ordered_by_index=True)
        assert "agents_agent_queue" in plan, plan
    # Status alone: the listing index (status, published_revision) leads with it.
    draft = Agent.objects.filter(status="draft").order_by().values("pk")
    plan = plan_of(*draft.query.sql_with_params())
    assert "agents_agent_listing" in plan or "agents_agent_queue" in plan, plan
