"""Between an agent's rows and its file: render the rows as the file, apply a parsed file to the
rows. The format itself (parse, render, validate) is ``agents.agentfile``; this module only maps
its plain data onto the models and back.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from . import agentfile, bulk
from .models import Agent, AgentTool, InstructionStep, Section

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

# The key of ``Agent.yaml_sources`` that holds the comment lines a file had before its first key.
PREFIX_SOURCE = ""


# --- rows -> file -------------------------------------------------------------------------------


def tool_names(agent: Agent) -> list[str]:
    return [entry.name for entry in agent.tool_entries.all()]


def frontmatter(agent: Agent, tools: list[str] | None = None) -> dict[str, Any]:
    """Every key of the agent's file in file order; empty values are left for render to drop.

    ``tools`` stands in for the saved tool rows: what a form is about to save, so that an agent
    (saved or not) can be checked before its rows are written.
    """
    values: dict[str, Any] = {
        key: getattr(agent, field) for key, (field, _) in FIELD_FOR_KEY.items()
    }
    values["tools"] = tool_names(agent) if tools is None else list(tools)
    values["disallowedTools"] = list(agent.disallowed_tools or [])
    extras = dict(agent.extra_frontmatter or {})
    for key, value in extras.items():
        # A known key kept as written (wrong type) counts only while its field is empty.
        if agentfile.is_empty(values.get(key)):
            values[key] = value
    order = [key for key in agent.key_order if key in values]
    order += [key for key in agentfile.KNOWN_KEYS if key not in order]
    order += [key for key in extras if key not in order]
    return {key: values[key] for key in order}


def body_parts(agent: Agent) -> list[agentfile.BodyPart]:
    steps = [agentfile.Step(step.title, step.text) for step in agent.steps.all()]
    parts: list[agentfile.BodyPart] = []
    for section in agent.sections.all():
        if section.kind == Section.Kind.STEPS:
            parts.append(agentfile.BodyPart(steps=[], tight=section.tight))
        else:
            parts.append(agentfile.BodyPart(markdown=section.markdown))
    return place_steps(parts, steps)


def place_steps(
    parts: list[agentfile.BodyPart], steps: list[agentfile.Step]
) -> list[agentfile.BodyPart]:
    """The body ``parts`` with ``steps`` as its instruction steps: in its first steps part, or,
    when it has none, after the rest under their own heading."""
    parts = list(parts)
    at = next((index for index, part in enumerate(parts) if part.is_steps), None)
    if at is not None:
        parts[at] = agentfile.BodyPart(steps=list(steps), tight=parts[at].tight)
        return parts
    if steps:
        # Steps added to an agent whose body had none: give them their own heading, after a
        # blank line (a heading glued to the paragraph before it reads as part of it).
        if parts:
            parts[-1] = agentfile.BodyPart(
                markdown=agentfile.blank_line_after(agentfile.join_body(parts))
            )
            del parts[:-1]
        parts += [
            agentfile.BodyPart(markdown="## Instructions\n\n"),
            agentfile.BodyPart(steps=list(steps)),
        ]
    return parts


def body(agent: Agent) -> str:
    return agentfile.join_body(body_parts(agent))


def render(agent: Agent) -> str:
    """The exact file this agent exports to (load it with ``Agent.objects.for_export()``)."""
    return render_parts(agent, tool_names(agent), body_parts(agent))


def render_parts(agent: Agent, tools: list[str], parts: list[agentfile.BodyPart]) -> str:
    """The file of this agent's fields (saved or not) with these tools and this body: what
    ``render`` gives once the rows hold them. The editor's preview comes from here."""
    return agentfile.render(
        frontmatter(agent, tools=tools),
        agentfile.join_body(parts),
        agent.yaml_sources,
        agent.yaml_sources.get(PREFIX_SOURCE, ""),
    )


# --- file -> rows -------------------------------------------------------------------------------
#
# Each of these is all or nothing on its own; inside a caller's transaction they take no savepoint
# of their own (savepoint=False): what they can raise is a database error, after which the
# caller's transaction (or savepoint) is rolled back anyway. The importer saves a file in one
# savepoint instead of four.


Row = dict[str, Any]  # a new row's values by field name; the others take their defaults


@transaction.atomic(savepoint=False)
def apply_file(agent: Agent, parsed: agentfile.ParsedFile) -> None:
    """Make this agent (saved or not) hold exactly what the parsed file says."""
    set_file_fields(agent, parsed)
    new = agent._state.adding
    agent.save()
    write_rows(agent, *file_rows(parsed), new=new)


def create_agents(pairs: list[tuple[Agent, agentfile.ParsedFile]]) -> None:
    """New agents (unsaved, each with a free slug and path), each made to hold exactly what
    its parsed file says, saved together: one query for the agents, one each for all their
    tools, sections and steps. What ``apply_file`` does for one, for a batch of new agents."""
    for agent, parsed in pairs:
        set_file_fields(agent, parsed)
    bulk.insert_objects([agent for agent, _ in pairs])
    tools: list[Row] = []
    sections: list[Row] = []
    steps: list[Row] = []
    for agent, parsed in pairs:
        more_tools, more_sections, more_steps = row_objects(agent, *file_rows(parsed))
        tools += more_tools
        sections += more_sections
        steps += more_steps
    insert_rows(tools, sections, steps)


