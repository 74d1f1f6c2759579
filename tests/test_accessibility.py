"""The portal's pages pass axe-core with no serious or critical violation, in the real browser,
for each kind of person who uses them."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse

from agents import workflow

from .browser import log_in
from .factories import AgentFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("migrated_data"),
]

SERIOUS = {"serious", "critical"}


def violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as shown, one line each."""
    results = Axe().run(page)
    return [
        f"{found['id']} ({found['impact']}): {found['help']} -- "
        + "; ".join(node["target"][0] for node in found["nodes"][:3])
        for found in results.response["violations"]
        if found["impact"] in SERIOUS
    ]


@pytest.fixture
def agents(author, other_author):
    published = AgentFactory(name="code-reviewer", owner=author, steps=3, tools=3, published=True)
    waiting = AgentFactory(name="release-notes", owner=other_author, steps=2, tools=2)
    workflow.transition(waiting, "submit", other_author, comment="Ready for a look")
    return published, waiting


@pytest.mark.parametrize(
    ("who", "password", "address"),
    [
        ("reader", "pw-reader-1", lambda agents: reverse("home")),
        ("reader", "pw-reader-1", lambda agents: reverse("agents:list")),
        ("reader", "pw-reader-1", lambda agents: reverse("agents:list") + "?q=review"),
        ("reader", "pw-reader-1", lambda agents: agents[0].get_absolute_url()),
        ("author", "pw-author", lambda agents: reverse("home")),
        ("author", "pw-author", lambda agents: reverse("agents:new")),
        ("author", "pw-author", lambda agents: reverse("agents:edit", args=[agents[0].slug])),
        ("author", "pw-author", lambda agents: reverse("import")),
        ("reviewer", "pw-reviewer", lambda agents: reverse("agents:queue")),
        ("reviewer", "pw-reviewer", lambda agents: reverse("agents:review", args=[agents[1].slug])),
        (
            "reviewer",
            "pw-reviewer",
            lambda agents: reverse("agents:history", args=[agents[1].slug]),
        ),
        ("reviewer", "pw-reviewer", lambda agents: reverse("agents:activity")),
    ],
    ids=[
        "home-reader",
        "catalog",
        "catalog-search",
        "agent-page",
        "home-author",
        "editor-new",
        "editor-edit",
        "import",
        "review-queue",
        "review-page",
        "history",
        "activity",
    ],
)
def test_pages_have_no_serious_accessibility_violation(
    page, agents, reader, author, reviewer, who, password, address
):
    log_in(page, who, password)

    page.goto(address(agents))

    assert violations(page) == []


def test_the_sign_in_page_has_no_serious_accessibility_violation(page):
    page.goto(reverse("login"))

    assert violations(page) == []
