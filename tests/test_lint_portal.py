"""Lint where people see it: stored with each revision, refusing approvals with errors, on the
review page as what a revision adds or removes, on the agent page and in the catalog.

The rules themselves are tested in test_lint.py; these tests are about the portal's use of them.
"""

from __future__ import annotations

import html
import re
from importlib import import_module

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from agents import workflow
from agents.lint import lint_text
from agents.models import Agent, AgentTool, Revision, Section

from .factories import AgentFactory, approve
from .test_editor import FormData, slot
from .test_review_pages import section

pytestmark = pytest.mark.django_db

READ_ONLY = "\nYou review code. Never run commands and never change files.\n"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def grant(agent: Agent, *tools: str) -> None:
    AgentTool.objects.filter(agent=agent).delete()
    AgentTool.objects.bulk_create(
        AgentTool(agent=agent, position=i, name=name) for i, name in enumerate(tools, 1)
    )


def say(agent: Agent, prompt: str) -> None:
    Section.objects.filter(agent=agent).delete()
    Section.objects.create(agent=agent, position=1, markdown=prompt)


def read_only_agent(owner, **kwargs) -> Agent:
    """An agent whose prompt says it changes nothing, granting read tools only: lint-clean."""
    agent = AgentFactory(owner=owner, **kwargs)
    say(agent, READ_ONLY)
    grant(agent, "Read", "Grep", "Glob")
    return agent


def saved(agent: Agent, user, note: str = "") -> Revision:
    revision = workflow.record_revision(agent, user, note=note)
    assert revision is not None
    return revision


# --- stored with each revision ------------------------------------------------------------------


def test_a_revision_stores_what_lint_says_about_its_file(author):
    agent = read_only_agent(author, name="careful-reviewer")
    clean = saved(agent, author)
    grant(agent, "Read", "Bash")
    risky = saved(agent, author)

    assert (clean.lint_errors, clean.lint_warnings, clean.findings) == (0, 0, [])
    expected = lint_text(risky.text)  # the pure linter on the stored file
    assert risky.findings == expected
    assert [f.rule for f in risky.findings] == ["read-only-with-write-tools"]
    assert (risky.lint_errors, risky.lint_warnings) == (0, 1)
    assert "grants Bash" in risky.findings[0].message
    assert risky.findings[0].field == "tools"
    # Read back from the database, not from the object just created.
    stored = Revision.objects.get(pk=risky.pk)
    assert stored.findings == expected


def test_the_migration_lints_the_revisions_that_exist(author):
    agent = read_only_agent(author)
    grant(agent, "Read", "Write")
    first = saved(agent, author)
    grant(agent, "Frobnicate")
    second = saved(agent, author)
    # As they were before migration 0015: no lint columns filled in.
    Revision.objects.update(lint_errors=0, lint_warnings=0, lint_findings=[])

    import_module("agents.migrations.0015_revision_lint").lint_revisions(apps, None)

    first, second = Revision.objects.get(pk=first.pk), Revision.objects.get(pk=second.pk)
    assert [f.rule for f in first.findings] == ["read-only-with-write-tools"]
    assert (first.lint_errors, first.lint_warnings) == (0, 1)
    assert "no-usable-tools" in [f.rule for f in second.findings]
    assert second.lint_errors == 1
    assert second.findings == lint_text(second.text)


def test_the_migration_lints_again_the_revisions_stored_without_findings(author):
    agent = read_only_agent(author)
    grant(agent, "Read", "Write")
    risky = saved(agent, author)
    grant(agent, "Read")
    clean = saved(agent, author)
    grant(agent, "Frobnicate")
    broken = saved(agent, author)
    assert clean.findings == []
    # As a batch import stored them before the fix: no lint columns for the first two.
    Revision.objects.filter(pk__in=[risky.pk, clean.pk]).update(
        lint_errors=0, lint_warnings=0, lint_findings=[]
    )
    # A revision that has its findings keeps them as they are (here: deliberately altered).
    Revision.objects.filter(pk=broken.pk).update(lint_warnings=7)

    import_module("agents.migrations.0017_relint_batch_imported").relint_empty(apps, None)

    risky, clean, broken = (Revision.objects.get(pk=r.pk) for r in (risky, clean, broken))
    assert [f.rule for f in risky.findings] == ["read-only-with-write-tools"]
    assert (risky.lint_errors, risky.lint_warnings) == (0, 1)
    assert risky.findings == lint_text(risky.text)
    assert (clean.lint_errors, clean.lint_warnings, clean.findings) == (0, 0, [])
    assert broken.lint_warnings == 7


