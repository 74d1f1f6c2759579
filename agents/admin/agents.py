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
from django.utils import timezone
from django.utils.html import format_html

from .. import agentfile, filebridge, merging, permissions, workflow
from ..forms.agent import AgentAdminForm
from ..forms.rows import AgentToolForm, AgentToolFormSet, PositionedForm, PositionedInlineFormSet
from ..models import (
    Agent,
    AgentTool,
    Event,
    InstructionStep,
    Revision,
    Section,
    Tool,
    with_tool_names,
)
from ..workflow import WorkflowError
from .common import link_list, may_open_agents, portal_url
from .imports import import_page
from .rows import QuickRowsAdmin
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


SHORT_DESCRIPTION = 60  # characters of the description the list shows
LISTED_TOOLS = 4  # tools the list names before "+N more"


def state_of(agent: Agent) -> str:
    """An agent's state with its revisions, as the list shows it: "published r3 · draft r5",
    "approved r3", "in review r2" (nothing published yet), "archived (was published r3)"."""
    published = getattr(agent, "published_number", None)
    latest = getattr(agent, "latest_number", None)
    label = agent.get_status_display().lower()
    if agent.status == Agent.Status.ARCHIVED:
        return f"archived (was published r{published})" if published else "archived"
    if published and (latest is None or latest == published):
        return (
            f"{label} r{published}"
            if agent.status == Agent.Status.APPROVED
            else (f"published r{published} · {label}")
        )
    if published:
        return f"published r{published} · {label} r{latest}"
    return f"{label} r{latest}" if latest else label


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


class ModelFilter(admin.SimpleListFilter):
    """By model: the aliases Claude Code knows, any model id, or none (inherits). Fixed choices:
    listing the models agents use would read the whole table on every view of the list."""

    title = "model"
    parameter_name = "model"
    MODEL_ID, NONE = "id", "none"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [
            *((alias, alias) for alias in agentfile.MODEL_ALIASES),
            (self.MODEL_ID, "A model id (claude-...)"),
            (self.NONE, "None (the default)"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Agent]) -> QuerySet[Agent]:
        value = self.value()
        if not value:
            return queryset
        if value == self.MODEL_ID:
            return queryset.filter(model__startswith="claude-")
        return queryset.filter(model="" if value == self.NONE else value)


