"""Lint in a real browser (issue 12): an author grants Bash to an agent whose prompt says "never
run commands"; the warning appears next to the tool picker before anything is saved, and once
the change is submitted the review page shows it as a new warning. Screenshots: editor-lint,
review-lint."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from agents import workflow
from agents.models import Agent, AgentTool, Section

from .browser import log_in, screenshot
from .conftest import member_of
from .factories import AgentFactory
from .test_accessibility import violations

expect = pytest.importorskip("playwright.sync_api").expect
# The preview waits for a pause in the typing, then for the server.
expect.set_options(timeout=15_000)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("migrated_data"),
]

PROMPT = (
    "\nYou review pull requests for security problems and report what you find.\n\n"
    "Never run commands: read the code, then write the report.\n"
)


@pytest.fixture
def writer(django_user_model):
    user = django_user_model.objects.create_user("writer", "writer@example.com", "pw-writer-1")
    return member_of(user, "Authors")


def published_read_only_agent(owner) -> Agent:
    agent = AgentFactory(
        name="security-reviewer",
        owner=owner,
        description="Reviews pull requests for security problems. Use proactively after a change.",
    )
    Section.objects.filter(agent=agent).delete()
    Section.objects.create(agent=agent, position=1, markdown=PROMPT)
    AgentTool.objects.bulk_create(
        AgentTool(agent=agent, position=i, name=name) for i, name in enumerate(["Read", "Grep"], 1)
    )
    workflow.record_revision(agent, owner, note="read-only reviewer")
    workflow.transition(agent, "publish", None)
    return agent


def test_granting_bash_to_a_read_only_agent_warns_in_the_editor_and_in_review(
    page, writer, reviewer
):
    agent = published_read_only_agent(writer)
    published = agent.published_revision_id
    log_in(page, "writer", "pw-writer-1")
    page.goto(reverse("agents:edit", kwargs={"name": agent.slug}))
    lint_tools = page.locator("#lint-tools")
    expect(lint_tools).to_be_empty()

    page.get_by_role("checkbox", name=re.compile(r"^Bash\b")).check()

    # Next to the tool picker, before anything is saved.
    expect(lint_tools).to_contain_text('grants Bash but the prompt says "Never run commands"')
    expect(lint_tools).to_contain_text("read-only-with-write-tools")
    assert page.locator("#tool-picker #lint-tools").count() == 1
    expect(page.locator("#preview-file")).to_contain_text("tools: Read, Grep, Bash")
    assert Agent.objects.get(pk=agent.pk).latest_revision_id == published  # nothing saved
    assert violations(page) == []
    lint_tools.scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "editor-lint")

    page.get_by_label("Change note").fill("The reviewer needs git log.")
    page.get_by_role("button", name="Save and submit for review").click()
    page.wait_for_url(f"**{agent.get_absolute_url()}")
    assert Agent.objects.get(pk=agent.pk).status == Agent.Status.IN_REVIEW

    # The reviewer sees it as a new warning.
    page.context.clear_cookies()
    log_in(page, "reviewer", "pw-reviewer")
    page.goto(reverse("agents:review", kwargs={"name": agent.slug}))
    change = page.locator("#lint-change")
    expect(change).to_contain_text("1 new warning: write tools granted, prompt says read-only")
    expect(change).to_contain_text("(revision 3 against revision 2, the published one)")
    expect(page.locator("#lint-added")).to_contain_text('grants Bash but the prompt says "Never')
    expect(page.locator("#approve-warnings")).to_contain_text(
        "Approving publishes revision 3 with 1 warning"
    )
    assert violations(page) == []
    screenshot(page, "review-lint")
