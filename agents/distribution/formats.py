"""One agent file, written for another assistant: GitHub Copilot, OpenCode, Gemini CLI, Cursor.

Pure: an agent file's text (or an ``agentfile.ParsedFile``) in, ``Converted(path, text,
warnings)`` out; no ORM, no request. ``path`` is relative to the tool's own folder
(``FORMATS[id].folder``); ``install_path`` joins the two. The body (the system prompt) is kept
byte for byte; the frontmatter is rebuilt for the target and written by the portal's YAML dumper
(``agentfile.render`` for ``name``/``description``, which keeps the author's YAML for them when
it is still valid, ``agentfile.dump_yaml`` for the rest): LF endings, no BOM, ``---`` at byte 0.
Anything that cannot be carried becomes a warning (``agentfile.Notice`` with ``field`` set to
the Claude key concerned), never a silent loss.

How the rest of the portal calls it (wired by the lead after merging):

- ``manage.py export_agents --format copilot --out DIR``: for each agent's published text,
  ``c = convert(text, "copilot")``; write ``DIR/c.path`` (DIR is the tool's folder, e.g.
  ``.github/agents``), print ``warning: <c.path>: <message>`` for each of ``c.warnings``.
  ``--format claude`` (the default) keeps today's behaviour and the agent's own path.
- ``GET /agents/download.zip?format=copilot``: one member per agent at ``c.install_path``
  (``.github/agents/<name>.agent.md``, ``.opencode/agents/<name>.md``,
  ``.gemini/agents/<name>.md``, ``.cursor/agents/<name>.md``); the warnings of every agent go
  into the zip's README.md. An unknown ``format`` is a 400 with ``str(ConversionError)``.
- The agent page: one link per ``FORMATS`` entry (``label``) and, beside it, that format's
  warnings for the published revision, so nobody downloads an agent that silently lost ``Bash``.

Where each Claude Code field goes (sources: VS Code "Custom agents" and GitHub "Custom agents
configuration" for Copilot; opencode.ai "Agents" and "Permissions" (V1 docs; V2's migration
guide says V2 still reads V1 agent files) for OpenCode; gemini-cli docs/core/subagents.md and
docs/reference/tools.md for Gemini CLI; cursor.com/docs/subagents for Cursor; all read late 2026):

key              Copilot (.agent.md)     OpenCode                  Gemini CLI          Cursor
---------------  ----------------------  ------------------------  ------------------  -----------
name             name                    the file name (no key)    name (a slug)       name (slug)
description      description             description               description         description
tools            tools: list of aliases  permission: "*" deny,     tools: list of      readonly:
                 and <server>/*          then each tool allow/ask  Gemini tool names   true if no
disallowedTools  tools: what remains     permission: <tool> deny   tools: what remains tool writes
Agent(a, b)      agents: [a, b]          permission.task map       warning             warning
model            "Claude Sonnet 5.5      anthropic/<id>            warning             inherit
                 (copilot)"                                                            only
maxTurns         warning                 steps                     max_turns           warning
color            warning                 color (the portal's hex)  warning             warning
background       warning                 warning                   warning             is_backgr.
others           permissionMode, hooks, mcpServers, memory, skills, effort, isolation and
                 initialPrompt: a warning everywhere (nothing documented means the same); keys
                 Claude Code does not read either (version, tags, ...): one warning naming them.

Choices made where the documentation is unclear (conservative: never give an agent more than
it had without saying so, never write a value the target may refuse):

- Tool names go through ``TOOL_NAMES`` (the README's table is generated from it); legacy names
  are first mapped to their replacement (``agentfile.LEGACY_TOOLS``). One target name can cover
  several Claude tools (Copilot's ``edit`` = Edit, Write, NotebookEdit), but only tools of one
  kind (a test checks it): mapping never adds file writes or commands to an agent that had
  neither. When the agent denies one of them (``disallowedTools``), the name is withheld, with a
  warning if the agent named the tool it loses. An allowlist where nothing maps gives an empty
  list (no tools), never the target's "all tools" default.
- OpenCode: a granted tool that edits, runs commands or reaches the network is ``ask`` (Claude
  Code asks before those by default), the others ``allow``; ``external_directory`` and
  ``doom_loop`` keep OpenCode's default ``ask`` after the ``"*": deny``. Model aliases are
  written as the id they mean in Claude Code today (``ALIAS_MODEL_IDS``), with a warning that
  the alias no longer floats. No other keys: OpenCode V1 passes unknown keys to the provider.
- Copilot: ``model`` as the qualified name ``Claude Sonnet 5.5 (copilot)`` VS Code documents
  for handoffs (whether a given Claude model is offered depends on the user's Copilot plan).
  ``mcp-servers`` (GitHub's cloud agent only) and VS Code's preview agent hooks use other
  schemas than Claude's, so ``mcpServers``/``hooks`` are not translated. The tool list is always
  a YAML list (both documented), MCP tools as ``<server>/<tool>``.
- Gemini CLI refuses a model it does not know, and Claude ids are not Gemini models: ``model``
  is left out (the session's model is used), with a warning unless it was ``inherit``. MCP tools
  are named ``mcp_<server>_<tool>`` (the ``mcp_<server>_*`` wildcard its subagent page documents;
  older releases named a clashing tool ``<server>__<tool>``). The tracker and ``ask_user`` tools
  are on its tools reference page; whether every release gives them to subagents is not said.
- Cursor has no tool list, only ``readonly``; its model ids are not documented in a form that
  maps from Claude's, so only ``inherit`` is carried.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agents import agentfile
from agents.agentfile import Notice, ParsedFile

# --- The formats ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Format:
    """An assistant the portal can write an agent for, and where that assistant looks for it."""

    id: str
    label: str
    folder: str  # relative to a repository's root
    suffix: str  # the file name is <name><suffix>
    docs: str

    def file_name(self, name: str) -> str:
        return agentfile.file_stem(name) + self.suffix


# Bump when a converter changes what it writes: download ETags of converted files include it.
VERSION = 1

FORMATS: dict[str, Format] = {
    fmt.id: fmt
    for fmt in (
        Format(
            "claude",
            "Claude Code",
            ".claude/agents",
            ".md",
            "https://code.claude.com/docs/en/sub-agents",
        ),
        Format(
            "copilot",
            "GitHub Copilot / VS Code",
            ".github/agents",
            ".agent.md",
            "https://docs.github.com/copilot/reference/custom-agents-configuration",
        ),
        Format(
            "opencode",
            "OpenCode",
            ".opencode/agents",
            ".md",
            "https://opencode.ai/docs/agents",
        ),
        Format(
            "gemini",
            "Gemini CLI",
            ".gemini/agents",
            ".md",
            "https://github.com/google-gemini/gemini-cli/blob/main/docs/core/subagents.md",
        ),
        Format(
            "cursor",
            "Cursor",
            ".cursor/agents",
            ".md",
            "https://cursor.com/docs/subagents",
        ),
    )
}

# The formats whose tool vocabulary ``TOOL_NAMES`` maps to (Cursor has none; Claude is itself).
TOOL_FORMATS = ("copilot", "opencode", "gemini")


@dataclass(frozen=True)
class Converted:
    """An agent written for one assistant: where it goes, its text, and what could not come."""

    path: str  # relative to FORMATS[format_id].folder
    text: str
    warnings: tuple[Notice, ...] = ()
    format_id: str = "claude"

    @property
    def install_path(self) -> str:
        """Where the file goes in a repository: ``.github/agents/<name>.agent.md``."""
        return f"{FORMATS[self.format_id].folder}/{self.path}"


class ConversionError(ValueError):
    """The file cannot be written in the asked format (not an agent file, unknown format)."""


# --- Tool names ---------------------------------------------------------------------------------

# Claude Code tool -> the names that grant the same in each tool's vocabulary (copilot, opencode,
# gemini), or None when that tool has nothing equivalent. Copilot: its documented aliases (which
# also accept Claude's names); OpenCode: keys of its permission map; Gemini: its tool names.
TOOL_NAMES: dict[str, dict[str, tuple[str, ...] | None]] = {
    name: dict(zip(TOOL_FORMATS, row, strict=True))
    for name, row in {
        "Agent": (("agent",), ("task",), None),
        "Bash": (("execute",), ("bash",), ("run_shell_command",)),
        "Edit": (("edit",), ("edit",), ("replace",)),
        "Glob": (("search",), ("glob", "list"), ("glob", "list_directory")),
        "Grep": (("search",), ("grep",), ("grep_search",)),
        "Read": (("read",), ("read",), ("read_file", "read_many_files")),
        "Write": (("edit",), ("edit",), ("write_file",)),
        "NotebookEdit": (("edit",), ("edit",), None),
        "WebFetch": (("web",), ("webfetch",), ("web_fetch",)),
        "WebSearch": (("web",), ("websearch",), ("google_web_search",)),
        "TodoWrite": (("todo",), ("todowrite", "todoread"), ("write_todos",)),
        "Skill": (None, ("skill",), ("activate_skill",)),
        "TaskCreate": (("todo",), ("todowrite",), ("tracker_create_task",)),
        "TaskGet": (("todo",), ("todoread",), ("tracker_get_task",)),
        "TaskList": (("todo",), ("todoread",), ("tracker_list_tasks",)),
        "TaskUpdate": (("todo",), ("todowrite",), ("tracker_update_task",)),
        "TaskOutput": (None, None, None),
        "TaskStop": (None, None, None),
        "LSP": (None, ("lsp",), None),
        "Monitor": (None, None, None),
        "PowerShell": (("execute",), ("bash",), ("run_shell_command",)),
        "AskUserQuestion": (None, None, ("ask_user",)),
        "ToolSearch": (None, None, None),
        "EnterWorktree": (None, None, None),
        "ExitWorktree": (None, None, None),
        "SendMessage": (None, None, None),
        "Artifact": (None, None, None),
        "CronCreate": (None, None, None),
        "CronDelete": (None, None, None),
        "CronList": (None, None, None),
        "ListMcpResourcesTool": (None, None, None),
        "ReadMcpResourceTool": (None, None, None),
    }.items()
}

# Why a tool has no equivalent, where there is more to say than "none documented".
NO_EQUIVALENT_NOTES: dict[tuple[str, str], str] = {
    ("Agent", "gemini"): "Gemini CLI subagents cannot start other subagents",
}

# Tools that change files or run commands: an agent without any of them is read-only (Cursor's
# ``readonly: true``). No target name in TOOL_NAMES grants one of them unless it is mapped from
# one (a test checks it), so mapping never hands an agent a power it did not have.
MUTATING_TOOLS = frozenset({"Write", "Edit", "NotebookEdit", "Bash", "PowerShell"})

# OpenCode permission keys that Claude Code asks the user about by default: granted as "ask".
OPENCODE_ASK = frozenset({"edit", "bash", "webfetch", "websearch"})
# OpenCode's own defaults for its two safety guards, restored after a catch-all "*": deny.
OPENCODE_GUARDS = {"external_directory": "ask", "doom_loop": "ask"}

# What Claude Code's model aliases resolve to on the Anthropic API in late 2026 (Claude Code's
# model configuration page; CLI 2.1.284 and later for Sonnet 5.5). Other tools have no floating
# aliases for Claude models, so an alias is written as the model it means today, with a warning.
ALIAS_MODEL_IDS = {
    "sonnet": "claude-sonnet-5-5",
    "opus": "claude-opus-5-5",
    "haiku": "claude-haiku-5-5",
    "fable": "claude-fable-5-2",
}
_MODEL_ID_RE = re.compile(
    r"^claude-(?P<family>[a-z]+)-(?P<major>\d+)(?:-(?P<minor>\d{1,2}))?(?:-(?P<date>\d{8}))?$"
)
_OLD_MODEL_ID_RE = re.compile(  # claude-3-5-sonnet-20241022
    r"^claude-(?P<major>\d+)(?:-(?P<minor>\d{1,2}))?-(?P<family>[a-z]+)(?:-(?P<date>\d{8}|latest))?$"
)

# What each Claude Code key does, for the warning when a target has no equivalent.
KEY_MEANINGS = {
    "permissionMode": "the agent's permission mode",
    "hooks": "commands run on the agent's tool events",
    "mcpServers": "MCP servers started for this agent",
    "memory": "the agent's persistent memory",
    "skills": "skills preloaded into the agent",
    "effort": "the agent's reasoning effort",
    "isolation": "running the agent in its own git worktree",
    "initialPrompt": "a first turn when the agent runs as the main agent",
    "background": "always running the agent in the background",
    "maxTurns": "a cap on the agent's turns",
    "color": "the agent's colour",
}
_KEY_ADVICE = {
    "mcpServers": " Configure those servers in {label}'s own MCP settings; the agent's MCP tools "
    "are kept by name.",
    "hooks": " Set up equivalent hooks in {label}'s own settings if you need them.",
}

# The portal's colours (static/agents/portal.css), for OpenCode's hex ``color``.
COLOR_HEX = {
    "red": "#d92d20",
    "blue": "#2457c5",
    "green": "#1f9d55",
    "yellow": "#e3b505",
    "purple": "#7a3fd1",
    "orange": "#ee7d1f",
    "pink": "#db2777",
    "cyan": "#0891b2",
}

_HEX_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")  # OpenCode's colour form
COPILOT_MAX_PROMPT = 30_000  # GitHub's cloud agent reads at most this many characters of body
_SLUG_RE = re.compile(r"^[a-z0-9_-]+$")  # Gemini CLI's rule for a subagent name


# --- Entry point ------------------------------------------------------------------------------


def convert(
    source: str | bytes | ParsedFile, format_id: str, *, filename: str | None = None
) -> Converted:
    """The agent file ``source`` written for ``format_id`` (a key of ``FORMATS``).

    Raises ConversionError for an unknown format or a file that is not an agent file.
    """
    if format_id not in FORMATS:
        raise ConversionError(f"unknown format {format_id!r}: choose one of {', '.join(FORMATS)}")
    if isinstance(source, ParsedFile):
        parsed = source
    else:
        try:
            parsed = agentfile.parse(source, filename)
        except agentfile.AgentFileError as exc:
            raise ConversionError(f"not an agent file: {exc}") from None
    agent = _Agent.of(parsed)
    return _CONVERTERS[format_id](agent, FORMATS[format_id])


# --- What the Claude file says --------------------------------------------------------------


@dataclass
class _Tools:
    """The tools a Claude agent may use, resolved: builtins by their current names, MCP tools,
    Agent(...) limits, and what cannot be read."""

    listed: bool  # a ``tools`` allowlist is given; otherwise the agent inherits every tool
    named: list[str] = field(default_factory=list)  # builtins listed, current names, in order
    denied: set[str] = field(default_factory=set)  # builtins in disallowedTools
    mcp: list[tuple[str, str | None]] = field(default_factory=list)  # (server, tool or None)
    denied_mcp: list[str] = field(default_factory=list)  # as written
    agents: list[str] | None = None  # Agent(a, b) limits; None when unlimited
    with_args: list[str] = field(default_factory=list)  # Bash(git status:*) and the like
    unknown: list[str] = field(default_factory=list)
    written: dict[str, str] = field(default_factory=dict)  # current name -> legacy name used

    def shown(self, tool: str) -> str:
        """A tool as the author wrote it: 'Task (today Agent)' for a legacy name."""
        legacy = self.written.get(tool)
        return f"{legacy} (today {tool})" if legacy else tool

    @property
    def restricted(self) -> bool:
        return self.listed or bool(self.denied) or bool(self.denied_mcp)

    @property
    def granted(self) -> list[str]:
        """The builtins the agent may use, in a stable order."""
        pool = _unique(self.named) if self.listed else list(agentfile.BUILTIN_TOOLS)
        return [tool for tool in pool if tool not in self.denied]


@dataclass
class _Agent:
    parsed: ParsedFile
    name: str
    description: str
    tools: _Tools

    @property
    def frontmatter(self) -> dict[str, Any]:
        return self.parsed.frontmatter

    @property
    def body(self) -> str:
        return self.parsed.body

    @classmethod
    def of(cls, parsed: ParsedFile) -> _Agent:
        fm = parsed.frontmatter
        name, description = fm.get("name"), fm.get("description")
        if not isinstance(name, str) or not name.strip():
            raise ConversionError("the file has no name: every assistant needs one")
        if not isinstance(description, str) or not description.strip():
            raise ConversionError(
                "the file has no description: every assistant needs one to know when to use "
                "the agent"
            )
        try:
            tools = _resolve_tools(fm)
        except TypeError as exc:
            raise ConversionError(f"tools cannot be read: {exc}") from None
        return cls(parsed, name, description, tools)


_KNOWN_TOOLS: dict[str, str | None] = dict.fromkeys(agentfile.BUILTIN_TOOLS) | dict(
    agentfile.LEGACY_TOOLS
)


def _resolve_tools(fm: Mapping[str, Any]) -> _Tools:
    entries = agentfile.split_tools(fm.get("tools"))
    # "*" grants everything, as the linter reads it (agents/lint): the same as no tools key.
    listed = bool(entries) and "*" not in entries
    tools = _Tools(listed=listed)
    plain_agent = False
    for entry in entries if listed else []:
        kind, _replacement = agentfile.classify_tool(entry, _KNOWN_TOOLS)
        if kind == "mcp":
            tools.mcp.append(_mcp_parts(entry))
            continue
        if kind == "unknown":
            tools.unknown.append(entry)
            continue
        match = agentfile.TOOL_WITH_ARGS_RE.match(entry)
        written = match.group(1) if match else entry
        base = _current_name(written)
        if written != base:
            tools.written.setdefault(base, written)
        tools.named.append(base)
        if base == "Agent" and match:
            limits = [part.strip() for part in match.group(2).split(",") if part.strip()]
            tools.agents = (tools.agents or []) + limits
        elif base == "Agent":
            plain_agent = True
        elif match:
            tools.with_args.append(entry)
    if plain_agent:
        tools.agents = None
    for entry in agentfile.split_tools(fm.get("disallowedTools")):
        kind, _replacement = agentfile.classify_tool(entry, _KNOWN_TOOLS)
        if kind == "mcp":
            tools.denied_mcp.append(entry)
        elif kind != "unknown" and not agentfile.TOOL_WITH_ARGS_RE.match(entry):
            tools.denied.add(_current_name(entry))
        else:
            tools.unknown.append(entry)
    return tools


def _current_name(tool: str) -> str:
    return agentfile.LEGACY_TOOLS.get(tool, tool)


def _mcp_parts(entry: str) -> tuple[str, str | None]:
    server, _sep, tool = entry.removeprefix("mcp__").partition("__")
    return server, (tool if tool and tool != "*" else None)


def _mcp_name(server: str, tool: str | None) -> str:
    return f"mcp__{server}__{tool or '*'}"


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --- Building the target's tool list ----------------------------------------------------------


def _covered(format_id: str, term: str) -> set[str]:
    """The Claude tools a target name grants."""
    return {tool for tool, row in TOOL_NAMES.items() if term in (row[format_id] or ())}


def _tool_terms(agent: _Agent, fmt: Format, warnings: list[Notice]) -> list[str]:
    """The target names that grant what the agent may use, in order, with a warning for each
    tool left out and for each target name that grants more than the agent listed."""
    tools = agent.tools
    granted = tools.granted
    terms: list[str] = []
    for tool in granted:
        mapped = TOOL_NAMES[tool][fmt.id]
        if mapped is None:
            if tools.listed:
                note = NO_EQUIVALENT_NOTES.get((tool, fmt.id))
                warnings.append(
                    _notice(
                        f"{tools.shown(tool)} is left out: {fmt.label} has no equivalent tool"
                        + (f" ({note})" if note else ""),
                        "tools",
                    )
                )
            continue
        for term in mapped:
            clash = sorted(_covered(fmt.id, term) & tools.denied)
            if clash and tool in tools.named:
                warnings.append(
                    _notice(
                        f"{tools.shown(tool)} is left out: {fmt.label}'s {term!r} would also allow "
                        f"{', '.join(clash)}, which this agent denies",
                        "disallowedTools",
                    )
                )
            elif not clash and term not in terms:
                terms.append(term)
    for entry in tools.with_args:
        warnings.append(
            _notice(
                f"{entry}: {fmt.label} cannot limit a tool to some arguments; the agent gets the "
                f"whole {entry.split('(', 1)[0]} tool",
                "tools",
            )
        )
    _warn_unknown(tools, fmt, warnings)
    return terms


def _warn_unknown(tools: _Tools, fmt: Format, warnings: list[Notice]) -> None:
    for entry in tools.unknown:
        warnings.append(
            _notice(
                f"{entry!r} is not a Claude Code tool (Claude Code ignores it too); left out of "
                f"the {fmt.label} file",
                "tools",
            )
        )


def _warn_if_no_tools(agent: _Agent, terms: list[str], fmt: Format, warnings: list[Notice]) -> None:
    if agent.tools.listed and not terms:
        warnings.append(
            _notice(
                f"none of this agent's tools has an equivalent in {fmt.label}: it gets no tools",
                "tools",
            )
        )


# --- Models -----------------------------------------------------------------------------------


def _claude_model(
    agent: _Agent, fmt: Format, warnings: list[Notice], write: Callable[[str], str | None]
) -> str | None:
    """The agent's model as ``write`` names a full Claude model id for the target, or None
    (inherit, or nothing usable: with a warning)."""
    model = agent.frontmatter.get("model")
    if agentfile.is_empty(model) or model == "inherit":
        return None
    model_id = ALIAS_MODEL_IDS.get(model) if isinstance(model, str) else None
    if model_id is None and isinstance(model, str) and agentfile.MODEL_ID_RE.match(model):
        model_id = model
    written = write(model_id) if model_id else None
    if written is None:
        warnings.append(
            _notice(f"model {model!r} has no {fmt.label} equivalent; left out", "model")
        )
    elif model in ALIAS_MODEL_IDS:
        warnings.append(
            _notice(
                f"model {model!r} means the newest model of that family in Claude Code; "
                f"{fmt.label} gets {written!r}, the model it means today, and will not follow "
                "newer releases",
                "model",
            )
        )
    return written


def _drop_model(agent: _Agent, fmt: Format, warnings: list[Notice], why: str) -> None:
    model = agent.frontmatter.get("model")
    if not agentfile.is_empty(model) and model != "inherit":
        warnings.append(
            _notice(
                f"model {model!r} is left out ({why}); the agent uses the session's model", "model"
            )
        )


def copilot_model_name(model_id: str) -> str | None:
    """The qualified model name VS Code shows for a Claude model id: 'Claude Sonnet 4.5
    (copilot)' for claude-sonnet-4-5 or claude-sonnet-4-5-20250929; None if it is not one."""
    match = _MODEL_ID_RE.match(model_id) or _OLD_MODEL_ID_RE.match(model_id)
    if not match:
        return None
    version = match["major"] + (f".{match['minor']}" if match["minor"] else "")
    return f"Claude {match['family'].capitalize()} {version} (copilot)"


