"""The pages outside the admin: an agent's history, comparing and downloading revisions,
restoring one, the workflow buttons, and the portal-wide activity."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agents import workflow
from agents.models import Agent, Event, Revision

from .factories import AgentFactory, approve
from .helpers import assert_same_query_count, queries_of

pytestmark = pytest.mark.django_db


def url(view: str, agent: Agent, **kwargs) -> str:
    return reverse(f"agents:{view}", kwargs={"name": agent.name, **kwargs})


def shown_after(client, response) -> list[str]:
    """The messages on the page a form's POST redirects to, as the user sees them."""
    assert response.status_code == 302
    page = client.get(response["Location"])
    return [str(message) for message in page.context["messages"]]


def edit(agent: Agent, user, description: str, note: str = "") -> None:
    agent.description = description
    agent.save()
    workflow.record_revision(agent, user, note=note or f"Now: {description}")


@pytest.fixture
def published_with_draft(author, reviewer):
    """code-reviewer: revision 1 published, revision 2 a draft in review."""
    agent = AgentFactory(name="code-reviewer", owner=author, steps=2, published=True)
    edit(agent, author, "A secret new description.", note="Secret draft note")
    workflow.transition(agent, "submit", author, comment="Please look at the new description")
    return Agent.objects.get(pk=agent.pk)


# --- history ------------------------------------------------------------------------------


def test_history_shows_revisions_events_and_the_published_marker(
    client, author, published_with_draft
):
    client.force_login(author)

    response = client.get(url("history", published_with_draft))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Secret draft note" in page
    assert "created by a test" in page
    assert "published now" in page
    assert "Submitted for review" in page
    assert "Please look at the new description" in page
    assert url("revision", published_with_draft, number=2) in page
    assert f"{url('compare', published_with_draft)}?from=1&amp;to=2" in page


def test_a_reader_sees_only_the_revisions_that_were_published(client, reader, published_with_draft):
    client.force_login(reader)

    response = client.get(url("history", published_with_draft))

    assert response.status_code == 200
    assert [rev.number for rev in response.context["revisions"]] == [1]
    assert [event.action for event in response.context["events"]] == ["publish"]
    page = response.content.decode()
    assert "Secret draft note" not in page
    assert "Please look at the new description" not in page
    assert url("revision", published_with_draft, number=2) not in page
    assert url("download-draft", published_with_draft) not in page


def test_a_reader_cannot_fetch_or_compare_a_draft_revision(client, reader, published_with_draft):
    client.force_login(reader)

    assert client.get(url("revision", published_with_draft, number=2)).status_code == 404
    response = client.get(url("compare", published_with_draft), {"from": 1, "to": 2})
    assert response.status_code == 404
    assert "has no revision 2 that you can see" in response.content.decode()
    assert b"secret" not in response.content.lower()


def test_a_reader_may_compare_two_revisions_that_were_both_published(
    client, reader, reviewer, published_with_draft
):
    approve(published_with_draft, reviewer)
    client.force_login(reader)

    response = client.get(url("compare", published_with_draft), {"from": 1, "to": 2})

    assert response.status_code == 200
    assert "+description: A secret new description." in response.content.decode()


def test_the_author_of_another_agent_gets_404_for_a_draft_agent(client, author, other_author):
    agent = AgentFactory(name="unpublished", owner=author)
    client.force_login(other_author)

    assert client.get(url("history", agent)).status_code == 404
    assert client.get(url("compare", agent), {"from": 1, "to": 1}).status_code == 404
    assert client.get(url("revision", agent, number=1)).status_code == 404
    assert client.post(url("transition", agent, action="submit")).status_code == 404
    assert client.post(url("restore", agent, number=1)).status_code == 404
    assert Agent.objects.get(pk=agent.pk).status == "draft"


def test_an_agent_nobody_may_see_answers_like_an_unknown_name(client, reader):
    AgentFactory(name="unpublished")
    client.force_login(reader)

    hidden = client.get(reverse("agents:history", kwargs={"name": "unpublished"}))
    unknown = client.get(reverse("agents:history", kwargs={"name": "no-such-agent"}))

    assert hidden.status_code == unknown.status_code == 404
    assert hidden.content == unknown.content


def test_the_pages_need_a_logged_in_user(client, published_with_draft):
    for page in [
        url("history", published_with_draft),
        url("compare", published_with_draft) + "?from=1&to=2",
        url("revision", published_with_draft, number=1),
        reverse("agents:activity"),
    ]:
        response = client.get(page)
        assert response.status_code == 302
        assert reverse("login") in response["Location"]


