"""Who may do what through the API: every endpoint and method, for each kind of caller, in one
table (``MATRIX``). The README's table is printed from the same data:

    .venv/bin/python -m tests.test_api_permissions
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from agents import tokens, workflow
from agents.models import AccessToken, Agent

from .factories import AgentFactory

CALLERS = ["anonymous", "reader", "author", "other author", "reviewer", "admin"]
CALLERS += ["read token", "write token"]
README = Path(__file__).resolve().parent.parent / "README.md"


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    expected: tuple[int, ...]  # one status per caller, in CALLERS' order
    state: str = "approved"  # the state of the author's agent "mine" before the request
    body: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


NEW_AGENT = {"name": "fresh-agent", "description": "Does one thing well. Use proactively."}
MARKDOWN_FILE = b"---\nname: imported-one\ndescription: Imported through the API.\n---\n\nHi.\n"

#        anonymous, reader, author, other, reviewer, admin, read token, write token
MATRIX = [
    Case("GET", "/api/agents/", (401, 200, 200, 200, 200, 200, 200, 200)),
    Case("POST", "/api/agents/", (401, 403, 201, 201, 403, 201, 403, 201), body=NEW_AGENT),
    Case("GET", "/api/agents/mine/", (401, 200, 200, 200, 200, 200, 200, 200)),
    Case(
        "PATCH",
        "/api/agents/mine/",
        (401, 403, 200, 403, 403, 200, 403, 200),
        body={"description": "Changed through the API. Use proactively."},
        note='with If-Match: "r1"',
    ),
    Case("DELETE", "/api/agents/mine/", (401, 405, 405, 405, 405, 405, 403, 405)),
    Case("GET", "/api/agents/mine/file", (401, 200, 200, 200, 200, 200, 200, 200)),
    Case(
        "GET",
        "/api/agents/mine/file?draft=1",
        (401, 404, 200, 404, 200, 200, 200, 200),
        state="draft",
    ),
    Case("GET", "/api/agents/mine/revisions/", (401, 200, 200, 200, 200, 200, 200, 200)),
    Case(
        "GET",
        "/api/agents/mine/revisions/2/",
        (401, 404, 200, 404, 200, 200, 200, 200),
        state="draft",
        note="revision 2 is a draft",
    ),
    Case(
        "GET",
        "/api/agents/mine/diff?from=1&to=2",
        (401, 404, 200, 404, 200, 200, 200, 200),
        state="draft",
    ),
    Case(
        "POST",
        "/api/agents/mine/submit",
        (401, 403, 200, 403, 403, 200, 403, 200),
        state="draft",
    ),
    Case(
        "POST",
        "/api/agents/mine/withdraw",
        (401, 403, 200, 403, 403, 200, 403, 200),
        state="in_review",
    ),
    Case(
        "POST",
        "/api/agents/mine/approve",
        (401, 403, 403, 403, 200, 200, 403, 403),
        state="in_review",
        body={"revision": 2},
        note="the author wrote revision 2: four eyes",
    ),
    Case(
        "POST",
        "/api/agents/mine/request-changes",
        (401, 403, 403, 403, 200, 200, 403, 403),
        state="in_review",
        body={"comment": "Say when to use it."},
    ),
    Case("POST", "/api/agents/mine/archive", (401, 403, 403, 403, 403, 200, 403, 403)),
    Case(
        "POST",
        "/api/agents/mine/restore",
        (401, 404, 403, 404, 403, 200, 403, 403),
        state="archived",
        note="an archived agent is hidden from those who may not see its drafts",
    ),
    Case("POST", "/api/import/", (401, 403, 201, 201, 403, 201, 403, 201), note="a .md file"),
    Case("GET", "/api/tools/", (401, 200, 200, 200, 200, 200, 200, 200)),
    Case("GET", "/api/collections/", (401, 200, 200, 200, 200, 200, 200, 200)),
    Case("GET", "/api/events/", (401, 200, 200, 200, 200, 200, 200, 200)),
    Case("GET", "/api/schema/", (200, 200, 200, 200, 200, 200, 200, 200)),
]


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


def permission_table() -> str:
    """The matrix as the README shows it."""
    lines = [
        "| endpoint | " + " | ".join(CALLERS) + " | notes |",
        "|---|" + "---|" * len(CALLERS) + "---|",
    ]
    for case in MATRIX:
        path = case.path.replace("/mine/", "/<name>/")
        cells = " | ".join(str(code) for code in case.expected)
        state = "" if case.state == "approved" else f"agent {case.state.replace('_', ' ')}"
        note = "; ".join(part for part in (state, case.note) if part)
        lines.append(f"| `{case.method} {path}` | {cells} | {note} |")
    return "\n".join(lines) + "\n"


def test_the_readme_shows_this_permission_table():
    assert permission_table() in README.read_text(), (
        "The README's permission table is out of date: print it with "
        "`.venv/bin/python -m tests.test_api_permissions` and paste it."
    )


if __name__ == "__main__":
    print(permission_table(), end="")