# --- Keys without an equivalent ---------------------------------------------------------------

_HANDLED = {"name", "description", "tools", "disallowedTools", "model"}


def _left_out(agent: _Agent, fmt: Format, carried: Iterable[str], warnings: list[Notice]) -> None:
    """A warning for each Claude Code key the target has no place for, and one for the keys
    Claude Code ignores too."""
    carried = set(carried) | _HANDLED
    extra = []
    for key, value in agent.frontmatter.items():
        if key in carried or agentfile.is_empty(value):
            continue
        if key not in KEY_MEANINGS:
            extra.append(key)
            continue
        shown = f" ({_summary(value)})"
        advice = _KEY_ADVICE.get(key, "").format(label=fmt.label)
        warnings.append(
            _notice(
                f"{key}{shown} is not carried: {fmt.label} has no equivalent of "
                f"{KEY_MEANINGS[key]}.{advice}",
                key,
            )
        )
    if extra:
        warnings.append(
            _notice(f"left out keys Claude Code does not read either: {', '.join(extra)}", extra[0])
        )


def _summary(value: Any) -> str:
    """A short reminder of a value: a scalar as written, the names in a list or mapping."""
    if isinstance(value, dict):
        return ", ".join(str(key) for key in value)
    if isinstance(value, list):
        return ", ".join(
            str(item) if not isinstance(item, dict) else ", ".join(map(str, item)) for item in value
        )
    return repr(value)


