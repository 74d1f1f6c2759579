from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from agents import filebridge
from agents.importing import import_file
from agents.models import Agent, AgentTool, InstructionStep, Section

from .factories import AgentFactory
from .helpers import assert_same_query_count, queries_of, query_counts

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:agents_agent_changelist")
ADD = reverse("admin:agents_agent_add")


def change_url(agent: Agent) -> str:
    return reverse("admin:agents_agent_change", args=[agent.pk])


def inline(prefix: str, rows: list[dict], initial: int = 0) -> dict[str, str]:
    """POST data for an inline: its management form, then one set of fields per row."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{key}": str(value) for key, value in row.items()})
    return data


def agent_post(
    tools: list[dict] = (),
    steps: list[dict] = (),
    sections: list[dict] = (),
    initial: dict[str, int] | None = None,
    **fields: str,
) -> dict[str, str]:
    """What the change form submits: the agent's fields plus all three inlines."""
    initial = initial or {}
    data = {
        "name": "code-reviewer",
        "description": "Reviews code. Use proactively after changes.",
        "model": "sonnet",
        "color": "blue",
        **fields,
    }
    data |= inline("tool_entries", list(tools), initial.get("tool_entries", 0))
    data |= inline("steps", list(steps), initial.get("steps", 0))
    data |= inline("sections", list(sections), initial.get("sections", 0))
    return data


def existing_rows(agent: Agent) -> dict[str, list[dict]]:
    """The agent's rows as the change page shows them, for a POST that keeps them all."""
    return {
        "tools": [
            {"id": t.pk, "position": t.position, "name": t.name} for t in agent.tool_entries.all()
        ],
        "steps": [
            {"id": s.pk, "position": s.position, "title": s.title, "text": s.text}
            for s in agent.steps.all()
        ],
        "sections": [
            {"id": s.pk, "position": s.position, "kind": s.kind, "markdown": s.markdown}
            | ({"tight": "on"} if s.tight else {})
            for s in agent.sections.all()
        ],
    }


def change_post(agent: Agent, **changes) -> dict[str, Any]:
    """What the change page submits: the agent as saved, with ``changes``, from a page that
    showed its latest revision (``base_revision``) and its read-only revisions."""
    rows = existing_rows(agent)
    initial = {
        "tool_entries": len(rows["tools"]),
        "steps": len(rows["steps"]),
        "sections": len(rows["sections"]),
    }
    rows |= changes.pop("rows", {})
    revisions = [{"id": pk} for pk in agent.revisions.values_list("pk", flat=True)]
    latest = agent.revisions.order_by("-number").values_list("number", flat=True).first()
    fields = {
        "name": agent.name,
        "description": agent.description,
        "model": agent.model,
        "color": agent.color,
        "maintainers": [user.pk for user in agent.maintainers.all()],
        "base_revision": str(latest or 0),
    } | changes
    data = agent_post(initial=initial, **rows, **fields)
    return data | inline("revisions", revisions, initial=len(revisions))


def as_a_browser_submits(response) -> dict[str, str]:
    """The change page's forms submitted untouched, as a browser does: every field's shown
    value, checked boxes only, and textarea lines ending in CRLF."""
    formsets = [inline.formset for inline in response.context["inline_admin_formsets"]]
    data = {}
    for formset in formsets:
        data |= {field.html_name: field.value() for field in formset.management_form}
    for form in [response.context["adminform"].form, *(f for fs in formsets for f in fs.forms)]:
        for field in form:
            widget = field.field.widget
            widget = getattr(widget, "widget", widget)  # the admin wraps related fields' widgets
            if isinstance(widget, forms.CheckboxInput):
                if field.value():
                    data[field.html_name] = "on"
                continue
            value = widget.format_value(field.field.prepare_value(field.value()))
            if value is None:
                continue
            if isinstance(widget, forms.Textarea):
                value = value.replace("\n", "\r\n")
            data[field.html_name] = value
    return data


# --- the list ---------------------------------------------------------------------------------