# --- approving ------------------------------------------------------------------------------------


def submitted(author, *tools: str) -> Agent:
    agent = read_only_agent(author, name="checker")
    if tools:
        grant(agent, *tools)
    saved(agent, author)
    workflow.transition(agent, "submit", author, comment="please")
    return Agent.objects.get(pk=agent.pk)


def test_approving_a_revision_with_lint_errors_is_refused_and_says_why(author, reviewer):
    agent = submitted(author, "Frobnicate")

    with pytest.raises(PermissionDenied) as refused:
        approve(agent, reviewer)

    said = str(refused.value)
    assert "Revision 2 of checker has 1 lint error, so it cannot be approved" in said
    assert "line 4: no tool in 'tools' is one Claude Code knows" in said
    assert "Request changes so that the author fixes it." in said
    agent.refresh_from_db()
    assert agent.status == Agent.Status.IN_REVIEW and agent.published_revision_id is None


def test_approving_with_warnings_only_publishes(author, reviewer):
    agent = submitted(author, "Read", "Bash")
    assert agent.latest_revision.lint_warnings == 1

    approve(agent, reviewer)

    agent.refresh_from_db()
    assert agent.status == Agent.Status.APPROVED


def test_the_review_page_does_not_offer_approving_a_revision_with_errors(author, reviewer):
    agent = submitted(author, "Frobnicate")

    page = client_for(reviewer).get(reverse("agents:review", args=[agent.slug])).content.decode()

    assert 'id="approve-form"' not in page
    assert "has 1 lint error, so it cannot be approved" in page
    assert "Request changes" in page


def test_a_posted_approval_of_a_revision_with_errors_publishes_nothing(author, reviewer):
    agent = submitted(author, "Frobnicate")

    response = client_for(reviewer).post(
        reverse("agents:review", args=[agent.slug]),
        {"decision": "approve", "revision": "2", "comment": ""},
        follow=True,
    )

    assert response.status_code == 200
    assert "cannot be approved" in response.content.decode()
    agent.refresh_from_db()
    assert agent.status == Agent.Status.IN_REVIEW and agent.published_revision_id is None


def test_the_admin_bulk_approval_refuses_errors_and_shows_warnings(author, reviewer, admin_client):
    broken = submitted(author, "Frobnicate")
    risky = read_only_agent(author, name="risky")
    grant(risky, "Read", "Bash")
    saved(risky, author)
    workflow.transition(risky, "submit", author, comment="please")
    changelist = reverse("admin:agents_submission_changelist")
    ticked = {"action": "approve_selected", "_selected_action": [broken.pk, risky.pk]}
    client = client_for(reviewer)

    confirmation = client.post(changelist, ticked).content.decode()

    assert "1 warning: write tools granted, prompt says read-only" in confirmation
    assert "1 error: no tool in &#x27;tools&#x27; resolves" in confirmation

    done = client.post(
        changelist,
        {**ticked, "apply": "1", f"revision-{broken.pk}": "2", f"revision-{risky.pk}": "2"},
        follow=True,
    ).content.decode()

    assert "has 1 lint error, so it cannot be approved" in done
    assert Agent.objects.get(pk=risky.pk).status == Agent.Status.APPROVED
    assert Agent.objects.get(pk=broken.pk).status == Agent.Status.IN_REVIEW


# --- the review page ------------------------------------------------------------------------------


