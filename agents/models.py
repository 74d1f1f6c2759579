"""Agents as the portal stores them: every part of an agent file, editable on its own, with
immutable revisions of the file and an audit trail.

Data and its small invariants only. The file format lives in ``agents.agentfile``, the bridge
between these rows and the file in ``agents.filebridge``, state changes in ``agents.workflow``
(driven by its ``TRANSITIONS`` table), who may do what in ``agents.permissions``. None of those
is imported here: they import the models.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.urls import reverse
from django.utils import timezone

from . import agentfile, lint
from .distribution import paths
from .fields import YAMLField
from .lint import report


class ImmutableRecord(Exception):  # noqa: N818 (reads as a sentence: "ImmutableRecord raised")
    """A revision or an audit entry was about to be changed: they never are once written."""


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


# What only an agent's file needs, never a list of agents: the frontmatter's other values, most
# of them YAML or JSON decoded on loading (PyYAML is most of a page's time when 50 rows bring
# them along).
FILE_ONLY_FIELDS = (
    "disallowed_tools",
    "permission_mode",
    "max_turns",
    "skills",
    "mcp_servers",
    "hooks",
    "memory",
    "background",
    "effort",
    "isolation",
    "initial_prompt",
    "extra_frontmatter",
    "key_order",
    "yaml_sources",
)


class AgentQuerySet(models.QuerySet):
    def for_listing(self) -> AgentQuerySet:
        return self.select_related("owner").prefetch_related("tool_entries", "maintainers")

    def for_changelist(self) -> AgentQuerySet:
        """The admin's list of agents: the columns it shows, with the owner (not the file's
        other values, nor the maintainers: the list shows neither). The tools: ``with_tool_names``
        on the page's agents."""

        # The revision numbers as subqueries (50 index probes), not joins: the list's count
        # drops an unused subquery, but keeps a join, and with it would read the agents' rows
        # instead of the listing index alone (the tool filter's count: 15 ms instead of 3).
        def number_of(revision: str) -> models.Subquery:
            return models.Subquery(
                Revision.objects.filter(pk=models.OuterRef(revision)).order_by().values("number")
            )

        return (
            self.select_related("owner")
            .defer(*FILE_ONLY_FIELDS)
            .annotate(
                published_number=number_of("published_revision"),
                latest_number=number_of("latest_revision"),
            )
        )

    def for_queue(self) -> AgentQuerySet:
        """The review queues (admin and portal): agents in review, oldest submission first, each
        with its submitter and note, the numbers of its submitted (latest) and published
        revisions and what lint said about the submitted one; no file's text nor the file's
        other values (diffs are built when a submission is opened)."""
        return (
            self.filter(status=Agent.Status.IN_REVIEW)
            .defer(*FILE_ONLY_FIELDS)
            .annotate(
                submitted_by_id=models.F("submission__actor_id"),
                submitted_by_name=models.F("submission__actor_name"),
                submitted_note=models.F("submission__comment"),
                latest_number=models.F("latest_revision__number"),
                latest_lint_errors=models.F("latest_revision__lint_errors"),
                latest_lint_warnings=models.F("latest_revision__lint_warnings"),
                published_number=models.F("published_revision__number"),
            )
            .order_by("submitted_at", "pk")
        )

    def for_export(self) -> AgentQuerySet:
        return self.prefetch_related("tool_entries", "sections", "steps")

    def for_download(self) -> AgentQuerySet:
        return self.select_related("published_revision")

    def at_address(self, value: str) -> AgentQuerySet:
        """The agent an address names: by its slug, or by its exact name (links written before
        slugs existed, for names that are not path-safe)."""
        by_slug = models.Case(models.When(slug=value, then=0), default=1)
        return self.filter(models.Q(slug=value) | models.Q(name=value)).order_by(by_slug)

    def published_as(self, name: str) -> AgentQuerySet:
        """The agent whose published file is named ``name``: a renamed agent keeps its old
        address (and file) until a revision with the new name is approved."""
        return self.filter(published_revision__name=name)

    def for_workflow(self) -> AgentQuerySet:
        """One agent for the history and workflow pages: maintainers for the permission checks,
        the published file's name for its download link."""
        return self.prefetch_related("maintainers").annotate(
            published_name=models.F("published_revision__name")
        )

    def listed(self) -> AgentQuerySet:
        """What lists show by default: everything but archived agents."""
        return self.exclude(status=Agent.Status.ARCHIVED)

    def in_review(self) -> AgentQuerySet:
        """The review queue: each agent with its submitter and submission time, oldest first
        (read from the agent's row and its submission's: no subquery per agent)."""
        return self.filter(status=Agent.Status.IN_REVIEW).with_submission().order_by("submitted_at")

    def with_submission(self) -> AgentQuerySet:
        """Each agent with its latest submission (who, when, note) and published revision."""
        return self.select_related("owner", "published_revision").annotate(
            submitted_by_id=models.F("submission__actor_id"),
            submitted_by_name=models.F("submission__actor_name"),
            submitted_note=models.F("submission__comment"),
        )


