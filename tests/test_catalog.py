"""The catalog at /agents/: what each person may see of each agent, search, filters, sorting,
pages, and a query count that does not grow with the data."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.urls import reverse

from agents import workflow
from agents.importing import import_file
from agents.models import Agent, AgentTool

from .factories import AgentFactory, UserFactory
from .helpers import assert_same_query_count

pytestmark = pytest.mark.django_db

CATALOG = reverse("agents:list")


def edit(agent: Agent, user, **fields) -> None:
    """Change the working copy and save it as a new draft revision, as the editor does."""
    tools = fields.pop("tools", None)
    for field, value in fields.items():
        setattr(agent, field, value)
    agent.save()
    if tools is not None:
        agent.tool_entries.all().delete()
        AgentTool.objects.bulk_create(
            AgentTool(agent=agent, position=n, name=name) for n, name in enumerate(tools, 1)
        )
    workflow.record_revision(agent, user, note="draft")


def results(response) -> str:
    """The list of agents as the page shows it (without the filter form's choices)."""
    page = response.content.decode()
    return page[page.index('id="results"') :]


def names(response) -> list[str]:
    return [row.name for row in response.context["rows"]]


def listed(client, **query) -> list[str]:
    response = client.get(CATALOG, query)
    assert response.status_code == 200
    return names(response)


@pytest.fixture
def published_with_draft(author):
    """code-reviewer: published as r1; r2, an unreviewed draft, says other things."""
    agent = AgentFactory(
        name="code-reviewer",
        owner=author,
        description="Reviews pull requests.",
        tools=2,
        published=True,
    )
    edit(
        agent,
        author,
        description="Secret plan: rewrites everything.",
        model="opus",
        color="red",
        tools=["Bash", "mcp__github__create_issue"],
    )
    return Agent.objects.get(pk=agent.pk)


# --- who sees what ----------------------------------------------------------------------------


def test_a_reader_sees_the_published_revision_never_the_draft(client, reader, published_with_draft):
    client.force_login(reader)

    response = client.get(CATALOG)

    page = results(response)
    assert names(response) == ["code-reviewer"]
    assert "Reviews pull requests." in page
    assert "Secret plan" not in page
    assert "mcp__github__create_issue" not in page
    assert "opus" not in page
    [row] = response.context["rows"]
    assert (row.model, row.color, [tool.name for tool in row.tools]) == (
        "sonnet",
        "blue",
        ["Read", "Grep"],
    )
    assert row.state_label == "Published"


def test_its_author_sees_the_working_copy_and_both_revision_numbers(
    client, author, published_with_draft
):
    client.force_login(author)

    response = client.get(CATALOG)

    page = results(response)
    assert "Secret plan: rewrites everything." in page
    assert "published r1 · draft r2" in page
    [row] = response.context["rows"]
    assert (row.model, row.color, row.state_label) == ("opus", "red", "Draft")
    assert [tool.name for tool in row.tools] == ["Bash", "mcp__github__create_issue"]


def test_a_reader_does_not_see_unpublished_or_archived_agents(client, reader, author):
    AgentFactory(name="never-published", owner=author)
    archived = AgentFactory(name="old-one", owner=author, published=True)
    workflow.transition(archived, "archive", None)
    AgentFactory(name="shown", owner=author, published=True)
    client.force_login(reader)

    assert listed(client) == ["shown"]
    assert listed(client, state="archived") == ["shown"]  # readers have no state filter


def test_archived_agents_are_listed_only_when_that_state_is_chosen(client, reviewer, author):
    archived = AgentFactory(name="old-one", owner=author, published=True)
    workflow.transition(archived, "archive", None)
    AgentFactory(name="current", owner=author, published=True)
    client.force_login(reviewer)

    assert listed(client) == ["current"]
    assert listed(client, state="archived") == ["old-one"]


def test_an_author_sees_their_drafts_but_not_other_authors_drafts(client, author, other_author):
    AgentFactory(name="mine", owner=author)
    AgentFactory(name="theirs", owner=other_author)
    maintained = AgentFactory(name="maintained", owner=other_author)
    maintained.maintainers.add(author)
    client.force_login(author)

    assert listed(client) == ["maintained", "mine"]


def test_an_agent_with_an_odd_name_is_linked_at_its_slug(client, reader):
    text = "---\nname: Python DevOps/CI-CD Expert\ndescription: Builds pipelines.\n---\nBody\n"
    import_file("odd.md", text.encode(), publish=True)
    client.force_login(reader)

    page = client.get(CATALOG).content.decode()

    assert 'href="/agents/Python-DevOps-CI-CD-Expert/"' in page
    assert ">Python DevOps/CI-CD Expert</a>" in page


# --- search -----------------------------------------------------------------------------------


@pytest.fixture
def three_agents(author):
    AgentFactory(name="code-reviewer", owner=author, description="Reviews code.", published=True)
    AgentFactory(
        name="sql-tuner", owner=author, description="Makes queries faster.", published=True
    )
    prompt = AgentFactory(name="helper", owner=author, description="Helps.", steps=0)
    prompt.sections.update(markdown="\nYou know everything about kubernetes clusters.\n")
    workflow.record_revision(prompt, None, note="prompt")
    workflow.transition(prompt, "publish", None)


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("tuner", ["sql-tuner"]),  # the name
        ("queries", ["sql-tuner"]),  # the description
        ("kubernetes", ["helper"]),  # the prompt
        ("nothing-like-this", []),
    ],
)
def test_search_looks_at_name_description_and_prompt(client, reader, three_agents, query, found):
    client.force_login(reader)

    assert listed(client, q=query) == found