def test_history_offers_the_workflow_buttons_the_user_may_use_now(
    client, author, reviewer, reader, published_with_draft
):
    def buttons(user) -> list[str]:
        client.force_login(user)
        return [
            action["name"]
            for action in client.get(url("history", published_with_draft)).context["actions"]
        ]

    assert buttons(author) == ["withdraw"]
    assert buttons(reviewer) == ["approve", "request_changes"]
    assert buttons(reader) == []


def test_restore_buttons_are_for_editors_of_an_editable_agent(
    client, author, reviewer, published_with_draft
):
    restore_first = url("restore", published_with_draft, number=1)
    client.force_login(reviewer)
    assert restore_first not in client.get(url("history", published_with_draft)).content.decode()

    client.force_login(author)
    page = client.get(url("history", published_with_draft)).content.decode()
    assert restore_first not in page
    assert "withdraw it from review before changing it" in page

    workflow.transition(published_with_draft, "withdraw", author)
    assert restore_first in client.get(url("history", published_with_draft)).content.decode()


# --- compare and download -----------------------------------------------------------------


def test_compare_shows_a_unified_diff_and_a_side_by_side_view(client, author, published_with_draft):
    client.force_login(author)

    response = client.get(url("compare", published_with_draft), {"from": 1, "to": 2})

    assert response.status_code == 200
    page = response.content.decode()
    assert '<pre class="portal-diff">' in page
    assert "--- code-reviewer.md revision 1" in page
    assert "+++ code-reviewer.md revision 2" in page
    assert "-description: Reviews change number" in page
    assert "+description: A secret new description." in page
    assert '<table class="diff"' in page
    assert '<span class="diff_add">' in page or '<span class="diff_chg">' in page


def test_compare_escapes_the_file_and_the_agent_name(client, admin_user):
    agent = AgentFactory(name="x<b>y", description="<script>alert(1)</script>", published=True)
    edit(agent, admin_user, "<img src=x onerror=alert(2)>")
    client.force_login(admin_user)

    page = client.get(url("compare", agent), {"from": 1, "to": 2}).content.decode()

    assert "<script>alert(1)" not in page
    assert "<img src=x" not in page
    assert "x<b>y" not in page
    assert "&lt;script&gt;alert(1)" in page
    assert "x&lt;b&gt;y.md revision 1" in page


def test_compare_of_identical_revisions_says_so(client, author, published_with_draft):
    client.force_login(author)

    response = client.get(url("compare", published_with_draft), {"from": 2, "to": 2})

    assert response.status_code == 200
    assert "The two revisions hold the same file." in response.content.decode()


@pytest.mark.parametrize(
    "params", [{}, {"from": 1}, {"to": 2}, {"from": "one", "to": 2}, {"from": 1, "to": ""}]
)
def test_compare_without_two_revision_numbers_is_400_with_a_message(
    client, author, published_with_draft, params
):
    client.force_login(author)

    response = client.get(url("compare", published_with_draft), params)

    assert response.status_code == 400
    assert "Choose two revisions to compare" in response.content.decode()


def test_compare_with_an_unknown_revision_is_404_with_a_message(
    client, author, published_with_draft
):
    client.force_login(author)

    response = client.get(url("compare", published_with_draft), {"from": 1, "to": 7})

    assert response.status_code == 404
    assert "code-reviewer has no revision 7 that you can see." in response.content.decode()


def test_a_revision_downloads_as_its_exact_file(client, author, published_with_draft):
    client.force_login(author)
    first, second = published_with_draft.revisions.order_by("number")

    response = client.get(url("revision", published_with_draft, number=1))

    assert response.status_code == 200
    assert response.content == first.text.encode()
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="code-reviewer.md"'
    assert client.get(url("revision", published_with_draft, number=2)).content == (
        second.text.encode()
    )
    assert client.get(url("revision", published_with_draft, number=3)).status_code == 404


# --- restore ------------------------------------------------------------------------------


