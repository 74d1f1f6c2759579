"""The admin in a real browser: Debian's Chromium driven by Playwright against a live server.

CI installs Chromium (``.ci/run``); elsewhere these tests skip, saying why, when it is absent.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents import filebridge
from agents.importing import import_file
from agents.models import Agent

from .browser import log_in_admin

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # transactional tests empty the tables: bring back the tool registry and the roles
    pytest.mark.usefixtures("migrated_data"),
]


def test_an_admin_edits_an_agent_moves_a_step_and_downloads_the_file(
    page, django_user_model, example_bytes
):
    django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-boss-123")
    import_file("python-backend-expert.md", example_bytes, publish=True)
    agent = Agent.objects.get(name="python-backend-expert")
    log_in_admin(page, "boss", "pw-boss-123")

    page.goto(reverse("admin:agents_agent_change", args=[agent.pk]))
    preview = page.locator("pre.agent-file-preview")
    assert "1. **Assess the Request**" in preview.text_content()

    page.fill("#id_description", "Backend Python specialist. Use proactively.")
    # Step 1 goes last: positions are where a row should go; the save renumbers 1..n.
    page.fill("#id_steps-0-position", "99")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")

    text = preview.text_content()
    assert "description: Backend Python specialist. Use proactively.\n" in text
    assert "1. **Technology Analysis**" in text
    assert "7. **Assess the Request**" in text

    with page.expect_download() as download_info:
        page.click("text=Download .md")
    downloaded = open(download_info.value.path(), encoding="utf-8").read()  # noqa: SIM115
    assert downloaded == filebridge.render(Agent.objects.for_export().get(pk=agent.pk))
    assert download_info.value.suggested_filename == "python-backend-expert.md"


def test_a_bad_name_typed_in_the_browser_is_refused_and_nothing_is_saved(page, django_user_model):
    django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-boss-123")
    log_in_admin(page, "boss", "pw-boss-123")

    page.goto(reverse("admin:agents_agent_add"))
    page.fill("#id_name", "Code Reviewer")
    page.fill("#id_description", "Reviews code.")
    page.click("input[name=_save]")

    error = page.locator(".field-name .errorlist").text_content()
    assert "does not match" in error
    assert not Agent.objects.exists()
