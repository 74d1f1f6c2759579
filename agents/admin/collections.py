"""Collections in the admin: the members in order (inline), and the plugin as it is now."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from .. import permissions
from ..distribution import collections
from ..models import Collection, CollectionMember
from .common import may_open_agents


class CollectionMemberInline(admin.TabularInline):
    model = CollectionMember
    extra = 1
    fields = ["position", "agent", "published"]
    readonly_fields = ["published"]
    autocomplete_fields = ["agent"]
    ordering = ["position", "pk"]

    @admin.display(description="in the plugin as")
    def published(self, member: CollectionMember) -> str:
        if member.pk is None:
            return ""
        agent = member.agent
        revision = agent.published_revision
        if agent.status == agent.Status.ARCHIVED:
            return "left out: archived"
        if revision is None:
            return "left out: not published yet"
        return f"{revision.name}, revision {revision.number}"

    def get_queryset(self, request: HttpRequest) -> QuerySet[CollectionMember]:
        return super().get_queryset(request).select_related("agent__published_revision")

    def has_view_permission(self, request: HttpRequest, obj: Collection | None = None) -> bool:
        return may_open_agents(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Collection | None = None) -> bool:
        if obj is None:
            return permissions.can_author(request.user)
        return permissions.can_edit_collection(request.user, obj)

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ["slug", "title", "owner", "member_count", "updated_at"]
    list_select_related = ["owner"]
    search_fields = ["slug", "title", "description"]
    fields = ["slug", "title", "description", "keywords", "owner", "plugin_state"]
    readonly_fields = ["plugin_state"]
    inlines = [CollectionMemberInline]

    @admin.display(description="agents")
    def member_count(self, collection: Collection) -> int:
        return collection.members.count()

    @admin.display(description="plugin")
    def plugin_state(self, collection: Collection) -> str:
        if collection.pk is None:
            return ""
        loaded = Collection.objects.for_plugins().get(pk=collection.pk)
        found = collections.contents(loaded)
        built = collections.current(found)
        left = f"; {len(found.left_out)} left out" if found.left_out else ""
        if built is None:
            return f"Nothing published yet{left}."
        return format_html(
            '<a href="{}">version {}</a>, {} agent(s){}; sha256 {}',
            loaded.get_absolute_url(),
            built.version,
            len(found.included),
            left,
            built.sha256,
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Collection]:
        return super().get_queryset(request).prefetch_related("members")

    def has_view_permission(self, request: HttpRequest, obj: Collection | None = None) -> bool:
        return may_open_agents(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return permissions.can_author(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Collection | None = None) -> bool:
        if obj is None:
            return permissions.can_author(request.user)
        return permissions.can_edit_collection(request.user, obj)

    has_delete_permission = has_change_permission

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"owner": request.user.pk, **super().get_changeform_initial_data(request)}