def _notice(message: str, key: str) -> Notice:
    return Notice(message, field=key)


# --- Writing ----------------------------------------------------------------------------------


def _write(agent: _Agent, frontmatter: Mapping[str, Any]) -> str:
    """The file: ``name``/``description`` through ``agentfile.render`` (the author's YAML kept
    when still valid), every other key through the portal's dumper, then the body as it was."""
    head_keys = [key for key in frontmatter if key in ("name", "description")]
    head = agentfile.render(
        {key: frontmatter[key] for key in head_keys},
        "",
        {key: agent.parsed.sources[key] for key in head_keys if key in agent.parsed.sources},
    )
    head = head.removeprefix("---\n").removesuffix("---\n")
    rest = "".join(
        agentfile.dump_yaml({key: value})
        for key, value in frontmatter.items()
        if key not in head_keys and value is not None
    )
    return f"---\n{head}{rest}---\n{agent.body}"


def _slug_name(agent: _Agent, fmt: Format, warnings: list[Notice]) -> str:
    """The agent's name as a slug (lowercase letters, digits, hyphens, underscores)."""
    if _SLUG_RE.match(agent.name):
        return agent.name
    slug = "-".join(re.findall(r"[a-z0-9]+", agent.name.lower())) or (
        "agent-" + hashlib.sha256(agent.name.encode()).hexdigest()[:8]
    )
    warnings.append(
        _notice(
            f"name {agent.name!r} is written {slug!r}: {fmt.label} names are lowercase letters, "
            "digits, hyphens and underscores",
            "name",
        )
    )
    return slug


