"""A mail outage never turns a finished review step into an error: with the SMTP server down
every step succeeds, its mail waits in the outbox, and once a server answers the worker delivers
each message exactly once.

These tests commit for real (transaction=True), as the app does: that is when mail used to be
sent, inside the request, after the step was already saved.
"""

from __future__ import annotations

import socket

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from agents.models import Agent

from .factories import AgentFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("migrated_data"),
]


def closed_port() -> int:
    """A port on this machine where nothing listens: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def mail_server_down(settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = closed_port()
    settings.EMAIL_TIMEOUT = 5


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def portal_step(client: Client, agent: Agent, action: str, comment: str = ""):
    url = reverse("agents:transition", kwargs={"name": agent.name, "action": action})
    return client.post(url, {"comment": comment})


def review(client: Client, agent: Agent, decision: str, comment: str = ""):
    url = reverse("admin:agents_submission_change", args=[agent.pk])
    return client.post(url, {"decision": decision, "comment": comment})


def status_of(agent: Agent) -> str:
    return Agent.objects.values_list("status", flat=True).get(pk=agent.pk)


def test_every_review_step_succeeds_while_the_mail_server_is_down(
    mail_server_down, author, reviewer, other_reviewer
):
    agent = AgentFactory(name="code-reviewer", owner=author)
    author_client, reviewer_client = client_for(author), client_for(reviewer)
    history = reverse("agents:history", kwargs={"name": agent.name})
    queue = reverse("admin:agents_submission_changelist")

    submitted = portal_step(author_client, agent, "submit", "First version")
    assert (submitted.status_code, submitted["Location"]) == (302, history)
    sent_back = review(reviewer_client, agent, "request_changes", "Say when to use it.")
    assert (sent_back.status_code, sent_back["Location"]) == (302, queue)
    assert status_of(agent) == "changes_requested"
    resubmitted = portal_step(author_client, agent, "submit", "Clearer now")
    assert resubmitted.status_code == 302
    approved = review(reviewer_client, agent, "approve", "Thanks")
    assert (approved.status_code, approved["Location"]) == (302, queue)
    assert status_of(agent) == "approved"


def test_a_bulk_approval_of_three_approves_all_three_while_the_mail_server_is_down(
    mail_server_down, author, reviewer
):
    agents = [AgentFactory(name=f"agent-{i}", owner=author) for i in range(3)]
    for agent in agents:
        agent.transition("submit", author)

    for agent in agents:  # what the queue's "Approve selected agents" does, one after another
        agent.transition("approve", reviewer)

    assert [status_of(agent) for agent in agents] == ["approved"] * 3


def test_the_deliver_mail_command_reports_an_outage_without_failing(mail_server_down, author):
    call_command("deliver_mail")
