"""Lint through the API: the counts on every agent and revision, the findings of the revision
shown, the lint filter of the list, and approval refused when the revision has lint errors."""

from __future__ import annotations

import pytest

from agents import workflow
from agents.models import Agent

from .factories import approve
from .test_api_agents import names, signed_in
from .test_lint_portal import grant, read_only_agent, saved

pytestmark = pytest.mark.django_db


def risky_published(author, reviewer, name: str) -> Agent:
    """Published clean, then a draft that grants Bash to an agent that says it runs nothing."""
    agent = read_only_agent(author, name=name)
    saved(agent, author)
    workflow.transition(agent, "submit", author)
    approve(Agent.objects.get(pk=agent.pk), reviewer)
    grant(agent, "Read", "Bash")
    saved(agent, author)
    return Agent.objects.get(pk=agent.pk)


def test_each_caller_sees_what_lint_says_about_the_revision_they_are_shown(
    reader, author, reviewer
):
    risky_published(author, reviewer, "careful-reviewer")

    mine = signed_in(author).get("/api/agents/careful-reviewer/").json()
    assert (mine["lint_errors"], mine["lint_warnings"]) == (0, 1)
    assert [f["rule"] for f in mine["lint_findings"]] == ["read-only-with-write-tools"]
    assert mine["lint_findings"][0]["field"] == "tools"
    assert "grants Bash" in mine["lint_findings"][0]["message"]
    # the reader is shown the published revision, which is clean
    theirs = signed_in(reader).get("/api/agents/careful-reviewer/").json()
    assert (theirs["lint_errors"], theirs["lint_warnings"], theirs["lint_findings"]) == (0, 0, [])

    listed = signed_in(author).get("/api/agents/").json()["results"]
    assert [(row["name"], row["lint_warnings"]) for row in listed] == [("careful-reviewer", 1)]
    assert signed_in(reader).get("/api/agents/").json()["results"][0]["lint_warnings"] == 0


def test_the_lint_filter_of_the_list(reader, author, reviewer):
    risky_published(author, reviewer, "risky")
    clean = read_only_agent(author, name="clean")
    saved(clean, author)
    broken = read_only_agent(author, name="broken")
    grant(broken, "Frobnicate")
    saved(broken, author)
    client = signed_in(author)

    assert names(client.get("/api/agents/", {"lint": "warnings"})) == ["broken", "risky"]
    assert names(client.get("/api/agents/", {"lint": "errors"})) == ["broken"]
    assert names(signed_in(reader).get("/api/agents/", {"lint": "warnings"})) == []
    refused = client.get("/api/agents/", {"lint": "some"})
    assert refused.status_code == 400 and refused.json()["field"] == "lint"


def test_revisions_carry_their_lint_counts_and_findings(author, reviewer):
    risky_published(author, reviewer, "careful-reviewer")
    client = signed_in(author)

    listed = client.get("/api/agents/careful-reviewer/revisions/").json()["results"]
    counts = {row["number"]: (row["lint_errors"], row["lint_warnings"]) for row in listed}
    assert counts[2] == (0, 0) and counts[3] == (0, 1)
    second = client.get("/api/agents/careful-reviewer/revisions/3/").json()
    assert [f["rule"] for f in second["lint_findings"]] == ["read-only-with-write-tools"]


def test_approving_a_revision_with_lint_errors_is_refused_saying_why(author, reviewer):
    agent = read_only_agent(author, name="checker")
    grant(agent, "Frobnicate")
    saved(agent, author)
    workflow.transition(agent, "submit", author)

    response = signed_in(reviewer).post(
        "/api/agents/checker/approve", {"revision": 2}, format="json"
    )

    assert response.status_code == 403, response.json()
    assert "has 1 lint error, so it cannot be approved" in response.json()["detail"]
    agent.refresh_from_db()
    assert agent.status == Agent.Status.IN_REVIEW and agent.published_revision_id is None