# --- The converters ---------------------------------------------------------------------------


def _to_claude(agent: _Agent, fmt: Format) -> Converted:
    parsed = agent.parsed
    text = agentfile.render(parsed.frontmatter, parsed.body, parsed.sources, parsed.prefix)
    return Converted(fmt.file_name(agent.name), text, (), fmt.id)


def _to_copilot(agent: _Agent, fmt: Format) -> Converted:
    warnings: list[Notice] = []
    tools = agent.tools
    fm: dict[str, Any] = {"name": agent.name, "description": agent.description}
    if tools.restricted:
        terms = _tool_terms(agent, fmt, warnings)
        terms += _unique(f"{server}/{tool or '*'}" for server, tool in tools.mcp if tools.listed)
        _warn_if_no_tools(agent, terms, fmt, warnings)
        if not tools.listed:
            warnings.append(
                _notice(
                    f"{fmt.label} has no deny list: tools lists what remains once "
                    f"{', '.join(sorted(tools.denied) + tools.denied_mcp)} are taken away; "
                    "MCP servers' tools are not in it (add '<server>/*' to grant them)",
                    "disallowedTools",
                )
            )
        fm["tools"] = terms
        if tools.agents is not None and "agent" in terms:
            fm["agents"] = _unique(tools.agents)
    model = _claude_model(agent, fmt, warnings, copilot_model_name)
    if model:
        fm["model"] = model
    if len(agent.body) > COPILOT_MAX_PROMPT:
        warnings.append(
            _notice(
                f"the prompt is {len(agent.body):,} characters long; GitHub's cloud agent reads "
                f"at most {COPILOT_MAX_PROMPT:,} (VS Code reads it all)",
                "body",
            )
        )
    _left_out(agent, fmt, (), warnings)
    return _converted(agent, fmt, fm, warnings, fmt.file_name(agent.name))


