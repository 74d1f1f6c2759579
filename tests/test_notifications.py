"""E-mail about reviews: reviewers hear of submissions, the submitter of the decision. Mail goes
out once the step is committed (``transaction.on_commit``), so the tests run the callbacks."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from agents.models import Agent, WorkflowError

from .conftest import member_of
from .factories import AgentFactory, approve

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(author) -> Agent:
    return AgentFactory(name="code-reviewer", owner=author)


@pytest.fixture
def in_review(draft, author, django_capture_on_commit_callbacks) -> Agent:
    with django_capture_on_commit_callbacks(execute=True):
        draft.transition("submit", author, comment="First version")
    mail.outbox.clear()
    return draft


def test_a_submission_mails_the_reviewers_once(
    draft, author, reviewer, other_reviewer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        draft.transition("submit", author, comment="Please check the tools")

    [message] = mail.outbox
    assert sorted(message.to) == ["reviewer2@example.com", "reviewer@example.com"]
    assert "code-reviewer" in message.subject
    assert "author submitted code-reviewer" in message.body
    assert "Please check the tools" in message.body


def test_a_reviewer_who_submits_is_not_mailed_about_their_own_submission(
    draft, reviewer, other_reviewer, django_capture_on_commit_callbacks
):
    member_of(reviewer, "Authors")
    draft.maintainers.add(reviewer)

    with django_capture_on_commit_callbacks(execute=True):
        draft.transition("submit", reviewer)

    [message] = mail.outbox
    assert message.to == ["reviewer2@example.com"]


def test_reviewers_without_an_address_or_an_active_account_are_not_mailed(
    draft, author, reviewer, other_reviewer, django_capture_on_commit_callbacks
):
    reviewer.email = ""
    reviewer.save()
    other_reviewer.is_active = False
    other_reviewer.save()

    with django_capture_on_commit_callbacks(execute=True):
        draft.transition("submit", author)

    assert mail.outbox == []


def test_an_approval_mails_the_submitter_once(
    in_review, author, reviewer, other_reviewer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        approve(in_review, reviewer, comment="Nice work")

    [message] = mail.outbox
    assert message.to == ["author@example.com"]
    assert message.subject == "[Agent Portal] code-reviewer was approved"
    assert "reviewer approved code-reviewer" in message.body
    assert "Nice work" in message.body


def test_the_mail_goes_to_whoever_submitted_not_the_owner(
    draft, author, other_author, reviewer, django_capture_on_commit_callbacks
):
    draft.maintainers.add(other_author)
    draft.transition("submit", other_author)

    with django_capture_on_commit_callbacks(execute=True):
        approve(draft, reviewer)

    [message] = mail.outbox
    assert message.to == ["other@example.com"]


def test_a_request_for_changes_mails_the_submitter_the_comment(
    in_review, reviewer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        in_review.transition(
            "request_changes", reviewer, comment="Say when Claude should use this agent."
        )

    [message] = mail.outbox
    assert message.to == ["author@example.com"]
    assert message.subject == "[Agent Portal] code-reviewer needs changes"
    assert "Say when Claude should use this agent." in message.body


def test_a_decision_through_the_history_page_sends_its_mail(
    client, in_review, reviewer, django_capture_on_commit_callbacks
):
    client.force_login(reviewer)
    action = reverse(
        "agents:transition", kwargs={"name": in_review.name, "action": "request_changes"}
    )

    with django_capture_on_commit_callbacks(execute=True):
        client.post(action, {"comment": "Add an example."})

    [message] = mail.outbox
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
def test_nothing_is_mailed_when_the_step_is_refused(
    request, in_review, action, role, refusal, django_capture_on_commit_callbacks
):
    user = request.getfixturevalue(role)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(refusal):
        if action == "approve":
            approve(in_review, user)
        else:
            in_review.transition(action, user)

    assert mail.outbox == []


def test_a_late_decision_mails_nothing(
    in_review, reviewer, other_reviewer, django_capture_on_commit_callbacks
):
    late = Agent.objects.get(pk=in_review.pk)  # what the second reviewer's page loaded
    in_review.transition("request_changes", reviewer, comment="Too vague")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(WorkflowError):
        approve(late, other_reviewer)

    assert mail.outbox == []


def test_other_steps_send_no_mail(
    in_review, author, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        in_review.transition("withdraw", author)
        in_review.transition("archive", admin_user)
        in_review.transition("restore", admin_user)

    assert mail.outbox == []
