"""E-mail about reviews: reviewers hear of submissions, the submitter of the decision. A step
writes its mail into the outbox; these tests then run the delivery, as the worker does
(``manage.py deliver_mail``), and read what the mail backend (Django's test one) received."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import reverse

from agents import workflow
from agents.models import Agent, OutgoingMail
from agents.workflow import WorkflowError

from .conftest import member_of
from .factories import AgentFactory, approve

pytestmark = pytest.mark.django_db


def delivered() -> list:
    """What the mail server receives when the worker next sends what is due."""
    mail.outbox.clear()
    call_command("deliver_mail", stdout=StringIO())
    return list(mail.outbox)


@pytest.fixture
def draft(author) -> Agent:
    return AgentFactory(name="code-reviewer", owner=author)


@pytest.fixture
def in_review(draft, author) -> Agent:
    workflow.transition(draft, "submit", author, comment="First version")
    delivered()
    return draft


def test_a_step_leaves_its_mail_in_the_outbox_and_the_worker_sends_it(draft, author, reviewer):
    workflow.transition(draft, "submit", author)

    [waiting] = OutgoingMail.objects.all()
    assert (waiting.status, waiting.recipients, waiting.attempts) == (
        "pending",
        [reviewer.email],
        0,
    )
    assert mail.outbox == []  # the step itself talks to no mail server

    [message] = delivered()
    waiting.refresh_from_db()
    assert (waiting.status, waiting.attempts, waiting.last_error) == ("sent", 1, "")
    assert waiting.sent_at is not None
    assert (
        message.subject == waiting.subject == "[Agent Portal] code-reviewer is waiting for review"
    )
    assert delivered() == []  # sent once


def test_a_submission_mails_the_reviewers_once(draft, author, reviewer, other_reviewer):
    workflow.transition(draft, "submit", author, comment="Please check the tools")

    [message] = delivered()
    assert sorted(message.to) == ["reviewer2@example.com", "reviewer@example.com"]
    assert "code-reviewer" in message.subject
    assert "author submitted code-reviewer" in message.body
    assert "Please check the tools" in message.body


def test_a_reviewer_who_submits_is_not_mailed_about_their_own_submission(
    draft, reviewer, other_reviewer
):
    member_of(reviewer, "Authors")
    draft.maintainers.add(reviewer)

    workflow.transition(draft, "submit", reviewer)

    [message] = delivered()
    assert message.to == ["reviewer2@example.com"]


def test_reviewers_without_an_address_or_an_active_account_are_not_mailed(
    draft, author, reviewer, other_reviewer
):
    reviewer.email = ""
    reviewer.save()
    other_reviewer.is_active = False
    other_reviewer.save()

    workflow.transition(draft, "submit", author)

    assert delivered() == []


def test_an_approval_mails_the_submitter_once(in_review, author, reviewer, other_reviewer):
    approve(in_review, reviewer, comment="Nice work")

    [message] = delivered()
    assert message.to == ["author@example.com"]
    assert message.subject == "[Agent Portal] code-reviewer was approved"
    assert "reviewer approved code-reviewer" in message.body
    assert "Nice work" in message.body


def test_the_mail_goes_to_whoever_submitted_not_the_owner(draft, author, other_author, reviewer):
    draft.maintainers.add(other_author)
    workflow.transition(draft, "submit", other_author)
    delivered()

    approve(draft, reviewer)

    [message] = delivered()
    assert message.to == ["other@example.com"]


def test_the_decision_goes_to_whoever_submitted_last(draft, author, other_author, reviewer):
    draft.maintainers.add(other_author)
    workflow.transition(draft, "submit", author)
    workflow.transition(draft, "request_changes", reviewer, comment="Say when to use it.")
    workflow.transition(draft, "submit", other_author)
    delivered()

    approve(draft, reviewer)

    [message] = delivered()
    assert message.to == ["other@example.com"]


def test_a_request_for_changes_mails_the_submitter_the_comment(in_review, reviewer):
    workflow.transition(
        in_review, "request_changes", reviewer, comment="Say when Claude should use this agent."
    )

    [message] = delivered()
    assert message.to == ["author@example.com"]
    assert message.subject == "[Agent Portal] code-reviewer needs changes"
    assert "Say when Claude should use this agent." in message.body


def test_a_decision_through_the_history_page_sends_its_mail(client, in_review, reviewer):
    client.force_login(reviewer)
    action = reverse(
        "agents:transition", kwargs={"name": in_review.name, "action": "request_changes"}
    )

    client.post(action, {"comment": "Add an example."})

    [message] = delivered()
    assert message.to == ["author@example.com"]
    assert "Add an example." in message.body


@pytest.mark.parametrize(
    "action, role, refusal",
    [
        ("request_changes", "reviewer", WorkflowError),  # without the required comment
        ("approve", "author", PermissionDenied),  # not a reviewer
        ("submit", "author", WorkflowError),  # already in review
    ],
)
def test_nothing_is_mailed_when_the_step_is_refused(request, in_review, action, role, refusal):
    user = request.getfixturevalue(role)

    with pytest.raises(refusal):
        if action == "approve":
            approve(in_review, user)
        else:
            workflow.transition(in_review, action, user)

    assert not OutgoingMail.objects.exclude(event__action="submit").exists()
    assert delivered() == []


def test_a_late_decision_mails_nothing(in_review, reviewer, other_reviewer):
    late = Agent.objects.get(pk=in_review.pk)  # what the second reviewer's page loaded
    workflow.transition(in_review, "request_changes", reviewer, comment="Too vague")
    delivered()

    with pytest.raises(WorkflowError):
        approve(late, other_reviewer)

    assert delivered() == []


def test_other_steps_send_no_mail(in_review, author, admin_user):
    workflow.transition(in_review, "withdraw", author)
    workflow.transition(in_review, "archive", admin_user)
    workflow.transition(in_review, "restore", admin_user)

    assert delivered() == []


def test_a_deactivated_author_is_not_mailed_about_the_decision(in_review, author, reviewer):
    author.is_active = False
    author.save()

    approve(in_review, reviewer)

    assert delivered() == []