def test_restoring_an_old_revision_adds_a_new_draft_revision_with_its_text(
    client, author, reviewer, published_with_draft
):
    agent = published_with_draft
    approve(agent, reviewer)
    client.force_login(author)

    response = client.post(url("restore", agent, number=1))

    assert response.status_code == 302
    assert response["Location"] == url("history", agent)
    assert shown_after(client, response) == ["Restored revision 1 as revision 3, a new draft."]
    agent.refresh_from_db()
    assert [rev.number for rev in agent.revisions.all()] == [3, 2, 1]
    assert agent.revisions.get(number=3).text == agent.revisions.get(number=1).text
    assert agent.status == "draft"
    assert agent.published_revision.number == 2
    event = agent.events.first()
    assert (event.action, event.actor, event.revision.number) == ("rollback", author, 3)
    history = client.get(url("history", agent))
    assert [rev.number for rev in history.context["revisions"]] == [3, 2, 1]


def test_restore_is_refused_with_a_message_while_the_agent_is_in_review(
    client, author, published_with_draft
):
    client.force_login(author)

    response = client.post(url("restore", published_with_draft, number=1))

    assert shown_after(client, response) == [
        "code-reviewer is in review: withdraw it from review before changing it."
    ]
    assert published_with_draft.revisions.count() == 2


def test_restore_is_for_editors_only(client, reviewer, reader, published_with_draft):
    for user in [reviewer, reader]:
        client.force_login(user)

        response = client.post(url("restore", published_with_draft, number=1))

        assert response.status_code == 302
        assert shown_after(client, response) == ["You may not restore revisions of code-reviewer."]
    assert published_with_draft.revisions.count() == 2


def test_restore_of_the_current_revision_changes_nothing(client, author, published_with_draft):
    workflow.transition(published_with_draft, "withdraw", author)
    client.force_login(author)

    response = client.post(url("restore", published_with_draft, number=2))

    assert shown_after(client, response) == ["Revision 2 is the current file: nothing to restore."]
    assert published_with_draft.revisions.count() == 2


def test_restore_and_actions_need_a_post_with_a_csrf_token(author, published_with_draft):
    client = Client(enforce_csrf_checks=True)
    client.force_login(author)

    assert client.get(url("restore", published_with_draft, number=1)).status_code == 405
    assert client.get(url("transition", published_with_draft, action="withdraw")).status_code == (
        405
    )
    assert client.post(url("restore", published_with_draft, number=1)).status_code == 403
    assert client.post(url("transition", published_with_draft, action="withdraw")).status_code == (
        403
    )
    assert Agent.objects.get(pk=published_with_draft.pk).status == "in_review"


# --- workflow actions ---------------------------------------------------------------------


def test_submitting_with_a_change_note_puts_the_agent_in_review(client, author):
    agent = AgentFactory(name="code-reviewer", owner=author)
    client.force_login(author)

    response = client.post(
        url("transition", agent, action="submit"), {"comment": "First version, please review"}
    )

    assert response.status_code == 302
    assert shown_after(client, response) == ["code-reviewer was submitted."]
    event = Event.objects.get(agent=agent, action="submit")
    assert (event.actor, event.comment, event.revision.number) == (
        author,
        "First version, please review",
        1,
    )
    assert Agent.objects.get(pk=agent.pk).status == "in_review"


def test_approving_says_which_revision_everyone_now_downloads(
    client, reviewer, published_with_draft
):
    client.force_login(reviewer)
    page = client.get(url("history", published_with_draft)).content.decode()
    assert '<input type="hidden" name="revision" value="2">' in page
    assert "Approve and publish revision 2</button>" in page

    response = client.post(
        url("transition", published_with_draft, action="approve"), {"revision": 2}
    )

    assert shown_after(client, response) == [
        "code-reviewer was approved. Everyone now downloads revision 2."
    ]
    assert client.get(url("download", published_with_draft)).content == (
        published_with_draft.revisions.get(number=2).text.encode()
    )


def test_requesting_changes_needs_a_comment(client, reviewer, published_with_draft):
    client.force_login(reviewer)
    action = url("transition", published_with_draft, action="request_changes")

    refused = client.post(action, {"comment": "  "})
    assert shown_after(client, refused) == [
        "Say what has to change: a comment is required to request changes to code-reviewer."
    ]
    assert Agent.objects.get(pk=published_with_draft.pk).status == "in_review"

    done = client.post(action, {"comment": "Say when to use it."})
    assert shown_after(client, done) == ["code-reviewer was sent back."]
    assert Event.objects.get(action="request_changes").comment == "Say when to use it."