def set_file_fields(agent: Agent, parsed: agentfile.ParsedFile) -> None:
    """Set the agent's fields (not saved) to what the parsed file's frontmatter says."""
    set_fields(agent, parsed.frontmatter)
    agent.yaml_sources = dict(parsed.sources)
    if parsed.prefix:
        agent.yaml_sources[PREFIX_SOURCE] = parsed.prefix


def file_rows(parsed: agentfile.ParsedFile) -> tuple[list[str], list[agentfile.BodyPart]]:
    """The tools and the body parts a parsed file gives an agent's rows."""
    return agentfile.split_tools(parsed.frontmatter.get("tools")), agentfile.split_body(parsed.body)


@transaction.atomic(savepoint=False)
def apply_version(agent: Agent, values: dict[str, Any], parts: list[agentfile.BodyPart]) -> None:
    """Make this agent hold these frontmatter keys (tools included) and this body, keeping the
    YAML its keys were written in where it still says the same."""
    set_fields(agent, values)
    agent.save()
    write_rows(agent, agentfile.split_tools(values.get("tools")), parts)


def set_fields(agent: Agent, values: dict[str, Any]) -> None:
    """Set the agent's frontmatter fields (not saved) to exactly these keys, in this order;
    keys without a field of their own, or with a value of another type, go to the extra keys.
    ``tools`` is left for ``write_rows``."""
    extras: dict[str, Any] = {}
    for field, _ in FIELD_FOR_KEY.values():
        setattr(agent, field, agent._meta.get_field(field).get_default())
    agent.disallowed_tools = []
    for key, value in values.items():
        if key == "tools":
            continue
        if key == "disallowedTools":
            agent.disallowed_tools = agentfile.split_tools(value)
        elif key in FIELD_FOR_KEY and _fits(value, FIELD_FOR_KEY[key][1]):
            setattr(agent, FIELD_FOR_KEY[key][0], value)
        else:
            extras[key] = value
    for field, _ in FIELD_FOR_KEY.values():
        if getattr(agent, field) is None and not agent._meta.get_field(field).null:
            setattr(agent, field, "")
    agent.extra_frontmatter = extras or None
    agent.key_order = list(values)


@transaction.atomic(savepoint=False)
def write_rows(
    agent: Agent, tools: list[str], parts: list[agentfile.BodyPart], *, new: bool = False
) -> None:
    """Replace the saved agent's tool, section and step rows by these tools and this body.

    Markdown is stored one section a heading; the first steps part becomes the steps (an
    agent's body has one list of instruction steps). ``new``: the agent was created in this
    transaction, so it has no rows to delete yet.
    """
    if not new:
        agent.tool_entries.all().delete()
        agent.sections.all().delete()
        agent.steps.all().delete()
    insert_rows(*row_objects(agent, tools, parts))


def row_objects(
    agent: Agent, tools: list[str], parts: list[agentfile.BodyPart]
) -> tuple[list[Row], list[Row], list[Row]]:
    """The agent's tool, section and step rows for these tools and this body (not saved): for
    ``insert_rows``, which saves them (AgentTool, Section, InstructionStep)."""
    tool_rows = [
        {"agent_id": agent.pk, "position": position, "name": name}
        for position, name in enumerate(tools, 1)
    ]
    sections: list[Row] = []
    steps: list[Row] = []
    for part in parts:
        if part.is_steps and not steps:
            sections.append(
                {
                    "agent_id": agent.pk,
                    "position": len(sections) + 1,
                    "kind": Section.Kind.STEPS,
                    "tight": part.tight,
                }
            )
            steps = [
                {"agent_id": agent.pk, "position": n, "title": step.title, "text": step.text}
                for n, step in enumerate(part.steps, 1)
            ]
        else:
            text = (
                agentfile.render_steps(part.steps, part.tight) if part.is_steps else part.markdown
            )
            sections += [
                {"agent_id": agent.pk, "position": len(sections) + 1 + n, "markdown": markdown}
                for n, markdown in enumerate(agentfile.markdown_sections(text))
            ]
    return tool_rows, sections, steps


def insert_rows(tools: list[Row], sections: list[Row], steps: list[Row]) -> None:
    """Save new tool, section and step rows, each kind in one INSERT executed for every row
    (``bulk.insert_values``): for the importer, ``bulk_create`` spent ~60 us a row in Python
    building SQL, SQLite ~10."""
    for model, rows in ((AgentTool, tools), (Section, sections), (InstructionStep, steps)):
        bulk.insert_values(model, rows)


def _fits(value: Any, types: tuple[type, ...]) -> bool:
    if value is None:
        return True
    if isinstance(value, bool) and bool not in types:
        return False
    if int in types and isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return False
    return isinstance(value, types)
