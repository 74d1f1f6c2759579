"""Who may do what through the API: every endpoint and method, for each kind of caller, with the
status each gets. ``tests/test_api_permissions.py`` checks every cell against a real request; the
README's table is printed from here (no Django needed):

    python3 -m tests.api_matrix
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CALLERS = ["anonymous", "reader", "author", "other author", "reviewer", "admin"]
CALLERS += ["read token", "write token"]


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


if __name__ == "__main__":
    print(permission_table(), end="")
