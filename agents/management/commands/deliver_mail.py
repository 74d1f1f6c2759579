from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from agents.models import OutgoingMail
from agents.notifications import deliver_due


class Command(BaseCommand):
    help = (
        "Send the outbox's messages that are due, once each, and exit: the sweep to run from "
        "cron next to (or instead of) the task worker, `manage.py db_worker`."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = deliver_due()
        self.stdout.write(str(report))
        waiting = OutgoingMail.objects.filter(status=OutgoingMail.Status.PENDING)
        if report.failed:
            latest = waiting.exclude(last_error="").order_by("-next_attempt_at").first()
            if latest is not None:
                self.stderr.write(f"Last error: {latest.last_error}")
        count = waiting.count()
        if count:
            self.stdout.write(f"{count} waiting for a later try.")