class ColorFilter(admin.SimpleListFilter):
    """By colour: the colours Claude Code shows, or none. Fixed choices, as for the model."""

    title = "color"
    parameter_name = "color"
    NONE = "none"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [*((color, color) for color in agentfile.COLORS), (self.NONE, "None")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Agent]) -> QuerySet[Agent]:
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(color="" if value == self.NONE else value)


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
class AgentAdmin(QuickRowsAdmin):
    form = AgentAdminForm
    inlines = [AgentToolInline, InstructionStepInline, SectionInline]
    # Fits a 1,400-pixel screen beside the filters: the state says both the published and the
    # draft revision, long descriptions and tool lists are cut (in full on the agent's page).
    list_display = [
        "name",
        "state",
        "short_description",
        "tool_list",
        "model",
        "owner",
        "updated",
        "name_ok",
    ]
    # Explicit: with a bare select_related() the admin would drop the nullable owner join.
    list_select_related = ["owner"]
    list_filter = [StatusFilter, ModelFilter, ColorFilter, ToolFilter]
    # Trigram indexes on PostgreSQL (migration 0014); a plain match elsewhere.
    search_fields = ["name", "description"]
    # "N results (M total)" counts the whole table again on every view: the page count is
    # enough.
    show_full_result_count = False
    # The list's time is its rendering once the queries use indexes (eight columns a row):
    # 50 rows a page, not 100, keeps it under 50 ms at 10,000 agents (bench/scale.py).
    list_per_page = 50
    filter_horizontal = ["maintainers"]
    readonly_fields = [
        "status",
        "published",
        "latest",
        "last_review_comment",
        "audit_trail",
        "file_preview",
        "download_link",
        "created_at",
        "updated_at",
    ]
    workflow_fieldset = (
        "Workflow",
        {"fields": ["status", "published", "latest", "last_review_comment", "audit_trail"]},
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
        css = {"all": ["agents/admin.css", "agents/admin-agents.css"]}

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
        # The list's rows; an agent's own page loads it whole (get_object).
        agents = super().get_queryset(request).for_changelist()
        visible = permissions.drafts_filter(request.user)
        if visible is not None:
            agents = agents.filter(visible)
        return agents

    def prepare_rows(self, rows: list[Agent]) -> None:
        with_tool_names(rows)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The list takes the page's width: the admin's side menu would squeeze its columns.
        extra_context = {"is_nav_sidebar_enabled": False, **(extra_context or {})}
        return super().changelist_view(request, extra_context)

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
            fieldsets.append(("Save", {"fields": ["change_note", "base_revision", "merge_base"]}))
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
        # As Truncator(...).chars(SHORT_DESCRIPTION), at a tenth of its cost (no normalising of
        # combining characters: a description cut one letter short is no loss).
        text = obj.description
        return text if len(text) <= SHORT_DESCRIPTION else text[: SHORT_DESCRIPTION - 1] + "…"

    @admin.display(description="state", ordering="status")
    def state(self, obj: Agent) -> str:
        """The state and its revisions: "published r3 · draft r5" while a newer draft is under
        way, so an approved agent being changed does not read as a mere draft."""
        return state_of(obj)

    @admin.display(description="tools")
    def tool_list(self, obj: Agent) -> str:
        names = getattr(obj, "listed_tools", None)
        if names is None:
            names = filebridge.tool_names(obj)
        if len(names) <= LISTED_TOOLS + 1:
            return ", ".join(names)
        shown = ", ".join(names[:LISTED_TOOLS])
        return format_html(
            '<span title="{}">{} +{} more</span>',
            ", ".join(names),
            shown,
            len(names) - LISTED_TOOLS,
        )

    @admin.display(description="updated", ordering="updated_at")
    def updated(self, obj: Agent) -> str:
        local = timezone.localtime(obj.updated_at)
        return format_html('<time datetime="{}">{}</time>', local.isoformat(), f"{local:%Y-%m-%d}")

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

    @admin.display(description="reviewer's last comment")
    def last_review_comment(self, obj: Agent) -> str:
        """The latest request for changes, for the author to read where they edit."""
        event = (
            obj.events.filter(action=Event.Action.REQUEST_CHANGES)
            .select_related("revision")
            .order_by("-created_at", "-pk")
            .first()
        )
        if event is None:
            return "none: nobody has asked for changes"
        when = timezone.localtime(event.created_at)
        revision = f" on revision {event.revision.number}" if event.revision else ""
        return format_html(
            '<div class="agent-last-review"><p>{} asked for changes{}, {}:</p>'
            '<blockquote class="agent-review-comment">{}</blockquote></div>',
            event.who,
            revision,
            f"{when:%Y-%m-%d %H:%M}",
            event.comment,
        )

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

    def _merge_after_stale_save(self, form: Any) -> str:
        """After "save again" (the first save was refused: someone else had saved meanwhile),
        put back their changes to whatever this form left as it was when it was loaded.

        The form's values are saved by then; the merge is against the revision the page was
        first loaded from (``merge_base``) and the one it was refused for (``base_revision``,
        the latest: the agent's row is held). Returns what to tell the person ('' if nothing).
        """
        merge_base = form.cleaned_data.get("merge_base")
        base_revision = form.cleaned_data.get("base_revision")
        if merge_base is None or base_revision is None or merge_base == base_revision:
            return ""
        agent = form.instance
        texts = dict(
            agent.revisions.filter(number__in=[merge_base, base_revision]).values_list(
                "number", "text"
            )
        )
        if merge_base not in texts or base_revision not in texts:
            return ""
        saved = Agent.objects.for_export().get(pk=agent.pk)
        mine = merging.Version.of(filebridge.frontmatter(saved), filebridge.body_parts(saved))
        result = merging.merge(
            merging.Version.from_text(texts[merge_base]),
            merging.Version.from_text(texts[base_revision]),
            mine,
        )  # where both changed the same part, mine: this person saw theirs and saved again
        if result.version.frontmatter != mine.frontmatter or result.version.body != mine.body:
            filebridge.apply_version(saved, result.version.frontmatter, result.version.parts)
        return merging.describe(result)

    def save_related(self, request: HttpRequest, form: Any, formsets: list, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        notes = [*form.file_warnings]
        for formset in formsets:
            notes += getattr(formset, "file_warnings", ())
        for note in notes:
            self.message_user(request, note, messages.WARNING)
        agent = form.instance
        merged = self._merge_after_stale_save(form)
        if merged:
            self.message_user(request, merged)
        revision = workflow.record_revision(
            agent, request.user, note=form.cleaned_data["change_note"]
        )
        if revision is None:
            self.message_user(request, "The file did not change: no new revision.", messages.INFO)
        else:
            self.message_user(request, f"Saved the file as revision {revision.number}.")
