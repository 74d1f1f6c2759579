"""The admin where people found it rough: the agents' list fits a 1,400-pixel screen and says
both the published and the draft revision, the agent's page shows the reviewer's last comment,
and every message names agents exactly as written."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from agents import workflow
from agents.importing import import_file
from agents.models import Agent, AgentTool

from .browser import log_in_admin, screenshot
from .conftest import CORPUS
from .factories import AgentFactory, approve
from .test_admin import change_post, change_url

CHANGELIST = reverse("admin:agents_agent_changelist")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def edit(agent: Agent, user, description: str):
    agent.description = description
    agent.save()
    return workflow.record_revision(agent, user)


def states(page: str) -> dict[str, str]:
    """Agent name -> the list's state column."""
    rows = re.findall(
        r'<th class="field-name"><a [^>]*>([^<]+)</a></th><td class="field-state">([^<]*)</td>',
        page,
    )
    return dict(rows)


# --- the list -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_says_the_published_and_the_draft_revision(admin_client, author, reviewer):
    AgentFactory(name="new-draft", owner=author)
    AgentFactory(name="approved", owner=author, published=True)
    changed = AgentFactory(name="approved-then-changed", owner=author, published=True)
    edit(changed, author, "Second version. Use proactively.")
    edit(changed, author, "Third version. Use proactively.")
    in_review = AgentFactory(name="published-and-in-review", owner=author, published=True)
    edit(in_review, author, "Second version. Use proactively.")
    workflow.transition(in_review, "submit", author)
    first = AgentFactory(name="first-review", owner=author)
    workflow.transition(first, "submit", author)
    sent_back = AgentFactory(name="sent-back", owner=author, published=True)
    edit(sent_back, author, "Second version. Use proactively.")
    workflow.transition(sent_back, "submit", author)
    workflow.transition(sent_back, "request_changes", reviewer, comment="No.")
    archived = AgentFactory(name="archived", owner=author, published=True)
    workflow.transition(archived, "archive", None)

    page = admin_client.get(CHANGELIST + "?status=all").content.decode()

    assert states(page) == {
        "approved": "approved r1",
        "approved-then-changed": "published r1 · draft r3",
        "archived": "archived (was published r1)",
        "first-review": "in review r1",
        "new-draft": "draft r1",
        "published-and-in-review": "published r1 · in review r2",
        "sent-back": "published r1 · changes requested r2",
    }


@pytest.mark.django_db
def test_the_list_cuts_long_descriptions_and_tool_lists(admin_client):
    agent = AgentFactory(name="wordy", description="Reviews code. " * 20, tools=7)
    AgentFactory(name="five-tools", tools=5)

    page = admin_client.get(CHANGELIST).content.decode()

    cell = re.search(
        r'>wordy</a></th>.*?<td class="field-short_description">([^<]*)</td>', page
    ).group(1)
    assert len(cell) <= 60
    assert cell.endswith("…")
    all_tools = ", ".join(agent.tool_entries.values_list("name", flat=True))
    assert f'<span title="{all_tools}">Read, Grep, Glob, Edit +3 more</span>' in page
    assert "Read, Grep, Glob, Edit, Bash</td>" in page  # five are named in full


@pytest.mark.django_db
def test_the_list_gives_the_table_the_whole_width(admin_client):
    agent = AgentFactory(name="code-reviewer")

    assert 'id="nav-sidebar"' not in admin_client.get(CHANGELIST).content.decode()
    # The agent's own page keeps the admin's menu.
    assert 'id="nav-sidebar"' in admin_client.get(change_url(agent)).content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("migrated_data")
def test_the_list_fits_a_1400_pixel_screen(page, django_user_model):
    boss = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-boss-123")
    files = sorted(CORPUS.rglob("*.md"))
    if not files:
        pytest.skip("the corpus in ../shared/ is absent")
    for path in files[::20]:
        import_file(path.name, path.read_bytes(), publish=True, owner=boss)
    longest = AgentFactory(
        name="a-very-long-agent-name-that-goes-on-and-on-and-on-for-ever",
        description="An agent with a long description. " * 30,
        model="claude-sonnet-4-5-20250929",
        owner=boss,
    )
    for position in range(1, 9):
        AgentTool.objects.create(
            agent=longest, position=20 + position, name=f"mcp__some-server__tool_number_{position}"
        )
    page.set_viewport_size({"width": 1400, "height": 900})
    log_in_admin(page, "boss", "pw-boss-123")

    page.goto(CHANGELIST)

    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    table = page.locator("#result_list").bounding_box()
    results = page.locator(".results").evaluate("e => e.scrollWidth <= e.clientWidth")
    assert results, "the table scrolls sideways inside its box"
    assert table["x"] + table["width"] <= 1400
    assert page.locator("#changelist-filter").is_visible()
    screenshot(page, "admin-agents")


