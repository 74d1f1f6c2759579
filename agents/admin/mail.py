"""The outbox: every e-mail the portal owes someone, and what happened when it was sent."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator

from .. import notifications, permissions
from ..models import OutgoingMail
from .common import ReadOnlyAdmin


@admin.register(OutgoingMail)
class OutgoingMailAdmin(ReadOnlyAdmin):
    """The outbox: what the portal mailed or still owes, and why a message is late."""

    list_display = [
        "created_at",
        "subject",
        "to",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "error",
    ]
    list_filter = ["status", "created_at"]
    search_fields = ["subject", "body"]
    date_hierarchy = "created_at"
    fields = [
        "created_at",
        "event",
        "to",
        "subject",
        "body",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "sent_at",
    ]
    actions = ["retry_now"]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Addresses and drafts' names: for the people who run the portal.
        return permissions.is_admin(request.user)

    @admin.display(description="to")
    def to(self, mail: OutgoingMail) -> str:
        return ", ".join(mail.recipients)

    @admin.display(description="last error")
    def error(self, mail: OutgoingMail) -> str:
        return Truncator(mail.last_error).chars(100)

    @admin.action(description="Retry now")
    def retry_now(self, request: HttpRequest, queryset: QuerySet[OutgoingMail]) -> None:
        count = notifications.retry_now(queryset)
        if count:
            self.message_user(
                request,
                f"{count} message{'s' if count != 1 else ''} will be sent at the mail worker's "
                "next turn; this page shows how it went.",
            )
        else:
            self.message_user(request, "Nothing to retry: those were sent.", messages.WARNING)
