"""A mail outage never turns a finished review step into an error: with the SMTP server down
every step succeeds, its mail waits in the outbox, and once a server answers the worker delivers
each message exactly once.

Real SMTP throughout: Django's SMTP backend, a port where nothing listens, and an aiosmtpd server
in this process. These tests commit for real (transaction=True), as the app does, so the
requests queue their delivery for the task worker, which the tests run (``db_worker --batch``).
"""

from __future__ import annotations

import email
import signal
import socket
import threading
from datetime import timedelta
from io import StringIO

import pytest
from aiosmtpd.controller import Controller
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agents import workflow
from agents.models import Agent, OutgoingMail
from agents.notifications import deliver_due

from .factories import AgentFactory, approve

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # a transactional test that ran before emptied the tables: bring back the roles
    pytest.mark.usefixtures("migrated_data"),
]

OUTBOX = reverse("admin:agents_outgoingmail_changelist")


def free_port() -> int:
    """A port on this machine where nothing listens (yet): connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def mail_server_down(settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_TIMEOUT = 5


class Recorder:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.original_content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def subjects(self) -> list[str]:
        return sorted(message["Subject"] for message in self.messages)


def start_mail_server(settings) -> tuple[Controller, Recorder]:
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=settings.EMAIL_PORT)
    controller.start()
    return controller, recorder


@pytest.fixture
def mail_server(mail_server_down, settings):
    controller, recorder = start_mail_server(settings)
    yield recorder
    controller.stop()


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def portal_step(client: Client, agent: Agent, action: str, comment: str = ""):
    url = reverse("agents:transition", kwargs={"name": agent.name, "action": action})
    return client.post(url, {"comment": comment})


def review(client: Client, agent: Agent, decision: str, comment: str = ""):
    """The review page's form, from a page that showed the agent's latest revision."""
    url = reverse("admin:agents_submission_change", args=[agent.pk])
    revision = agent.revisions.order_by("-number").values_list("number", flat=True).first()
    return client.post(url, {"decision": decision, "comment": comment, "revision": revision})


def status_of(agent: Agent) -> str:
    return Agent.objects.values_list("status", flat=True).get(pk=agent.pk)


def run_worker() -> None:
    """The task worker, as `make run` and production start it, until no task is ready."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        call_command("db_worker", "--batch", "--no-startup-delay", stdout=StringIO())
    finally:  # the worker takes over Ctrl-C; give it back to pytest
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def outbox() -> list[tuple[str, str, int]]:
    rows = OutgoingMail.objects.order_by("pk").values_list("subject", "status", "attempts")
    return list(rows)


def a_full_review_through_the_pages(author, reviewer) -> Agent:
    """Submit, send back, resubmit and approve, each through its page; each page answers with
    its usual redirect."""
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
    assert (resubmitted.status_code, resubmitted["Location"]) == (302, history)
    approved = review(reviewer_client, agent, "approve", "Thanks")
    assert (approved.status_code, approved["Location"]) == (302, queue)
    assert status_of(agent) == "approved"
    return agent


SUBJECTS = [
    "[Agent Portal] code-reviewer is waiting for review",
    "[Agent Portal] code-reviewer needs changes",
    "[Agent Portal] code-reviewer is waiting for review",
    "[Agent Portal] code-reviewer was approved",
]


def test_every_review_step_succeeds_while_the_mail_server_is_down(
    mail_server_down, author, reviewer
):
    a_full_review_through_the_pages(author, reviewer)

    assert outbox() == [(subject, "pending", 0) for subject in SUBJECTS]


def test_a_bulk_approval_of_three_approves_all_three_while_the_mail_server_is_down(
    mail_server_down, author, reviewer
):
    agents = [AgentFactory(name=f"agent-{i}", owner=author) for i in range(3)]
    for agent in agents:
        workflow.transition(agent, "submit", author)

    for agent in agents:  # what the queue's "Approve selected agents" does, one after another
        approve(agent, reviewer)

    assert [status_of(agent) for agent in agents] == ["approved"] * 3
    approvals = OutgoingMail.objects.filter(event__action="approve")
    assert sorted(approvals.values_list("subject", flat=True)) == [
        f"[Agent Portal] agent-{i} was approved" for i in range(3)
    ]


def test_the_worker_records_the_outage_and_tries_again_later(mail_server_down, author, reviewer):
    a_full_review_through_the_pages(author, reviewer)
    before = timezone.now()

    run_worker()

    assert outbox() == [(subject, "pending", 1) for subject in SUBJECTS]
    for mail in OutgoingMail.objects.all():
        assert "Connection refused" in mail.last_error
        assert mail.next_attempt_at >= before + timedelta(minutes=1)
    # Nothing is due before then: another run tries nothing.
    assert str(deliver_due()) == "Sent 0 messages."
    assert {mail.attempts for mail in OutgoingMail.objects.all()} == {1}


