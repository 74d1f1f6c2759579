"""Agents in the admin: the list with its filters, the change page with its rows (tools, steps,
sections) and revisions, and the workflow buttons of an agent's page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from .. import filebridge, permissions, workflow
from ..forms.agent import AgentAdminForm
from ..forms.rows import AgentToolForm, AgentToolFormSet, PositionedForm, PositionedInlineFormSet
from ..models import Agent, AgentTool, Event, InstructionStep, Revision, Section, Tool
from ..workflow import WorkflowError
from .common import link_list, may_open_agents, portal_url
from .imports import import_page
from .trail import AgentFilter

MCP_TOOLS = "mcp__"

# Workflow steps offered as buttons on an agent's page; approving and sending back happen in
# the review queue, next to the diff.
AGENT_PAGE_ACTIONS = {
    Event.Action.SUBMIT: "Submit for review",
    Event.Action.WITHDRAW: "Withdraw from review",
    Event.Action.ARCHIVE: "Archive",
    Event.Action.RESTORE: "Restore from the archive",
}


# --- agents -----------------------------------------------------------------------------------


class ToolFilter(admin.SimpleListFilter):
    """Agents that list a tool: any registry name (``Agent`` also finds ``Agent(a, b)``) or MCP."""

    title = "tool"
    parameter_name = "tool"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        registry = Tool.registry()
        names = [(name, name) for name, replaced_by in registry.items() if not replaced_by]
        names += [
            (name, f"{name} (legacy)") for name, replaced_by in registry.items() if replaced_by
        ]
        return [*names, (MCP_TOOLS, "MCP tools")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Agent]) -> QuerySet[Agent]:
        value = self.value()
        if not value:
            return queryset
        if value == MCP_TOOLS:
            entries = AgentTool.objects.filter(name__startswith=MCP_TOOLS)
        else:
            entries = AgentTool.objects.filter(Q(name=value) | Q(name__startswith=f"{value}("))
        return queryset.filter(pk__in=entries.values("agent_id"))


class StatusFilter(admin.SimpleListFilter):
    """By status; with none chosen, what lists show by default (archived agents hidden)."""

    title = "status"
    parameter_name = "status"
    ALL = "all"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [*Agent.Status.choices, (self.ALL, "All, archived included")]

    def choices(self, changelist: Any) -> Any:
        # As SimpleListFilter.choices, but no choice means "listed", not "all".
        counts = self.get_facet_queryset(changelist) if changelist.add_facets else {}
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Listed (all but archived)",
        }
        for index, (value, label) in enumerate(self.lookup_choices):
            if changelist.add_facets:
                label = f"{label} ({counts.get(f'{index}__c', '-')})"
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Agent]) -> QuerySet[Agent]:
        value = self.value()
        if value is None:
            return queryset.listed()
        if value == self.ALL:
            return queryset
        return queryset.filter(status=value)


class AgentPartInline:
    """An inline of an agent's rows: editable exactly when the agent is."""

    def has_view_permission(self, request: HttpRequest, obj: Agent | None = None) -> bool:
        if obj is None:
            return may_open_agents(request.user)
        return permissions.can_see_drafts(request.user, obj)

    def has_change_permission(self, request: HttpRequest, obj: Agent | None = None) -> bool:
        if obj is None:
            return permissions.can_author(request.user)
        return permissions.can_edit(request.user, obj)

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


class AgentToolInline(AgentPartInline, admin.TabularInline):
    model = AgentTool
    form = AgentToolForm
    formset = AgentToolFormSet
    fields = ["position", "name"]
    extra = 1
    verbose_name = "tool"
    verbose_name_plural = "tools (written to the file in this order)"
    template = "admin/agents/agent/tool_inline.html"


class SectionInline(AgentPartInline, admin.StackedInline):
    model = Section
    form = PositionedForm
    formset = PositionedInlineFormSet
    fields = ["position", "kind", "markdown", "tight"]
    extra = 0
    classes = ["collapse"]
    verbose_name_plural = "prompt sections (the body of the file, in order)"


class InstructionStepInline(AgentPartInline, admin.TabularInline):
    model = InstructionStep
    form = PositionedForm
    formset = PositionedInlineFormSet
    fields = ["position", "title", "text"]
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 4})}}
    extra = 1
    verbose_name_plural = "instruction steps (numbered 1..n in the file)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[InstructionStep]:
        # Each row shows str(step), which names the agent.
        return super().get_queryset(request).select_related("agent")


