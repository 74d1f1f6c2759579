"""An agent's page at /agents/<slug>/: the prompt as HTML, the exact file, tools and settings
explained, the state, the review conversation, revisions, downloads, and the buttons each person
may use; readers only ever see the published revision."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents import workflow
from agents.importing import import_file
from agents.models import Agent, AgentTool

from .factories import AgentFactory, approve
from .helpers import assert_same_query_count

pytestmark = pytest.mark.django_db

FILE = """\
---
name: release-notes
description: Writes release notes from merged pull requests.
tools: Read, Grep, MultiEdit, mcp__github__list_prs, mcp__jira, Frobnicate, Bash(git log:*)
disallowedTools: WebFetch
model: opus
color: green
permissionMode: plan
maxTurns: 12
hooks:
  PostToolUse:
    - matcher: Edit
      hooks:
        - type: command
          command: make lint
team: docs-guild
---

You write **release notes**.

## Instructions

1. **Collect**: list the merged pull requests.
2. **Write**: group them <script>alert(1)</script> by area.
"""


def page_of(client, agent: Agent, **query) -> str:
    response = client.get(agent.get_absolute_url(), query)
    assert response.status_code == 200
    return response.content.decode()


def edit(agent: Agent, user, **fields) -> None:
    for field, value in fields.items():
        setattr(agent, field, value)
    agent.save()
    workflow.record_revision(agent, user, note="draft")


@pytest.fixture
def imported(author) -> Agent:
    import_file("release-notes.md", FILE.encode(), owner=author, publish=True)
    return Agent.objects.get(name="release-notes")


@pytest.fixture
def sent_back(author, reviewer) -> Agent:
    """code-reviewer: r1 published; r2, a draft, submitted and sent back by the reviewer."""
    agent = AgentFactory(
        name="code-reviewer", owner=author, description="Reviews code.", steps=2, published=True
    )
    edit(agent, author, description="Secret: reviews code and rewrites it.")
    workflow.transition(agent, "submit", author, comment="Now it rewrites too")
    workflow.transition(agent, "request_changes", reviewer, comment="Do not rewrite: review.")
    return Agent.objects.get(pk=agent.pk)


# --- what the page shows -----------------------------------------------------------------------


def test_the_prompt_is_rendered_from_markdown_and_html_in_it_is_text(client, reader, imported):
    client.force_login(reader)

    page = page_of(client, imported)

    prompt = page[page.index('<div class="prompt">') :]
    prompt = prompt[: prompt.index("</div>")]
    assert "<strong>release notes</strong>" in prompt
    assert "<h4>Instructions</h4>" in prompt  # under the page's h2 "Prompt"
    assert "<strong>Collect</strong>" in prompt and "<ol>" in prompt
    assert "<script>" not in page.replace('<script src="', "")
    assert "group them &lt;script&gt;alert(1)&lt;/script&gt; by area" in prompt


def test_the_exact_file_is_shown_with_a_copy_button_for_scripts_only(client, reader, imported):
    client.force_login(reader)

    response = client.get(imported.get_absolute_url())

    page = response.content.decode()
    shown = page[page.index('id="file-text"') :]
    shown = shown[shown.index(">") + 1 : shown.index("</pre>")]
    from html import unescape

    assert unescape(shown) == FILE == imported.published_revision.text
    # hidden until agent.js shows it: without JavaScript there is nothing to copy with
    assert '<button type="button" class="secondary copy-button"' in page
    assert 'data-copy="file-text" data-copy-status="copy-status" hidden>' in page
    assert '<span id="copy-status" class="copy-status" role="status">' in page
    assert "/static/agents/agent.js" in page


def test_tools_are_explained_with_legacy_mcp_and_unknown_names_flagged(client, reader, imported):
    client.force_login(reader)

    response = client.get(imported.get_absolute_url())

    tools = {tool.name: tool for tool in response.context["tools"]}
    assert list(tools) == [
        "Read",
        "Grep",
        "MultiEdit",
        "mcp__github__list_prs",
        "mcp__jira",
        "Frobnicate",
        "Bash(git log:*)",
    ]
    assert tools["Read"].explanation.startswith("Reads files")
    assert (tools["MultiEdit"].kind, tools["MultiEdit"].replacement) == ("legacy", "Edit")
    assert tools["mcp__github__list_prs"].explanation == (
        "The tool list_prs of the MCP server github."
    )
    assert tools["mcp__jira"].explanation == "Every tool of the MCP server jira."
    assert tools["Frobnicate"].kind == "unknown"
    assert tools["Bash(git log:*)"].explanation == "Runs shell commands. Limited to: git log:*."
    page = response.content.decode()
    assert "Legacy name: use Edit." in page
    assert "MCP server github" in page
    assert "Unknown tool." in page
    assert [tool.name for tool in response.context["disallowed"]] == ["WebFetch"]


def test_an_agent_without_a_tools_line_says_it_has_every_tool(client, reader, author):
    agent = AgentFactory(name="all-tools", owner=author, published=True)
    client.force_login(reader)

    assert "No tools line: the agent has every tool" in page_of(client, agent)


def test_settings_are_shown_with_hooks_as_yaml_and_unknown_keys_flagged(client, reader, imported):
    client.force_login(reader)

    response = client.get(imported.get_absolute_url())

    settings = {setting.key: setting for setting in response.context["settings"]}
    assert list(settings) == ["model", "color", "permissionMode", "maxTurns", "hooks", "team"]
    assert (settings["model"].value, settings["maxTurns"].value) == ("opus", "12")
    assert settings["hooks"].block
    assert "- matcher: Edit" in settings["hooks"].value
    assert "command: make lint" in settings["hooks"].value
    assert settings["team"].unknown and not settings["model"].unknown
    page = response.content.decode()
    assert "Not a key Claude Code reads" in page
    assert "Permission mode" in page


def test_a_reader_sees_the_published_file_only_never_the_draft(client, reader, sent_back):
    client.force_login(reader)

    response = client.get(sent_back.get_absolute_url())

    page = response.content.decode()
    assert response.context["shown"].text == sent_back.published_revision.text
    assert "Reviews code." in page
    assert "Secret" not in page
    # nor the conversation about the draft, nor its revision
    assert "Now it rewrites too" not in page
    assert "Do not rewrite" not in page
    assert [event.action for event in response.context["events"]] == ["publish"]
    assert [rev.number for rev in response.context["revisions"]] == [1]
    # a draft asked for by address is not shown either
    assert "Secret" not in page_of(client, sent_back, version="draft")


def test_a_reader_downloads_the_published_file_and_has_no_author_buttons(client, reader, sent_back):
    client.force_login(reader)

    page = page_of(client, sent_back)

    assert f'href="{sent_back.get_download_url()}" download>' in page
    assert reverse("agents:download-draft", kwargs={"name": sent_back.slug}) not in page
    assert reverse("agents:edit", kwargs={"name": sent_back.slug}) not in page
    assert reverse("agents:clone", kwargs={"name": sent_back.slug}) not in page
    assert 'action="/agents/code-reviewer/actions/' not in page
    download = client.get(sent_back.get_download_url())
    assert download.content == sent_back.published_revision.text.encode()


def test_the_author_sees_why_it_was_sent_back_and_the_whole_conversation(client, author, sent_back):
    client.force_login(author)

    response = client.get(sent_back.get_absolute_url())

    page = response.content.decode()
    notice = page[page.index('class="notice warn sent-back"') :]
    notice = notice[: notice.index("</section>")]
    assert "Changes requested by reviewer" in notice
    assert "Do not rewrite: review." in notice
    assert "on revision 2" in notice
    assert [(event.action, event.comment) for event in response.context["events"]] == [
        ("publish", ""),
        ("submit", "Now it rewrites too"),
        ("request_changes", "Do not rewrite: review."),
    ]


def test_the_author_sees_the_draft_with_a_switch_to_the_published_file(client, author, sent_back):
    client.force_login(author)

    draft = client.get(sent_back.get_absolute_url())
    published = client.get(sent_back.get_absolute_url(), {"version": "published"})

    assert "published r1 · draft r2" in draft.content.decode()
    assert "Secret: reviews code and rewrites it." in draft.context["shown"].text
    assert [version.label for version in draft.context["versions"]] == [
        "Draft, revision 2",
        "Published, revision 1",
    ]
    assert published.context["shown"].text == sent_back.published_revision.text
    assert 'href="?version=published" aria-current="page"' in published.content.decode()
    page = draft.content.decode()
    assert reverse("agents:download-draft", kwargs={"name": sent_back.slug}) in page
    assert reverse("agents:edit", kwargs={"name": sent_back.slug}) in page
    assert reverse("agents:clone", kwargs={"name": sent_back.slug}) in page


def test_the_draft_shown_is_the_file_the_draft_download_gives(client, author, sent_back):
    client.force_login(author)

    shown = client.get(sent_back.get_absolute_url()).context["shown"].text
    download = client.get(reverse("agents:download-draft", kwargs={"name": sent_back.slug}))

    assert download.content == shown.encode()


def test_revisions_link_to_their_changes_and_downloads(client, author, sent_back):
    client.force_login(author)

    page = page_of(client, sent_back)

    compare = reverse("agents:compare", kwargs={"name": sent_back.slug})
    assert f"{compare}?from=1&amp;to=2" in page
    assert reverse("agents:revision", kwargs={"name": sent_back.slug, "number": 1}) in page
    assert reverse("agents:revision", kwargs={"name": sent_back.slug, "number": 2}) in page


def test_an_agent_with_an_odd_name_is_reached_and_linked_at_its_slug(client, author):
    text = "---\nname: Python DevOps/CI-CD Expert\ndescription: Builds pipelines.\n---\nBody\n"
    import_file("odd.md", text.encode(), owner=author)
    agent = Agent.objects.get()
    client.force_login(author)

    page = page_of(client, agent)

    assert agent.get_absolute_url() == "/agents/Python-DevOps-CI-CD-Expert/"
    assert "<h1>Python DevOps/CI-CD Expert</h1>" in page
    assert 'href="/agents/Python-DevOps-CI-CD-Expert/edit/"' in page
    assert 'href="/agents/Python-DevOps-CI-CD-Expert/history/"' in page
    assert 'action="/agents/Python-DevOps-CI-CD-Expert/actions/submit/"' in page


def test_a_reader_sees_the_published_name_not_an_unreviewed_rename(client, reader, author):
    agent = AgentFactory(name="code-reviewer", owner=author, published=True)
    edit(agent, author, name="secret-new-name")
    client.force_login(reader)

    page = page_of(client, agent)

    assert "<h1>code-reviewer</h1>" in page
    assert "secret-new-name</" not in page


# --- buttons ---------------------------------------------------------------------------------


def test_a_reviewer_gets_review_and_approve_buttons_and_comes_back_to_the_page(
    client, author, reviewer
):
    agent = AgentFactory(name="code-reviewer", owner=author, published=True)
    edit(agent, author, description="Better.")
    workflow.transition(agent, "submit", author, comment="please")
    client.force_login(reviewer)

    response = client.get(agent.get_absolute_url())

    page = response.content.decode()
    assert reverse("agents:review", kwargs={"name": agent.slug}) in page
    [approve_button] = [a for a in response.context["actions"] if a["name"] == "approve"]
    assert approve_button["revision"] == 2
    assert "Approve and publish revision 2" in page
    posted = client.post(
        reverse("agents:transition", kwargs={"name": agent.slug, "action": "approve"}),
        {"revision": "2", "next": agent.get_absolute_url()},
    )
    assert posted["Location"] == agent.get_absolute_url()
    agent.refresh_from_db()
    assert (agent.status, agent.published_revision.number) == ("approved", 2)
    after = client.get(posted["Location"])
    assert "code-reviewer was approved. Everyone now downloads revision 2." in (
        after.content.decode()
    )


def test_a_workflow_button_never_sends_people_to_another_site(client, author):
    agent = AgentFactory(name="code-reviewer", owner=author)
    client.force_login(author)

    posted = client.post(
        reverse("agents:transition", kwargs={"name": agent.slug, "action": "submit"}),
        {"comment": "go", "next": "https://evil.example.com/"},
    )

    assert posted["Location"] == reverse("agents:history", kwargs={"name": agent.slug})


def test_the_reviewer_who_wrote_it_is_told_why_they_cannot_approve(client, reviewer, author):
    agent = AgentFactory(name="code-reviewer", owner=author)
    agent.maintainers.add(reviewer)
    workflow.transition(agent, "submit", author, comment="please")
    reviewer.groups.add(*author.groups.all())
    agent.description = "Changed by the reviewer."
    agent.save()
    workflow.transition(agent, "withdraw", author)
    workflow.record_revision(agent, reviewer, note="mine")
    workflow.transition(agent, "submit", author, comment="again")
    client.force_login(reviewer)

    response = client.get(agent.get_absolute_url())

    assert "approve" not in [action["name"] for action in response.context["actions"]]
    assert "You wrote revision 2 of code-reviewer" in response.content.decode()


# --- query counts ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["reader", "author", "reviewer"])
def test_agent_page_query_count_does_not_grow(client, request, who, author, reviewer):
    agent = AgentFactory(name="code-reviewer", owner=author, steps=2, tools=2, published=True)
    client.force_login(request.getfixturevalue(who))

    def grow() -> None:
        for n in range(12):
            AgentTool.objects.create(agent=agent, position=100 + n, name="mcp__jira")
            edit(agent, author, description=f"Round {n}.")
            workflow.transition(agent, "submit", author, comment=f"round {n}")
            if n % 2:
                workflow.transition(agent, "request_changes", reviewer, comment="again")
            else:
                approve(agent, reviewer)

    def page() -> None:
        assert client.get(agent.get_absolute_url()).status_code == 200

    assert_same_query_count(page, grow)