def published_read_only(author) -> Agent:
    """careful: revision 2 published, read tools only, prompt says it changes nothing."""
    agent = read_only_agent(author, name="careful")
    saved(agent, author)
    workflow.transition(agent, "publish", None)
    return Agent.objects.get(pk=agent.pk)


def review_page(agent: Agent, reviewer) -> str:
    return client_for(reviewer).get(reverse("agents:review", args=[agent.slug])).content.decode()


def test_the_review_page_says_which_warnings_a_revision_adds(author, reviewer):
    agent = published_read_only(author)
    grant(agent, "Read", "Grep", "Bash")
    saved(agent, author)
    workflow.transition(agent, "submit", author, comment="needs git")

    page = review_page(agent, reviewer)

    change = " ".join(section(page, "lint-change").split())
    assert change.startswith("1 new warning: write tools granted, prompt says read-only")
    assert "(revision 3 against revision 2, the published one)" in change
    added = section(page, "lint-added")
    assert 'grants Bash but the prompt says "never change files"' in added
    assert "Line 4:" in added
    assert 'id="lint-removed"' not in page
    # Listed as new, and not a second time under it.
    assert page.count("grants Bash but the prompt says") == 1
    assert 'id="warnings"' not in page and 'id="no-warnings"' not in page
    # The approve form says what approving publishes.
    assert "Approving publishes revision 3 with 1 warning: write tools granted" in section(
        page, "approve-warnings"
    )


def test_the_review_page_lists_the_warnings_a_revision_keeps_under_the_new_ones(author, reviewer):
    agent = read_only_agent(author, name="careful")
    grant(agent, "Read", "Write")
    saved(agent, author)
    workflow.transition(agent, "publish", None)
    grant(agent, "Read", "Write", "Frobnicate")
    saved(agent, author)
    workflow.transition(agent, "submit", author, comment="one more tool")

    page = review_page(agent, reviewer)

    assert "unknown tool 'Frobnicate'" in section(page, "lint-added")
    kept = section(page, "warnings")
    assert "grants Write" in kept and "Frobnicate" not in kept
    assert "Everything else lint says about revision 3" in page
    assert page.count("grants Write but the prompt says") == 1


def test_the_review_page_says_which_warnings_a_revision_fixes(author, reviewer):
    agent = read_only_agent(author, name="careful")
    grant(agent, "Read", "Write")
    saved(agent, author)
    workflow.transition(agent, "publish", None)
    grant(agent, "Read", "Grep")
    saved(agent, author)
    workflow.transition(agent, "submit", author, comment="read-only again")

    page = review_page(agent, reviewer)

    assert " ".join(section(page, "lint-change").split()).startswith(
        "1 warning fixed: write tools granted, prompt says read-only"
    )
    assert "grants Write" in section(page, "lint-removed")
    assert 'id="lint-added"' not in page
    assert 'id="no-warnings"' in page
    assert 'id="approve-warnings"' not in page


def test_an_unchanged_lint_picture_is_said_plainly(author, reviewer):
    agent = published_read_only(author)
    agent.description = "Reviews code with care. Use proactively."
    agent.save()
    saved(agent, author)
    workflow.transition(agent, "submit", author, comment="wording")

    change = section(review_page(agent, reviewer), "lint-change")

    assert "Revision 3 changes nothing lint says against revision 2, the published one." in change


# --- the editor -------------------------------------------------------------------------------


def lint_slot(content: str, name: str) -> str:
    """What lint says in the slot ``lint-<name>`` of a page or a preview response, as text."""
    match = re.search(rf'<div id="lint-{name}"[^>]*>(.*?)</div>', content, re.S)
    assert match, f"no slot lint-{name}"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def editor_form(client: Client, agent: Agent) -> tuple[str, FormData]:
    page = client.get(reverse("agents:edit", args=[agent.slug])).content.decode()
    return page, FormData(page)


