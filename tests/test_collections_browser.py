"""Collections and access tokens in a real browser: an author builds a collection and downloads
its plugin; a reader creates a token, copies it, uses it, revokes it."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request

import pytest
from django.urls import reverse

from agents.models import AccessToken

from .browser import log_in, screenshot
from .factories import AgentFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("migrated_data"),
]

NARROW = {"width": 400, "height": 900}


@pytest.fixture(autouse=True)
def marketplace_settings(settings, live_server):
    settings.MARKETPLACE_NAME = "acme-agents"
    settings.PORTAL_BASE_URL = live_server.url


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_author_builds_a_collection_and_downloads_its_plugin(page, author):
    AgentFactory(name="code-reviewer", published=True, tools=3, steps=2)
    AgentFactory(name="test-writer", published=True, tools=2)
    AgentFactory(name="half-done", owner=author)  # a draft: left out of the plugin
    log_in(page, "author", "pw-author")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Collections").click()
    page.get_by_role("link", name="New collection").click()
    page.get_by_label("Name", exact=True).fill("backend-team")
    page.get_by_label("Title").fill("Backend team")
    page.get_by_label("Description").fill("What the backend team installs.")
    page.get_by_label("Keywords").fill("backend, review")
    page.get_by_label("Agents").fill("test-writer\ncode-reviewer\nhalf-done")
    page.get_by_role("button", name="Create the collection").click()

    page.wait_for_selector("text=Collection backend-team created.")
    items = page.locator(".member-list > li h3").all_text_contents()
    assert items == ["test-writer", "code-reviewer"]
    assert "half-done: not published yet" in page.locator(".left-out").text_content()
    assert "/plugin install backend-team@acme-agents" in page.locator(".commands").text_content()
    screenshot(page, "collection")
    checksum = page.locator(".checksum").text_content()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the plugin").click()
    data = open(download_info.value.path(), "rb").read()  # noqa: SIM115
    assert hashlib.sha256(data).hexdigest() == checksum

    page.goto(reverse("collections"))
    assert "version 1.0.0" in page.locator(".collection-list").text_content()
    screenshot(page, "collections")
    page.set_viewport_size(NARROW)
    assert fits(page)
    page.goto(reverse("collection", kwargs={"slug": "backend-team"}))
    assert fits(page)


def test_a_reader_creates_copies_uses_and_revokes_a_token(page, reader, live_server):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, "reader", "pw-reader-1")

    page.get_by_role("link", name="Access tokens").click()
    page.get_by_label("Name").fill("laptop")
    page.get_by_label("Expires after").select_option("30")
    page.get_by_role("button", name="Create the token").click()

    secret = page.get_by_label("Your new token").input_value()
    page.get_by_role("button", name="Copy").click()
    page.wait_for_selector("button.copy:has-text('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    screenshot(page, "tokens")
    url = f"{live_server.url}/marketplace.json?token={secret}"
    with urllib.request.urlopen(url) as response:  # noqa: S310 (the live test server)
        assert json.load(response)["name"] == "acme-agents"

    page.goto(reverse("tokens"))
    assert secret not in page.content()
    page.get_by_role("button", name="Revoke laptop").click()
    page.wait_for_selector("text=revoked: it no longer works")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url)  # noqa: S310
    assert refused.value.code == 401
    assert AccessToken.objects.get().revoked_at is not None
    page.set_viewport_size(NARROW)
    assert fits(page)