def test_changelist_shows_agents_with_their_tools(admin_client):
    AgentFactory(name="code-reviewer", tools=3)
    AgentFactory(name="Legacy_Name")

    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    content = response.content.decode()
    assert "code-reviewer" in content
    assert "Read, Grep, Glob" in content
    assert "Legacy_Name" in content
    # The "name OK" column: one agent follows the pattern, one does not.
    assert 'alt="True"' in content
    assert 'alt="False"' in content


def test_changelist_query_count_does_not_grow(admin_client):
    AgentFactory.create_batch(3, steps=4, tools=3)
    # session, user, tool registry (tool filter), count of the filtered agents, page of agents
    # (+owner), the page's tool names. No count of all agents (no "N total"), no SELECT
    # DISTINCT for the model and colour filters (fixed choices), no maintainers: 6.
    count = assert_same_query_count(
        lambda: admin_client.get(CHANGELIST),
        lambda: AgentFactory.create_batch(30, steps=4, tools=3),
    )
    assert count <= 6
    sql = queries_of(lambda: admin_client.get(CHANGELIST, {"q": "agent"}))
    assert not [query for query in sql if "DISTINCT" in query]
    assert len([query for query in sql if "COUNT(" in query]) == 1
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 33


def test_search_finds_agents_by_name_and_by_description(admin_client):
    AgentFactory(name="code-reviewer", description="Reviews pull requests.")
    AgentFactory(name="test-writer", description="Writes pytest suites.")

    by_name = admin_client.get(CHANGELIST, {"q": "reviewer"}).content.decode()
    by_description = admin_client.get(CHANGELIST, {"q": "pytest"}).content.decode()

    assert "code-reviewer" in by_name
    assert "test-writer" not in by_name
    assert "test-writer" in by_description
    assert "code-reviewer" not in by_description


def listed(response) -> set[str]:
    return {agent.name for agent in response.context["cl"].result_list}


def test_filters_by_model_and_by_color(admin_client):
    AgentFactory(name="fast", model="haiku", color="green")
    AgentFactory(name="deep", model="opus", color="red")

    assert listed(admin_client.get(CHANGELIST, {"model": "haiku"})) == {"fast"}
    assert listed(admin_client.get(CHANGELIST, {"color": "red"})) == {"deep"}


def test_filter_by_tool_finds_registry_names_arguments_and_mcp_tools(admin_client):
    reader = AgentFactory(name="reader")
    AgentTool.objects.create(agent=reader, position=1, name="Read")
    lead = AgentFactory(name="lead")
    AgentTool.objects.create(agent=lead, position=1, name="Agent(worker, researcher)")
    AgentTool.objects.create(agent=lead, position=2, name="Read")
    github = AgentFactory(name="github")
    AgentTool.objects.create(agent=github, position=1, name="mcp__github__create_issue")

    assert listed(admin_client.get(CHANGELIST, {"tool": "Read"})) == {"reader", "lead"}
    assert listed(admin_client.get(CHANGELIST, {"tool": "Agent"})) == {"lead"}
    assert listed(admin_client.get(CHANGELIST, {"tool": "mcp__"})) == {"github"}
    page = admin_client.get(CHANGELIST).content.decode()
    assert "MCP tools" in page
    assert "MultiEdit (legacy)" in page


# --- adding -----------------------------------------------------------------------------------


def test_add_an_agent_with_steps_and_tools(admin_client, admin_user):
    data = agent_post(
        tools=[{"position": 1, "name": "Read"}, {"position": 2, "name": "mcp__github__get_pr"}],
        steps=[
            {"position": 1, "title": "Read the diff", "text": "Look at every file."},
            {"position": 2, "title": "Report", "text": "List problems by severity."},
        ],
    )

    response = admin_client.post(ADD, data)

    assert response.status_code == 302, response.context["errors"]
    agent = Agent.objects.get(name="code-reviewer")
    assert agent.owner == admin_user
    assert filebridge.tool_names(agent) == ["Read", "mcp__github__get_pr"]
    revision = agent.revisions.get()
    assert (revision.number, revision.author, revision.text) == (
        1,
        admin_user,
        filebridge.render(agent),
    )
    assert filebridge.render(agent) == (
        "---\n"
        "name: code-reviewer\n"
        "description: Reviews code. Use proactively after changes.\n"
        "tools: Read, mcp__github__get_pr\n"
        "model: sonnet\n"
        "color: blue\n"
        "---\n"
        "## Instructions\n\n"
        "1. **Read the diff**: Look at every file.\n\n"
        "2. **Report**: List problems by severity.\n"
    )


