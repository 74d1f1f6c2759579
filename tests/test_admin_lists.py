"""The admin's lists of agents and of submissions (the review queue): drawn by
``agents.admin.rows`` at the cost of their columns, they read exactly as Django draws them, keep
their links, sorting, filters and actions, and load only what they show."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from agents import workflow
from agents.admin.rows import QuickRowsChangeList
from agents.models import Agent, AgentTool

from .factories import AgentFactory
from .helpers import assert_same_query_count, queries_of
from .test_admin_review import client_for, submitted

pytestmark = pytest.mark.django_db

AGENTS = reverse("admin:agents_agent_changelist")
QUEUE = reverse("admin:agents_submission_changelist")


def drawn_by_django(client, address: str, monkeypatch) -> str:
    """The page as Django's own changelist draws its rows (the oracle)."""
    with monkeypatch.context() as patch:
        patch.setattr(QuickRowsChangeList, "rows", lambda self: None)
        return without_csrf(client.get(address).content.decode())


def without_csrf(page: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)


@pytest.fixture
def varied_agents(author):
    """Agents whose cells take every path: many tools (cut), an archived one, no owner, a name
    off the pattern, HTML in a description, a newer draft over a published revision."""
    many = AgentFactory(name="many-tools", owner=author, tools=7, published=True)
    many.description = "Reviews <b>code</b> & \"quotes\" 'kindly'. " * 3
    many.save()
    workflow.record_revision(many, author)
    AgentFactory(name="Off_Pattern", owner=None, model="opus", color="red")
    archived = AgentFactory(name="old-one", owner=author, published=True)
    Agent.objects.filter(pk=archived.pk).update(status=Agent.Status.ARCHIVED)
    AgentTool.objects.create(agent=AgentFactory(name="lead", owner=author), position=1, name="Bash")
    return many


@pytest.mark.parametrize(
    "query",
    ["", "?q=tools", "?tool=Bash", "?status=all&o=-2", "?color=red", "?q=%22%26%3C", "?_popup=1"],
)
def test_the_agents_list_reads_exactly_as_django_draws_it(
    admin_client, varied_agents, monkeypatch, query
):
    quick = without_csrf(admin_client.get(AGENTS + query).content.decode())

    assert quick == drawn_by_django(admin_client, AGENTS + query, monkeypatch)


def test_the_review_queue_reads_exactly_as_django_draws_it(author, reviewer, monkeypatch):
    submitted(author, name="code-reviewer", note="A <note> & more")
    new = AgentFactory(name="brand-new", owner=author)
    workflow.transition(new, "submit", author)
    reviewer_client = client_for(reviewer)

    for query in ("", "?o=-3", "?q=brand"):
        quick = without_csrf(reviewer_client.get(QUEUE + query).content.decode())
        assert quick == drawn_by_django(reviewer_client, QUEUE + query, monkeypatch)
    assert 'class="action-select"' in quick  # the checkboxes the bulk actions need


def test_row_links_take_the_reader_back_to_the_list_as_they_filtered_it(admin_client):
    agent = AgentFactory(name="python-helper", tools=2)

    page = admin_client.get(AGENTS, {"q": "python", "tool": "Read"}).content.decode()

    change = reverse("admin:agents_agent_change", args=[agent.pk])
    assert f'<a href="{change}?_changelist_filters=q%3Dpython%26tool%3DRead">' in page
    saved = admin_client.get(AGENTS).content.decode()
    assert f'<a href="{change}">python-helper</a>' in saved  # unfiltered: a bare link


def test_the_queue_still_approves_the_ticked_submissions(author, reviewer):
    agent = submitted(author, name="code-reviewer")
    reviewer_client = client_for(reviewer)

    confirm = reviewer_client.post(
        QUEUE, {"action": "approve_selected", ACTION_CHECKBOX_NAME: [agent.pk]}
    )
    assert "Approve and publish" in confirm.content.decode()
    reviewer_client.post(
        QUEUE,
        {
            "action": "approve_selected",
            ACTION_CHECKBOX_NAME: [agent.pk],
            "apply": "1",
            f"revision-{agent.pk}": "2",
        },
    )

    assert Agent.objects.get(pk=agent.pk).status == Agent.Status.APPROVED


# --- what the lists load -----------------------------------------------------------------------


@pytest.mark.parametrize("query", [{}, {"q": "agent"}, {"tool": "Read"}])
def test_the_agents_list_query_count_does_not_grow_searched_or_filtered(admin_client, query):
    AgentFactory.create_batch(3, steps=4, tools=3)
    # session, user, tool registry (tool filter), count of the listed agents, page of agents
    # (+owner, revision numbers), the page's tool names (agent, name pairs): 6. No maintainers
    # (the list shows none).
    count = assert_same_query_count(
        lambda: admin_client.get(AGENTS, query),
        lambda: AgentFactory.create_batch(30, steps=4, tools=3),
    )
    assert count <= 6


def test_the_filtered_lists_count_joins_nothing(admin_client):
    AgentFactory.create_batch(3, tools=3)

    sql = queries_of(lambda: admin_client.get(AGENTS, {"tool": "Read", "q": "agent"}))

    # The revision numbers the rows show are no joins the count would keep: the count reads
    # the agents' listing index alone on PostgreSQL (test_indexes.py).
    [count] = [query for query in sql if "COUNT(" in query]
    assert "JOIN" not in count, count


def test_the_lists_do_not_load_what_only_the_file_needs(admin_client, author, reviewer):
    AgentFactory.create_batch(3, tools=2, owner=author)
    submitted(author, name="code-reviewer")

    agents_page = [sql for sql in queries_of(lambda: admin_client.get(AGENTS)) if "LIMIT" in sql]
    queue = queries_of(lambda: client_for(reviewer).get(QUEUE))
    portal_queue = queries_of(lambda: client_for(reviewer).get(reverse("agents:queue")))

    # The YAML values (decoded on loading) and the files' texts stay in the database.
    for sql in [*agents_page, *queue, *portal_queue]:
        assert '"yaml_sources"' not in sql and '"mcp_servers"' not in sql, sql
        assert '"agents_revision"."text"' not in sql, sql
    assert not [sql for sql in agents_page if "agents_agent_maintainers" in sql]


def test_a_submission_opened_from_the_queue_still_shows_its_whole_file(author, reviewer):
    agent = submitted(author, name="code-reviewer")
    reviewer_client = client_for(reviewer)

    page = reviewer_client.get(reverse("admin:agents_submission_change", args=[agent.pk]))

    assert "+description: Reviews code &lt;carefully&gt; &amp; kindly." in page.content.decode()


def test_the_queue_shows_who_submitted_and_when_as_the_agents_list_writes_dates(author, reviewer):
    agent = submitted(author, name="code-reviewer")
    when = agent.events.get(action="submit").created_at

    page = client_for(reviewer).get(QUEUE).content.decode()

    local = timezone.localtime(when)
    assert f'<time datetime="{local.isoformat()}">{local:%Y-%m-%d %H:%M}</time>' in page
    assert '<td class="field-submitted_by">author</td>' in page
