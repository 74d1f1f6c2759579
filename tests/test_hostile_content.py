"""Markup written into an agent never runs: a <script>, an onerror= attribute or a javascript:
link in any field (name, description, prompt, step, change note, review comment, unknown key)
stays text on every page, in the real browser, and every page carries the CSP header.

The page fixture fails any test during which the browser reports a Content-Security-Policy
violation, so markup that slipped through and was only stopped by the policy fails too."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents import workflow
from agents.importing import import_file
from agents.models import Agent

from .browser import log_in
from .factories import approve

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("migrated_data"),
]

# Each payload sets window.__xss when it runs. The quotes keep the YAML valid.
SCRIPT = "<script>window.__xss='script'</script>"
ONERROR = "<img src=x onerror=\"window.__xss='onerror'\">"
LINK = "[open me](javascript:window.__xss='link')"
PAYLOADS = f"{SCRIPT} {ONERROR} {LINK}"

HOSTILE_FILE = f"""---
name: "<script>window.__xss='name'</script>"
description: '{SCRIPT.replace("'", "''")} {ONERROR.replace("'", "''")} Use proactively.'
tools: Read, Grep
x-note: '{SCRIPT.replace("'", "''")}'
---

# Role {SCRIPT}

{ONERROR}

{LINK}

## Instructions

1. **Step {SCRIPT}**: do {ONERROR}
2. **Check**: follow {LINK}
"""


@pytest.fixture
def hostile(author, reviewer, other_reviewer):
    result = import_file("hostile.md", HOSTILE_FILE.encode(), owner=author, actor=author)
    assert result.outcome == "created", result.line()
    agent = Agent.objects.get()
    workflow.transition(agent, "submit", author, comment=f"Change note {PAYLOADS}")
    workflow.transition(agent, "request_changes", reviewer, comment=f"Comment {PAYLOADS}")
    workflow.transition(agent, "submit", author, comment=f"Again {PAYLOADS}")
    approve(agent, other_reviewer, comment=f"Approved {PAYLOADS}")
    agent.description = f"Draft {SCRIPT} Use proactively."
    agent.save()
    workflow.record_revision(agent, author, note=f"Note {PAYLOADS}")
    workflow.transition(agent, "submit", author, comment=f"Third {PAYLOADS}")
    return agent


def pages(agent):
    slug = agent.slug
    return [
        reverse("home"),
        reverse("agents:list"),
        reverse("agents:list") + "?q=script",
        reverse("agents:detail", args=[slug]),
        reverse("agents:edit", args=[slug]),
        reverse("agents:review", args=[slug]),
        reverse("agents:queue"),
        reverse("agents:history", args=[slug]),
        reverse("agents:compare", args=[slug]) + "?from=1&to=2",
        reverse("agents:activity"),
        reverse("admin:agents_agent_change", args=[agent.pk]),
        reverse("admin:agents_submission_change", args=[agent.pk]),
        reverse("admin:agents_submission_changelist"),
        reverse("admin:agents_event_changelist"),
    ]


@pytest.mark.parametrize("who", ["author", "reviewer", "reader"])
def test_markup_in_any_field_never_runs_on_any_page(page, hostile, who, reader):
    password = {"reader": "pw-reader-1"}.get(who, f"pw-{who}")
    log_in(page, who, password)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    for address in pages(hostile):
        response = page.goto(address)
        assert response.status < 500, address
        assert "script-src 'self'" in response.headers["content-security-policy"], address
        assert page.locator("a[href^='javascript:' i]").count() == 0, address
        assert page.locator("[onerror], [onload], [onclick]").count() == 0, address
        assert page.evaluate("() => window.__xss") is None, address
    assert dialogs == []
