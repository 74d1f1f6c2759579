"""Agents as the portal stores them: every part of an agent file, editable on its own.

The bridge between rows and the file is here (``Agent.to_file_data`` / ``Agent.apply_file``);
the file format itself lives in ``agents.agentfile``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.urls import reverse

from . import agentfile
from .fields import YAMLField


class Tool(models.Model):
    """A tool name people can pick for an agent: a Claude Code built-in, or a legacy name."""

    name = models.CharField(max_length=100, unique=True)
    replaced_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="legacy_names",
        help_text="For a legacy name: the tool Claude Code uses for it today.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return (
            f"{self.name} (legacy: use {self.replaced_by.name})" if self.replaced_by else self.name
        )

    @property
    def is_legacy(self) -> bool:
        return self.replaced_by_id is not None

    @classmethod
    def registry(cls) -> dict[str, str | None]:
        """Every known name mapped to its current equivalent (None for a current tool)."""
        return dict(cls.objects.values_list("name", "replaced_by__name"))


class AgentQuerySet(models.QuerySet):
    def for_listing(self) -> AgentQuerySet:
        return self.select_related("owner").prefetch_related("tool_entries")

    def for_export(self) -> AgentQuerySet:
        return self.prefetch_related("tool_entries", "sections", "steps")


# Frontmatter key -> (model field, the Python types its value may have). A value of another type
# (``maxTurns: "ten"``) is kept as written among the extra keys rather than coerced.
FIELD_FOR_KEY: dict[str, tuple[str, tuple[type, ...]]] = {
    "name": ("name", (str,)),
    "description": ("description", (str,)),
    "model": ("model", (str,)),
    "color": ("color", (str,)),
    "permissionMode": ("permission_mode", (str,)),
    "maxTurns": ("max_turns", (int,)),
    "skills": ("skills", (list, str)),
    "mcpServers": ("mcp_servers", (list, dict)),
    "hooks": ("hooks", (dict, list)),
    "memory": ("memory", (str,)),
    "background": ("background", (bool,)),
    "effort": ("effort", (str,)),
    "isolation": ("isolation", (str,)),
    "initialPrompt": ("initial_prompt", (str,)),
}


PREFIX_SOURCE = ""


class Agent(models.Model):
    """A Claude Code subagent: its frontmatter fields, its tools, and its prompt."""

    name = models.CharField(
        max_length=200,
        unique=True,
        help_text="Lowercase letters, digits and hyphens, e.g. code-reviewer.",
    )
    description = models.TextField(
        help_text="When Claude should hand work to this agent. 'Use proactively' encourages it."
    )
    model = models.CharField(
        max_length=100, blank=True, help_text="inherit, sonnet, opus, haiku, fable or a model id."
    )
    color = models.CharField(max_length=20, blank=True)
    disallowed_tools = models.JSONField(
        default=list, blank=True, help_text="Tools this agent may never use, in file order."
    )
    permission_mode = models.CharField(max_length=40, blank=True)
    max_turns = models.PositiveIntegerField(null=True, blank=True)
    skills = YAMLField(blank=True, help_text="YAML list of skill names.")
    mcp_servers = YAMLField(
        blank=True, help_text="YAML list: server names or {name: {type, command, args}} maps."
    )
    hooks = YAMLField(blank=True, help_text="YAML mapping: event -> list of matchers.")
    memory = models.CharField(max_length=20, blank=True)
    background = models.BooleanField(null=True, blank=True)
    effort = models.CharField(max_length=20, blank=True)
    isolation = models.CharField(max_length=20, blank=True)
    initial_prompt = models.TextField(blank=True)
    extra_frontmatter = YAMLField(
        blank=True,
        help_text="Other keys the file carried: Claude Code ignores them, the portal keeps them.",
    )
    key_order = models.JSONField(
        default=list, blank=True, help_text="Frontmatter keys in the order the file had them."
    )
    yaml_sources = models.JSONField(
        default=dict,
        blank=True,
        help_text="The YAML text of each key as its author wrote it; reused while still valid.",
    )  # plus, under PREFIX_SOURCE, comment lines the file had before its first key
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agents",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AgentQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_download_url(self) -> str:
        return reverse("agents:download", kwargs={"name": self.name})

    @property
    def name_follows_pattern(self) -> bool:
        return bool(agentfile.NAME_RE.match(self.name))

    # --- rows -> file ---------------------------------------------------------------------

    def tool_names(self) -> list[str]:
        return [entry.name for entry in self.tool_entries.all()]

    def frontmatter(self, tools: list[str] | None = None) -> dict[str, Any]:
        """Every key of the file in file order; empty values are left for render to drop.

        ``tools`` stands in for the saved tool rows: what a form is about to save, so that an
        agent (saved or not) can be checked before its rows are written.
        """
        values: dict[str, Any] = {
            key: getattr(self, field) for key, (field, _) in FIELD_FOR_KEY.items()
        }
        values["tools"] = self.tool_names() if tools is None else list(tools)
        values["disallowedTools"] = list(self.disallowed_tools or [])
        extras = dict(self.extra_frontmatter or {})
        for key, value in extras.items():
            # A known key kept as written (wrong type) counts only while its field is empty.
            if agentfile.is_empty(values.get(key)):
                values[key] = value
        order = [key for key in self.key_order if key in values]
        order += [key for key in agentfile.KNOWN_KEYS if key not in order]
        order += [key for key in extras if key not in order]
        return {key: values[key] for key in order}

    def body_parts(self) -> list[agentfile.BodyPart]:
        steps = [agentfile.Step(step.title, step.text) for step in self.steps.all()]
        parts: list[agentfile.BodyPart] = []
        for section in self.sections.all():
            if section.kind == Section.Kind.STEPS:
                parts.append(agentfile.BodyPart(steps=steps, tight=section.tight))
                steps = []
            else:
                parts.append(agentfile.BodyPart(markdown=section.markdown))
        if steps:
            # Steps added to an agent whose body had none: give them their own heading.
            lead = "\n## Instructions\n\n" if parts else "## Instructions\n\n"
            parts += [agentfile.BodyPart(markdown=lead), agentfile.BodyPart(steps=steps)]
        return parts

    def body(self) -> str:
        return agentfile.join_body(self.body_parts())

    def render(self) -> str:
        """The exact file this agent exports to."""
        return agentfile.render(
            self.frontmatter(),
            self.body(),
            self.yaml_sources,
            self.yaml_sources.get(PREFIX_SOURCE, ""),
        )

    # --- file -> rows ---------------------------------------------------------------------

    @transaction.atomic
    def apply_file(self, parsed: agentfile.ParsedFile) -> None:
        """Make this agent (saved or not) hold exactly what the parsed file says."""
        extras: dict[str, Any] = {}
        for field, _ in FIELD_FOR_KEY.values():
            setattr(self, field, self._meta.get_field(field).get_default())
        self.disallowed_tools = []
        tools: list[str] = []
        for key, value in parsed.frontmatter.items():
            if key == "tools":
                tools = agentfile.split_tools(value)
            elif key == "disallowedTools":
                self.disallowed_tools = agentfile.split_tools(value)
            elif key in FIELD_FOR_KEY and _fits(value, FIELD_FOR_KEY[key][1]):
                setattr(self, FIELD_FOR_KEY[key][0], value)
            else:
                extras[key] = value
        for field, _ in FIELD_FOR_KEY.values():
            if getattr(self, field) is None and not self._meta.get_field(field).null:
                setattr(self, field, "")
        self.extra_frontmatter = extras or None
        self.key_order = list(parsed.frontmatter)
        self.yaml_sources = dict(parsed.sources)
        if parsed.prefix:
            self.yaml_sources[PREFIX_SOURCE] = parsed.prefix
        self.save()

        self.tool_entries.all().delete()
        AgentTool.objects.bulk_create(
            AgentTool(agent=self, position=position, name=name)
            for position, name in enumerate(tools, 1)
        )
        self.sections.all().delete()
        self.steps.all().delete()
        sections, steps = [], []
        for position, part in enumerate(agentfile.split_body(parsed.body), 1):
            if part.is_steps:
                sections.append(
                    Section(
                        agent=self, position=position, kind=Section.Kind.STEPS, tight=part.tight
                    )
                )
                steps += [
                    InstructionStep(agent=self, position=n, title=step.title, text=step.text)
                    for n, step in enumerate(part.steps, 1)
                ]
            else:
                sections.append(Section(agent=self, position=position, markdown=part.markdown))
        Section.objects.bulk_create(sections)
        InstructionStep.objects.bulk_create(steps)


def _fits(value: Any, types: tuple[type, ...]) -> bool:
    if value is None:
        return True
    if isinstance(value, bool) and bool not in types:
        return False
    if int in types and isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return False
    return isinstance(value, types)


class AgentTool(models.Model):
    """One entry of an agent's ``tools`` line; order matters because the file keeps it."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="tool_entries")
    position = models.PositiveIntegerField()
    name = models.CharField(
        max_length=300,
        help_text="A built-in tool, an MCP tool (mcp__server__tool) or Agent(a, b).",
    )

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "position"], name="agents_tool_unique_position"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Section(models.Model):
    """A piece of an agent's prompt, kept byte for byte: Markdown, or where the steps go."""

    class Kind(models.TextChoices):
        MARKDOWN = "markdown", "Markdown"
        STEPS = "steps", "Instruction steps"

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MARKDOWN)
    markdown = models.TextField(
        blank=True, help_text="Written to the file exactly as it is here, blank lines included."
    )
    tight = models.BooleanField(
        default=False, help_text="Steps only: no blank line between the numbered steps."
    )

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "position"], name="agents_section_unique_position"
            ),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.STEPS:
            return "Instruction steps"
        return agentfile.section_heading(self.markdown) or "(text)"


class InstructionStep(models.Model):
    """One numbered instruction in an agent's prompt."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200, blank=True, help_text="Written in bold.")
    text = models.TextField(help_text="Markdown. Nested bullet points are kept as written.")

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "position"], name="agents_step_unique_position"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent.name} #{self.position}"
