"""A script's whole round through the API only: create an agent, add steps, submit, approve as
another person naming the revision, download. The file is the one the agent page previews."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils.html import escape
from rest_framework.test import APIClient

from agents import filebridge, tokens
from agents.models import AccessToken, Agent


def client_for(user, scope=AccessToken.Scope.WRITE) -> APIClient:
    """A client that authenticates as ``user`` with a fresh personal access token."""
    _, secret = tokens.create(user, "script", 30, scope)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.mark.django_db
def test_a_script_creates_submits_and_another_person_approves_and_downloads(author, reviewer):
    writer = client_for(author)
    created = writer.post(
        "/api/agents/",
        {
            "name": "api-reviewer",
            "description": "Reviews pull requests. Use proactively after a change.",
            "tools": ["Read", "Grep"],
            "model": "sonnet",
            "sections": [{"kind": "markdown", "markdown": "You review code.\n"}],
            "change_note": "first version",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created["ETag"] == '"r1"'
    assert created.json()["state"] == "draft"
    assert created["Location"] == "/api/agents/api-reviewer/"

    steps = [
        {"title": "Read the diff", "text": "Read every changed file."},
        {"title": "Report", "text": "List problems by severity."},
    ]
    patched = writer.patch(
        "/api/agents/api-reviewer/",
        {"steps": steps, "change_note": "steps"},
        format="json",
        headers={"If-Match": created["ETag"]},
    )
    assert patched.status_code == 200, patched.json()
    assert patched["ETag"] == '"r2"'
    assert patched.json()["steps"] == steps

    submitted = writer.post("/api/agents/api-reviewer/submit", {"comment": "ready"}, format="json")
    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["action"] == "submit"
    assert submitted.json()["to_status"] == "in_review"

    approver = client_for(reviewer)
    refused = approver.post("/api/agents/api-reviewer/approve", {}, format="json")
    assert refused.status_code == 400
    assert refused.json()["field"] == "revision"
    approved = approver.post("/api/agents/api-reviewer/approve", {"revision": 2}, format="json")
    assert approved.status_code == 200, approved.json()
    assert approved.json()["revision"] == 2
    assert approved.json()["to_status"] == "approved"

    download = client_for(reviewer, AccessToken.Scope.READ).get("/api/agents/api-reviewer/file")
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/markdown")
    text = download.content.decode()
    agent = Agent.objects.for_export().get(name="api-reviewer")
    assert text == filebridge.render(agent)
    assert "1. **Read the diff**: Read every changed file." in text
    # the agent page shows the same exact file
    browser = Client()
    browser.force_login(reviewer)
    page = browser.get(agent.get_absolute_url())
    assert escape(text) in page.content.decode()