def test_the_preview_puts_each_finding_next_to_its_field_as_the_author_types(author):
    agent = read_only_agent(author, name="careful")
    saved(agent, author)
    client = client_for(author)
    page, form = editor_form(client, agent)
    assert [lint_slot(page, name) for name in ("tools", "description", "body", "other")] == [""] * 4
    form.tick("Bash")
    form.set("description", "Reviews code.")  # never says when to use it

    response = client.post(reverse("agents:edit-preview", args=[agent.slug]), form.press(""))

    content = response.content.decode()
    assert '<div id="lint-tools" hx-swap-oob="innerHTML">' in content
    tools = lint_slot(content, "tools")
    assert tools.startswith('warning grants Bash but the prompt says "never change files"')
    assert tools.endswith("read-only-with-write-tools")
    assert "never when to use it" in lint_slot(content, "description")
    assert "Bash" not in lint_slot(content, "description")
    # Empty slots are sent too, so that a finding the author fixed goes away.
    assert lint_slot(content, "body") == "" and lint_slot(content, "other") == ""
    assert "Bash" not in Revision.objects.get(pk=agent.latest_revision_id).text  # nothing saved


def test_the_editor_shows_the_saved_agents_findings_when_it_opens(author):
    agent = read_only_agent(author, name="careful")
    say(agent, "\nYou fix failing builds: run the tests, then edit the code.\n")
    saved(agent, author)

    page, _ = editor_form(client_for(author), agent)

    # What the prompt asks for that the tools cannot do is said by the tool picker.
    tools = lint_slot(page, "tools")
    assert 'the prompt asks it to "run the tests" (line 9)' in tools
    assert 'the prompt asks it to "edit the code" (line 9)' in tools
    assert lint_slot(page, "body") == "" and lint_slot(page, "other") == ""
    # Screen readers hear the findings with the field.
    assert 'aria-describedby="tools-help errors-tools lint-tools"' in page
    assert re.search(r'<textarea[^>]*aria-describedby="[^"]*lint-description', page)


def test_a_field_with_an_error_is_not_told_the_same_by_lint(author):
    client = client_for(author)
    form = FormData(client.get(reverse("agents:new")).content.decode())
    form.set("name", "Code Reviewer").set("description", "Reviews code. Use proactively.")
    form.tick("Read")

    response = client.post(reverse("agents:new-preview"), form.press(""))

    content = response.content.decode()
    assert "does not match the naming rule" in slot(response, "name")
    assert lint_slot(content, "name") == ""


# --- the agent page ---------------------------------------------------------------------------


def test_the_agent_page_shows_what_lint_says_about_the_file_shown(author, reader):
    agent = published_read_only(author)  # clean, published
    grant(agent, "Read", "Grep", "Write")
    saved(agent, author)  # a draft that grants Write

    readers_page = client_for(reader).get(agent.get_absolute_url()).content.decode()
    authors_page = client_for(author).get(agent.get_absolute_url()).content.decode()
    published_page = client_for(author).get(agent.get_absolute_url(), {"version": "published"})

    assert 'id="lint-clean"' in readers_page and "grants Write" not in readers_page
    assert "1 warning: write tools granted, prompt says read-only." in section(
        authors_page, "lint-summary"
    )
    assert "Line 4: grants Write" in section(authors_page, "lint-findings")
    assert 'id="lint-clean"' in published_page.content.decode()


def test_the_agent_page_lints_a_working_copy_not_saved_as_a_revision(author):
    agent = published_read_only(author)
    grant(agent, "Read", "Bash")  # the rows changed, no revision recorded

    page = client_for(author).get(agent.get_absolute_url()).content.decode()

    assert "Draft (not saved as a revision yet)" in page
    assert "grants Bash" in section(page, "lint-findings")


def test_the_history_page_and_the_admin_say_why_a_revision_with_errors_is_not_approved(
    author, reviewer
):
    agent = submitted(author, "Frobnicate")
    client = client_for(reviewer)

    history = client.get(reverse("agents:history", args=[agent.slug])).content.decode()
    admin = client.get(reverse("admin:agents_submission_change", args=[agent.pk])).content.decode()

    assert "has 1 lint error, so it cannot be approved" in history
    assert "Approve and publish revision" not in history
    assert "has 1 lint error, so it cannot be approved" in admin


