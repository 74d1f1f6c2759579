"""The whole life of an agent in the real browser, as its people live it (issue 8): an author
writes it in the editor, a reviewer sends it back, the author reads why on the agent page and on
the home page, fixes it and resubmits, the reviewer sees what changed since the last review and
approves, and a reader with no group and no staff flag finds it by searching and downloads a
file byte-identical to the preview the author saw."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from agents.models import Agent

from .browser import log_in, screenshot
from .conftest import member_of

expect = pytest.importorskip("playwright.sync_api").expect
expect.set_options(timeout=15_000)  # the preview waits for a pause in the typing

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("migrated_data"),
]


def person(page, live_server, username: str, password: str):
    """A browser window of its own, signed in at the portal's sign-in page."""
    context = page.context.browser.new_context(
        base_url=live_server.url, accept_downloads=True, viewport={"width": 1400, "height": 1000}
    )
    window = context.new_page()
    window.set_default_timeout(15_000)
    log_in(window, username, password)
    return window


def test_an_agent_from_first_draft_to_a_readers_machine(page, live_server, django_user_model):
    member_of(django_user_model.objects.create_user("writer", "w@example.com", "pw-w-1"), "Authors")
    member_of(
        django_user_model.objects.create_user("checker", "c@example.com", "pw-c-1"), "Reviewers"
    )
    django_user_model.objects.create_user("someone", "s@example.com", "pw-s-1")  # no group

    # The author writes the agent: three steps, a built-in tool and an MCP tool.
    author = person(page, live_server, "writer", "pw-w-1")
    author.get_by_role("link", name="New agent").click()
    author.get_by_label("Name", exact=True).fill("changelog-auditor")
    author.get_by_label("Description").fill("Checks changelog entries. Use proactively.")
    author.get_by_label("Find a tool").fill("reads files")
    author.get_by_role("checkbox", name=re.compile(r"^Read Reads files")).check()
    author.get_by_label("Other tools").fill("mcp__github__get_pull_request")
    author.get_by_label("Text of the prompt").fill("You audit changelogs.")
    author.get_by_role("button", name="Add instruction steps").click()
    author.get_by_label("Title of step 1").fill("Read")
    author.get_by_label("Text of step 1").fill("Read the pull request.")
    for number, title, text in [(2, "Report", "List what is missing."), (3, "Compare", "Compare.")]:
        author.get_by_role("button", name="Add a step").click()
        author.get_by_label(f"Title of step {number}").fill(title)
        author.get_by_label(f"Text of step {number}").fill(text)
    author.get_by_label("Text of step 3").focus()
    author.keyboard.press("Alt+ArrowUp")  # "Compare" goes before "Report"
    expect(author.locator("#preview-file")).to_contain_text("2. **Compare**: Compare.")
    author.get_by_label("Change note").fill("First version.")
    author.get_by_role("button", name="Save and submit for review").click()
    agent = Agent.objects.get(name="changelog-auditor")
    author.wait_for_url(f"**{agent.get_absolute_url()}")
    assert Agent.objects.get(pk=agent.pk).status == Agent.Status.IN_REVIEW

    # The reviewer sends it back with a comment.
    reviewer = person(page, live_server, "checker", "pw-c-1")
    reviewer.get_by_role("link", name=re.compile("^Review")).click()
    reviewer.get_by_role("link", name="changelog-auditor").first.click()
    reviewer.get_by_label("What has to change (required)").fill("Say which format it expects.")
    reviewer.get_by_role("button", name="Request changes").click()
    expect(reviewer.locator(".messages")).to_contain_text("changelog-auditor")

    # The author reads why, on the agent page and on the home page, and fixes it.
    author.goto(agent.get_absolute_url())
    expect(author.locator("main")).to_contain_text("Say which format it expects.")
    author.goto(reverse("home"))
    expect(author.locator("main")).to_contain_text("Say which format it expects.")
    author.get_by_role("link", name="Edit changelog-auditor").click()
    author.get_by_label("Description").fill(
        "Checks changelog entries in Keep a Changelog format. Use proactively."
    )
    expect(author.locator("#preview-file")).to_contain_text("Keep a Changelog")
    author.get_by_role("button", name="File").click()
    previewed = author.locator("#preview-file").text_content()
    author.get_by_label("Change note").fill("Names the format.")
    author.get_by_role("button", name="Save and submit for review").click()
    author.wait_for_url(f"**{agent.get_absolute_url()}")

    # The reviewer sees what changed since the last review, and approves.
    reviewer.goto(reverse("agents:review", kwargs={"name": agent.slug}))
    since = reviewer.locator("section[aria-labelledby=since-heading]")
    expect(since).to_contain_text("Keep a Changelog")
    screenshot(reviewer, "review-second-round")
    reviewer.get_by_role("button", name=re.compile("^Approve and publish revision")).click()
    expect(reviewer.locator(".messages")).to_contain_text("changelog-auditor")
    assert Agent.objects.get(pk=agent.pk).status == Agent.Status.APPROVED

    # A reader finds it by searching and downloads exactly what the author saw.
    reader = person(page, live_server, "someone", "pw-s-1")
    reader.get_by_role("link", name="Agents", exact=True).click()
    reader.get_by_label("Search").fill("changelog")
    reader.get_by_role("button", name="Search").click()
    reader.get_by_role("link", name="changelog-auditor").click()
    with reader.expect_download() as download:
        reader.get_by_role("link", name="Download changelog-auditor.md").click()
    downloaded = open(download.value.path(), encoding="utf-8").read()  # noqa: SIM115
    assert downloaded == previewed
    assert download.value.suggested_filename == "changelog-auditor.md"
