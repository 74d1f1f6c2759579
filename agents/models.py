"""Agents as the portal stores them: every part of an agent file, editable on its own, with
immutable revisions of the file, a review workflow and an audit trail.

The bridge between rows and the file is here (``Agent.render`` / ``Agent.apply_file``); the file
format itself lives in ``agents.agentfile``; who may do what in ``agents.permissions``. State
changes go only through ``Agent.transition``, driven by the ``TRANSITIONS`` table.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from . import agentfile, permissions
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
        return self.select_related("owner").prefetch_related("tool_entries", "maintainers")

    def for_export(self) -> AgentQuerySet:
        return self.prefetch_related("tool_entries", "sections", "steps")

    def for_download(self) -> AgentQuerySet:
        return self.select_related("published_revision").prefetch_related("maintainers")

    def for_workflow(self) -> AgentQuerySet:
        """One agent for the history and workflow pages: maintainers for the permission checks."""
        return self.prefetch_related("maintainers")

    def listed(self) -> AgentQuerySet:
        """What lists show by default: everything but archived agents."""
        return self.exclude(status=Agent.Status.ARCHIVED)

    def in_review(self) -> AgentQuerySet:
        """The review queue: each agent with its submitter and submission time (one query)."""
        submits = Event.objects.filter(agent=models.OuterRef("pk"), action=Event.Action.SUBMIT)
        latest = submits.order_by("-created_at", "-pk")
        return (
            self.filter(status=Agent.Status.IN_REVIEW)
            .select_related("owner", "published_revision")
            .annotate(
                submitted_at=models.Subquery(latest.values("created_at")[:1]),
                submitted_by_id=models.Subquery(latest.values("actor_id")[:1]),
                submitted_by_name=models.Subquery(latest.values("actor__username")[:1]),
                submitted_note=models.Subquery(latest.values("comment")[:1]),
            )
            .order_by("submitted_at")
        )


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


class WorkflowError(Exception):
    """A state change or edit that cannot happen now; the message says why, for a person."""


class StaleEdit(WorkflowError):
    """Someone else saved the agent after the editor opened it."""

    def __init__(self, message: str, diff: str):
        super().__init__(message)
        self.diff = diff


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
    description = models.TextField(
        help_text="When Claude should hand work to this agent. 'Use proactively' encourages it."
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

    @property
    def is_downloadable(self) -> bool:
        return self.published_revision_id is not None and self.status != self.Status.ARCHIVED

    def can_edit(self, user: Any) -> bool:
        return permissions.can_edit(user, self)

    def can_view(self, user: Any) -> bool:
        return permissions.can_view(user, self)

    def can_see_drafts(self, user: Any) -> bool:
        return permissions.can_see_drafts(user, self)

    # --- revisions and workflow -----------------------------------------------------------

    def latest_revision(self) -> Revision | None:
        return self.revisions.order_by("-number").first()

    def check_editable(self) -> None:
        if self.status == self.Status.IN_REVIEW:
            raise WorkflowError(
                f"{self.name} is in review: withdraw it from review before changing it."
            )
        if self.status == self.Status.ARCHIVED:
            raise WorkflowError(f"{self.name} is archived: restore it before changing it.")

    def lock_for_edit(self, base_revision: int) -> None:
        """Hold the agent's row until the end of the transaction, or fail if someone saved a
        new revision since the editor loaded revision ``base_revision``.

        PostgreSQL blocks a second editor here until the first commits; SQLite runs write
        transactions one at a time (``transaction_mode=IMMEDIATE`` in settings).
        """
        Agent.objects.select_for_update().filter(pk=self.pk).values_list("pk").first()
        latest = self.latest_revision()
        if latest is not None and latest.number != base_revision:
            base = self.revisions.filter(number=base_revision).first()
            diff = unified_diff(
                base.text if base else "",
                latest.text,
                f"revision {base_revision} (what you opened)",
                f"revision {latest.number} (saved by {latest.author or 'someone'})",
            )
            raise StaleEdit(
                f"Someone else changed {self.name} while you were editing it: revision "
                f"{latest.number} was saved by {latest.author or 'someone'} at "
                f"{timezone.localtime(latest.created_at):%Y-%m-%d %H:%M}. Nothing of yours was "
                "saved; your changes are still in the form. Here is what they changed:",
                diff,
            )

    def record_revision(
        self, user: Any, note: str = "", action: str | None = None
    ) -> Revision | None:
        """Store the file as a new revision if it changed; an edit moves the agent to draft.

        Returns the new revision, or None when the rendered file is the same as the latest.
        Parallel saves take turns on the agent's row, so each gets the next number; a refused
        save leaves no revision behind.
        """
        with transaction.atomic():
            Agent.objects.select_for_update().filter(pk=self.pk).values_list("pk").first()
            text = Agent.objects.for_export().get(pk=self.pk).render()
            latest = self.latest_revision()
            if latest is not None and latest.text == text:
                return None
            self.check_editable()
            if action is None:
                action = Event.Action.EDIT if latest else Event.Action.CREATE
            # Refuse before writing: a revision always has its event, and its author is a user.
            refusal = self._permits(TRANSITIONS[action], user)
            if refusal:
                raise PermissionDenied(refusal)
            revision = Revision.objects.create(
                agent=self,
                number=(latest.number if latest else 0) + 1,
                text=text,
                sha256=hashlib.sha256(text.encode()).hexdigest(),
                author=user,
                note=note,
            )
            self.transition(action, user, comment=note, revision=revision)
        return revision

    def allowed_actions(self, user: Any) -> list[str]:
        """The workflow actions this user may take on the agent now (for buttons and menus)."""
        return [
            name
            for name, rule in TRANSITIONS.items()
            if rule.manual and self.status in rule.sources and self._permits(rule, user) is None
        ]

    def _permits(self, rule: Transition, user: Any) -> str | None:
        """Why the user may not take this step, or None if they may."""
        if not permissions.has_role(user, rule.role, self):
            return f"You may not {rule.verb} {self.name}: that needs the {rule.role} role."
        if rule.name == Event.Action.APPROVE and not permissions.is_operator(user):
            submitter = self.submitter_id()
            if submitter is not None and submitter == user.pk:
                return f"You submitted {self.name}; someone else has to approve it."
        return None

    def submitter_id(self) -> int | None:
        event = self.events.filter(action=Event.Action.SUBMIT).order_by("-created_at", "-pk")
        return event.values_list("actor_id", flat=True).first()

    def transition(
        self, action: str, user: Any, comment: str = "", revision: Revision | None = None
    ) -> Event:
        """Take one step of the workflow, or raise WorkflowError / PermissionDenied.

        The step is a conditional UPDATE (``WHERE status IN sources``): when two people act on
        the same agent at once, exactly one of them succeeds.
        """
        rule = TRANSITIONS[action]
        refusal = self._permits(rule, user)
        if refusal:
            raise PermissionDenied(refusal)
        comment = comment.strip()
        if rule.needs_comment and not comment:
            raise WorkflowError(
                f"Say what has to change: a comment is required to {rule.verb} {self.name}."
            )
        changes: dict[str, Any] = {"status": rule.target, "updated_at": timezone.now()}
        with transaction.atomic():
            if rule.publishes:
                revision = revision or self.latest_revision()
                if revision is None:
                    raise WorkflowError(f"{self.name} has no revision to publish yet.")
                changes["published_revision"] = revision
            before = self.status
            updated = Agent.objects.filter(pk=self.pk, status__in=rule.sources).update(**changes)
            if not updated:
                current = Agent.objects.filter(pk=self.pk).values_list("status", flat=True).first()
                label = self.Status(current).label.lower() if current else "deleted"
                raise WorkflowError(
                    f"{self.name} is {label} now, so it cannot be {rule.done}"
                    + (" (someone else acted on it first)." if current != before else ".")
                )
            event = Event.objects.create(
                agent=self,
                # Every entry names the revision it concerned: the agent's latest by default.
                revision=revision or self.latest_revision(),
                actor=user,
                action=action,
                from_status=before,
                to_status=rule.target,
                comment=comment,
            )
            for field, value in changes.items():
                setattr(self, field, value)
            transaction.on_commit(lambda: notify(event))
        return event

    def restore_revision(self, revision: Revision, user: Any) -> Revision | None:
        """Make an old revision the agent's content again, as a new draft revision."""
        with transaction.atomic():
            self.check_editable()
            self.apply_file(agentfile.parse(revision.text))
            return self.record_revision(
                user, note=f"Restored revision {revision.number}", action=Event.Action.ROLLBACK
            )

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