def with_tool_names(agents: list[Agent]) -> list[Agent]:
    """The agents, each with its tools' names in file order as ``listed_tools``: one query of
    (agent, name) pairs, not an AgentTool row object each (some 300 for a page of 50 agents,
    a fifth of the admin list's time)."""
    names: dict[int, list[str]] = {agent.pk: [] for agent in agents}
    pairs = AgentTool.objects.filter(agent__in=list(names)).order_by("agent_id", "position")
    for agent_id, name in pairs.values_list("agent_id", "name"):
        names[agent_id].append(name)
    for agent in agents:
        agent.listed_tools = names[agent.pk]
    return agents


# Addresses under /agents/ that are pages, not agents: an agent so named gets another slug.
RESERVED_SLUGS = frozenset({"new", "activity", "review", "preview", "download", "download.zip"})


class Agent(models.Model):
    """A Claude Code subagent: its frontmatter fields, its tools, and its prompt."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        APPROVED = "approved", "Approved"
        ARCHIVED = "archived", "Archived"

    name = models.CharField(
        max_length=agentfile.MAX_LENGTH["name"],
        unique=True,
        help_text="Lowercase letters, digits and hyphens, e.g. code-reviewer.",
    )
    slug = models.CharField(
        max_length=210,
        unique=True,
        editable=False,
        help_text="The agent's address in the portal: its name made safe for a path.",
    )
    description = models.TextField(
        help_text="When Claude should hand work to this agent. 'Use proactively' encourages it."
    )
    path = models.CharField(
        max_length=paths.MAX_PATH_LENGTH,
        unique=True,
        blank=True,
        help_text="Where the file goes under .claude/agents/, e.g. "
        "engineering/code-reviewer.md (a new agent without one gets <name>.md). Imported "
        "agents keep the path they were imported from.",
    )
    model = models.CharField(
        max_length=agentfile.MAX_LENGTH["model"],
        blank=True,
        help_text="inherit, sonnet, opus, haiku, fable or a model id.",
    )
    color = models.CharField(max_length=agentfile.MAX_LENGTH["color"], blank=True)
    disallowed_tools = models.JSONField(
        default=list, blank=True, help_text="Tools this agent may never use, in file order."
    )
    permission_mode = models.CharField(
        max_length=agentfile.MAX_LENGTH["permissionMode"], blank=True
    )
    max_turns = models.PositiveIntegerField(null=True, blank=True)
    skills = YAMLField(blank=True, help_text="YAML list of skill names.")
    mcp_servers = YAMLField(
        blank=True, help_text="YAML list: server names or {name: {type, command, args}} maps."
    )
    hooks = YAMLField(blank=True, help_text="YAML mapping: event -> list of matchers.")
    memory = models.CharField(max_length=agentfile.MAX_LENGTH["memory"], blank=True)
    background = models.BooleanField(null=True, blank=True)
    effort = models.CharField(max_length=agentfile.MAX_LENGTH["effort"], blank=True)
    isolation = models.CharField(max_length=agentfile.MAX_LENGTH["isolation"], blank=True)
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
    maintainers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="maintained_agents",
        help_text="Authors who may edit this agent besides its owner.",
    )
    # Moved only by Agent.transition (a conditional UPDATE), never edited directly.
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    published_revision = models.ForeignKey(
        "Revision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        help_text="The approved file everyone downloads, until a newer revision is approved.",
    )
    latest_revision = models.ForeignKey(
        "Revision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        help_text="The newest saved file: what is in review, or being worked on.",
    )
    # The latest submission for review, and when it was: written by the workflow's submit
    # step, so that the review queue reads them from the row (sorted by an index) instead of
    # looking for each agent's latest "submit" event.
    submission = models.ForeignKey(
        "Event",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        help_text="The latest submission for review: who, when and the change note.",
    )
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the published revision was published (approved, or by the operator): written by the
    # workflow's publishing steps, so that a download's Last-Modified is read from the row
    # instead of looked for among the events (half the download's query time at 10,000 agents).
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AgentQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [
            # What lists filter on (not archived; published): counted from the index alone.
            # Status leads, so this index also serves every filter on the status alone. The id
            # last: a filter joined on the agent (the admin's tool filter) counts the agents
            # it keeps from the index too, not from the wide rows (migration 0018).
            models.Index(
                fields=["status", "published_revision", "id"], name="agents_agent_listing"
            ),
            # The review queue: agents in review, oldest submission first.
            models.Index(fields=["status", "submitted_at"], name="agents_agent_queue"),
        ]

    def __str__(self) -> str:
        return self.name

    # Moved only by the workflow (agents.workflow), under the agent's row lock.
    WORKFLOW_FIELDS = frozenset(
        {"status", "published_revision", "latest_revision", "submission", "submitted_at"}
    )

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save the agent's content; its workflow state is never written back as it was loaded.

        An instance loaded before someone submitted or approved the agent still holds the old
        state: saving its content must not undo that step. The slug follows the name; an
        agent saved without a path gets ``<name>.md`` (numbered if another agent has it).
        """
        self.slug = self._slug_for(self.name)
        if not self.path:
            self.path = self.free_path(paths.default_path(self.name))
        if self.pk is not None and not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in self.WORKFLOW_FIELDS
            ]
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("agents:detail", kwargs={"name": self.slug})

    def _slug_for(self, name: str) -> str:
        """The agent's address: its name made safe for a path (the stem of its download's file
        name; the name itself when it follows the pattern), numbered if another agent has it."""
        base = agentfile.file_stem(name)
        if base in RESERVED_SLUGS:
            base = f"{base}-agent"
        if self.slug in (base, *(f"{base}-{n}" for n in range(2, 100))) and self.slug:
            return self.slug
        others = Agent.objects.exclude(pk=self.pk) if self.pk else Agent.objects.all()
        taken = set(others.filter(slug__startswith=base).values_list("slug", flat=True))
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}-{n}"
        return candidate

    def free_path(self, path: str) -> str:
        """``path``, or the first of ``<path>-2.md``, ``-3``... that no other agent has."""
        others = Agent.objects.exclude(pk=self.pk) if self.pk else Agent.objects.all()
        stem = path[: -len(".md")]
        taken = set(others.filter(path__startswith=stem).values_list("path", flat=True))
        candidate, n = path, 1
        while candidate in taken:
            n += 1
            candidate = paths.numbered(path, n)
        return candidate

    def get_download_url(self) -> str:
        """Where the published file is downloaded: under the name inside it."""
        name = getattr(self, "published_name", None) or self.published_revision.name
        return reverse("agents:download", kwargs={"name": name})

    def published_name_clash(self, name: str) -> str:
        """Why this agent cannot take ``name``: another agent still publishes its file under
        that name (it was renamed, and the new name is not approved yet); or ''.

        Two agents with the same current name are refused by the unique column itself.
        """
        others = Agent.objects.exclude(pk=self.pk) if self.pk else Agent.objects.all()
        renamed = others.published_as(name).values_list("name", flat=True).first()
        if renamed is None:
            return ""
        return (
            f"{name} is the published name of the agent now called {renamed}: its file is "
            f"downloaded as {name}.md until its new name is approved. Choose another name."
        )

    @property
    def name_follows_pattern(self) -> bool:
        return bool(agentfile.NAME_RE.match(self.name))

    @property
    def is_downloadable(self) -> bool:
        return self.published_revision_id is not None and self.status != self.Status.ARCHIVED

    # --- revisions --------------------------------------------------------------------------

    def submitter_id(self) -> int | None:
        """Who submitted the agent most recently (None: nobody, or the operator)."""
        event = self.events.filter(action=Event.Action.SUBMIT).order_by("-created_at", "-pk")
        return event.values_list("actor_id", flat=True).first()

    def unpublished_authors(self) -> dict[int, int | None]:
        """Revision number -> author id, of the revisions saved since the published one (all of
        them if none was published): what approving now would publish, and who wrote it."""
        revisions = self.revisions.all()
        if self.published_revision_id is not None:
            published = Revision.objects.filter(pk=self.published_revision_id).values("number")
            revisions = revisions.filter(number__gt=models.Subquery(published))
        return dict(revisions.order_by("number").values_list("number", "author_id"))