def test_an_action_the_user_may_not_take_is_refused_with_a_message(
    client, reader, author, published_with_draft
):
    for user in [reader, author]:
        client.force_login(user)

        response = client.post(
            url("transition", published_with_draft, action="approve"), {"revision": 2}
        )

        assert response.status_code == 302
        [message] = shown_after(client, response)
        assert message.startswith("You may not approve code-reviewer")
    assert Agent.objects.get(pk=published_with_draft.pk).status == "in_review"


def test_an_action_that_no_longer_fits_the_state_is_refused_with_a_message(
    client, author, published_with_draft
):
    client.force_login(author)

    response = client.post(url("transition", published_with_draft, action="submit"))

    assert shown_after(client, response) == [
        "code-reviewer is in review now, so it cannot be submitted."
    ]


@pytest.mark.parametrize("action", ["publish", "edit", "rollback", "create", "delete"])
def test_only_the_manual_actions_have_a_url(admin_client, published_with_draft, action):
    response = admin_client.post(url("transition", published_with_draft, action=action))

    assert response.status_code == 404
    assert Agent.objects.get(pk=published_with_draft.pk).status == "in_review"


# --- activity -----------------------------------------------------------------------------


def activity(client, **params) -> list[tuple[str, str]]:
    response = client.get(reverse("agents:activity"), params)
    assert response.status_code == 200
    return [(event.agent.name, event.action) for event in response.context["page"]]


def test_activity_shows_only_events_of_agents_the_user_may_see(
    client, author, other_author, reader, published_with_draft
):
    AgentFactory(name="others-draft", owner=other_author)

    client.force_login(author)
    assert activity(client) == [
        ("code-reviewer", "submit"),
        ("code-reviewer", "edit"),
        ("code-reviewer", "publish"),
        ("code-reviewer", "create"),
    ]
    client.force_login(reader)
    assert activity(client) == [("code-reviewer", "publish")]
    client.force_login(other_author)
    assert activity(client) == [("others-draft", "create"), ("code-reviewer", "publish")]


def test_a_reviewer_sees_all_activity(client, reviewer, other_author, published_with_draft):
    AgentFactory(name="others-draft", owner=other_author)
    client.force_login(reviewer)

    assert len(activity(client)) == 5


def test_activity_hides_an_archived_agent_from_people_without_draft_access(
    client, admin_user, reader, published_with_draft
):
    workflow.transition(published_with_draft, "archive", admin_user)
    client.force_login(reader)

    assert activity(client) == []


def test_activity_filters_by_agent_actor_action_and_dates(
    client, admin_user, author, reviewer, published_with_draft
):
    other = AgentFactory(name="test-writer", owner=author)
    workflow.transition(other, "submit", author, comment="Ready")
    old = published_with_draft.events.get(action="create")
    Event.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=10))
    client.force_login(admin_user)
    today = timezone.now().date()

    assert activity(client, agent="writer") == [
        ("test-writer", "submit"),
        ("test-writer", "create"),
    ]
    assert activity(client, actor="author") == [
        ("test-writer", "submit"),
        ("code-reviewer", "submit"),
        ("code-reviewer", "edit"),
    ]
    assert activity(client, action="submit", agent="code") == [("code-reviewer", "submit")]
    assert activity(client, until=today - datetime.timedelta(days=1)) == [
        ("code-reviewer", "create")
    ]
    assert ("code-reviewer", "create") not in activity(client, since=today)
    assert len(activity(client, since=today, until=today)) == 5


def test_an_invalid_activity_filter_is_shown_and_not_applied(
    client, admin_user, published_with_draft
):
    client.force_login(admin_user)

    response = client.get(reverse("agents:activity"), {"since": "yesterday", "action": "submit"})

    assert response.status_code == 200
    assert "Enter a valid date." in response.content.decode()
    assert [event.action for event in response.context["page"]] == ["submit"]


def test_activity_is_paginated_by_fifty_from_one_event_to_the_next(client, admin_user, author):
    agent = AgentFactory(name="busy", owner=author)
    for _ in range(30):
        workflow.transition(agent, "submit", author)
        workflow.transition(agent, "withdraw", author)
    # Several events at the same moment: the page boundary still splits them exactly.
    Event.objects.filter(agent=agent, action="withdraw").update(created_at=timezone.now())
    client.force_login(admin_user)
    newest_first = Event.objects.filter(agent=agent).order_by("-created_at", "-pk")
    everything = list(newest_first.values_list("pk", flat=True))

    first = client.get(reverse("agents:activity"), {"agent": "busy"})
    older = re.search(r'href="\?agent=busy&amp;before=([\d-]+)">Older', first.content.decode())
    second = client.get(reverse("agents:activity"), {"agent": "busy", "before": older[1]})
    newer = re.search(r'href="\?agent=busy&amp;after=([\d-]+)">', second.content.decode())
    back = client.get(reverse("agents:activity"), {"agent": "busy", "after": newer[1]})

    assert [event.pk for event in first.context["page"]] == everything[:50]
    assert [event.pk for event in second.context["page"]] == everything[50:]
    assert second.context["page"].object_list[-1].action == "create"
    assert "Older" not in second.content.decode()
    assert [event.pk for event in back.context["page"]] == everything[:50]
    assert "Newer" not in back.content.decode() and "Older" in back.content.decode()


