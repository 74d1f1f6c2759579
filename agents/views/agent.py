"""An agent's page: its prompt, its exact file, tools, settings, state, the review conversation,
revisions and downloads, and the buttons for what the user may do.

Everything shown comes from one file: the published revision's text for people who may not see
drafts (never a field of the working copy, which may hold an unreviewed draft); for the people
who may see drafts, the working copy as it downloads (``filebridge.render``), with a switch to
the published file when the two differ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from django.contrib.auth.decorators import login_required
from django.db.models import F, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from .. import agentfile, filebridge, lint, permissions, toolinfo
from ..distribution import formats
from ..lint import report
from ..models import Agent, Event, Revision, Tool
from ..rendering import markdown_to_html
from .common import render_page, visible_agent
from .history import workflow_buttons

# The events that make up the review conversation, shown oldest first.
CONVERSATION = (
    Event.Action.SUBMIT,
    Event.Action.WITHDRAW,
    Event.Action.REQUEST_CHANGES,
    Event.Action.APPROVE,
    Event.Action.PUBLISH,
)
REVISIONS_SHOWN = 10

# What each frontmatter key (besides name, description and the tool lists) does, for people.
SETTINGS: dict[str, tuple[str, str]] = {
    "model": ("Model", "Which Claude model runs the agent."),
    "color": ("Colour", "How Claude Code shows the agent."),
    "permissionMode": ("Permission mode", "How the agent asks before acting."),
    "maxTurns": ("Max turns", "At most this many turns, then it stops."),
    "skills": ("Skills", "Skills loaded into the agent up front."),
    "mcpServers": ("MCP servers", "MCP servers the agent may use."),
    "hooks": ("Hooks", "Commands run on the agent's events."),
    "memory": ("Memory", "Where the agent keeps what it remembers."),
    "background": ("Background", "Whether it runs in the background."),
    "effort": ("Effort", "How hard the model thinks."),
    "isolation": ("Isolation", "Where it works: worktree means a git worktree of its own."),
    "initialPrompt": ("Initial prompt", "The first turn when run as the main agent."),
}
NOT_SETTINGS = frozenset({"name", "description", "tools", "disallowedTools"})


@dataclass(frozen=True)
class Version:
    """One file the page can show: the published one, or the draft."""

    key: str  # "published" or "draft"
    label: str
    text: str


@dataclass(frozen=True)
class Setting:
    key: str
    label: str
    value: str
    help: str
    block: bool = False  # YAML over several lines
    unknown: bool = False  # Claude Code ignores the key; the portal keeps it


@require_GET
@login_required
def detail(request: HttpRequest, name: str) -> HttpResponse:
    agent = visible_agent(request, name)
    user = request.user
    sees_drafts = permissions.can_see_drafts(user, agent)
    revisions = {
        revision.pk: revision
        for revision in Revision.objects.filter(
            pk__in=[agent.published_revision_id, agent.latest_revision_id]
        )
    }
    published = revisions.get(agent.published_revision_id)
    latest = revisions.get(agent.latest_revision_id)
    versions = file_versions(agent, sees_drafts, published, latest)
    shown = next(
        (version for version in versions if version.key == request.GET.get("version")),
        versions[0],
    )
    registry = Tool.registry()
    try:
        parsed: agentfile.ParsedFile | None = agentfile.parse(shown.text)
    except agentfile.AgentFileError:
        parsed = None  # never written by the portal; the exact file is still shown

    if shown.key == "published":
        shown_name, description = published.name, published.description
    else:
        shown_name, description = agent.name, agent.description
    findings = shown_findings(shown, published, latest, registry)
    events = permissions.visible_events(user, agent.events.filter(action__in=CONVERSATION))
    events = list(
        events.annotate(revision_number=F("revision__number")).order_by("created_at", "pk")
    )
    history = list(
        permissions.visible_revisions(agent, user)
        .for_history()
        .defer("text")[: REVISIONS_SHOWN + 1]
    )
    for newer, older in zip(history, history[1:], strict=False):
        newer.previous_number = older.number
    actions, approve_refusal = workflow_buttons(
        agent, user, latest.number if sees_drafts and latest else None
    )
    context = {
        "title": shown_name,
        "description": description,
        "agent": agent,
        "sees_drafts": sees_drafts,
        "published": published,
        "latest": latest,
        "versions": versions,
        "shown": shown,
        "prompt": prompt_html(parsed.body) if parsed else "",
        "parsed": parsed,
        "tools": tools_of(parsed, "tools", registry),
        "no_tools_line": parsed is not None and "tools" not in parsed.frontmatter,
        "no_tools_line_text": toolinfo.NO_TOOLS_LINE,
        "disallowed": tools_of(parsed, "disallowedTools", registry),
        "settings": settings_of(parsed),
        "findings": findings,
        "lint_summary": report.summary(findings),
        "events": events,
        "sent_back": sent_back(agent, events),
        "revisions": history[:REVISIONS_SHOWN],
        "more_revisions": len(history) > REVISIONS_SHOWN,
        "can_edit": permissions.can_edit(user, agent),
        "can_clone": permissions.can_author(user),
        "can_review": permissions.can_review(user) and agent.status == Agent.Status.IN_REVIEW,
        "actions": actions,
        "approve_refusal": approve_refusal,
        "next": request.get_full_path(),
        "other_formats": other_formats(agent, published),
    }
    return render_page(request, "portal/agent.html", context)


def shown_findings(
    shown: Version,
    published: Revision | None,
    latest: Revision | None,
    registry: dict[str, str | None],
) -> list[lint.Finding]:
    """What lint says about the file shown: stored with its revision, or (a working copy not
    saved as a revision yet, which only an import's repair leaves) worked out now."""
    for revision in (published, latest):
        if revision is not None and revision.text == shown.text:
            return report.by_severity(revision.findings)
    return report.by_severity(lint.lint_text(shown.text, registry=registry))


@dataclass(frozen=True)
class OtherFormat:
    label: str
    url: str
    file_name: str
    warnings: list[str]


def other_formats(agent: Agent, published: Revision | None) -> list[OtherFormat]:
    """The published file for each other assistant, with what it could not keep: shown before
    anyone downloads an agent that would silently lose ``Bash``."""
    if published is None or not agent.is_downloadable:
        return []
    shown = []
    for format_id, fmt in formats.FORMATS.items():
        if format_id == "claude":
            continue
        try:
            converted = formats.convert(published.text, format_id, filename=agent.path)
        except formats.ConversionError:
            continue  # not a file the portal wrote; the Claude Code file is still offered
        shown.append(
            OtherFormat(
                fmt.label,
                f"{agent.get_download_url()}?format={format_id}",
                converted.path.rsplit("/", 1)[-1],
                [warning.message for warning in converted.warnings],
            )
        )
    return shown


_HEADING_TAG_RE = re.compile(r"<(/?)h([1-6])\b")


def prompt_html(body: str) -> SafeString:
    """The prompt as HTML, its headings two levels down: they sit under the page's "Prompt"
    (an h2), so a prompt's "# Title" must not be a second h1 of the page."""
    html = markdown_to_html(body)  # sanitised: every "<h" left in it is a tag nh3 allowed
    demoted = _HEADING_TAG_RE.sub(lambda m: f"<{m[1]}h{min(int(m[2]) + 2, 6)}", html)
    return mark_safe(demoted)  # noqa: S308 -- only tag names of sanitised HTML changed


def sent_back(agent: Agent, events: list[Event]) -> Event | None:
    """The reviewer's request for changes the agent waits on, if it was sent back."""
    if agent.status != Agent.Status.CHANGES_REQUESTED:
        return None
    requests = [event for event in events if event.action == Event.Action.REQUEST_CHANGES]
    return requests[-1] if requests else None


def file_versions(
    agent: Agent, sees_drafts: bool, published: Revision | None, latest: Revision | None
) -> list[Version]:
    """The files the user may look at, the one shown by default first."""
    versions = []
    if sees_drafts:
        prefetch_related_objects([agent], "tool_entries", "sections", "steps")
        draft = filebridge.render(agent)
        if published is None or draft != published.text:
            if latest is not None and latest.text == draft:
                label = f"Draft, revision {latest.number}"
            else:
                label = "Draft (not saved as a revision yet)"
            versions.append(Version("draft", label, draft))
    if published is not None:
        versions.append(
            Version("published", f"Published, revision {published.number}", published.text)
        )
    return versions


def tools_of(
    parsed: agentfile.ParsedFile | None, key: str, registry: dict[str, str | None]
) -> list[toolinfo.ToolInfo]:
    if parsed is None:
        return []
    return [
        toolinfo.explain(name, registry)
        for name in agentfile.split_tools(parsed.frontmatter.get(key))
    ]


def settings_of(parsed: agentfile.ParsedFile | None) -> list[Setting]:
    """The file's other keys in file order: the documented ones explained, unknown ones kept."""
    if parsed is None:
        return []
    found = []
    for key, value in parsed.frontmatter.items():
        if key in NOT_SETTINGS or agentfile.is_empty(value):
            continue
        label, help_text = SETTINGS.get(key, (key, ""))
        text, block = as_text(value)
        found.append(Setting(key, label, text, help_text, block, unknown=key not in SETTINGS))
    if not any(setting.key == "model" for setting in found):
        inherit = Setting("model", "Model", "inherit", "Not set: the conversation's model.")
        found.insert(0, inherit)
    return found


def as_text(value: Any) -> tuple[str, bool]:
    """A frontmatter value as people read it: scalars as they are, the rest as YAML."""
    if isinstance(value, bool):
        return ("true" if value else "false"), False
    if isinstance(value, str | int | float):
        return str(value), "\n" in str(value)
    dumped = yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return dumped.rstrip("\n"), True