def _to_opencode(agent: _Agent, fmt: Format) -> Converted:
    warnings: list[Notice] = []
    tools = agent.tools
    fm: dict[str, Any] = {"description": agent.description, "mode": "subagent"}
    model = _claude_model(agent, fmt, warnings, lambda model_id: f"anthropic/{model_id}")
    if model:
        fm["model"] = model
    carried = []
    color = agent.frontmatter.get("color")
    if isinstance(color, str) and (color in COLOR_HEX or _HEX_COLOR_RE.match(color)):
        fm["color"] = COLOR_HEX.get(color, color)
        carried.append("color")
    max_turns = agent.frontmatter.get("maxTurns")
    if isinstance(max_turns, int) and not isinstance(max_turns, bool) and max_turns > 0:
        fm["steps"] = max_turns
        carried.append("maxTurns")
    if tools.restricted:
        terms = _tool_terms(agent, fmt, warnings)
        permission: dict[str, Any] = {}
        if tools.listed:
            _warn_if_no_tools(agent, terms + [s for s, _t in tools.mcp], fmt, warnings)
            permission["*"] = "deny"
            permission.update(OPENCODE_GUARDS)
            for term in terms:
                permission[term] = "ask" if term in OPENCODE_ASK else "allow"
            if tools.agents is not None and "task" in permission:
                permission["task"] = {"*": "deny"} | dict.fromkeys(tools.agents, "allow")
            for server, tool in tools.mcp:
                permission[f"{server}_{tool or '*'}"] = "ask"
        else:
            for tool in sorted(tools.denied):
                for term in TOOL_NAMES.get(tool, {}).get(fmt.id) or ():
                    permission[term] = "deny"
            for entry in tools.denied_mcp:
                server, tool = _mcp_parts(entry)
                permission[f"{server}_{tool or '*'}"] = "deny"
        fm["permission"] = permission
    _left_out(agent, fmt, carried, warnings)
    return _converted(agent, fmt, fm, warnings, fmt.file_name(agent.name))


