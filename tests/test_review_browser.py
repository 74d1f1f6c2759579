"""Review and import in a real browser (Debian's Chromium through Playwright): a reviewer sends an
agent back with a comment, sees what changed since, and approves; an author imports a batch,
skipping the refused file. Screenshots: review-queue, review, import."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from agents import workflow
from agents.models import Agent

from .browser import log_in, screenshot
from .factories import AgentFactory
from .test_import_zip import agent as agent_file
from .test_import_zip import make_zip

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("migrated_data"),
]


def edit(agent: Agent, user, description: str, note: str = ""):
    agent.description = description
    agent.save()
    return workflow.record_revision(agent, user, note=note)


def fits_a_narrow_screen(page) -> None:
    """At 400 pixels wide the page needs no sideways scrolling (diffs scroll in their boxes)."""
    size = page.viewport_size
    page.set_viewport_size({"width": 400, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    page.set_viewport_size(size)


def test_a_reviewer_sends_an_agent_back_then_approves_what_changed_since(page, author, reviewer):
    agent = AgentFactory(name="code-reviewer", owner=author, steps=3, tools=3, published=True)
    edit(agent, author, "Reviews code <carefully>. Use proactively.", "Sharper description")
    workflow.transition(agent, "submit", author, comment="Sharper description")
    waiting = AgentFactory(name="Release Notes", owner=author)
    workflow.transition(waiting, "submit", author, comment="First version")
    log_in(page, "reviewer", "pw-reviewer")

    # The queue, from the navigation.
    page.get_by_role("link", name=re.compile(r"^Review")).click()
    page.wait_for_url(f"**{reverse('agents:queue')}")
    assert page.get_by_role("heading", name="code-reviewer").is_visible()

    page.get_by_role("link", name="code-reviewer").click()
    page.wait_for_url(f"**{reverse('agents:review', kwargs={'name': 'code-reviewer'})}")
    assert page.get_by_role("heading", name="Review code-reviewer", level=1).is_visible()
    assert "The last review published revision 1, the published one" in (
        page.locator("#since-heading + p").inner_text()
    )
    unified = page.locator("#against-published-unified").inner_text()
    assert "+description: Reviews code <carefully>. Use proactively." in unified

    # Sending back needs a comment: the browser asks for it before anything is sent.
    page.get_by_role("button", name="Request changes").click()
    assert page.get_by_label("What has to change (required)").evaluate(
        "field => !field.validity.valid"
    )
    assert Agent.objects.get(pk=agent.pk).status == Agent.Status.IN_REVIEW
    page.get_by_label("What has to change (required)").fill("Say what 'carefully' means.")
    page.get_by_role("button", name="Request changes").click()
    page.wait_for_url(f"**{reverse('agents:queue')}")
    assert "code-reviewer was sent back to its author with your comment." in (
        page.locator(".messages").inner_text()
    )
    assert Agent.objects.get(pk=agent.pk).status == Agent.Status.CHANGES_REQUESTED

    # The author fixes it and resubmits.
    edit(agent, author, "Reviews code line by line. Use proactively.", "Explained it")
    workflow.transition(agent, "submit", author, comment="Explained it")

    page.goto(reverse("agents:queue"))
    assert (
        "Resubmitted after changes were requested on revision 2"
        in page.locator("#review-queue").inner_text()
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, "review-queue")
    fits_a_narrow_screen(page)

    page.get_by_role("link", name="code-reviewer").click()
    since = page.locator("#since-review-unified").inner_text()
    assert "--- revision 2 (changes requested)" in since
    assert "-description: Reviews code <carefully>. Use proactively." in since
    assert "+description: Reviews code line by line. Use proactively." in since
    conversation = page.locator("#conversation").inner_text()
    assert (
        conversation.index("Sharper description")
        < conversation.index("Say what 'carefully' means.")
        < conversation.index("Explained it")
    )
    page.locator("#since-review-side-by-side summary").click()
    assert page.locator("#since-review-side-by-side table.diff").is_visible()
    screenshot(page, "review")
    fits_a_narrow_screen(page)

    page.get_by_role("button", name="Approve and publish revision 3").click()
    page.wait_for_url(f"**{reverse('agents:queue')}")
    assert "code-reviewer is approved: everyone now downloads revision 3." in (
        page.locator(".messages").inner_text()
    )
    agent.refresh_from_db()
    assert (agent.status, agent.published_revision.number) == (Agent.Status.APPROVED, 3)


def test_the_submitter_sees_why_there_is_no_approve_button(page, django_user_model):
    from .conftest import member_of

    both = member_of(
        django_user_model.objects.create_user("both", "both@example.com", "pw-both-1234"),
        "Authors",
        "Reviewers",
    )
    agent = AgentFactory(name="my-own", owner=both)
    workflow.transition(agent, "submit", both)
    log_in(page, "both", "pw-both-1234")

    page.goto(reverse("agents:review", kwargs={"name": "my-own"}))

    assert page.locator("#approve-refusal").inner_text() == (
        "You submitted my-own; someone else has to approve it."
    )
    assert page.get_by_role("button", name=re.compile("Approve")).count() == 0
    assert page.get_by_role("button", name="Request changes").is_visible()


def test_an_author_imports_a_batch_and_skips_the_refused_file(page, author, tmp_path):
    files = {
        "alpha.md": agent_file("alpha"),
        "bad.md": "# no frontmatter\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "more.zip").write_bytes(
        make_zip({"beta.md": agent_file("beta").replace("Grep", "LS")})
    )
    log_in(page, "author", "pw-author")

    page.get_by_role("link", name="Import", exact=True).click()
    page.wait_for_url(f"**{reverse('import')}")
    page.get_by_label("Agent files", exact=True).set_input_files(
        [tmp_path / "alpha.md", tmp_path / "bad.md", tmp_path / "more.zip"]
    )
    page.get_by_role("button", name="Preview import").click()

    results = page.locator("#import-results").inner_text()
    assert re.search(r"alpha\.md\s+alpha\s+created", results)
    assert re.search(r"bad\.md\s+refused\s+Line 1: no frontmatter", results)
    assert "Warning, line 4: 'LS' is a legacy tool name" in results
    assert not Agent.objects.exists()
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, "import")
    fits_a_narrow_screen(page)

    page.get_by_role("button", name="Import 2 files, skip 1 refused").click()
    page.wait_for_url(f"**{reverse('home')}")
    messages = page.locator(".messages").inner_text()
    assert "Imported 2 files: 2 created." in messages
    assert "Skipped 1 refused file; nothing of them was saved: bad.md." in messages
    assert sorted(Agent.objects.values_list("name", flat=True)) == ["alpha", "beta"]