# --- the catalog ------------------------------------------------------------------------------


def catalog(client: Client, **query) -> str:
    response = client.get(reverse("agents:list"), query)
    assert response.status_code == 200
    return response.content.decode()


def listed(page: str) -> list[str]:
    return re.findall(r'<h3><a href="[^"]*">([^<]+)</a></h3>', page)


def badge(page: str, name: str) -> str:
    """The lint badge of the row of agent ``name`` ('' if it has none)."""
    row = re.search(rf'<li class="agent-item[^"]*">\s*<h3><a [^>]*>{name}</a>.*?</li>', page, re.S)
    assert row, f"no row {name}"
    found = re.search(r'<a class="lint-badge[^"]*"[^>]*>([^<]*)</a>', row.group(0))
    return found.group(1) if found else ""


@pytest.fixture
def linted_agents(author):
    """clean (published, nothing to say), risky (published with a warning), broken (a draft
    with an error), and careful: published clean, its draft grants Write (a new warning)."""
    clean = read_only_agent(author, name="clean")
    saved(clean, author)
    workflow.transition(clean, "publish", None)
    risky = read_only_agent(author, name="risky")
    grant(risky, "Read", "Bash")
    saved(risky, author)
    workflow.transition(risky, "publish", None)
    broken = read_only_agent(author, name="broken")
    grant(broken, "Frobnicate")
    saved(broken, author)
    careful = published_read_only(author)
    grant(careful, "Read", "Write")
    saved(careful, author)


def test_the_catalog_marks_rows_with_warnings_and_errors(author, reader, linted_agents):
    readers = catalog(client_for(reader))
    authors = catalog(client_for(author))

    assert badge(readers, "risky") == "lint: 1 warning"
    assert badge(readers, "clean") == "" and badge(readers, "careful") == ""  # as published
    assert badge(authors, "broken") == "lint: 1 error, 1 warning"  # unknown tool, none usable
    assert badge(authors, "careful") == "lint: 1 warning"  # its draft, which authors see


def test_the_catalog_filters_agents_with_warnings(author, reader, linted_agents):
    assert listed(catalog(client_for(reader), lint="warnings")) == ["risky"]
    assert listed(catalog(client_for(author), lint="warnings")) == ["broken", "careful", "risky"]
    assert listed(catalog(client_for(author), lint="errors")) == ["broken"]
    assert listed(catalog(client_for(author))) == ["broken", "careful", "clean", "risky"]
    page = catalog(client_for(author), lint="nonsense")
    assert "Select a valid choice" in page  # said, not applied
    assert listed(page) == ["broken", "careful", "clean", "risky"]


def test_the_review_queue_marks_submissions_lint_has_something_to_say_about(
    author, reviewer, linted_agents
):
    for name in ("broken", "careful"):
        workflow.transition(Agent.objects.get(name=name), "submit", author, comment="ready")
    calm = read_only_agent(author, name="calm")
    saved(calm, author)
    workflow.transition(calm, "submit", author)

    page = client_for(reviewer).get(reverse("agents:queue")).content.decode()

    def queue_badge(name: str) -> str:
        row = re.search(
            rf'<li class="agent-item[^"]*">\s*<h2 [^>]*><a [^>]*>{name}</a>.*?</li>\s*</ul>',
            page,
            re.S,
        )
        assert row, f"no row {name}"
        found = re.search(r'<a class="lint-badge[^"]*" href="([^"]*)">([^<]*)</a>', row.group(0))
        return f"{found.group(2)} -> {found.group(1)}" if found else ""

    assert (
        queue_badge("broken") == "lint: 1 error, 1 warning -> /agents/broken/review/#lint-heading"
    )
    assert queue_badge("careful").startswith("lint: 1 warning -> ")
    assert queue_badge("calm") == ""