def _to_gemini(agent: _Agent, fmt: Format) -> Converted:
    warnings: list[Notice] = []
    tools = agent.tools
    name = _slug_name(agent, fmt, warnings)
    fm: dict[str, Any] = {"name": name, "description": agent.description}
    if tools.restricted:
        terms = _tool_terms(agent, fmt, warnings)
        if tools.listed:
            terms += _unique(f"mcp_{server}_{tool or '*'}" for server, tool in tools.mcp)
            _warn_if_no_tools(agent, terms, fmt, warnings)
        elif tools.denied_mcp:
            warnings.append(
                _notice(
                    f"{', '.join(tools.denied_mcp)} cannot be denied in {fmt.label} without "
                    "listing every other MCP tool; the agent gets no MCP tools",
                    "disallowedTools",
                )
            )
        else:
            terms.append("mcp_*")  # a deny list takes nothing from MCP tools
        if tools.agents is not None:
            warnings.append(
                _notice(
                    f"Agent({', '.join(tools.agents)}) is left out: Gemini CLI subagents cannot "
                    "start other subagents",
                    "tools",
                )
            )
        fm["tools"] = terms
    _drop_model(agent, fmt, warnings, "Gemini CLI runs Gemini models")
    carried = []
    max_turns = agent.frontmatter.get("maxTurns")
    if isinstance(max_turns, int) and not isinstance(max_turns, bool) and max_turns > 0:
        fm["max_turns"] = max_turns
        carried.append("maxTurns")
    _left_out(agent, fmt, carried, warnings)
    return _converted(agent, fmt, fm, warnings, fmt.file_name(name))


