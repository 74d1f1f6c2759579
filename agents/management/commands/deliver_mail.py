from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from agents.models import OutgoingMail
from agents.notifications import deliver_due


class Command(BaseCommand):
    help = (
        "Send the outbox's messages that are due, once each, and exit: the sweep to run from "
        "cron next to (or instead of) the task worker, `manage.py db_worker`. Prints nothing "
        "when nothing was due."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = deliver_due()
        if not (report.sent or report.failed) and options["verbosity"] < 2:
            return
        self.stdout.write(str(report))
        if report.failed:
            failed = OutgoingMail.objects.exclude(status=OutgoingMail.Status.SENT)
            latest = failed.exclude(last_error="").order_by("-next_attempt_at", "-pk").first()
            if latest is not None:
                self.stderr.write(f"Last error: {latest.last_error}")
            waiting = failed.filter(status=OutgoingMail.Status.PENDING).order_by("next_attempt_at")
            first = waiting.first()
            if first is not None:
                self.stdout.write(
                    f"{waiting.count()} waiting; the next try is due at "
                    f"{first.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC."
                )
