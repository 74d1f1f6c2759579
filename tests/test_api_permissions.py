"""Who may do what through the API: one parametrised test over every endpoint and method
(``tests/api_matrix.py``, the table the README prints) for each kind of caller."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from agents import tokens, workflow
from agents.models import AccessToken, Agent

from .api_matrix import CALLERS, MARKDOWN_FILE, MATRIX, Case, permission_table
from .factories import AgentFactory

README = Path(__file__).resolve().parent.parent / "README.md"


def the_agent_in(state: str, author) -> Agent:
    """The author's agent "mine": revision 1 published, then brought to ``state``."""
    agent = AgentFactory(name="mine", owner=author, published=True)
    if state in ("draft", "in_review"):
        agent.description = "A second revision, by its author. Use proactively."
        agent.save()
        workflow.record_revision(agent, author, note="second")
    if state == "in_review":
        workflow.transition(agent, "submit", author, comment="please")
    if state == "archived":
        workflow.transition(agent, "archive", None)
    return agent


def client_as(caller: str, users: dict[str, Any]) -> APIClient:
    client = APIClient()
    if caller.endswith("token"):
        scope = AccessToken.Scope.READ if caller == "read token" else AccessToken.Scope.WRITE
        _, secret = tokens.create(users["author"], caller, 30, scope)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    elif caller != "anonymous":
        client.force_login(users[caller])
    return client


def send(client: APIClient, case: Case) -> Any:
    headers = {"If-Match": '"r1"'} if case.method == "PATCH" else {}
    if case.path == "/api/import/":
        upload = io.BytesIO(MARKDOWN_FILE)
        upload.name = "imported-one.md"
        return client.post(case.path, {"files": [upload]}, format="multipart")
    return client.generic(
        case.method,
        case.path,
        data=json.dumps(case.body) if case.body else "",
        content_type="application/json",
        headers=headers,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("case", MATRIX, ids=[f"{c.method} {c.path}" for c in MATRIX])
def test_the_permission_matrix(case, caller, author, other_author, reviewer, reader, admin_user):
    users = {
        "reader": reader,
        "author": author,
        "other author": other_author,
        "reviewer": reviewer,
        "admin": admin_user,
    }
    agent = the_agent_in(case.state, author)
    before = (agent.status, agent.revisions.count())
    response = send(client_as(caller, users), case)
    expected = case.expected[CALLERS.index(caller)]
    assert response.status_code == expected, response.content[:500]
    if case.path.startswith("/api/") and response["Content-Type"].startswith("application/json"):
        response.json()  # every answer under /api/ parses as JSON, refusals included
    if expected >= 400 and case.method != "GET":
        agent.refresh_from_db()
        assert (agent.status, agent.revisions.count()) == before, "a refusal changed nothing"


def test_the_readme_shows_this_permission_table():
    assert permission_table() in README.read_text(), (
        "The README's permission table is out of date: print it with "
        "`python3 -m tests.api_matrix` and paste it."
    )