def _to_cursor(agent: _Agent, fmt: Format) -> Converted:
    warnings: list[Notice] = []
    tools = agent.tools
    name = _slug_name(agent, fmt, warnings)
    fm: dict[str, Any] = {"name": name, "description": agent.description}
    if agent.frontmatter.get("model") == "inherit":
        fm["model"] = "inherit"
    else:
        _drop_model(agent, fmt, warnings, "Cursor's model names are not Claude's")
    granted = set(tools.granted)
    readonly = not (granted & MUTATING_TOOLS)
    if readonly:
        fm["readonly"] = True
        if tools.mcp:
            warnings.append(
                _notice(
                    "readonly: true may also take away MCP tools in Cursor "
                    f"({', '.join(_mcp_name(server, tool) for server, tool in tools.mcp)})",
                    "tools",
                )
            )
    elif tools.restricted:
        if tools.listed:
            named = _unique(tools.named) + [_mcp_name(server, tool) for server, tool in tools.mcp]
            lost = f"limit this agent to {', '.join(named)}"
        else:
            lost = f"take {', '.join(sorted(tools.denied) + tools.denied_mcp)} away from this agent"
        keeps = ", ".join(sorted(granted & MUTATING_TOOLS))
        warnings.append(
            _notice(
                f"{fmt.label} has no tool list: it cannot {lost}; the agent gets every tool a "
                f"Cursor subagent has (readonly: true would take away {keeps} too)",
                "tools",
            )
        )
    if tools.agents is not None:
        warnings.append(
            _notice(
                f"Agent({', '.join(tools.agents)}): {fmt.label} cannot limit which subagents "
                "this one starts",
                "tools",
            )
        )
    for entry in tools.with_args:
        warnings.append(
            _notice(f"{entry}: {fmt.label} cannot limit a tool to some arguments", "tools")
        )
    _warn_unknown(tools, fmt, warnings)
    carried = []
    if agent.frontmatter.get("background") is True:
        fm["is_background"] = True
        carried.append("background")
    _left_out(agent, fmt, carried, warnings)
    return _converted(agent, fmt, fm, warnings, fmt.file_name(name))