class RevisionInline(admin.TabularInline):
    """The agent's saved files, newest first: shown, never changed."""

    model = Revision
    fields = ["number", "created_at", "author", "note", "short_sha256", "links"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "revisions (every saved version of the file)"

    def has_view_permission(self, request: HttpRequest, obj: Agent | None = None) -> bool:
        if obj is None:
            return may_open_agents(request.user)
        return permissions.can_see_drafts(request.user, obj)

    def has_add_permission(self, request: HttpRequest, obj: Agent | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Agent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Agent | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Revision]:
        # Rows show str(revision) (the agent's name) and link by name; the text is not shown.
        return (
            super()
            .get_queryset(request)
            .select_related("agent", "author")
            .defer("text", "agent__yaml_sources")
            .annotate(published_number=F("agent__published_revision__number"))
        )

    @admin.display(description="sha256")
    def short_sha256(self, revision: Revision) -> str:
        return revision.sha256[:12]

    @admin.display(description="links")
    def links(self, revision: Revision) -> str:
        name, number, published = revision.agent.name, revision.number, revision.published_number
        links = [(portal_url("revision", name=name, number=number), "Download")]
        if published and published != number:
            compare = portal_url("compare", f"?from={published}&to={number}", name=name)
            links.append((compare, "Compare with published"))
        return link_list(links)


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    form = AgentAdminForm
    inlines = [AgentToolInline, InstructionStepInline, SectionInline]
    list_display = [
        "name",
        "short_description",
        "status",
        "published_number",
        "model",
        "color",
        "tool_list",
        "owner",
        "updated_at",
        "name_ok",
    ]
    # Explicit: with a bare select_related() the admin would drop the nullable owner join.
    list_select_related = ["owner"]
    list_filter = [StatusFilter, "model", "color", ToolFilter]
    search_fields = ["name", "description"]
    filter_horizontal = ["maintainers"]
    readonly_fields = [
        "status",
        "published",
        "latest",
        "audit_trail",
        "file_preview",
        "download_link",
        "created_at",
        "updated_at",
    ]
    workflow_fieldset = (
        "Workflow",
        {"fields": ["status", "published", "latest", "audit_trail"]},
    )
    fieldsets = [
        (
            None,
            {"fields": ["name", "path", "description", "model", "color", "owner", "maintainers"]},
        ),
        (
            "More frontmatter",
            {
                "fields": [
                    "disallowed_tools",
                    "permission_mode",
                    "max_turns",
                    "memory",
                    "background",
                    "effort",
                    "isolation",
                    "initial_prompt",
                ],
                "classes": ["collapse"],
            },
        ),
        (
            "YAML values",
            {
                "fields": ["skills", "mcp_servers", "hooks", "extra_frontmatter"],
                "classes": ["collapse"],
            },
        ),
    ]
    file_fieldset = (
        "The file",
        {"fields": ["download_link", "file_preview", "created_at", "updated_at"]},
    )

    class Media:
        css = {"all": ["agents/admin.css"]}

    change_list_template = "admin/agents/agent/change_list.html"
    change_form_template = "admin/agents/agent/change_form.html"

    # --- who may do what

    def has_view_permission(self, request: HttpRequest, obj: Agent | None = None) -> bool:
        # The admin shows an agent's working copy: only to those who may see its drafts.
        if obj is None:
            return may_open_agents(request.user)
        return permissions.can_see_drafts(request.user, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return permissions.can_author(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Agent | None = None) -> bool:
        if obj is None:
            return permissions.can_author(request.user)
        return permissions.can_edit(request.user, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Agent | None = None) -> bool:
        return False  # agents are archived; their audit trail keeps them

    # --- loading

    def get_queryset(self, request: HttpRequest) -> QuerySet[Agent]:
        agents = super().get_queryset(request).for_listing()
        visible = permissions.drafts_filter(request.user)
        if visible is not None:
            agents = agents.filter(visible)
        return agents.annotate(published_number=F("published_revision__number"))

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Agent | None:
        # Among all agents, not only those the list shows: one the user may not see is a 403
        # (has_view_permission), not a "does not exist".
        latest = Revision.objects.filter(agent=OuterRef("pk")).order_by("-number")
        agents = Agent.objects.for_listing().annotate(
            published_number=F("published_revision__number"),
            published_name=F("published_revision__name"),
            latest_number=Subquery(latest.values("number")[:1]),
        )
        field = self.opts.pk if from_field is None else self.opts.get_field(from_field)
        try:
            return agents.get(**{field.name: field.to_python(object_id)})
        except (Agent.DoesNotExist, ValidationError, ValueError):
            return None

    def get_inlines(self, request: HttpRequest, obj: Agent | None) -> list[Any]:
        return [*self.inlines, RevisionInline] if obj else list(self.inlines)

    def get_fieldsets(self, request: HttpRequest, obj: Agent | None = None) -> list[Any]:
        if obj is None:
            # A new agent has no file and no workflow yet.
            return [*self.fieldsets, ("Save", {"fields": ["change_note"]})]
        fieldsets = [self.workflow_fieldset, *self.fieldsets, self.file_fieldset]
        if self.has_change_permission(request, obj):
            fieldsets.append(("Save", {"fields": ["change_note", "base_revision"]}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Agent | None = None) -> list[str]:
        readonly = list(self.readonly_fields)
        if not permissions.is_admin(request.user):
            readonly.append("owner")  # an author's agents stay theirs; admins hand them over
        if obj is not None and not permissions.can_choose_maintainers(request.user, obj):
            readonly.append("maintainers")
        return readonly

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "maintainers":
            # Only authors may edit agents, so only they are offered as maintainers.
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(is_active=True, groups__name=permissions.AUTHORS)
                .order_by("username")
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    # --- columns and read-only fields

    @admin.display(description="description")
    def short_description(self, obj: Agent) -> str:
        return Truncator(obj.description).chars(80)

    @admin.display(description="published", ordering="published_number")
    def published_number(self, obj: Agent) -> str:
        number = getattr(obj, "published_number", None)
        return f"r{number}" if number else "-"

    @admin.display(description="tools")
    def tool_list(self, obj: Agent) -> str:
        return ", ".join(filebridge.tool_names(obj))

    @admin.display(boolean=True, description="name OK")
    def name_ok(self, obj: Agent) -> bool:
        return obj.name_follows_pattern

    @admin.display(description="published revision")
    def published(self, obj: Agent) -> str:
        number = getattr(obj, "published_number", None)
        if not number:
            return "none yet: nobody can download it"
        if not obj.is_downloadable:
            return f"r{number} (archived: nobody can download it)"
        return format_html(
            'r{} · <a href="{}">Download the published file</a>', number, obj.get_download_url()
        )

    @admin.display(description="latest revision")
    def latest(self, obj: Agent) -> str:
        number = getattr(obj, "latest_number", None)
        if not number:
            return "none yet"
        links = [
            (portal_url("revision", name=obj.slug, number=number), "Download"),
            (portal_url("history", name=obj.slug), "History"),
        ]
        published = getattr(obj, "published_number", None)
        if published and published != number:
            compare = portal_url("compare", f"?from={published}&to={number}", name=obj.slug)
            links.append((compare, "Compare with published"))
        return format_html("r{} · {}", number, link_list(links))

    @admin.display(description="audit trail")
    def audit_trail(self, obj: Agent) -> str:
        url = reverse("admin:agents_event_changelist") + f"?{AgentFilter.parameter_name}={obj.pk}"
        return format_html('<a href="{}">Everything that happened to {}</a>', url, obj.name)

    @admin.display(description="file as saved")
    def file_preview(self, obj: Agent) -> str:
        # Read back from the database, so the preview is what the download serves.
        text = filebridge.render(Agent.objects.for_export().get(pk=obj.pk))
        return format_html('<pre class="agent-file-preview">{}</pre>', text)

    @admin.display(description="download")
    def download_link(self, obj: Agent) -> str:
        return format_html(
            '<a class="button" href="{}">Download .md</a>',
            reverse("agents:download-draft", kwargs={"name": obj.slug}),
        )

    # --- pages

    def get_urls(self) -> list[Any]:
        return [
            path("import/", self.admin_site.admin_view(import_page), name="agents_agent_import"),
            path(
                "<path:object_id>/workflow/",
                self.admin_site.admin_view(self.workflow_view),
                name="agents_agent_workflow",
            ),
            *super().get_urls(),
        ]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Agent | None = None,
    ) -> HttpResponse:
        if obj is not None:
            context.update(self.workflow_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def workflow_context(self, request: HttpRequest, agent: Agent) -> dict[str, Any]:
        allowed = workflow.allowed_actions(agent, request.user)
        try:
            workflow.check_editable(agent)
            notice = ""
        except WorkflowError as refusal:
            notice = str(refusal)
        review_url = None
        if Event.Action.APPROVE in allowed or Event.Action.REQUEST_CHANGES in allowed:
            review_url = reverse("admin:agents_submission_change", args=[agent.pk])
        return {
            "workflow_url": reverse("admin:agents_agent_workflow", args=[agent.pk]),
            "workflow_actions": [
                (action, label) for action, label in AGENT_PAGE_ACTIONS.items() if action in allowed
            ],
            "workflow_notice": notice,
            "review_url": review_url,
        }

    def workflow_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Take one workflow step (a button of the Workflow box) and say how it went."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        agent = self.get_object(request, unquote(object_id))
        if agent is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, agent):
            raise PermissionDenied
        action = request.POST.get("action", "")
        if action not in AGENT_PAGE_ACTIONS:
            messages.error(request, "Choose one of the workflow buttons.")
        else:
            try:
                workflow.transition(
                    agent, action, request.user, comment=request.POST.get("comment", "")
                )
            except (PermissionDenied, WorkflowError) as refusal:
                messages.error(request, str(refusal))
            else:
                messages.success(request, f"{Event.Action(action).label}: {agent.name}.")
        return redirect("admin:agents_agent_change", agent.pk)

    def save_model(self, request: HttpRequest, obj: Agent, form: Any, change: bool) -> None:
        if not change and obj.owner_id is None:
            obj.owner = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: list, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        notes = [*form.file_warnings]
        for formset in formsets:
            notes += getattr(formset, "file_warnings", ())
        for note in notes:
            self.message_user(request, note, messages.WARNING)
        agent = form.instance
        revision = workflow.record_revision(
            agent, request.user, note=form.cleaned_data["change_note"]
        )
        if revision is None:
            self.message_user(request, "The file did not change: no new revision.", messages.INFO)
        else:
            self.message_user(request, f"Saved the file as revision {revision.number}.")
