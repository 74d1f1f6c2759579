"""An approval publishes the revision the reviewer looked at, and nobody approves their own work.

Every approval names its revision (the review page, the bulk action, the history page's button):
if the author changed the agent and resubmitted it meanwhile, nothing is published and the
reviewer sees what changed. Nobody approves a revision if they submitted it or wrote any revision
since the published one, superusers included; the pages say so before anyone tries.
"""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.test import Client
from django.urls import reverse

from agents import agentfile
from agents.models import Agent, Event, StaleApproval, WorkflowError

from .conftest import member_of
from .factories import AgentFactory, approve
from .test_import_commands import REVIEWER

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def edit(agent: Agent, user, description: str) -> None:
    agent.description = description
    agent.save()
    agent.record_revision(user, note=f"Now: {description}")


def review_url(agent: Agent) -> str:
    return reverse("admin:agents_submission_change", args=[agent.pk])


def history_url(agent: Agent) -> str:
    return reverse("agents:history", kwargs={"name": agent.name})


def approve_url(agent: Agent) -> str:
    return reverse("agents:transition", kwargs={"name": agent.name, "action": "approve"})


def state(agent: Agent) -> tuple[str, int | None]:
    """The agent's status and the number of the revision everyone downloads."""
    agent = Agent.objects.select_related("published_revision").get(pk=agent.pk)
    return agent.status, agent.published_revision.number if agent.published_revision else None


@pytest.fixture
def in_review(author) -> Agent:
    """code-reviewer: revision 1 published (by the operator), revision 2 by its owner in review."""
    agent = AgentFactory(name="code-reviewer", owner=author, steps=2, published=True)
    edit(agent, author, "Reviews code, second edition.")
    agent.transition("submit", author, comment="Second edition")
    return Agent.objects.get(pk=agent.pk)


def resubmit(agent: Agent, user, description: str) -> None:
    """What an author does while a reviewer has the page open: withdraw, change, submit."""
    agent.transition("withdraw", user)
    edit(agent, user, description)
    agent.transition("submit", user, comment="One more change")


def hidden_revision(page: str) -> str:
    [number] = re.findall(r'<input type="hidden" name="revision" value="(\d+)">', page)
    return number


# --- the approval names its revision ------------------------------------------------------


def test_an_approval_that_does_not_name_its_revision_is_a_programming_error(in_review, reviewer):
    with pytest.raises(TypeError, match="needs revision_number"):
        in_review.transition("approve", reviewer)

    assert state(in_review) == ("in_review", 1)
    assert not in_review.events.filter(action="approve").exists()


def test_approving_a_revision_that_is_no_longer_the_latest_publishes_nothing(
    in_review, author, reviewer
):
    shown = Agent.objects.get(pk=in_review.pk)  # the reviewer's page: revision 2
    resubmit(in_review, author, "Reviews code, third edition.")

    with pytest.raises(StaleApproval) as refused:
        shown.transition("approve", reviewer, revision_number=2)

    assert str(refused.value).startswith(
        "code-reviewer changed after you opened it: you reviewed revision 2, but revision 3, "
        "saved by author at "
    )
    assert "-description: Reviews code, second edition." in refused.value.diff
    assert "+description: Reviews code, third edition." in refused.value.diff
    assert state(in_review) == ("in_review", 1)
    assert not in_review.events.filter(action="approve").exists()

    shown.transition("approve", reviewer, revision_number=3)

    assert state(in_review) == ("approved", 3)


def test_the_review_page_refuses_a_stale_approval_and_shows_what_changed(
    in_review, author, reviewer
):
    browser = client_for(reviewer)
    page = browser.get(review_url(in_review)).content.decode()
    assert hidden_revision(page) == "2"
    resubmit(in_review, author, "Reviews <code>, third edition.")

    refused = browser.post(
        review_url(in_review), {"decision": "approve", "revision": "2", "comment": "LGTM"}
    )

    assert refused.status_code == 200
    page = refused.content.decode()
    assert "code-reviewer changed after you opened it: you reviewed revision 2, but revision 3" in (
        page
    )
    [changed] = re.findall(r'<pre class="agent-diff" id="changed-since">(.*?)</pre>', page, re.S)
    assert "+description: Reviews &lt;code&gt;, third edition." in changed
    assert "-description: Reviews code, second edition." in changed
    assert "LGTM" in page  # the comment is still in the form
    assert hidden_revision(page) == "3"  # the page now shows revision 3, for a new decision
    assert state(in_review) == ("in_review", 1)

    approved = browser.post(
        review_url(in_review), {"decision": "approve", "revision": "3"}, follow=True
    )

    assert [str(m) for m in approved.context["messages"]] == [
        "code-reviewer is approved: everyone now downloads revision 3."
    ]
    assert state(in_review) == ("approved", 3)


