"""The admin: agents with their tools, prompt sections and steps; the tool registry."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from . import views
from .forms import (
    AgentAdminForm,
    AgentToolForm,
    AgentToolFormSet,
    PositionedForm,
    PositionedInlineFormSet,
)
from .models import Agent, AgentTool, InstructionStep, Section, Tool

MCP_TOOLS = "mcp__"


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


class AgentToolInline(admin.TabularInline):
    model = AgentTool
    form = AgentToolForm
    formset = AgentToolFormSet
    fields = ["position", "name"]
    extra = 1
    verbose_name = "tool"
    verbose_name_plural = "tools (written to the file in this order)"
    template = "admin/agents/agent/tool_inline.html"


class SectionInline(admin.StackedInline):
    model = Section
    form = PositionedForm
    formset = PositionedInlineFormSet
    fields = ["position", "kind", "markdown", "tight"]
    extra = 0
    classes = ["collapse"]
    verbose_name_plural = "prompt sections (the body of the file, in order)"


class InstructionStepInline(admin.TabularInline):
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


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    form = AgentAdminForm
    inlines = [AgentToolInline, InstructionStepInline, SectionInline]
    list_display = [
        "name",
        "short_description",
        "model",
        "color",
        "tool_list",
        "owner",
        "updated_at",
        "name_ok",
    ]
    # Explicit: with a bare select_related() the admin would drop the nullable owner join.
    list_select_related = ["owner"]
    list_filter = ["model", "color", ToolFilter]
    search_fields = ["name", "description"]
    readonly_fields = ["file_preview", "download_link", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "description", "model", "color", "owner"]}),
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

    def get_urls(self) -> list[Any]:
        import_url = path(
            "import/", self.admin_site.admin_view(views.import_page), name="agents_agent_import"
        )
        return [import_url, *super().get_urls()]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Agent]:
        return super().get_queryset(request).for_listing()

    def get_fieldsets(self, request: HttpRequest, obj: Agent | None = None) -> list[Any]:
        # A new agent has no file yet.
        return [*self.fieldsets, self.file_fieldset] if obj else list(self.fieldsets)

    @admin.display(description="description")
    def short_description(self, obj: Agent) -> str:
        return Truncator(obj.description).chars(80)

    @admin.display(description="tools")
    def tool_list(self, obj: Agent) -> str:
        return ", ".join(obj.tool_names())

    @admin.display(boolean=True, description="name OK")
    def name_ok(self, obj: Agent) -> bool:
        return obj.name_follows_pattern

    @admin.display(description="file as saved")
    def file_preview(self, obj: Agent) -> str:
        # Read back from the database, so the preview is what the download serves.
        text = Agent.objects.for_export().get(pk=obj.pk).render()
        return format_html('<pre class="agent-file-preview">{}</pre>', text)

    @admin.display(description="download")
    def download_link(self, obj: Agent) -> str:
        return format_html(
            '<a class="button" href="{}">Download .md</a>',
            reverse("agents:download-draft", kwargs={"name": obj.name}),
        )

    def save_model(self, request: HttpRequest, obj: Agent, form: Any, change: bool) -> None:
        if not change and obj.owner_id is None:
            obj.owner = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: list, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        notes = [*form.file_warnings]
        for formset in formsets:
            notes += formset.file_warnings
        for note in notes:
            self.message_user(request, note, messages.WARNING)


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