def test_once_a_server_answers_each_message_is_delivered_exactly_once(
    mail_server_down, settings, author, reviewer, admin_user
):
    a_full_review_through_the_pages(author, reviewer)
    run_worker()  # the server is down: every message waits for its next try
    controller, server = start_mail_server(settings)
    try:
        # The operator sees why in the outbox and asks for a retry now.
        admin = client_for(admin_user)
        page = admin.get(OUTBOX).content.decode()
        assert "Connection refused" in page
        ids = [str(pk) for pk in OutgoingMail.objects.values_list("pk", flat=True)]
        retried = admin.post(
            OUTBOX, {"action": "retry_now", ACTION_CHECKBOX_NAME: ids}, follow=True
        )
        assert "4 messages will be sent" in retried.content.decode()

        run_worker()

        assert server.subjects() == sorted(SUBJECTS)
        recipients = sorted(message["X-Envelope-To"] for message in server.messages)
        assert recipients == [
            "author@example.com",
            "author@example.com",
            "reviewer@example.com",
            "reviewer@example.com",
        ]
        assert outbox() == [(subject, "sent", 2) for subject in SUBJECTS]

        # Nothing more, whatever runs next: the worker, the cron sweep, another retry.
        run_worker()
        call_command("deliver_mail", stdout=StringIO())
        admin.post(OUTBOX, {"action": "retry_now", ACTION_CHECKBOX_NAME: ids})
        run_worker()
        assert len(server.messages) == 4
    finally:
        controller.stop()


def test_the_request_queues_delivery_so_the_worker_sends_at_once(mail_server, author, reviewer):
    agent = AgentFactory(name="code-reviewer", owner=author)

    portal_step(client_for(author), agent, "submit")
    assert mail_server.messages == []  # the request did not wait on the mail server

    run_worker()

    [message] = mail_server.messages
    assert message["Subject"] == "[Agent Portal] code-reviewer is waiting for review"
    assert message["X-Envelope-To"] == "reviewer@example.com"
    assert outbox() == [(message["Subject"], "sent", 1)]


def test_a_message_keeps_its_message_id_across_tries(mail_server_down, settings, author, reviewer):
    agent = AgentFactory(name="code-reviewer", owner=author)
    workflow.transition(agent, "submit", author)
    deliver_due()  # fails: down
    OutgoingMail.objects.update(next_attempt_at=timezone.now())
    controller, server = start_mail_server(settings)
    try:
        deliver_due()
    finally:
        controller.stop()

    [message] = server.messages
    mail = OutgoingMail.objects.get()
    assert message["Message-ID"].startswith(f"<outbox.{mail.pk}.")


def test_a_message_is_given_up_after_the_last_try_and_can_be_retried(
    mail_server_down, settings, author, reviewer, admin_user
):
    settings.MAIL_MAX_ATTEMPTS = 3
    agent = AgentFactory(name="code-reviewer", owner=author)
    workflow.transition(agent, "submit", author)
    delays = []
    for _ in range(3):
        OutgoingMail.objects.update(next_attempt_at=timezone.now())  # the wait is over
        started = timezone.now()
        report = deliver_due()
        mail = OutgoingMail.objects.get()
        delays.append(mail.next_attempt_at - started)

    assert str(report) == "Sent 0 messages; 1 could not be sent (1 given up after 3 tries)."
    assert (mail.status, mail.attempts) == ("failed", 3)
    assert mail.last_error == "ConnectionRefusedError: [Errno 111] Connection refused"
    # one minute, then two; the third failure gives up (the wait is not moved again)
    assert timedelta(minutes=1) <= delays[0] < timedelta(minutes=2)
    assert timedelta(minutes=2) <= delays[1] < timedelta(minutes=3)
    assert str(deliver_due()) == "Sent 0 messages."  # given up: no more tries

    controller, server = start_mail_server(settings)
    try:
        admin = client_for(admin_user)
        admin.post(OUTBOX, {"action": "retry_now", ACTION_CHECKBOX_NAME: [str(mail.pk)]})
        run_worker()
    finally:
        controller.stop()
    assert [message["Subject"] for message in server.messages] == [mail.subject]
    assert outbox() == [(mail.subject, "sent", 4)]


def test_the_sweep_command_reports_an_outage_and_is_quiet_when_nothing_is_due(
    mail_server_down, author, reviewer
):
    workflow.transition(AgentFactory(name="code-reviewer", owner=author), "submit", author)
    out, err = StringIO(), StringIO()

    call_command("deliver_mail", stdout=out, stderr=err)

    lines = out.getvalue().splitlines()
    assert lines[0] == "Sent 0 messages; 1 could not be sent."
    assert lines[1].startswith("1 waiting; the next try is due at ")
    assert err.getvalue() == "Last error: ConnectionRefusedError: [Errno 111] Connection refused\n"
    again = StringIO()
    call_command("deliver_mail", stdout=again, stderr=again)
    assert again.getvalue() == ""  # nothing due: nothing for cron to mail about


def test_the_outbox_is_for_admins_only(mail_server_down, author, reviewer, admin_user):
    workflow.transition(AgentFactory(name="code-reviewer", owner=author), "submit", author)

    assert client_for(reviewer).get(OUTBOX).status_code == 403
    assert client_for(admin_user).get(OUTBOX).status_code == 200


@pytest.mark.postgresql_only  # two workers at once need row locks
def test_two_workers_at_once_never_send_the_same_message(mail_server, author, django_user_model):
    reviewers = Group.objects.get(name="Reviewers")
    for i in range(12):
        django_user_model.objects.create_user(f"r{i}", f"r{i}@example.com").groups.add(reviewers)
        workflow.transition(AgentFactory(name=f"agent-{i}", owner=author), "submit", author)
    barrier = threading.Barrier(3, timeout=30)
    reports = []

    def worker() -> None:
        try:
            barrier.wait()
            reports.append(deliver_due())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(mail_server.messages) == 12
    assert len({message["Subject"] for message in mail_server.messages}) == 12
    assert sum(report.sent for report in reports) == 12
    assert set(OutgoingMail.objects.values_list("status", flat=True)) == {"sent"}