def test_add_page_offers_tool_names_models_and_colors(admin_client):
    content = admin_client.get(ADD).content.decode()

    assert '<datalist id="agent-tool-options">' in content
    assert 'list="agent-tool-options"' in content
    assert '<option value="Read"></option>' in content
    assert '<option value="MultiEdit">legacy: use Edit</option>' in content
    assert 'list="id_model_options"' in content
    assert '<datalist id="id_model_options"><option value="inherit"></option>' in content
    assert '<option value="purple">purple</option>' in content


def test_a_legacy_tool_is_saved_with_a_warning(admin_client):
    data = agent_post(tools=[{"position": 1, "name": "MultiEdit"}])

    response = admin_client.post(ADD, data, follow=True)

    assert filebridge.tool_names(Agent.objects.get(name="code-reviewer")) == ["MultiEdit"]
    assert "'MultiEdit' is a legacy tool name; today it is 'Edit'" in [
        str(message) for message in response.context["messages"]
    ]


# --- changing ---------------------------------------------------------------------------------


def test_change_reorders_deletes_and_adds_steps(admin_client):
    agent = AgentFactory(name="code-reviewer", steps=3, tools=2)
    first, second, third = agent.steps.all()
    data = change_post(
        agent,
        rows={
            "steps": [
                {"id": first.pk, "position": 3, "title": "Step 1", "text": "Do thing 1."},
                {"id": second.pk, "position": 2, "title": "Step 2", "text": "", "DELETE": "on"},
                {"id": third.pk, "position": 1, "title": "Step 3", "text": "Do thing 3."},
                {"position": 2, "title": "New", "text": "Do the new thing."},
            ]
        },
    )

    response = admin_client.post(change_url(agent), data)

    assert response.status_code == 302, response.context["errors"]
    steps = list(InstructionStep.objects.filter(agent=agent))
    assert [(s.position, s.title) for s in steps] == [(1, "Step 3"), (2, "New"), (3, "Step 1")]
    body = filebridge.body(Agent.objects.for_export().get(pk=agent.pk))
    assert body.endswith(
        "## Instructions\n\n"
        "1. **Step 3**: Do thing 3.\n\n"
        "2. **New**: Do the new thing.\n\n"
        "3. **Step 1**: Do thing 1.\n"
    )


def test_change_swaps_tools_and_sections(admin_client):
    agent = AgentFactory(name="code-reviewer", steps=2, tools=2)
    rows = existing_rows(agent)
    rows["tools"][0]["position"], rows["tools"][1]["position"] = 2, 1
    rows["sections"][0]["position"], rows["sections"][1]["position"] = 2, 1

    response = admin_client.post(change_url(agent), change_post(agent, rows=rows))

    assert response.status_code == 302, response.context["errors"]
    agent = Agent.objects.for_export().get(pk=agent.pk)
    assert filebridge.tool_names(agent) == ["Grep", "Read"]
    assert filebridge.render(agent).split("---\n", 2)[2] == (
        "## Instructions\n\n\nYou review code.\n\n1. **Step 1**: Do thing 1.\n\n"
        "2. **Step 2**: Do thing 2.\n"
    )


def test_change_keeps_rows_untouched_when_nothing_moves(admin_client):
    agent = AgentFactory(name="code-reviewer", steps=2, tools=2)
    before = filebridge.render(agent)

    response = admin_client.post(change_url(agent), change_post(agent))

    assert response.status_code == 302, response.context["errors"]
    assert filebridge.render(Agent.objects.for_export().get(pk=agent.pk)) == before