def test_the_review_page_refuses_an_approval_that_names_no_revision(in_review, reviewer):
    response = client_for(reviewer).post(review_url(in_review), {"decision": "approve"})

    assert response.status_code == 200
    assert "Reload the page: it did not say which revision you approved." in (
        response.content.decode()
    )
    assert state(in_review) == ("in_review", 1)


def test_the_history_page_approves_the_revision_it_showed_or_shows_what_changed(
    in_review, author, reviewer
):
    browser = client_for(reviewer)
    assert hidden_revision(browser.get(history_url(in_review)).content.decode()) == "2"
    resubmit(in_review, author, "Reviews code, third edition.")

    refused = browser.post(approve_url(in_review), {"revision": "2"})

    compare = reverse("agents:compare", kwargs={"name": in_review.name}) + "?from=2&to=3"
    assert refused.status_code == 302
    assert refused["Location"] == compare
    page = browser.get(compare)
    [message] = [str(m) for m in page.context["messages"]]
    assert message.startswith("code-reviewer changed after you opened it: you reviewed revision 2")
    assert "+description: Reviews code, third edition." in page.content.decode()
    assert state(in_review) == ("in_review", 1)

    missing = browser.post(approve_url(in_review), {"comment": "no number"}, follow=True)
    assert [str(m) for m in missing.context["messages"]] == [
        "Reload the page: it did not say which revision you approved."
    ]
    assert state(in_review) == ("in_review", 1)


def test_the_audit_trail_records_the_state_the_step_found_not_the_one_the_page_loaded(
    in_review, author, reviewer
):
    loaded_as_draft = Agent.objects.get(pk=in_review.pk)
    loaded_as_draft.status = Agent.Status.DRAFT  # what an older page saw
    # (it is in review now)

    event = loaded_as_draft.transition("approve", reviewer, revision_number=2)

    assert (event.from_status, event.to_status) == ("in_review", "approved")
    stored = Event.objects.get(pk=event.pk)
    assert (stored.from_status, stored.to_status) == ("in_review", "approved")


# --- four eyes ----------------------------------------------------------------------------


@pytest.fixture
def author_reviewer(django_user_model):
    """A maintainer who also reviews: may edit the agent, and review other people's work."""
    user = django_user_model.objects.create_user("both", "both@example.com", is_staff=True)
    return member_of(user, "Authors", "Reviewers")


def test_who_wrote_a_revision_since_the_published_one_cannot_approve_it_even_if_resubmitted(
    in_review, author, author_reviewer, reviewer
):
    in_review.maintainers.add(author_reviewer)
    in_review.transition("withdraw", author)
    edit(in_review, author_reviewer, "Reviews code, as both wants it.")  # revision 3
    in_review.transition("submit", author, comment="Resubmitted unchanged by the owner")

    assert "approve" not in in_review.allowed_actions(author_reviewer)
    with pytest.raises(PermissionDenied) as refused:
        in_review.transition("approve", author_reviewer, revision_number=3)

    assert str(refused.value) == (
        "You wrote revision 3 of code-reviewer since it was last published; someone who did not "
        "write it has to approve it."
    )
    assert state(in_review) == ("in_review", 1)
    # The review page and the history page say so before anyone tries.
    browser = client_for(author_reviewer)
    review = browser.get(review_url(in_review)).content.decode()
    assert '<span class="help" id="approve-refusal">You wrote revision 3 of code-reviewer' in review
    assert 'name="decision" value="approve" disabled' in review
    history = browser.get(history_url(in_review))
    assert [action["name"] for action in history.context["actions"]] == [
        "withdraw",
        "request_changes",
    ]
    assert '<p class="help" id="approve-refusal">You wrote revision 3 of code-reviewer' in (
        history.content.decode()
    )
    # A reviewer who wrote none of it may.
    assert "approve" in in_review.allowed_actions(reviewer)
    approve(in_review, reviewer)
    assert state(in_review) == ("approved", 3)


def test_superusers_do_not_approve_what_they_wrote(in_review, author, admin_user):
    in_review.transition("withdraw", author)
    edit(in_review, admin_user, "Reviews code, as the admin wants it.")
    in_review.transition("submit", author)

    response = client_for(admin_user).post(
        review_url(in_review), {"decision": "approve", "revision": "3"}
    )

    assert response.status_code == 200
    assert "You wrote revision 3 of code-reviewer since it was last published" in (
        response.content.decode()
    )
    assert state(in_review) == ("in_review", 1)


