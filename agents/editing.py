"""Saving an agent's content: what the editor page and the API write, one way.

A ``Draft`` is what a save would write: the agent's fields (on an unsaved copy), its tools in
order and its body as parts. Saving writes the fields and the rows, then records the revision
(``workflow.record_revision``), in one transaction; an update first takes the edit lock
(``workflow.lock_for_edit``), which refuses it when someone saved since ``base_revision``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from . import agentfile, filebridge, merging, workflow
from .agentfile import BodyPart
from .models import Agent, Revision


@dataclass
class Draft:
    """What the editor would save: the agent's fields (on an unsaved copy), its tools in order,
    and its body as parts."""

    agent: Agent
    tools: list[str]
    parts: list[BodyPart]

    @classmethod
    def of(cls, agent: Agent) -> Draft:
        """The agent as saved (loaded with ``Agent.objects.for_export()``)."""
        return cls(agent, filebridge.tool_names(agent), filebridge.body_parts(agent))

    @classmethod
    def from_version(cls, agent: Agent, version: merging.Version) -> Draft:
        """This version of ``agent``'s file, on a copy of it (its YAML as written is kept)."""
        copied = copy.copy(agent)
        filebridge.set_fields(copied, version.frontmatter)
        tools = agentfile.split_tools(version.frontmatter.get("tools"))
        return cls(copied, tools, list(version.parts))

    def render(self) -> str:
        return filebridge.render_parts(self.agent, self.tools, self.parts)

    def version(self) -> merging.Version:
        return merging.Version.of(filebridge.frontmatter(self.agent, self.tools), self.parts)


def from_file(agent: Agent, text: str) -> Draft:
    """What the file ``text`` makes of ``agent``, on a copy of it (nothing saved)."""
    copied = copy.copy(agent)
    parsed = agentfile.parse(text)
    filebridge.set_fields(copied, parsed.frontmatter)
    copied.yaml_sources = dict(parsed.sources)
    if parsed.prefix:
        copied.yaml_sources[filebridge.PREFIX_SOURCE] = parsed.prefix
    return Draft(
        copied,
        agentfile.split_tools(parsed.frontmatter.get("tools")),
        agentfile.split_body(parsed.body),
    )


def write(draft: Draft, user: Any, note: str) -> Revision | None:
    """Write the draft's fields and rows and record its revision (None: the file did not
    change). Call inside a transaction that holds the agent's row, or for a new agent."""
    agent = draft.agent
    agent.save()
    filebridge.write_rows(agent, draft.tools, draft.parts)
    return workflow.record_revision(agent, user, note=note)


def create(draft: Draft, user: Any, note: str) -> Revision | None:
    """Save a new agent owned by ``user``. Raises IntegrityError when its name is taken
    meanwhile (nothing is saved)."""
    draft.agent.owner = user
    with transaction.atomic():
        return write(draft, user, note)


def update(agent: Agent, draft: Draft, user: Any, note: str, base_revision: int) -> Revision | None:
    """Save a change to ``agent`` made from revision ``base_revision``. Raises StaleEdit (with
    the diff) when someone saved since, WorkflowError when it may not be edited now."""
    with transaction.atomic():
        workflow.lock_for_edit(agent, base_revision)
        return write(draft, user, note)