def test_saving_an_imported_agent_unchanged_keeps_its_file_byte_for_byte(
    admin_client, example_bytes
):
    import_file("python-backend-expert.md", example_bytes)
    agent = Agent.objects.get(name="python-backend-expert")
    page = admin_client.get(change_url(agent))

    response = admin_client.post(change_url(agent), as_a_browser_submits(page))

    assert response.status_code == 302, response.context["errors"]
    assert filebridge.render(Agent.objects.for_export().get(pk=agent.pk)).encode() == example_bytes
    assert agent.revisions.count() == 1  # the file did not change: no new revision


def test_text_typed_in_a_browser_is_saved_with_lf_line_endings(admin_client):
    agent = AgentFactory(name="code-reviewer", steps=1)
    rows = existing_rows(agent)
    rows["steps"][0]["text"] = "Check:\r\n   - tests\r\n   - docs"

    response = admin_client.post(change_url(agent), change_post(agent, rows=rows))

    assert response.status_code == 302, response.context["errors"]
    assert agent.steps.get().text == "Check:\n   - tests\n   - docs"
    assert "\r" not in filebridge.render(Agent.objects.for_export().get(pk=agent.pk))


def test_change_edits_yaml_fields(admin_client):
    agent = AgentFactory(name="code-reviewer")

    data = change_post(agent, skills="- pdf\n- xlsx\n", extra_frontmatter="version: 2\n")
    response = admin_client.post(change_url(agent), data)

    assert response.status_code == 302, response.context["errors"]
    text = filebridge.render(Agent.objects.for_export().get(pk=agent.pk))
    assert "skills:\n  - pdf\n  - xlsx\n" in text
    assert "version: 2\n" in text


def test_internal_fields_are_not_on_the_form(admin_client):
    agent = AgentFactory(name="code-reviewer")

    form = admin_client.get(change_url(agent)).context["adminform"].form

    assert "key_order" not in form.fields
    assert "yaml_sources" not in form.fields
    assert {"skills", "mcp_servers", "hooks", "extra_frontmatter"} <= set(form.fields)


def test_change_page_query_count_does_not_grow_with_rows(admin_client):
    few = AgentFactory(steps=2, tools=2)
    many = AgentFactory(steps=20, tools=8)

    # session, user, agent (+owner, published and latest revision numbers), its tools and
    # maintainers (prefetch); the form's base revision; the inlines: tools, steps (+agent),
    # sections, revisions (+agent, author); content type (for the history link; cleared so both
    # runs look it up), owner choices, maintainer choices; the preview: agent, tools, sections,
    # steps; the tool picker: registry, MCP tools
    def page(agent):
        ContentType.objects.clear_cache()
        response = admin_client.get(change_url(agent))
        assert response.status_code == 200

    small, large = query_counts(lambda: page(few), lambda: page(many))
    assert small == large


# --- the file ---------------------------------------------------------------------------------


def test_change_page_previews_the_file_escaped(admin_client):
    agent = AgentFactory(
        name="code-reviewer", description="Use for <example> reviews & audits.", steps=2, tools=2
    )

    content = admin_client.get(change_url(agent)).content.decode()

    assert "<pre" in content
    assert "name: code-reviewer\n" in content
    assert "description: Use for &lt;example&gt; reviews &amp; audits.\n" in content
    assert "1. **Step 1**: Do thing 1.\n\n2. **Step 2**: Do thing 2.\n" in content
    assert "<example>" not in content