# --- the agent's page -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_agent_page_shows_the_reviewers_last_comment(author, reviewer):
    agent = AgentFactory(name="code-reviewer", owner=author)
    workflow.transition(agent, "submit", author)
    workflow.transition(agent, "request_changes", reviewer, comment="First: <b>tools</b>.")
    workflow.transition(agent, "submit", author)
    workflow.transition(agent, "request_changes", reviewer, comment="Now the description.")

    page = client_for(author).get(change_url(agent)).content.decode()

    assert "<label>Reviewer&#x27;s last comment:</label>" in page
    assert "reviewer asked for changes on revision 1," in page
    assert '<blockquote class="agent-review-comment">Now the description.</blockquote>' in page
    assert "First: " not in page  # the latest only


@pytest.mark.django_db
def test_an_agent_never_sent_back_says_so(admin_client):
    agent = AgentFactory(name="code-reviewer")

    page = admin_client.get(change_url(agent)).content.decode()

    assert "none: nobody has asked for changes" in page


@pytest.mark.django_db
def test_the_comment_is_escaped(author, reviewer):
    agent = AgentFactory(name="code-reviewer", owner=author)
    workflow.transition(agent, "submit", author)
    workflow.transition(agent, "request_changes", reviewer, comment="<script>alert(1)</script>")

    page = client_for(author).get(change_url(agent)).content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page


# --- names as written in every admin message ------------------------------------------------


def message_list(page: str) -> list[str]:
    return re.findall(r'<li class="\w+">(.*?)</li>', page.split('class="messagelist"')[1])


@pytest.mark.django_db
def test_admin_messages_name_agents_as_written(author, reviewer):
    agent = AgentFactory(name="code-reviewer", owner=author, steps=1, tools=1, published=True)
    authoring = client_for(author)

    saved = authoring.post(
        change_url(agent), change_post(agent, description="New. Use proactively."), follow=True
    )
    submitted = authoring.post(
        reverse("admin:agents_agent_workflow", args=[agent.pk]),
        {"action": "submit", "comment": "Please."},
        follow=True,
    )
    decided = client_for(reviewer).post(
        reverse("admin:agents_submission_change", args=[agent.pk]),
        {"decision": "request_changes", "comment": "No."},
        follow=True,
    )
    workflow.transition(agent, "submit", author)
    approved = client_for(reviewer).post(
        reverse("admin:agents_submission_change", args=[agent.pk]),
        {"decision": "approve", "revision": "2"},
        follow=True,
    )
    late = client_for(reviewer).get(
        reverse("admin:agents_submission_change", args=[agent.pk]), follow=True
    )

    shown = [
        *message_list(saved.content.decode()),
        *message_list(submitted.content.decode()),
        *message_list(decided.content.decode()),
        *message_list(approved.content.decode()),
        *message_list(late.content.decode()),
    ]
    assert shown == [
        "Saved the file as revision 2.",
        f'The agent “<a href="{change_url(agent)}">code-reviewer</a>” was changed successfully.',
        "Submitted for review: code-reviewer.",
        "code-reviewer was sent back to its author with your comment.",
        "code-reviewer is approved: everyone now downloads revision 2.",
        "code-reviewer is approved, not in review.",
    ]
    assert all("Code-reviewer" not in message for message in shown)


@pytest.mark.django_db
def test_bulk_approval_says_per_agent_what_it_publishes(reviewer, author):
    agent = AgentFactory(name="code-reviewer", owner=author, published=True)
    edit(agent, author, "New. Use proactively.")
    workflow.transition(agent, "submit", author)
    other = AgentFactory(name="Other Agent", owner=author)
    workflow.transition(other, "submit", author)

    page = (
        client_for(reviewer)
        .post(
            reverse("admin:agents_submission_changelist"),
            {"action": "approve_selected", "_selected_action": [agent.pk, other.pk]},
        )
        .content.decode()
    )

    assert "<summary>2 lines changed</summary>" in page
    assert "<summary>new agent (" in page
    assert ">Other Agent</a>" in page
    approve(agent, reviewer)