def test_a_reader_searches_the_published_text_and_an_author_the_draft(
    client, reader, author, published_with_draft
):
    client.force_login(reader)
    assert listed(client, q="secret") == []
    assert listed(client, q="pull requests") == ["code-reviewer"]

    client.force_login(author)
    assert listed(client, q="secret") == ["code-reviewer"]
    assert listed(client, q="pull requests") == []


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_search_understands_stems_phrases_and_exclusions(client, reader, three_agents):
    client.force_login(reader)

    assert listed(client, q="query") == ["sql-tuner"]  # "queries", stemmed
    assert listed(client, q='"makes queries"') == ["sql-tuner"]
    assert listed(client, q="queries -faster") == []


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_search_reads_the_index_never_every_document(client, reader, three_agents):
    # A common word, in a small table: PostgreSQL would read (and unpack) every stored document if
    # left to itself; the search must ask the GIN index instead.
    def scans(relation: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_get_xact_numscans(%s::regclass)", [relation])
            return cursor.fetchone()[0]

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE agents_revisionsearch")  # the planner knows it is small
    client.force_login(reader)
    index, table = scans("agents_revisionsearch_document"), scans("agents_revisionsearch")

    assert listed(client, q="code") == ["code-reviewer", "sql-tuner"]

    assert scans("agents_revisionsearch_document") > index
    assert scans("agents_revisionsearch") == table  # sequential scans of the documents


# --- filters ----------------------------------------------------------------------------------


@pytest.fixture
def tooled(author):
    def agent(name: str, tools: list[str], **fields):
        made = AgentFactory(name=name, owner=author, **fields)
        AgentTool.objects.bulk_create(
            AgentTool(agent=made, position=n, name=tool) for n, tool in enumerate(tools, 1)
        )
        workflow.record_revision(made, None, note="tools")
        workflow.transition(made, "publish", None)

    agent("git-helper", ["Read", "Bash(git status:*)"])
    agent("old-style", ["Task", "LS"], model="", color="green")
    agent("issue-bot", ["mcp__github__create_issue"], model="claude-sonnet-5", color="")
    agent("plain", ["Read", "Grep"], model="inherit")


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ({"tool": "Bash"}, ["git-helper"]),  # with its arguments
        ({"tool": "Read"}, ["git-helper", "plain"]),
        ({"tool": "Task"}, ["old-style"]),  # a legacy name
        ({"tool": "Agent"}, []),  # not the legacy name it replaces: that is a filter of its own
        ({"tool": "mcp__"}, ["issue-bot"]),  # any MCP tool
        ({"model": "inherit"}, ["old-style", "plain"]),  # no model inherits
        ({"model": "sonnet"}, ["git-helper"]),
        ({"model": "id"}, ["issue-bot"]),
        ({"color": "green"}, ["old-style"]),
        ({"color": "blue"}, ["git-helper", "plain"]),
        ({"tool": "Read", "color": "blue", "q": "reviews"}, ["git-helper", "plain"]),
    ],
)
def test_filters_by_tool_model_and_colour(client, reader, tooled, query, found):
    client.force_login(reader)

    assert listed(client, **query) == found


def test_filters_look_at_the_published_revision_for_readers(
    client, reader, author, published_with_draft
):
    client.force_login(reader)
    assert listed(client, tool="Read", model="sonnet", color="blue") == ["code-reviewer"]
    assert listed(client, tool="mcp__") == []
    assert listed(client, color="red") == []

    client.force_login(author)
    assert listed(client, tool="mcp__", model="opus", color="red") == ["code-reviewer"]
    assert listed(client, tool="Read") == []


def test_filter_by_owner_and_state(client, reviewer, author, other_author):
    AgentFactory(name="mine", owner=author, published=True)
    waiting = AgentFactory(name="waiting", owner=other_author)
    workflow.transition(waiting, "submit", other_author, comment="please")
    AgentFactory(name="theirs", owner=other_author, published=True)
    client.force_login(reviewer)

    assert listed(client, owner="AUTHOR") == ["mine"]
    assert listed(client, owner="nobody-at-all") == []
    assert listed(client, state="in_review") == ["waiting"]
    assert listed(client, state="approved", owner="other") == ["theirs"]