def test_change_page_links_to_the_download(admin_client):
    agent = AgentFactory(name="code-reviewer", steps=2, tools=2)
    url = reverse("agents:download-draft", kwargs={"name": "code-reviewer"})

    content = admin_client.get(change_url(agent)).content.decode()
    download = admin_client.get(url)

    assert f'href="{url}">Download .md</a>' in content
    assert download.status_code == 200
    assert download.content == filebridge.render(agent).encode()


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "tools", "message"),
    [
        (
            {"name": "Code Reviewer"},
            [],
            "name &#x27;Code Reviewer&#x27; does not match the naming rule: use lowercase "
            "letters, digits and single hyphens",
        ),
        ({"description": "  "}, [], "&#x27;description&#x27; is required"),
        ({"model": "gpt-4"}, [], "unknown model &#x27;gpt-4&#x27;: use one of inherit, sonnet"),
        ({"color": "mauve"}, [], "unknown color &#x27;mauve&#x27;: use one of red, blue"),
        (
            {},
            [{"position": 1, "name": "Read"}, {"position": 2, "name": "Telepathy"}],
            "unknown tool &#x27;Telepathy&#x27; in tools: Claude Code drops names it does not "
            "know. Use a built-in tool (Read, Edit, Bash, ...) or an MCP tool",
        ),
    ],
    ids=["bad-name", "empty-description", "unknown-model", "unknown-color", "unknown-tool"],
)
def test_invalid_agent_is_refused_with_the_message_of_validate(
    admin_client, fields, tools, message
):
    steps = [{"position": 1, "title": "Look", "text": "Read it."}]

    response = admin_client.post(ADD, agent_post(tools=tools, steps=steps, **fields))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Agent.objects.exists()
    assert not InstructionStep.objects.exists()


def test_invalid_change_saves_nothing(admin_client):
    agent = AgentFactory(name="code-reviewer", steps=2, tools=2)
    before = filebridge.render(agent)
    rows = existing_rows(agent)
    rows["steps"][0]["position"] = 3
    rows["tools"].append({"position": 3, "name": "Telepathy"})

    response = admin_client.post(
        change_url(agent), change_post(agent, rows=rows, description="Changed.")
    )

    assert response.status_code == 200
    assert "unknown tool &#x27;Telepathy&#x27;" in response.content.decode()
    assert filebridge.render(Agent.objects.for_export().get(pk=agent.pk)) == before


def test_unknown_color_already_stored_is_shown_not_dropped(admin_client):
    agent = AgentFactory(name="code-reviewer", color="mauve")

    content = admin_client.get(change_url(agent)).content.decode()

    assert '<option value="mauve" selected>mauve (not allowed: pick another)</option>' in content


def test_sections_keep_their_kind_and_text(admin_client):
    agent = AgentFactory(name="code-reviewer")
    rows = existing_rows(agent)
    rows["sections"].append(
        {"position": 2, "kind": "markdown", "markdown": "## Notes\n\nBe kind.\n"}
    )

    response = admin_client.post(change_url(agent), change_post(agent, rows=rows))

    assert response.status_code == 302, response.context["errors"]
    assert list(Section.objects.filter(agent=agent).values_list("position", "markdown")) == [
        (1, "\nYou review code.\n\n"),
        (2, "## Notes\n\nBe kind.\n"),
    ]


# --- the tool registry ------------------------------------------------------------------------


def test_tool_registry_is_searchable(admin_client):
    response = admin_client.get(reverse("admin:agents_tool_changelist"), {"q": "Multi"})

    assert response.status_code == 200
    names = {tool.name for tool in response.context["cl"].result_list}
    assert names == {"MultiEdit"}


def test_the_model_and_colour_filters_offer_fixed_choices_that_filter(admin_client):
    AgentFactory(name="on-sonnet", model="sonnet", color="blue")
    AgentFactory(name="on-an-id", model="claude-opus-4-1", color="")
    AgentFactory(name="on-default", model="", color="red")

    def names(**params: str) -> list[str]:
        response = admin_client.get(CHANGELIST, params)
        return sorted(agent.name for agent in response.context["cl"].result_list)

    page = admin_client.get(CHANGELIST).content.decode()
    assert "A model id (claude-...)" in page and "purple" in page  # offered, unused or not
    assert names(model="sonnet") == ["on-sonnet"]
    assert names(model="id") == ["on-an-id"]
    assert names(model="none") == ["on-default"]
    assert names(color="red") == ["on-default"]
    assert names(color="none") == ["on-an-id"]
