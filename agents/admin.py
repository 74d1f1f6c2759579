"""The admin: agents with their tools, prompt sections, steps and revisions; the review queue; the
audit trail; the tool registry.

Who may do what comes from ``agents.permissions`` (through ``agent.can_edit`` and friends); every
state change goes through ``Agent.transition``. The admin only shows and asks.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from . import agentfile, filebridge, notifications, permissions, views, workflow
from .forms import (
    AgentAdminForm,
    AgentToolForm,
    AgentToolFormSet,
    PositionedForm,
    PositionedInlineFormSet,
    RequestChangesForm,
    ReviewCommentForm,
)
from .models import (
    Agent,
    AgentTool,
    Event,
    InstructionStep,
    OutgoingMail,
    Revision,
    Section,
    Submission,
    Tool,
)
from .workflow import StaleApproval, WorkflowError

MCP_TOOLS = "mcp__"

# Workflow steps offered as buttons on an agent's page; approving and sending back happen in
# the review queue, next to the diff.
AGENT_PAGE_ACTIONS = {
    Event.Action.SUBMIT: "Submit for review",
    Event.Action.WITHDRAW: "Withdraw from review",
    Event.Action.ARCHIVE: "Archive",
    Event.Action.RESTORE: "Restore from the archive",
}


def portal_url(page: str, query: str = "", **kwargs: Any) -> str:
    """The URL of a portal page (``agents:<page>``) about one agent or revision."""
    return reverse(f"agents:{page}", kwargs=kwargs) + query


def link_list(links: Iterable[tuple[str, str]]) -> SafeString:
    """Links (url, label) joined by a middle dot."""
    return format_html_join(" · ", '<a href="{}">{}</a>', links)


def changed_lines(diff: str) -> int:
    """Lines added or removed in a unified diff (its two header lines not counted)."""
    return sum(1 for line in diff.splitlines()[2:] if line.startswith(("+", "-")))


def diff_details(diff: str, summary: str) -> SafeString:
    return format_html(
        '<details class="agent-diff"><summary>{}</summary><pre class="agent-diff">{}</pre>'
        "</details>",
        summary,
        diff,
    )


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


def may_open_agents(user: Any) -> bool:
    """May use the agents' admin pages at all (which ones: per agent, ``can_see_drafts``)."""
    return permissions.can_author(user) or permissions.can_review(user)


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
        (None, {"fields": ["name", "description", "model", "color", "owner", "maintainers"]}),
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
            (portal_url("revision", name=obj.name, number=number), "Download"),
            (portal_url("history", name=obj.name), "History"),
        ]
        published = getattr(obj, "published_number", None)
        if published and published != number:
            compare = portal_url("compare", f"?from={published}&to={number}", name=obj.name)
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
            reverse("agents:download-draft", kwargs={"name": obj.name}),
        )

    # --- pages

    def get_urls(self) -> list[Any]:
        return [
            path(
                "import/", self.admin_site.admin_view(views.import_page), name="agents_agent_import"
            ),
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


# --- the review queue -------------------------------------------------------------------------


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    """Agents waiting for review, each with its submitter and its diff against the published
    file; reviewers approve or send back here, one at a time or many at once."""

    list_display = ["name", "submitted_by", "submitted", "note", "diff"]
    search_fields = ["name", "description"]
    actions = ["approve_selected", "request_changes_selected"]
    change_form_template = "admin/agents/submission/review.html"

    class Media:
        css = {"all": ["agents/admin.css"]}

    # --- who may do what: reviewers (and superusers), nobody else

    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.can_review(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Agent | None = None) -> bool:
        return permissions.can_review(request.user)

    def has_review_permission(self, request: HttpRequest) -> bool:
        return permissions.can_review(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Agent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Agent | None = None) -> bool:
        return False

    # --- loading

    def get_queryset(self, request: HttpRequest) -> QuerySet[Submission]:
        # The submitted file is the latest revision: an agent in review cannot be edited.
        return with_latest_revision(Submission.objects.in_review())

    def get_ordering(self, request: HttpRequest) -> list[str]:
        return ["submitted_at"]  # first come, first served

    # --- columns

    @admin.display(description="submitted by", ordering="submitted_by_name")
    def submitted_by(self, submission: Submission) -> str:
        return submission.submitted_by_name or "operator"

    @admin.display(description="submitted", ordering="submitted_at")
    def submitted(self, submission: Submission) -> Any:
        return submission.submitted_at

    @admin.display(description="note")
    def note(self, submission: Submission) -> str:
        return submission.submitted_note or ""

    @admin.display(description="changes against the published file")
    def diff(self, submission: Submission) -> str:
        new = submission.latest_text or ""
        published = submission.published_revision
        if published is None:
            lines = len(new.splitlines())
            return diff_details(new, f"new agent ({lines} line{'s' if lines != 1 else ''})")
        text = agentfile.unified_diff(
            published.text,
            new,
            f"r{published.number} (published)",
            f"r{submission.latest_number} (submitted)",
        )
        changed = changed_lines(text)
        return diff_details(text, f"{changed} line{'s' if changed != 1 else ''} changed")

    # --- one submission: the diff, and the decision

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        submission = self.get_object(request, unquote(object_id))
        if submission is None:
            agent = Agent.objects.filter(pk=object_id).first() if object_id.isdigit() else None
            if agent is None:
                return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
            messages.info(
                request, f"{agent.name} is {agent.get_status_display().lower()}, not in review."
            )
            return redirect("admin:agents_submission_changelist")
        form = ReviewCommentForm(request.POST or None)
        error, changed_since = "", ""
        if request.method == "POST":
            decision = request.POST.get("decision", "")
            reviewed = views.posted_revision(request.POST)
            if decision not in REVIEW_DECISIONS or not form.is_valid():
                error = "Choose Approve or Request changes."
            elif decision == Event.Action.APPROVE and reviewed is None:
                error = "Reload the page: it did not say which revision you approved."
            else:
                try:
                    event = workflow.transition(
                        submission,
                        decision,
                        request.user,
                        comment=form.cleaned_data["comment"],
                        revision_number=reviewed if decision == Event.Action.APPROVE else None,
                    )
                except StaleApproval as refusal:
                    error, changed_since = str(refusal), refusal.diff
                    # The page shows the revision in review now; approving it is a new click.
                    submission = self.get_object(request, unquote(object_id))
                    if submission is None:
                        messages.error(request, error)
                        return redirect("admin:agents_submission_changelist")
                except (PermissionDenied, WorkflowError) as refusal:
                    error = str(refusal)
                else:
                    messages.success(request, decided(submission, event))
                    return redirect("admin:agents_submission_changelist")
        context = {
            **self.admin_site.each_context(request),
            **self.review_context(submission),
            "title": f"Review {submission.name}",
            "subtitle": None,
            "opts": self.opts,
            "original": submission,
            "form": form,
            "error": error,
            "changed_since": changed_since,
            # Said before the reviewer tries; the same rule refuses the approval itself.
            "approve_refusal": workflow.refusal(submission, Event.Action.APPROVE, request.user),
            "agent_url": reverse("admin:agents_agent_change", args=[submission.pk]),
            "media": self.media,
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.change_form_template, context)

    def review_context(self, submission: Submission) -> dict[str, Any]:
        published = submission.published_revision
        old = published.text if published else ""
        new = submission.latest_text or ""
        old_label = f"r{published.number} (published)" if published else "nothing published yet"
        new_label = f"r{submission.latest_number} (submitted)"
        side_by_side = difflib.HtmlDiff(wrapcolumn=80).make_table(
            old.splitlines(),
            new.splitlines(),
            escape(old_label),
            escape(new_label),
            context=published is not None,
        )
        compare = None
        if published is not None:
            query = f"?from={published.number}&to={submission.latest_number}"
            compare = portal_url("compare", query, name=submission.name)
        return {
            "submission": submission,
            "unified_diff": agentfile.unified_diff(old, new, old_label, new_label),
            # HtmlDiff escapes the files' text (&, <, >); the labels are escaped above.
            "side_by_side": mark_safe(side_by_side),  # noqa: S308
            "compare_url": compare,
            "submitted_url": portal_url(
                "revision", name=submission.name, number=submission.latest_number
            ),
            "history_url": portal_url("history", name=submission.name),
        }

    # --- many at once

    @admin.action(description="Approve selected agents…", permissions=["review"])
    def approve_selected(
        self, request: HttpRequest, queryset: QuerySet[Submission]
    ) -> HttpResponse | None:
        """Show each agent with the revision that would be published; approve those revisions
        once confirmed (an agent resubmitted meanwhile is refused, not published unseen)."""
        submissions = self.selected(request, queryset)
        if "apply" in request.POST:
            for submission in submissions:
                reviewed = views.posted_revision(request.POST, f"revision-{submission.pk}")
                if reviewed is None:
                    messages.error(
                        request,
                        f"{submission.name} was not approved: the confirmation did not say "
                        "which revision. Select it again.",
                    )
                    continue
                decide(request, submission, Event.Action.APPROVE, revision_number=reviewed)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Approve and publish",
            "subtitle": None,
            "opts": self.opts,
            "rows": [(submission, self.diff(submission)) for submission in submissions],
            "action": "approve_selected",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/agents/submission/approve.html", context)

    @admin.action(description="Request changes to selected agents…", permissions=["review"])
    def request_changes_selected(
        self, request: HttpRequest, queryset: QuerySet[Submission]
    ) -> HttpResponse | None:
        submissions = self.selected(request, queryset)
        form = RequestChangesForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for submission in submissions:
                decide(
                    request,
                    submission,
                    Event.Action.REQUEST_CHANGES,
                    comment=form.cleaned_data["comment"],
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Request changes",
            "subtitle": None,
            "opts": self.opts,
            "submissions": submissions,
            "form": form,
            "action": "request_changes_selected",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/agents/submission/request_changes.html", context)

    def selected(self, request: HttpRequest, queryset: QuerySet[Submission]) -> list[Submission]:
        """The agents the reviewer ticked, in the queue or not: each gets its own report.

        The action's queryset holds those still in review; one that someone else decided on
        since the queue was shown is loaded too, as the queue showed it (in review), so that its
        transition fails and says why.
        """
        submissions = list(queryset)
        if request.POST.get("select_across") == "1":
            return submissions
        in_queue = {submission.pk for submission in submissions}
        ticked = {
            int(pk) for pk in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME) if pk.isdigit()
        }
        gone = Submission.objects.filter(pk__in=ticked - in_queue).with_submission()
        for submission in with_latest_revision(gone):
            submission.now = submission.get_status_display().lower()
            submission.status = Agent.Status.IN_REVIEW
            submissions.append(submission)
        return sorted(submissions, key=lambda submission: submission.name)


REVIEW_DECISIONS = (Event.Action.APPROVE, Event.Action.REQUEST_CHANGES)


def with_latest_revision(submissions: QuerySet[Submission]) -> QuerySet[Submission]:
    """Each agent with the number and text of its latest revision: what approving publishes."""
    latest = Revision.objects.filter(agent=OuterRef("pk")).order_by("-number")
    return submissions.annotate(
        latest_number=Subquery(latest.values("number")[:1]),
        latest_text=Subquery(latest.values("text")[:1]),
    )


def decided(agent: Agent, event: Event) -> str:
    if event.action == Event.Action.APPROVE:
        return f"{agent.name} is approved: everyone now downloads revision {event.revision.number}."
    return f"{agent.name} was sent back to its author with your comment."


def decide(
    request: HttpRequest,
    agent: Agent,
    action: str,
    comment: str = "",
    revision_number: int | None = None,
) -> None:
    """Take one review step and report it, success or refusal, as a message about this agent."""
    try:
        event = workflow.transition(
            agent, action, request.user, comment=comment, revision_number=revision_number
        )
    except (PermissionDenied, WorkflowError) as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, decided(agent, event))


# --- the audit trail --------------------------------------------------------------------------


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


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record nobody adds, changes or deletes from the admin, superusers included."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_open_agents(request.user)


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


# --- the tool registry ------------------------------------------------------------------------


@admin.register(Tool)
class ToolAdmin(admin.ModelAdmin):
    list_display = ["name", "replaced_by", "legacy"]
    list_select_related = ["replaced_by"]
    search_fields = ["name"]
    fields = ["name", "replaced_by"]

    @admin.display(boolean=True, description="legacy")
    def legacy(self, obj: Tool) -> bool:
        return obj.is_legacy

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "replaced_by":
            # A legacy name points at a current tool, never at another legacy name.
            kwargs["queryset"] = Tool.objects.filter(replaced_by=None)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# --- outgoing mail ----------------------------------------------------------------------------


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


# --- accounts and sign-ins --------------------------------------------------------------------

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