def _converted(
    agent: _Agent, fmt: Format, fm: dict[str, Any], warnings: list[Notice], path: str
) -> Converted:
    return Converted(path, _write(agent, fm), tuple(warnings), fmt.id)


_CONVERTERS: dict[str, Callable[[_Agent, Format], Converted]] = {
    "claude": _to_claude,
    "copilot": _to_copilot,
    "opencode": _to_opencode,
    "gemini": _to_gemini,
    "cursor": _to_cursor,
}


# --- The README's table -----------------------------------------------------------------------


def tool_mapping_markdown() -> str:
    """The table of tool names the README shows (a test keeps the two the same)."""
    labels = [FORMATS[fmt].label for fmt in TOOL_FORMATS]
    lines = [
        "| Claude Code | " + " | ".join(labels) + " | Cursor |",
        "|---" * (len(labels) + 2) + "|",
    ]
    for tool, row in TOOL_NAMES.items():
        cells = [", ".join(f"`{term}`" for term in row[fmt]) if row[fmt] else "—" for fmt in row]
        cursor = "rules out `readonly: true`" if tool in MUTATING_TOOLS else "—"
        lines.append(f"| `{tool}` | " + " | ".join(cells) + f" | {cursor} |")
    lines.append(
        "| `mcp__server__tool` | `server/tool` | `server_tool` | `mcp_server_tool` | "
        "`readonly: true` may withhold it |"
    )
    lines.append(
        "| `mcp__server`, `mcp__server__*` | `server/*` | `server_*` | `mcp_server_*` | "
        "`readonly: true` may withhold it |"
    )
    lines.append(
        '| `Agent(a, b)` | `agent` + `agents: [a, b]` | `task: {"*": deny, a: allow, b: allow}` '
        "| — | — |"
    )
    legacy = ", ".join(f"`{old}` → `{new}`" for old, new in agentfile.LEGACY_TOOLS.items())
    return "\n".join(lines) + f"\n\nLegacy names are read as today's tool first: {legacy}.\n"
