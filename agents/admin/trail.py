"""The audit trail and the revisions: read-only records of everything that happened."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from .. import permissions
from ..models import Agent, Event, Revision
from .common import ReadOnlyAdmin


class AgentFilter(admin.SimpleListFilter):
    """One agent's trail (the agent page links here); offered only once an agent is chosen, so
    the page never lists every agent."""

    title = "agent"
    parameter_name = "agent"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        pk = self.agent_pk()
        if pk is None:
            return []
        # Only an agent the user may see is named: the filter must not reveal other names.
        agents = Agent.objects.filter(pk=pk)
        visible = permissions.view_filter(request.user)
        if visible is not None:
            agents = agents.filter(visible)
        return [(self.value(), name) for name in agents.values_list("name", flat=True)]

    def agent_pk(self) -> int | None:
        value = self.value() or ""
        return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None

    def has_output(self) -> bool:
        return bool(self.value())

    def queryset(self, request: HttpRequest, queryset: QuerySet[Event]) -> QuerySet[Event]:
        if not self.value():
            return queryset
        pk = self.agent_pk()
        return queryset.none() if pk is None else queryset.filter(agent_id=pk)


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    """The audit trail: every create, edit, submission, decision, archive and restore."""

    list_display = [
        "created_at",
        "agent",
        "revision_number",
        "who",
        "action",
        "status_change",
        "comment",
    ]
    list_filter = [
        AgentFilter,
        "action",
        "to_status",
        ("actor", admin.RelatedOnlyFieldListFilter),
        "created_at",
    ]
    date_hierarchy = "created_at"
    search_fields = ["agent__name", "comment", "actor_name"]
    list_select_related = ["agent", "actor"]
    fields = [
        "created_at",
        "agent",
        "revision",
        "who",
        "action",
        "from_status",
        "to_status",
        "comment",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        return permissions.visible_events(request.user, super().get_queryset(request)).for_trail()

    @admin.display(description="revision", ordering="revision_number")
    def revision_number(self, event: Event) -> str:
        number = getattr(event, "revision_number", None)
        return f"r{number}" if number else "-"

    @admin.display(description="by", ordering="actor_name")
    def who(self, event: Event) -> str:
        return event.who

    @admin.display(description="status")
    def status_change(self, event: Event) -> str:
        before = Agent.Status(event.from_status).label.lower()
        after = Agent.Status(event.to_status).label.lower()
        return before if before == after else f"{before} → {after}"


@admin.register(Revision)
class RevisionAdmin(ReadOnlyAdmin):
    """Every saved version of every agent's file."""

    list_display = ["agent", "number", "author", "created_at", "note"]
    list_select_related = ["agent", "author"]
    search_fields = ["agent__name", "note", "author__username"]
    date_hierarchy = "created_at"
    fields = ["agent", "number", "author", "created_at", "note", "sha256", "file"]

    class Media:
        css = {"all": ["agents/admin.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Revision]:
        # Drafts are what the admin works on; the portal's history pages show everyone else the
        # revisions that were published. The list leaves the files out; one revision's page
        # reads its file when it shows it.
        revisions = super().get_queryset(request).defer("text")
        visible = permissions.drafts_filter(request.user, "agent__")
        return revisions if visible is None else revisions.filter(visible)

    @admin.display(description="file")
    def file(self, revision: Revision) -> str:
        return format_html('<pre class="agent-file-preview">{}</pre>', revision.text)