def test_every_revision_since_the_published_one_counts_not_only_the_latest(
    in_review, author, author_reviewer
):
    in_review.maintainers.add(author_reviewer)
    in_review.transition("withdraw", author)
    edit(in_review, author_reviewer, "Both's idea.")  # revision 3
    edit(in_review, author, "The owner's rewording of both's idea.")  # revision 4
    in_review.transition("submit", author)

    assert in_review.refusal("approve", author_reviewer) == (
        "You wrote revision 3 of code-reviewer since it was last published; someone who did not "
        "write it has to approve it."
    )
    with pytest.raises(PermissionDenied):
        in_review.transition("approve", author_reviewer, revision_number=4)
    assert state(in_review) == ("in_review", 1)


def test_revisions_before_the_published_one_do_not_count(author, author_reviewer):
    agent = AgentFactory(name="code-reviewer", owner=author_reviewer, steps=1)  # r1 by operator
    agent.maintainers.add(author)
    edit(agent, author_reviewer, "Written by both.")  # revision 2
    agent.transition("publish", None)  # the operator publishes revision 2
    edit(agent, author, "Rewritten by the owner's colleague.")  # revision 3
    agent.transition("submit", author)

    assert "approve" in agent.allowed_actions(author_reviewer)
    approve(agent, author_reviewer)

    assert state(agent) == ("approved", 3)


def test_with_nothing_published_every_revision_counts(author, author_reviewer, reviewer):
    agent = AgentFactory(name="fresh", owner=author_reviewer, steps=1)
    agent.maintainers.add(author)
    edit(agent, author_reviewer, "The first words, by both.")  # revision 2
    edit(agent, author, "Polished by the owner.")  # revision 3
    agent.transition("submit", author)

    assert agent.refusal("approve", author_reviewer) == (
        "You wrote revision 2 of fresh so far; someone who did not write it has to approve it."
    )
    with pytest.raises(PermissionDenied):
        agent.transition("approve", author_reviewer, revision_number=3)
    approve(agent, reviewer)
    assert state(agent) == ("approved", 3)


def test_the_operator_may_approve_anything(in_review):
    in_review.transition("approve", None, revision_number=2)

    assert state(in_review) == ("approved", 2)


def test_bulk_approval_applies_four_eyes_to_each_agent(author, author_reviewer):
    agents = []
    for name, writer in [("mine", author_reviewer), ("theirs", author)]:
        agent = AgentFactory(name=name, owner=author, steps=1, published=True)
        agent.maintainers.add(author_reviewer)
        edit(agent, writer, f"{name} edition.")
        agent.transition("submit", author)
        agents.append(agent)
    queue = reverse("admin:agents_submission_changelist")
    post = {"action": "approve_selected", "_selected_action": [a.pk for a in agents]}
    post |= {f"revision-{agent.pk}": "2" for agent in agents}

    done = client_for(author_reviewer).post(queue, {**post, "apply": "Approve"}, follow=True)

    assert [str(m) for m in done.context["messages"]] == [
        "You wrote revision 2 of mine since it was last published; someone who did not write it "
        "has to approve it.",
        "theirs is approved: everyone now downloads revision 2.",
    ]
    assert state(agents[0]) == ("in_review", 1)
    assert state(agents[1]) == ("approved", 2)


def test_saving_an_agent_loaded_before_a_step_does_not_undo_the_step(author, reviewer):
    agent = AgentFactory(name="code-reviewer", owner=author)
    stale = Agent.objects.get(pk=agent.pk)  # loaded while a draft
    agent.transition("submit", author)

    stale.description = "Changed behind the reviewer's back. Use proactively."
    stale.save()

    agent.refresh_from_db()
    assert agent.status == Agent.Status.IN_REVIEW
    assert agent.description == "Changed behind the reviewer's back. Use proactively."


def test_an_import_over_an_agent_that_went_into_review_meanwhile_is_refused(author):
    agent = AgentFactory(name="code-reviewer", owner=author)
    stale = Agent.objects.for_export().get(pk=agent.pk)  # what the importer loaded
    agent.transition("submit", author)

    with pytest.raises(WorkflowError, match="in review"):
        with transaction.atomic():
            stale.apply_file(agentfile.parse(REVIEWER))
            stale.record_revision(author, note="Imported")

    agent.refresh_from_db()
    assert agent.status == Agent.Status.IN_REVIEW
    assert agent.revisions.count() == 1
