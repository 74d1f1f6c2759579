"""What the API sends and accepts. Agents are shown as the caller may see them: the working
copy to those who may see its drafts, the published file to everyone else (as the pages do);
what is written is checked by the format module (``agentfile.validate``, strict) like the
editor's and the admin's forms."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from .. import agentfile, filebridge
from ..agentfile import BodyPart, Step
from ..models import Collection, Event, Revision, Tool

# The agent's fields written to its file, besides tools and the body (forms.agent.FILE_FIELDS).
TEXT_FIELDS = (
    "name",
    "description",
    "model",
    "color",
    "permission_mode",
    "memory",
    "effort",
    "isolation",
    "initial_prompt",
)
JSON_FIELDS = ("skills", "mcp_servers", "hooks", "extra_frontmatter")


class StepSerializer(serializers.Serializer):
    """One numbered instruction: an optional bold title and its Markdown text."""

    title = serializers.CharField(
        allow_blank=True, required=False, default="", trim_whitespace=False
    )
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)


class SectionSerializer(serializers.Serializer):
    """One part of the body, in order: Markdown as written, or the place of the steps."""

    kind = serializers.ChoiceField(choices=["markdown", "steps"])
    markdown = serializers.CharField(
        allow_blank=True, required=False, default="", trim_whitespace=False
    )
    tight = serializers.BooleanField(
        required=False, default=False, help_text="steps only: no blank line between steps"
    )


class AgentFieldsSerializer(serializers.Serializer):
    """The fields of an agent's file. On create, ``name`` and ``description`` are required; a
    PATCH sends only what changes (tools, sections and steps as whole ordered lists)."""

    name = serializers.CharField(max_length=agentfile.MAX_LENGTH["name"])
    path = serializers.CharField(
        required=False, allow_blank=True, help_text="Under .claude/agents/; default <name>.md."
    )
    description = serializers.CharField(trim_whitespace=False)
    tools = serializers.ListField(
        child=serializers.CharField(max_length=agentfile.MAX_TOOL_NAME_LENGTH), required=False
    )
    model = serializers.CharField(required=False, allow_blank=True)
    color = serializers.CharField(required=False, allow_blank=True)
    disallowed_tools = serializers.ListField(
        child=serializers.CharField(max_length=agentfile.MAX_TOOL_NAME_LENGTH), required=False
    )
    permission_mode = serializers.CharField(required=False, allow_blank=True)
    max_turns = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=agentfile.MAX_TURNS
    )
    memory = serializers.CharField(required=False, allow_blank=True)
    background = serializers.BooleanField(required=False, allow_null=True)
    effort = serializers.CharField(required=False, allow_blank=True)
    isolation = serializers.CharField(required=False, allow_blank=True)
    initial_prompt = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    skills = serializers.JSONField(required=False, allow_null=True)
    mcp_servers = serializers.JSONField(required=False, allow_null=True)
    hooks = serializers.JSONField(required=False, allow_null=True)
    extra_frontmatter = serializers.DictField(
        required=False, allow_null=True, help_text="Keys Claude Code does not read, kept as YAML."
    )
    sections = SectionSerializer(many=True, required=False)
    steps = StepSerializer(many=True, required=False)
    change_note = serializers.CharField(
        required=False, allow_blank=True, max_length=500, write_only=True
    )


class AgentWriteSerializer(AgentFieldsSerializer):
    """What a create or a PATCH accepts."""


def body_from(data: dict[str, Any], parts: list[BodyPart]) -> list[BodyPart]:
    """The body ``parts`` with the ``sections`` and ``steps`` a request sent (each a whole,
    ordered list) put in place."""
    steps = None
    if "steps" in data:
        steps = [Step(step.get("title", ""), step["text"]) for step in data["steps"]]
    if "sections" in data:
        current = next((part.steps for part in parts if part.is_steps), None) or []
        parts = [
            BodyPart(steps=[], tight=section.get("tight", False))
            if section["kind"] == "steps"
            else BodyPart(markdown=section.get("markdown", ""))
            for section in data["sections"]
        ]
        return filebridge.place_steps(parts, current if steps is None else steps)
    if steps is not None:
        return filebridge.place_steps(parts, steps)
    return parts


def body_data(parts: list[BodyPart]) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """(sections, steps) as the API shows a body."""
    sections: list[dict[str, Any]] = []
    steps: list[dict[str, str]] = []
    for part in parts:
        if part.is_steps:
            sections.append({"kind": "steps", "markdown": "", "tight": part.tight})
            if not steps:
                steps = [{"title": step.title, "text": step.text} for step in part.steps or []]
        else:
            sections.append({"kind": "markdown", "markdown": part.markdown, "tight": False})
    return sections, steps


class LintFindingSerializer(serializers.Serializer):
    """One thing lint says about a file (``python -m agents.lint --format json`` says the same)."""

    rule = serializers.CharField()
    severity = serializers.ChoiceField(choices=["error", "warning", "info"])
    message = serializers.CharField()
    line = serializers.IntegerField(allow_null=True, required=False)
    field = serializers.CharField(allow_null=True, required=False)


class AgentSummarySerializer(serializers.Serializer):
    """An agent as lists show it, to this caller."""

    name = serializers.CharField()
    slug = serializers.CharField(help_text="Its address: /api/agents/<slug>/.")
    path = serializers.CharField(help_text="Where its file goes, under .claude/agents/.")
    description = serializers.CharField()
    tools = serializers.ListField(child=serializers.CharField())
    model = serializers.CharField()
    color = serializers.CharField()
    state = serializers.CharField(
        help_text="draft, in_review, approved, changes_requested or archived to those who may "
        "see drafts; published to everyone else"
    )
    owner = serializers.CharField()
    published_revision = serializers.IntegerField(allow_null=True)
    latest_revision = serializers.IntegerField(
        allow_null=True, help_text="null to those who may not see drafts"
    )
    changed_at = serializers.DateTimeField()
    lint_errors = serializers.IntegerField(
        help_text="Lint errors in the revision shown (the latest, or the published one)."
    )
    lint_warnings = serializers.IntegerField(help_text="Lint warnings in the revision shown.")
    url = serializers.CharField()
    file_url = serializers.CharField(help_text="Its published file (text/markdown).")


class AgentDetailSerializer(AgentFieldsSerializer, AgentSummarySerializer):
    """An agent with all its fields, tools, sections and steps in order."""

    path = serializers.CharField()
    maintainers = serializers.ListField(child=serializers.CharField())
    allowed_actions = serializers.ListField(
        child=serializers.CharField(), help_text="The workflow actions the caller may take now."
    )
    created_at = serializers.DateTimeField()
    lint_findings = LintFindingSerializer(
        many=True, help_text="Everything lint said about the revision shown, notes included."
    )


class RevisionSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.get_username", default=None, allow_null=True)
    was_published = serializers.BooleanField(read_only=True)

    class Meta:
        model = Revision
        fields = [
            "number",
            "name",
            "description",
            "model",
            "color",
            "tools",
            "sha256",
            "author",
            "created_at",
            "note",
            "was_published",
            "lint_errors",
            "lint_warnings",
        ]


class RevisionDetailSerializer(RevisionSerializer):
    lint_findings = LintFindingSerializer(many=True, read_only=True)

    class Meta(RevisionSerializer.Meta):
        fields = [*RevisionSerializer.Meta.fields, "text", "lint_findings"]


class EventSerializer(serializers.ModelSerializer):
    """One entry of the audit trail."""

    agent = serializers.CharField(source="agent.slug")
    actor = serializers.CharField(source="who")
    revision = serializers.IntegerField(source="revision_number", allow_null=True)

    class Meta:
        model = Event
        fields = [
            "id",
            "agent",
            "action",
            "from_status",
            "to_status",
            "actor",
            "revision",
            "comment",
            "created_at",
        ]


class ToolSerializer(serializers.ModelSerializer):
    replaced_by = serializers.CharField(source="replaced_by.name", default=None, allow_null=True)
    summary = serializers.SerializerMethodField()

    class Meta:
        model = Tool
        fields = ["name", "replaced_by", "summary"]

    def get_summary(self, tool: Tool) -> str:
        return agentfile.TOOL_SUMMARIES.get(tool.name, "")


class CollectionSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.get_username", default=None, allow_null=True)
    agents = serializers.SerializerMethodField()

    class Meta:
        model = Collection
        fields = ["slug", "title", "description", "owner", "keywords", "agents", "updated_at"]

    def get_agents(self, collection: Collection) -> list[str]:
        """The published names of its agents people can install, in order."""
        return [
            member.agent.published_revision.name
            for member in collection.members.all()
            if member.agent.is_downloadable
        ]


class ActionSerializer(serializers.Serializer):
    """What a workflow action takes: a comment (required to request changes), and for an
    approval the revision approved."""

    comment = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    revision = serializers.IntegerField(
        required=False, min_value=1, help_text="approve: the revision number you reviewed"
    )


class ImportSerializer(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(), help_text=".md files or zips")
    update = serializers.BooleanField(required=False, default=False)
    dry_run = serializers.BooleanField(required=False, default=False)


class ImportResultSerializer(serializers.Serializer):
    source = serializers.CharField()
    outcome = serializers.CharField()
    name = serializers.CharField()
    path = serializers.CharField()
    error = serializers.CharField(allow_null=True)
    line = serializers.IntegerField(allow_null=True)
    warnings = serializers.ListField(child=serializers.CharField())
    diff = serializers.CharField()
    skipped = serializers.BooleanField()


class ImportReportSerializer(serializers.Serializer):
    saved = serializers.BooleanField()
    dry_run = serializers.BooleanField()
    results = ImportResultSerializer(many=True)


def page_of(item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """A cursor page of ``item``: the addresses of the next and previous pages (null at the
    ends), and the rows."""
    name = item.__name__.removesuffix("Serializer")
    return type(
        f"{name}PageSerializer",
        (serializers.Serializer,),
        {
            "next": serializers.CharField(allow_null=True, help_text="The next page, or null."),
            "previous": serializers.CharField(
                allow_null=True, help_text="The previous page, or null."
            ),
            "results": item(many=True),
            "__doc__": f"A page of {name}: follow next until it is null.",
        },
    )


class ErrorSerializer(serializers.Serializer):
    """Every error: a sentence, and the field at fault when there is one."""

    detail = serializers.CharField()
    field = serializers.CharField(required=False, help_text="The field at fault, if one is.")
    errors = serializers.JSONField(
        required=False, help_text="Every field's errors, for an invalid body or an invalid file."
    )


class StaleSerializer(ErrorSerializer):
    """412: the agent changed since the revision the request was based on."""

    current_revision = serializers.IntegerField()
    diff = serializers.CharField()