def test_an_author_filtering_by_state_sees_others_published_agents_as_approved(client, author):
    # An author sees the states of their own agents; others' published agents count as approved.
    mine = AgentFactory(name="mine", owner=author, published=True)
    edit(mine, author, description="changed")
    AgentFactory(name="theirs", owner=UserFactory(), published=True)
    client.force_login(author)

    assert listed(client, state="approved") == ["theirs"]
    assert listed(client, state="draft") == ["mine"]


def test_a_bad_filter_value_is_reported_and_not_applied(client, reader, author):
    AgentFactory(name="shown", owner=author, published=True)
    client.force_login(reader)

    response = client.get(CATALOG, {"color": "mauve", "q": "x" * 201, "page": "abc"})

    assert response.status_code == 200
    assert names(response) == ["shown"]
    assert "Select a valid choice. mauve is not one of the available choices." in (
        response.content.decode()
    )
    assert "at most 200 characters" in response.content.decode()


# --- sorting and pages ------------------------------------------------------------------------


def test_sorting_by_name_last_change_and_newest(client, reviewer, author):
    first = AgentFactory(name="bravo", owner=author, published=True)
    AgentFactory(name="charlie", owner=author, published=True)
    AgentFactory(name="alpha", owner=author, published=True)
    edit(first, author, description="touched last")
    client.force_login(reviewer)

    assert listed(client) == ["alpha", "bravo", "charlie"]
    assert listed(client, sort="changed") == ["bravo", "alpha", "charlie"]
    assert listed(client, sort="newest") == ["alpha", "charlie", "bravo"]


def test_pages_of_25_keep_the_search_and_filters(client, reader, author):
    for n in range(30):
        AgentFactory(name=f"agent-{n:02}", owner=author, published=True)
    client.force_login(reader)

    first = client.get(CATALOG, {"q": "reviews", "color": "blue"})
    second = client.get(CATALOG, {"q": "reviews", "color": "blue", "page": "2"})

    assert len(names(first)) == 25
    assert names(second) == [f"agent-{n:02}" for n in range(25, 30)]
    assert "?q=reviews&amp;color=blue&amp;page=2" in first.content.decode()
    assert "30 agents match" in first.content.decode()


# --- query counts -----------------------------------------------------------------------------


QUERIES = [
    {},
    {"q": "reviews"},
    {"state": "approved"},
    {"tool": "Read"},
    {"tool": "mcp__"},
    {"model": "sonnet"},
    {"color": "blue"},
    {"lint": "warnings"},
    {"owner": "author"},
    {"sort": "changed"},
    {"page": "2"},
]


@pytest.mark.parametrize("query", QUERIES, ids=lambda query: "&".join(query) or "all")
@pytest.mark.parametrize("who", ["reader", "author", "reviewer"])
def test_catalog_query_count_does_not_grow(client, request, who, query, author, reviewer):
    client.force_login(request.getfixturevalue(who))

    def grow(count: int) -> None:
        for _ in range(count):
            agent = AgentFactory(owner=author, tools=3, steps=2, published=True)
            edit(agent, author, description="Reviews change, now as a draft.")
            AgentFactory(owner=author, tools=2, published=False)

    grow(14)

    def page() -> None:
        assert client.get(CATALOG, query).status_code == 200

    assert_same_query_count(page, lambda: grow(20))


def test_legacy_tool_names_are_flagged_in_the_list(client, reader, tooled):
    client.force_login(reader)

    page = results(client.get(CATALOG, {"tool": "Task"}))

    assert '<code class="tool-legacy" title="Old name of Agent' in page
    assert 'Task</code> <span class="legacy">(legacy)</span>' in page
    assert 'LS</code> <span class="legacy">(legacy)</span>' in page


# --- adding the catalog's results to a collection ---------------------------------------------


def test_an_author_adds_the_results_shown_to_their_collection(client, author, other_author):
    from agents.models import Collection

    mine = Collection.objects.create(slug="backend-team", title="Backend", owner=author)
    Collection.objects.create(slug="theirs", title="Theirs", owner=other_author)
    for name in ("sql-tuner", "sql-linter", "code-reviewer"):
        AgentFactory(name=name, description=f"{name} helps. Use proactively.", published=True)
    client.force_login(author)

    page = client.get(reverse("agents:list") + "?q=sql").content.decode()
    assert 'action="/collections/add/"' in page
    assert '<option value="backend-team">' in page
    assert 'value="theirs"' not in page  # only collections they may change
    agents = re.findall(r'<input type="hidden" name="agent" value="([^"]+)">', page)
    assert sorted(agents) == ["sql-linter", "sql-tuner"]

    response = client.post(
        "/collections/add/",
        {"collection": "backend-team", "agent": agents, "next": "/agents/?q=sql"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/agents/?q=sql"
    assert sorted(mine.members.values_list("agent__name", flat=True)) == ["sql-linter", "sql-tuner"]


def test_a_reader_is_not_offered_to_add_results_to_a_collection(client, reader):
    AgentFactory(name="sql-tuner", published=True)
    client.force_login(reader)

    assert "Add to collection" not in client.get(reverse("agents:list")).content.decode()