class RevisionQuerySet(models.QuerySet):
    def for_history(self) -> RevisionQuerySet:
        """Newest first, with the author and ``was_published`` (ever approved or published)."""
        return (
            self.select_related("author")
            .annotate(was_published=models.Exists(_publishing_events()))
            .order_by("-number")
        )

    def published_at_some_point(self) -> RevisionQuerySet:
        """What people who cannot see drafts may see: revisions that were once published."""
        return self.filter(models.Exists(_publishing_events()))


class EventQuerySet(models.QuerySet):
    def for_trail(self) -> EventQuerySet:
        """Audit entries as lists show them: agent, actor and revision number, newest first."""
        return (
            self.select_related("agent", "actor")
            .annotate(revision_number=models.F("revision__number"))
            .order_by("-created_at", "-pk")
        )

    def publishing(self) -> EventQuerySet:
        return self.filter(action__in=PUBLISHING_ACTIONS)


def _publishing_events() -> models.QuerySet:
    return Event.objects.filter(revision=models.OuterRef("pk"), action__in=PUBLISHING_ACTIONS)


class Submission(Agent):
    """An agent as the review queue shows it: waiting for a reviewer's decision."""

    class Meta:
        proxy = True
        verbose_name = "submission"
        verbose_name_plural = "review queue"


