"""Reading the portal in a real browser: a reader finds an agent, opens it, downloads and copies
its file; an author sees on the home page and on the agent page why an agent was sent back."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents import workflow
from agents.importing import import_file
from agents.models import Agent

from .browser import log_in, screenshot
from .factories import AgentFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("migrated_data"),
]


@pytest.fixture
def catalog(author, other_author, reviewer, example_bytes) -> Agent:
    """A handful of agents in every state, and python-backend-expert published."""
    import_file("python-backend-expert.md", example_bytes, owner=author, publish=True)
    for name, color, description in [
        ("code-reviewer", "blue", "Reviews code for quality and security. Use proactively."),
        ("sql-tuner", "orange", "Finds slow database queries and explains how to speed them up."),
        ("release-notes", "green", "Writes release notes from merged pull requests."),
    ]:
        AgentFactory(
            name=name,
            owner=other_author,
            color=color,
            description=description,
            tools=3,
            steps=2,
            published=True,
        )
    waiting = AgentFactory(name="incident-triager", owner=other_author, tools=2)
    workflow.transition(waiting, "submit", other_author, comment="Ready for a first look")
    return Agent.objects.get(name="python-backend-expert")


def test_a_reader_finds_an_agent_downloads_it_and_copies_its_file(page, reader, catalog):
    published = catalog.published_revision.text
    log_in(page, "reader", "pw-reader-1")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Agents").click()
    page.get_by_label("Search").fill("FastAPI")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url("**/agents/?q=FastAPI*")
    results = page.locator(".agent-list > li")
    assert results.count() == 1
    page.get_by_label("Search").fill("")
    page.get_by_role("button", name="Search", exact=True).click()
    screenshot(page, "catalog")

    page.get_by_label("Search").fill("FastAPI")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("link", name="python-backend-expert").click()
    page.wait_for_url(f"**{catalog.get_absolute_url()}")
    assert page.get_by_role("heading", level=1).text_content() == "python-backend-expert"

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download python-backend-expert.md").click()
    download = download_info.value
    assert download.suggested_filename == "python-backend-expert.md"
    with open(download.path(), "rb") as downloaded:
        assert downloaded.read() == published.encode()

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    copy = page.get_by_role("button", name="Copy the file")
    assert copy.is_visible()
    copy.click()
    status = page.get_by_role("status").filter(has_text="Copied")
    status.wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == published
    screenshot(page, "agent-page")


def test_without_javascript_the_copy_button_is_not_offered(live_server, reader, catalog):
    from .browser import CHROMIUM, CHROMIUM_ARGS

    sync_api = pytest.importorskip("playwright.sync_api")
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed")
    import os

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
            page = context.new_page()
            log_in(page, "reader", "pw-reader-1")
            page.goto(catalog.get_absolute_url())
            assert page.get_by_role("button", name="Copy the file").count() == 0
            assert page.locator("pre#file-text").is_visible()
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


def test_an_author_sees_the_reviewers_comment_on_home_and_agent_page(
    page, author, reviewer, catalog
):
    agent = AgentFactory(name="changelog-auditor", owner=author, color="purple", tools=2, steps=3)
    workflow.transition(agent, "submit", author, comment="First version")
    workflow.transition(
        agent, "request_changes", reviewer, comment="Say which changelog format it expects."
    )
    log_in(page, "author", "pw-author")

    mine = page.get_by_role("region", name="Your agents")
    assert "Say which changelog format it expects." in mine.text_content()
    assert "Changes requested by reviewer" in mine.text_content()
    screenshot(page, "home")

    mine.get_by_role("link", name="changelog-auditor", exact=True).click()
    page.wait_for_url(f"**{reverse('agents:detail', kwargs={'name': agent.slug})}")
    notice = page.get_by_role("region", name="Changes requested by reviewer")
    assert "Say which changelog format it expects." in notice.text_content()
    conversation = page.get_by_role("region", name="Review conversation")
    assert "First version" in conversation.text_content()
    assert "Say which changelog format it expects." in conversation.text_content()
