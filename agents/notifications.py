"""E-mail about reviews: reviewers hear of submissions, authors of approvals and send-backs.

Mail goes through an outbox, so a mail outage never turns a finished step into an error and no
request waits on the mail server:

- ``queue_for(event)`` runs inside the transaction that records the event (``workflow.transition``
  calls it) and writes the message the event calls for as an ``OutgoingMail``
  row: the mail exists if and only if the event does. Once that transaction commits, it asks the
  task worker to deliver (``deliver_mail``, a django-tasks task run by ``manage.py db_worker``).
- ``deliver_due()`` sends the messages that are due, each in its own transaction that locks its
  row (``SELECT ... FOR UPDATE SKIP LOCKED``) and marks it sent, so two workers never send the
  same message. A failure is written on the row (attempts, last_error) and the message is tried
  again after a delay that doubles each time (``MAIL_RETRY_DELAY`` up to ``MAIL_RETRY_MAX_DELAY``),
  until ``MAIL_MAX_ATTEMPTS`` tries have failed and it is given up. ``manage.py deliver_mail`` runs
  it once, from cron or by hand.

Exactly once, except for one window: a worker that dies after the SMTP server accepted a message
but before its transaction committed leaves the row waiting, and the message goes out again.
Every try of a message carries the same Message-ID, so mail systems that deduplicate drop the
copy.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.core.mail.utils import DNS_NAME
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from .models import OutgoingMail
from .permissions import REVIEWERS

if TYPE_CHECKING:
    from django.core.mail.backends.base import BaseEmailBackend

    from .models import Agent, Event

logger = logging.getLogger(__name__)


# --- what each event tells whom ---------------------------------------------------------------


def compose(event: Event) -> OutgoingMail | None:
    """The message an audit event calls for, unsaved; None when it calls for none.

    Each message ends with the address of the page it is about: the review page for reviewers,
    the agent's page for its author (``PORTAL_BASE_URL`` and the page's path).
    """
    agent = event.agent
    who = event.actor_name or "the operator"
    if event.action == "submit":
        User = get_user_model()
        reviewers = User.objects.filter(is_active=True).exclude(email="")
        reviewers = reviewers.filter(groups__name=REVIEWERS).exclude(pk=event.actor_id).distinct()
        recipients = sorted(reviewers.values_list("email", flat=True))
        subject = f"[Agent Portal] {agent.name} is waiting for review"
        body = f"{who} submitted {agent.name} for review."
        link = f"Review it: {page_url('agents:review', agent)}"
    elif event.action in ("approve", "request_changes"):
        # Whoever sent this revision for review (the agent's latest submission), else the owner.
        submission = agent.submission
        author = submission.actor if submission and submission.actor else agent.owner
        recipients = [author.email] if author and author.email and author.is_active else []
        link = f"See it: {page_url('agents:detail', agent)}"
        if event.action == "approve":
            subject = f"[Agent Portal] {agent.name} was approved"
            body = f"{who} approved {agent.name}; everyone now downloads this revision."
        else:
            subject = f"[Agent Portal] {agent.name} needs changes"
            body = f"{who} sent {agent.name} back with this comment:"
    else:
        return None
    if not recipients:
        return None
    if event.comment:
        body += f"\n\n{event.comment}"
    body += f"\n\n{link}\n"
    # A line break in a header is refused by the mail library: never let a name carry one.
    subject = " ".join(subject.split())
    return OutgoingMail(event=event, recipients=recipients, subject=subject, body=body)


def page_url(view: str, agent: Agent) -> str:
    """The absolute address of a portal page about the agent, for a message."""
    return settings.PORTAL_BASE_URL + reverse(view, kwargs={"name": agent.slug})


def queue_for(event: Event) -> OutgoingMail | None:
    """Write the event's message into the outbox, in the caller's transaction, and have it
    delivered once that transaction commits."""
    mail = compose(event)
    if mail is not None:
        mail.save()
        transaction.on_commit(request_delivery)
    return mail


# --- delivery ---------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0  # tries that failed in this run; the message waits for its next try
    given_up: int = 0  # of those, messages that have now had their last try

    def __str__(self) -> str:
        text = f"Sent {self.sent} message{'s' if self.sent != 1 else ''}"
        if self.failed:
            text += f"; {self.failed} could not be sent"
            if self.given_up:
                text += f" ({self.given_up} given up after {settings.MAIL_MAX_ATTEMPTS} tries)"
        return text + "."


def deliver_due() -> DeliveryReport:
    """Send every message that is due now, once each; see the module docstring."""
    report = DeliveryReport()
    started = timezone.now()  # a message that fails now is due again later, not in this run
    connection: BaseEmailBackend | None = None
    try:
        while True:
            with transaction.atomic():
                due = OutgoingMail.objects.due(started).select_for_update(skip_locked=True)
                mail = due.first()
                if mail is None:
                    break
                try:
                    if connection is None:
                        connection = get_connection()
                        connection.open()  # one connection for the whole run
                    as_message(mail, connection).send()
                except Exception as error:
                    close_quietly(connection)
                    connection = None
                    record_failure(mail, error)
                    report.failed += 1
                    report.given_up += mail.status == OutgoingMail.Status.FAILED
                else:
                    mail.status = OutgoingMail.Status.SENT
                    mail.attempts += 1
                    mail.sent_at = timezone.now()
                    mail.save(update_fields=["status", "attempts", "sent_at"])
                    report.sent += 1
    finally:
        close_quietly(connection)
    return report


def as_message(mail: OutgoingMail, connection: BaseEmailBackend) -> EmailMessage:
    message_id = f"<outbox.{mail.pk}.{mail.created_at:%Y%m%d%H%M%S}@{DNS_NAME}>"
    return EmailMessage(
        mail.subject,
        mail.body,
        None,
        mail.recipients,
        connection=connection,
        headers={"Message-ID": message_id},
    )


def record_failure(mail: OutgoingMail, error: Exception) -> None:
    now = timezone.now()
    mail.attempts += 1
    mail.last_error = describe(error)
    if mail.attempts >= settings.MAIL_MAX_ATTEMPTS:
        mail.status = OutgoingMail.Status.FAILED
    else:
        mail.next_attempt_at = now + retry_delay(mail.attempts)
    mail.save(update_fields=["status", "attempts", "last_error", "next_attempt_at"])
    logger.warning("Mail %s not sent (try %s): %s", mail.pk, mail.attempts, describe(error))


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the given number of failed tries."""
    delay: timedelta = settings.MAIL_RETRY_DELAY * 2 ** min(attempts - 1, 30)
    return min(delay, settings.MAIL_RETRY_MAX_DELAY)


def describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def close_quietly(connection: BaseEmailBackend | None) -> None:
    if connection is None:
        return
    try:
        connection.close()
    except Exception:  # a broken connection is dropped either way
        logger.debug("Closing the mail connection failed", exc_info=True)


def retry_now(mails: models.QuerySet[OutgoingMail]) -> int:
    """Make waiting or given-up messages due now (the admin's "Retry now"); sent ones stay."""
    count = mails.exclude(status=OutgoingMail.Status.SENT).update(
        status=OutgoingMail.Status.PENDING, next_attempt_at=timezone.now()
    )
    if count:
        transaction.on_commit(request_delivery)
    return count


# --- the worker -------------------------------------------------------------------------------


@task()
def deliver_mail() -> dict[str, int]:
    """Deliver what is due; if something failed, come back when the next try is due."""
    report = deliver_due()
    if report.failed:
        next_try = OutgoingMail.objects.filter(status=OutgoingMail.Status.PENDING).aggregate(
            at=models.Min("next_attempt_at")
        )["at"]
        if next_try is not None:
            request_delivery(run_after=next_try)
    return asdict(report)


def request_delivery(run_after: datetime | None = None) -> None:
    """Ask the task worker to run ``deliver_mail``. Never raises: it runs after a step has
    committed, and a lost request only delays the mail until the next run or sweep."""
    try:
        if run_after is None:
            deliver_mail.enqueue()
        else:
            deliver_mail.using(run_after=run_after).enqueue()
    except Exception:
        logger.exception("Could not ask the worker to deliver mail; the next run sends it")