class Revision(models.Model):
    """One saved version of an agent's file: never changed once written."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    name = models.CharField(
        max_length=agentfile.MAX_LENGTH["name"],
        db_index=True,
        help_text="The agent's name in this file.",
    )
    # What lists show of this file, kept with it: people who may not see drafts see these, not
    # the working copy's fields.
    description = models.TextField(blank=True)
    model = models.CharField(max_length=agentfile.MAX_LENGTH["model"], blank=True)
    color = models.CharField(max_length=agentfile.MAX_LENGTH["color"], blank=True)
    tools = models.JSONField(default=list, blank=True, help_text="The tools line, in order.")
    text = models.TextField(help_text="The exact file, as downloaded.")
    sha256 = models.CharField(max_length=64)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agent_revisions",
    )
    created_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=500, blank=True, help_text="What changed, and why.")
    # What lint says about this file, worked out once when the revision is recorded (a revision
    # never changes): pages, the catalog and the approval check read these, never lint again.
    lint_errors = models.PositiveIntegerField(
        default=0, help_text="Lint errors in this file: approving it is refused while any."
    )
    lint_warnings = models.PositiveIntegerField(default=0, help_text="Lint warnings in this file.")
    lint_findings = models.JSONField(
        default=list,
        blank=True,
        help_text="Every lint finding (rule, severity, message, line, field), notes included.",
    )

    objects = RevisionQuerySet.as_manager()

    class Meta:
        ordering = ["agent", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "number"], name="agents_revision_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.agent.name} r{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ImmutableRecord("A revision is never changed once saved.")
        super().save(*args, **kwargs)

    @property
    def findings(self) -> list[lint.Finding]:
        """What lint said about this file when it was recorded."""
        return report.from_record(self.lint_findings)

    @property
    def has_lint_problems(self) -> bool:
        return bool(self.lint_errors or self.lint_warnings)


class RevisionSearch(models.Model):
    """What full-text search reads of a revision, on PostgreSQL: its name, description and text
    as a ``tsvector``, written by a database trigger whenever a revision is (migration 0011),
    so that searching never has to parse a revision's text again. Other databases search the
    revisions themselves and leave this table empty."""

    revision = models.OneToOneField(
        Revision, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    document = SearchVectorField()

    def __str__(self) -> str:
        return f"search document of revision {self.revision_id}"


class Event(models.Model):
    """One entry of the audit trail: who did what to which agent and revision, and when."""

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        EDIT = "edit", "Edited"
        ROLLBACK = "rollback", "Restored an old revision"
        SUBMIT = "submit", "Submitted for review"
        WITHDRAW = "withdraw", "Withdrawn from review"
        APPROVE = "approve", "Approved"
        REQUEST_CHANGES = "request_changes", "Changes requested"
        PUBLISH = "publish", "Published by an operator"
        ARCHIVE = "archive", "Archived"
        RESTORE = "restore", "Restored from the archive"

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="events")
    revision = models.ForeignKey(
        Revision, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agent_events",
        help_text="Empty: the operator at the command line.",
    )
    actor_name = models.CharField(
        max_length=150,
        blank=True,
        editable=False,
        help_text="The actor's username when this happened: kept if the account is deleted.",
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    from_status = models.CharField(max_length=20, choices=Agent.Status.choices)
    to_status = models.CharField(max_length=20, choices=Agent.Status.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # An agent's latest event of a kind (its submitter, its last review, its trail).
            models.Index(
                fields=["agent", "action", "created_at"], name="agents_event_agent_action"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent.name}: {self.get_action_display()} by {self.who}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ImmutableRecord("The audit trail is never changed once written.")
        if self.actor is not None and not self.actor_name:
            self.actor_name = self.actor.get_username()
        super().save(*args, **kwargs)

    @property
    def who(self) -> str:
        """Who did it, as pages and mail say it."""
        return self.actor_name or "operator"


# The actions that make a revision the published one: what people without draft access see.
PUBLISHING_ACTIONS = (Event.Action.APPROVE, Event.Action.PUBLISH)


class AgentTool(models.Model):
    """One entry of an agent's ``tools`` line; order matters because the file keeps it."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="tool_entries")
    position = models.PositiveIntegerField()
    name = models.CharField(
        max_length=agentfile.MAX_TOOL_NAME_LENGTH,
        db_index=True,  # the tool filters (admin, catalog): = name, and LIKE 'name(%'
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
    title = models.CharField(
        max_length=agentfile.MAX_STEP_TITLE_LENGTH, blank=True, help_text="Written in bold."
    )
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


class StagedImport(models.Model):
    """An uploaded batch of agent files between its preview and its confirmation.

    Kept in the database, not in the form, so that a batch of any size within the limits reaches
    the confirmation (whichever app server takes it), and bound to the person who previewed it:
    nobody else can confirm it and become the owner of what it creates.
    """

    key = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staged_imports"
    )
    update = models.BooleanField(default=False, help_text="Replace agents that already exist.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"import {self.key[:8]} by {self.user}"


class StagedFile(models.Model):
    """One file of a staged import, as uploaded (a zip's members are stored one by one)."""

    batch = models.ForeignKey(StagedImport, on_delete=models.CASCADE, related_name="files")
    position = models.PositiveIntegerField()
    source = models.TextField(help_text="Where the file came from: its name, or archive:member.")
    path = models.TextField(blank=True, help_text="The path the agent keeps (Agent.path).")
    data = models.BinaryField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "position"], name="agents_stagedfile_unique_position"
            ),
        ]

    def __str__(self) -> str:
        return self.source