def test_a_damaged_activity_link_shows_the_newest_events_and_says_so(client, admin_user, author):
    AgentFactory(name="quiet", owner=author)
    client.force_login(admin_user)

    for damaged in ("1-2-3", "x", "99999999999999999999-1"):
        response = client.get(reverse("agents:activity"), {"before": damaged})

        assert response.status_code == 200
        assert [event.agent.name for event in response.context["page"]] == ["quiet"]
        assert "That link to a page of the activity is damaged" in response.content.decode()


# --- query counts -------------------------------------------------------------------------


def test_history_query_count_does_not_grow_with_revisions(client, author, reviewer):
    agent = AgentFactory(name="many-revisions", owner=author, steps=3, tools=2, published=True)
    edit(agent, author, "Edition 2.")
    workflow.transition(agent, "submit", author)
    client.force_login(reviewer)

    def more() -> None:
        workflow.transition(agent, "withdraw", author)
        for n in range(3, 21):
            edit(agent, author, f"Edition {n}.")
        workflow.transition(agent, "submit", author)

    # session, user, agent (+published name), its maintainers, the reviewer's groups, revisions
    # (+author, was published), who submitted and who wrote the revisions since the published
    # one (may the reviewer approve?), events (+actor, revision number); the navigation's queue
    assert_same_query_count(lambda: client.get(url("history", agent)), more)
    response = client.get(url("history", agent))
    assert len(response.context["revisions"]) == 20
    assert len(response.context["events"]) == 24


def test_activity_query_count_does_not_grow_with_events(client, author):
    agent = AgentFactory(owner=author, published=True)
    for n in range(3):
        workflow.transition(agent, "archive" if n % 2 == 0 else "restore", None)
    client.force_login(author)

    def more() -> None:
        for n in range(45):
            workflow.transition(agent, "restore" if n % 2 == 0 else "archive", None)

    # session, user, the author's groups, count, the page of events (+agent, actor, revision
    # number)
    assert_same_query_count(lambda: client.get(reverse("agents:activity")), more)
    assert len(client.get(reverse("agents:activity")).context["page"]) == 50


def add_revisions(agent: Agent, count: int) -> None:
    """``count`` more revisions of ``agent``, in bulk (their texts say so)."""
    start = agent.revisions.count()
    Revision.objects.bulk_create(
        Revision(agent=agent, number=n, name=agent.name, text=f"text of r{n}", sha256="0" * 64)
        for n in range(start + 1, start + count + 1)
    )


def test_history_shows_fifty_revisions_a_page_without_reading_their_texts(client, author, reviewer):
    agent = AgentFactory(name="long-lived", owner=author, published=True)
    add_revisions(agent, 59)  # 60 revisions
    client.force_login(reviewer)

    first = client.get(url("history", agent))
    second = client.get(url("history", agent), {"page": 2})
    page = first.content.decode()

    assert [rev.number for rev in first.context["revisions"]] == list(range(60, 10, -1))
    assert [rev.number for rev in second.context["revisions"]] == list(range(10, 0, -1))
    # The last revision of a page still links to the changes from the one before it.
    assert "?from=10&amp;to=11" in page
    assert "Page 1 of 2 (60 revisions)" in page and "?page=2" in page
    assert "text of r" not in page
    sql = queries_of(lambda: client.get(url("history", agent)))
    assert not [query for query in sql if '"agents_revision"."text"' in query]

    def more() -> None:
        add_revisions(agent, 440)

    assert_same_query_count(lambda: client.get(url("history", agent)), more)
    assert len(client.get(url("history", agent)).context["revisions"]) == 50
    assert "Page 1 of 10 (500 revisions)" in client.get(url("history", agent)).content.decode()