@dataclass(frozen=True)
class Transition:
    """One allowed step: from which states, to which state, by whom."""

    name: str
    sources: frozenset[str]
    target: str
    role: str
    verb: str  # "approve": in messages, "You may not approve ..."
    done: str  # "approved": "... so it cannot be approved"
    needs_comment: bool = False
    publishes: bool = False
    manual: bool = True  # offered as a button; edits and creation happen by saving


_S = Agent.Status
_EDITABLE = frozenset({_S.DRAFT, _S.CHANGES_REQUESTED, _S.APPROVED})
_ALL = frozenset(_S.values)

TRANSITIONS: dict[str, Transition] = {
    rule.name: rule
    for rule in [
        Transition("create", _ALL - {_S.ARCHIVED}, _S.DRAFT, permissions.EDITOR,
                   "create", "created", manual=False),
        Transition("edit", _EDITABLE, _S.DRAFT, permissions.EDITOR,
                   "edit", "edited", manual=False),
        Transition("rollback", _EDITABLE, _S.DRAFT, permissions.EDITOR,
                   "restore an old revision of", "rolled back", manual=False),
        Transition("submit", frozenset({_S.DRAFT, _S.CHANGES_REQUESTED}), _S.IN_REVIEW,
                   permissions.EDITOR, "submit", "submitted"),
        Transition("withdraw", frozenset({_S.IN_REVIEW}), _S.DRAFT, permissions.EDITOR,
                   "withdraw", "withdrawn"),
        Transition("approve", frozenset({_S.IN_REVIEW}), _S.APPROVED, permissions.REVIEWER,
                   "approve", "approved", publishes=True),
        Transition("request_changes", frozenset({_S.IN_REVIEW}), _S.CHANGES_REQUESTED,
                   permissions.REVIEWER, "request changes to", "sent back", needs_comment=True),
        Transition("publish", _EDITABLE | {_S.IN_REVIEW}, _S.APPROVED, permissions.ADMIN,
                   "publish", "published", publishes=True, manual=False),
        Transition("archive", _ALL - {_S.ARCHIVED}, _S.ARCHIVED, permissions.ADMIN,
                   "archive", "archived"),
        Transition("restore", frozenset({_S.ARCHIVED}), _S.DRAFT, permissions.ADMIN,
                   "restore", "restored"),
    ]
}  # fmt: skip


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

    def visible_to(self, user: Any) -> EventQuerySet:
        """Everything about the agents whose drafts the user may see; of the other agents the
        user may see, only the events that published a revision (the rest is about drafts)."""
        drafts = permissions.drafts_filter(user, "agent__")
        if drafts is None:
            return self
        viewable = permissions.view_filter(user, "agent__")
        return self.filter(drafts | (models.Q(action__in=PUBLISHING_ACTIONS) & viewable))


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
            raise WorkflowError("A revision is never changed once saved.")
        super().save(*args, **kwargs)


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
    action = models.CharField(max_length=20, choices=Action.choices)
    from_status = models.CharField(max_length=20, choices=Agent.Status.choices)
    to_status = models.CharField(max_length=20, choices=Agent.Status.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        who = self.actor or "operator"
        return f"{self.agent.name}: {self.get_action_display()} by {who}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise WorkflowError("The audit trail is never changed once written.")
        super().save(*args, **kwargs)


# The actions that make a revision the published one: what people without draft access see.
PUBLISHING_ACTIONS = (Event.Action.APPROVE, Event.Action.PUBLISH)


def unified_diff(old: str, new: str, old_label: str, new_label: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), old_label, new_label
        )
    )


def notify(event: Event) -> None:
    from .notifications import send_for

    send_for(event)


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
        max_length=agentfile.MAX_TOOL_NAME_LENGTH,
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