class OutgoingMailQuerySet(models.QuerySet):
    def due(self, now: Any = None) -> OutgoingMailQuerySet:
        """Messages waiting to be sent whose next try is due, oldest first."""
        return self.filter(
            status=OutgoingMail.Status.PENDING, next_attempt_at__lte=now or timezone.now()
        ).order_by("next_attempt_at", "pk")


class OutgoingMail(models.Model):
    """One e-mail the portal owes someone: written in the transaction of the event that calls
    for it, sent afterwards by the mail worker (``agents.notifications``), never by a request."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        SENT = "sent", "Sent"
        FAILED = "failed", "Given up"

    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.PROTECT, related_name="mails"
    )
    recipients = models.JSONField(default=list, help_text="E-mail addresses, all in To.")
    subject = models.TextField()
    body = models.TextField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, editable=False
    )
    attempts = models.PositiveIntegerField(default=0, editable=False)
    next_attempt_at = models.DateTimeField(default=timezone.now, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = OutgoingMailQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "outgoing mail"
        verbose_name_plural = "outgoing mail"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="agents_mail_due"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} (to {', '.join(self.recipients)})"


# --- Collections: agents handed out together, as a Claude Code plugin -----------------------

# Addresses under /collections/ that are pages, not collections.
RESERVED_COLLECTION_SLUGS = frozenset({"new", "add"})
MAX_COLLECTION_SLUG_LENGTH = 64


def validate_collection_slug(value: str) -> None:
    from django.core.exceptions import ValidationError

    if not agentfile.NAME_RE.match(value):
        raise ValidationError(
            "Use lowercase letters, digits and single hyphens, e.g. backend-team: it becomes the "
            "plugin's name, which people type in /plugin install."
        )
    if value in RESERVED_COLLECTION_SLUGS:
        raise ValidationError(f"{value} is the address of a page; choose another name.")


class CollectionQuerySet(models.QuerySet):
    def for_plugins(self, with_text: bool = False) -> CollectionQuerySet:
        """Collections with their owner, their plugin's last count, and their members in order,
        each with its agent and published revision (the file's text only when asked: building a
        zip needs it, listing versions and checksums does not)."""
        members = CollectionMember.objects.select_related("agent__published_revision").order_by(
            "position", "pk"
        )
        if not with_text:
            members = members.defer("agent__published_revision__text")
        return self.select_related("owner", "plugin").prefetch_related(
            models.Prefetch("members", queryset=members)
        )


class Collection(models.Model):
    """A named, ordered set of agents (``backend-team``), handed out as one Claude Code plugin
    that the portal's marketplace lists."""

    slug = models.CharField(
        max_length=MAX_COLLECTION_SLUG_LENGTH,
        unique=True,
        validators=[validate_collection_slug],
        verbose_name="name",
        help_text="Lowercase letters, digits and hyphens, e.g. backend-team: the plugin's name.",
    )
    title = models.CharField(max_length=200, help_text="What people see in lists.")
    description = models.TextField(
        blank=True, help_text="What the collection is for: the plugin's description."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agent_collections",
        help_text="The plugin's author; may edit the collection.",
    )
    keywords = models.JSONField(
        default=list, blank=True, help_text="Words people search the marketplace for."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CollectionQuerySet.as_manager()

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        return reverse("collection", kwargs={"slug": self.slug})


class CollectionMember(models.Model):
    """One agent of a collection, at its place in the collection's order."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="members")
    agent = models.ForeignKey(
        Agent, on_delete=models.CASCADE, related_name="collection_memberships"
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "agent"], name="agents_collection_member_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.collection.slug}: {self.agent.name}"


class CollectionPlugin(models.Model):
    """The plugin of a collection as last counted: its version number and its zip's checksum.

    Written only by ``agents.distribution.plugins`` under the collection's row lock, never by a
    form, so a page loaded before a change can never set the number back. ``content_key`` is a
    hash of everything the zip holds except the version; when what a collection would publish
    hashes differently, ``number`` goes up by one and ``sha256`` is the new zip's.
    """

    collection = models.OneToOneField(
        Collection, on_delete=models.CASCADE, related_name="plugin", editable=False
    )
    content_key = models.CharField(max_length=64, editable=False)
    number = models.PositiveIntegerField(default=0, editable=False)
    sha256 = models.CharField(max_length=64, editable=False)
    size = models.PositiveIntegerField(default=0, editable=False)
    built_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"{self.collection.slug} {self.version}"

    @property
    def version(self) -> str:
        """``1.<n>.0``: n counts the changes of the plugin's content since its first build."""
        return f"1.{self.number}.0"


# --- Access tokens: machines download without a password ------------------------------------


class AccessTokenQuerySet(models.QuerySet):
    def usable(self, now: Any = None) -> AccessTokenQuerySet:
        return self.filter(revoked_at=None, expires_at__gt=now or timezone.now())


class AccessToken(models.Model):
    """A secret a person gives a machine (Claude Code, a script) to act as them, read-only or
    not: only a hash of the secret is stored; the secret is shown once, when it is created."""

    class Scope(models.TextChoices):
        READ = "read", "Read: downloads, Claude Code's marketplace"
        WRITE = "write", "Read and write (the REST API)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens"
    )
    name = models.CharField(max_length=100, help_text="Where it is used, e.g. laptop, CI.")
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ)
    prefix = models.CharField(
        max_length=8, db_index=True, editable=False, help_text="The secret's first characters."
    )
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = AccessTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "access token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def state(self, now: Any = None) -> str:
        """'active', 'expired' or 'revoked', as the token pages say it."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= (now or timezone.now()):
            return "expired"
        return "active"
