"""Malformed addresses and forms from signed-in people get a 400 or a 404, never a 500, and
change nothing: huge numbers, NUL characters, rows of another agent, names they may not see."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents import filebridge
from agents.models import Agent

from .factories import AgentFactory
from .test_admin import change_post, change_url

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"  # above 2^64


@pytest.fixture
def agent(author) -> Agent:
    return AgentFactory(name="code-reviewer", owner=author, steps=2, tools=2, published=True)


@pytest.mark.parametrize(
    ("address", "status"),
    [
        (f"/agents/code-reviewer/compare/?from={HUGE}&to=1", 400),
        ("/agents/code-reviewer/compare/?from=0&to=1", 400),
        ("/agents/code-reviewer/compare/?from=%D9%A3&to=1", 400),  # an Arabic-Indic digit
        (f"/agents/code-reviewer/revisions/{HUGE}.md", 404),
        (f"/agents/code-reviewer/revisions/{2**31}.md", 404),
        (f"/admin/agents/event/?agent={HUGE}", 200),
        # Any field lookup in the admin's address: no such row (PostgreSQL), or a number
        # SQLite cannot bind (400).
        (f"/admin/agents/event/?revision={HUGE}", {200, 400}),
        (f"/admin/agents/agent/?id={HUGE}", {200, 400}),
        (f"/admin/auth/user/?id={HUGE}", {200, 400}),
        ("/agents/code-reviewer%00/history/", 400),
        ("/agents/code-reviewer%00.md", 400),
        ("/agents/code-reviewer%00/draft.md", 400),
        ("/admin/agents/agent/?tool=Read%00", 400),
        ("/admin/agents/agent/?name=a%00", 400),
        ("/admin/agents/event/?action=%00", 400),
        ("/agents/activity/?agent=a%00", 400),
    ],
)
def test_malformed_addresses_are_refused_without_a_server_error(
    admin_client, agent, address, status
):
    response = admin_client.get(address)

    assert response.status_code in (status if isinstance(status, set) else {status})


def test_the_bad_request_page_says_what_was_wrong(admin_client, agent):
    response = admin_client.get("/agents/code-reviewer%00/history/")

    assert response.status_code == 400
    assert "a character that has no place there" in response.content.decode()


@pytest.mark.parametrize("inline", ["tool_entries", "steps"])
def test_a_row_of_another_agent_posted_in_a_form_is_refused(client, author, agent, inline):
    other = AgentFactory(name="other-agent", steps=2, tools=2)
    before = {a.name: filebridge.render(a) for a in Agent.objects.for_export()}
    client.force_login(author)
    data = change_post(agent, description="Changed. Use proactively.")
    foreign = (other.tool_entries if inline == "tool_entries" else other.steps).first()
    data[f"{inline}-0-id"] = str(foreign.pk)

    response = client.post(change_url(agent), data)

    assert response.status_code == 200
    assert "A row on this page is not one of this agent&#x27;s rows" in response.content.decode()
    assert {a.name: filebridge.render(a) for a in Agent.objects.for_export()} == before


def test_the_audit_trail_filter_does_not_name_an_agent_the_user_may_not_see(
    client, author, other_author
):
    hidden = AgentFactory(name="secret-project", owner=other_author)  # a draft: not theirs
    client.force_login(author)

    response = client.get(reverse("admin:agents_event_changelist") + f"?agent={hidden.pk}")

    assert response.status_code == 200
    assert "secret-project" not in response.content.decode()


def test_the_audit_trail_filter_names_an_agent_the_user_may_see(client, author, agent):
    client.force_login(author)

    response = client.get(reverse("admin:agents_event_changelist") + f"?agent={agent.pk}")

    assert "code-reviewer" in response.content.decode()


def test_drafts_and_revisions_are_never_cached(admin_client, agent):
    draft = admin_client.get(reverse("agents:download-draft", kwargs={"name": agent.name}))
    revision = admin_client.get(
        reverse("agents:revision", kwargs={"name": agent.name, "number": 1})
    )

    for response in (draft, revision):
        assert response.status_code == 200
        assert set(response["Cache-Control"].replace(" ", "").split(",")) == {
            "private",
            "no-store",
        }
