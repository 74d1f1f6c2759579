"""Accounts and sign-ins: people with history are deactivated, never deleted; locked-out
sign-ins (django-axes) can be unlocked."""

from __future__ import annotations

from typing import Any

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse

from ..models import Event, Revision

User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    """Accounts. One that the audit trail or a revision names is deactivated, never deleted: a
    deleted account would leave its approvals and edits without a name."""

    actions = ["deactivate_selected"]

    def get_urls(self) -> list[Any]:
        opts = self.opts
        deactivate = self.admin_site.admin_view(self.deactivate_view)
        return [
            path(
                "<path:object_id>/deactivate/",
                deactivate,
                name=f"{opts.app_label}_{opts.model_name}_deactivate",
            ),
            *super().get_urls(),
        ]

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[Any, Any, Any, Any]:
        """Refuse (as "protected") to delete an account that history names."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        users = list(objs)
        events = named_by(Event.objects.filter(actor__in=users), "actor")
        revisions = named_by(Revision.objects.filter(author__in=users), "author")
        for user in users:
            entries, saved = events.get(user.pk, 0), revisions.get(user.pk, 0)
            if entries or saved:
                protected.append(
                    f"{user.get_username()}: named by "
                    f"{plural(entries, 'audit trail entry', 'audit trail entries')} and "
                    f"{plural(saved, 'revision', 'revisions')}"
                )
        return deleted, counts, perms_needed, protected

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        deactivate_url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_deactivate", args=[object_id]
        )
        return super().delete_view(
            request, object_id, {**(extra_context or {}), "deactivate_url": deactivate_url}
        )

    def deactivate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        user = self.get_object(request, unquote(object_id))
        if user is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        self.deactivate(request, [user])
        return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", user.pk)

    @admin.action(description="Deactivate selected accounts", permissions=["change"])
    def deactivate_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self.deactivate(request, list(queryset))

    def deactivate(self, request: HttpRequest, users: list[Any]) -> None:
        for user in users:
            name = user.get_username()
            if user.pk == request.user.pk:
                messages.error(request, f"Your own account ({name}) stays active.")
            elif not user.is_active:
                messages.info(request, f"Nothing to do for {name}: deactivated already.")
            else:
                user.is_active = False
                user.save(update_fields=["is_active"])
                self.log_change(request, user, "Deactivated.")
                messages.success(
                    request,
                    f"Deactivated {name}: they can no longer sign in or get mail, and the "
                    "history keeps their name.",
                )


def named_by(rows: QuerySet[Any], field: str) -> dict[int, int]:
    """How many of the rows name each user, by user id."""
    counts = rows.values(field).annotate(count=models.Count("pk")).order_by()
    return {row[field]: row["count"] for row in counts}


def plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


if admin.site.is_registered(AccessAttempt):
    admin.site.unregister(AccessAttempt)

    @admin.register(AccessAttempt)
    class LockoutAdmin(AccessAttemptAdmin):
        """Failed sign-ins by account and address (django-axes); unlocking forgets them."""

        actions = ["unlock", *AccessAttemptAdmin.actions]

        @admin.action(description="Unlock: forget these failed sign-ins", permissions=["delete"])
        def unlock(self, request: HttpRequest, queryset: QuerySet[AccessAttempt]) -> None:
            pairs = sorted(queryset.values_list("username", "ip_address"))
            queryset.delete()
            unlocked = ", ".join(f"{username} from {address}" for username, address in pairs)
            self.message_user(request, f"Unlocked: {unlocked}. They can sign in again.")
