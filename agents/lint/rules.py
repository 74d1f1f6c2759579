"""The rules about one agent file: a parsed file in, findings out. No database, no Django.

Each rule has an id, a severity and a message that says what is wrong and what to do; each finding
names the line and the field (a frontmatter key, or "body") it concerns, so that an editor can show
it next to that field. The loading rules are ``agentfile.parse``'s repairs and
``agentfile.validate``'s errors, turned into findings; the rest are here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import agentfile
from . import text as words

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITIES = (ERROR, WARNING, INFO)


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    summary: str


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        # Loading
        Rule("unreadable", ERROR, "the file cannot be read as an agent file"),
        Rule("not-loadable", ERROR, "Claude Code does not load the file as written"),
        Rule("loading-rule", ERROR, "a required field is missing or unusable"),
        Rule("invalid-value", WARNING, "a field has a value Claude Code does not accept"),
        # Tools
        Rule("tools-format", WARNING, "tools written in a form some versions misread"),
        Rule("legacy-tool", WARNING, "a legacy tool name, with its replacement"),
        Rule("unknown-tool", WARNING, "a tool name Claude Code does not know"),
        Rule("no-usable-tools", ERROR, "no tool in 'tools' resolves: the agent cannot start"),
        Rule("inherits-all-tools", WARNING, "no 'tools': every tool, MCP tools included"),
        Rule("read-only-with-write-tools", WARNING, "write tools granted, prompt says read-only"),
        Rule("prompt-needs-bash", WARNING, "prompt runs commands or tests, no Bash"),
        Rule("prompt-needs-web", WARNING, "prompt searches the web, no WebSearch/WebFetch"),
        Rule("prompt-needs-edit", WARNING, "prompt edits or writes files, no Edit/Write"),
        Rule("undeclared-mcp-server", WARNING, "an MCP tool of a server mcpServers leaves out"),
        # Delegation
        Rule("no-delegation-trigger", WARNING, "the description never says when to use it"),
        Rule("similar-descriptions", WARNING, "two descriptions Claude cannot tell apart"),
        # Context cost
        Rule("description-cost", INFO, "a long description, loaded for every installed agent"),
        Rule("description-budget", WARNING, "a collection's descriptions over the budget"),
        # Settings that do nothing
        Rule("ignored-in-plugin", WARNING, "hooks, mcpServers, permissionMode in a plugin"),
        Rule("unknown-model", WARNING, "a model Claude Code does not know"),
        Rule("unknown-key", INFO, "a key Claude Code ignores"),
    )
}

# A description longer than this gets a description-cost note. Claude Code warns when all
# installed agents' descriptions pass 15,000 tokens; 400 is the 97th percentile of the corpus.
DESCRIPTION_TOKEN_LIMIT = 400

WRITE_TOOLS = ("Write", "Edit", "NotebookEdit", "Bash", "PowerShell")
COMMAND_TOOLS = ("Bash", "PowerShell")
EDIT_TOOLS = ("Edit", "Write", "NotebookEdit")
WEB_TOOLS = ("WebSearch", "WebFetch")
PLUGIN_IGNORED_KEYS = ("hooks", "mcpServers", "permissionMode")
# MCP servers whose tools reach the web, by a word in the server's name.
_WEB_MCP_WORDS = (
    "search",
    "fetch",
    "web",
    "browser",
    "brave",
    "tavily",
    "exa",
    "firecrawl",
    "perplexity",
    "context7",
    "docs",
    "playwright",
    "puppeteer",
    "crawl",
    "chrome",
)
# Names people write for a tool Claude Code calls something else (other assistants' names too).
_TOOL_ALIASES = {
    "search": "Grep",
    "writefile": "Write",
    "readfile": "Read",
    "git": "Bash",
    "shell": "Bash",
    "terminal": "Bash",
    "runcommands": "Bash",
    "runtests": "Bash",
    "edit/editfiles": "Edit",
    "editfiles": "Edit",
    "fetch": "WebFetch",
    "websearch": "WebSearch",
    "codebase": "Grep",
    "task": "Agent",
}
_KEY_ALIASES = {
    "allowedtools": "tools",
    "allowed-tools": "tools",
    "allowed_tools": "tools",
    "tool": "tools",
    "role": "name",
}


@dataclass(frozen=True)
class Finding:
    """One thing lint has to say: which rule, how serious, what to do, and where."""

    rule: str
    severity: str
    message: str
    line: int | None = None
    field: str | None = None  # a frontmatter key, "body", or None for the whole file
    file: str | None = None  # set when linting several files (lint_collection, the CLI)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "severity": self.severity,
            "rule": self.rule,
            "field": self.field,
            "message": self.message,
        }


def finding(rule: str, message: str, line: int | None, field: str | None) -> Finding:
    return Finding(rule, RULES[rule].severity, message, line, field)


@dataclass(frozen=True)
class ContextCost:
    """What an agent costs in tokens (estimated; see ``text.ESTIMATE_METHOD``).

    The description is loaded into the main conversation for every installed agent; the prompt
    only into the agent's own context when it runs.
    """

    description: int
    examples: int  # of ``description``: the part in <example> blocks
    example_blocks: int
    prompt: int

    method = words.ESTIMATE_METHOD


def context_cost(parsed: agentfile.ParsedFile) -> ContextCost:
    description = _text(parsed.frontmatter.get("description"))
    examples = words.EXAMPLE_RE.findall(description)
    return ContextCost(
        description=words.estimate_tokens(description),
        examples=sum(words.estimate_tokens(example) for example in examples),
        example_blocks=len(examples),
        prompt=words.estimate_tokens(parsed.body),
    )


def lint_text(
    text: str | bytes,
    filename: str | None = None,
    *,
    registry: Mapping[str, str | None] | None = None,
    collection: str | None = None,
    description_limit: int = DESCRIPTION_TOKEN_LIMIT,
) -> list[Finding]:
    """Parse and lint a file; a file that cannot be parsed gives one ``unreadable`` error."""
    read = parse_for_lint(text, filename)
    if isinstance(read, Finding):
        return [read]
    parsed, body_line = read
    return lint(
        parsed,
        registry=registry,
        collection=collection,
        body_line=body_line,
        description_limit=description_limit,
    )


def parse_for_lint(
    text: str | bytes, filename: str | None = None
) -> tuple[agentfile.ParsedFile, int] | Finding:
    """(the parsed file, the line its body starts on), or the ``unreadable`` finding."""
    try:
        parsed = agentfile.parse(text, filename)
    except agentfile.AgentFileError as exc:
        return finding("unreadable", exc.message, exc.line, None)
    return parsed, body_line(text, parsed)


def body_line(text: str | bytes, parsed: agentfile.ParsedFile) -> int:
    """The line of ``text`` its body starts on (``parsed`` is ``agentfile.parse(text)``)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    text = text.removeprefix("\ufeff")
    if "\r" in text:  # one quick pass (a single character); most files have no CR to convert
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.count("\n", 0, len(text) - len(parsed.body)) + 1


def lint(
    parsed: agentfile.ParsedFile,
    *,
    registry: Mapping[str, str | None] | None = None,
    collection: str | None = None,
    body_line: int | None = None,
    description_limit: int = DESCRIPTION_TOKEN_LIMIT,
) -> list[Finding]:
    """Every finding about one parsed agent file, in line order.

    ``registry`` maps tool names to their replacement (``Tool.registry()`` in the portal; Claude
    Code's built-in list otherwise). ``collection`` names the plugin the agent ships in, if any.
    ``body_line`` is the file line the body starts on (worked out from the frontmatter if not
    given).
    """
    registry = registry if registry is not None else builtin_registry()
    agent = _Agent(parsed, registry, body_line)
    found: list[Finding] = []
    found += _loading(agent)
    found += _tools(agent)
    found += _delegation(agent)
    found += _cost(agent, description_limit)
    found += _settings(agent, collection)
    return sorted(found, key=lambda f: (f.line or 0, SEVERITIES.index(f.severity), f.rule))


def builtin_registry() -> dict[str, str | None]:
    """Claude Code's tool names without a database: each mapped to its replacement (or None)."""
    return dict.fromkeys(agentfile.BUILTIN_TOOLS) | dict(agentfile.LEGACY_TOOLS)


def diff_findings(
    old: Iterable[Finding], new: Iterable[Finding]
) -> tuple[list[Finding], list[Finding]]:
    """(added, removed) between two revisions' findings, compared by rule and message, not line:
    moving a paragraph does not make its warning new."""

    def key(f: Finding) -> tuple[str, str]:
        return f.rule, f.message

    old, new = list(old), list(new)
    remaining = Counter(key(f) for f in old)
    added = []
    for f in new:
        if remaining[key(f)] > 0:
            remaining[key(f)] -= 1
        else:
            added.append(f)
    remaining = Counter(key(f) for f in new)
    removed = []
    for f in old:
        if remaining[key(f)] > 0:
            remaining[key(f)] -= 1
        else:
            removed.append(f)
    return added, removed


# --- The agent as the rules see it ------------------------------------------------------------


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


class _Agent:
    """A parsed file with what several rules need worked out once."""

    def __init__(
        self,
        parsed: agentfile.ParsedFile,
        registry: Mapping[str, str | None],
        body_line: int | None,
    ):
        self.parsed = parsed
        self.fm = parsed.frontmatter
        self.registry = registry
        self.body_line = body_line if body_line is not None else _guess_body_line(parsed)
        self.description = _text(self.fm.get("description"))
        self.description_prose = words.EXAMPLE_RE.sub(
            lambda m: "\n" * m.group(0).count("\n"), self.description
        )
        self.body_prose = words.prose(parsed.body)
        self._said: dict[tuple[int, int], tuple[words.Phrase, int] | None] = {}

        self.tool_names = agentfile.split_tools(self.fm.get("tools"))
        self.wildcard = "*" in self.tool_names
        self.inherits_all = not self.tool_names or self.wildcard
        denied = {
            self._current(name)
            for name in agentfile.split_tools(self.fm.get("disallowedTools"))
            if not agentfile.TOOL_WITH_ARGS_RE.match(name)
        }
        self.denied = denied
        # Base names the agent gets (restricted forms such as Bash(git diff:*) kept apart).
        self.granted: set[str] = set()
        self.restricted: set[str] = set()
        self.mcp_tools: list[str] = []
        if self.inherits_all:
            self.granted = {name for name, repl in registry.items() if repl is None} - denied
        else:
            for name in self.tool_names:
                kind, _ = agentfile.classify_tool(name, registry)
                if kind == "mcp":
                    self.mcp_tools.append(name)
                    continue
                if kind == "unknown":
                    continue
                match = agentfile.TOOL_WITH_ARGS_RE.match(name)
                current = self._current(match.group(1) if match else name)
                if current in denied:
                    continue
                (self.restricted if match else self.granted).add(current)

    def _current(self, name: str) -> str:
        return self.registry.get(name) or name

    def line(self, key: str | None) -> int | None:
        return self.parsed.line_of(key)

    def first_line(self) -> int:
        return min(self.parsed.key_lines.values(), default=2) - 1

    def where(self, phrase: words.Phrase, in_description: bool) -> int:
        if not in_description:
            return self.body_line + phrase.line
        # A block scalar ("description: |") starts on the line after the key. Folded and quoted
        # values can join lines, so a phrase's line inside them is the nearest we can say.
        source = self.parsed.sources.get("description", "")
        head = source.split(":", 1)[1].lstrip(" ")[:1] if ":" in source else ""
        return (self.line("description") or 1) + phrase.line + (head in ("|", ">"))

    def say(self, patterns: list, unless_before=None) -> tuple[words.Phrase, int] | None:
        """The first phrase of ``patterns`` in the description or the body, with its file line."""
        # Several rules ask the same question (is it read-only? does it run commands?).
        key = (id(patterns), id(unless_before))
        if key not in self._said:
            self._said[key] = self._say(patterns, unless_before)
        return self._said[key]

    def _say(self, patterns: list, unless_before=None) -> tuple[words.Phrase, int] | None:
        for source, in_description in ((self.description_prose, True), (self.body_prose, False)):
            phrase = words.find(patterns, source, unless_before=unless_before)
            if phrase:
                return phrase, self.where(phrase, in_description)
        return None

    def has(self, tools: Iterable[str], restricted_too: bool = True) -> bool:
        pool = self.granted | (self.restricted if restricted_too else set())
        return any(tool in pool for tool in tools)


def _guess_body_line(parsed: agentfile.ParsedFile) -> int:
    """The body's first line from the frontmatter's key lines and sources (exact unless the last
    key was repaired)."""
    if not parsed.key_lines:
        return 1
    last = max(parsed.key_lines, key=parsed.key_lines.__getitem__)
    source = parsed.sources.get(last)
    size = source.count("\n") if source else 1
    return parsed.key_lines[last] + size + 1


# --- Loading ----------------------------------------------------------------------------------

# What parse repaired, said for someone fixing the file by hand (parse's own messages say what
# the portal did about it). Matched by the start of parse's message; anything else is quoted.
_REPAIRS = (
    ("removed a UTF-8 byte order mark", "it starts with a UTF-8 byte order mark: save it without"),
    ("converted CRLF", "it has CRLF (Windows) line endings: save it with LF endings"),
    ("removed", "blank lines come before the opening '---': it must be the first line"),
    ("closed the frontmatter with", "the frontmatter's closing line is not exactly '---'"),
    ("no 'name'", "it has no 'name': add one"),
)
_TOOLS_FORMAT = (
    (
        "is a YAML list",
        "'{key}' is a YAML list: some Claude Code versions lose its first and last "
        "entries; write a comma-separated string ('{key}: Read, Grep, Glob')",
    ),
    (
        "empty entry",
        "'{key}' has an empty entry (a stray comma), which makes some versions reject "
        "the whole line: remove it",
    ),
)


def _loading(agent: _Agent) -> list[Finding]:
    found = []
    for notice in agent.parsed.warnings:
        invalid_yaml = "is not valid YAML as written" in notice.message
        if notice.field in agentfile.TOOL_LIST_KEYS and not invalid_yaml:
            message = next(
                (
                    text.format(key=notice.field)
                    for start, text in _TOOLS_FORMAT
                    if start in notice.message
                ),
                notice.message,
            )
            found.append(finding("tools-format", message, notice.line, notice.field))
            continue
        if invalid_yaml:
            message = notice.message.split(";")[0].replace(" as written", "")
            message += ": put the value in double quotes"
        else:
            message = next(
                (text for start, text in _REPAIRS if notice.message.startswith(start)),
                notice.message,
            )
        found.append(
            finding(
                "not-loadable",
                f"Claude Code does not load this file: {message}",
                notice.line,
                notice.field,
            )
        )
    errors, warnings = agentfile.validate(agent.fm, agent.registry, strict=False)
    for notice in errors:
        found.append(
            finding("loading-rule", notice.message, agent.line(notice.field), notice.field)
        )
    for notice in warnings:
        if notice.field in agentfile.TOOL_LIST_KEYS:
            continue  # the tool rules below say it, with a suggestion
        rule = "unknown-model" if notice.field == "model" else "invalid-value"
        found.append(finding(rule, notice.message, agent.line(notice.field), notice.field))
    return found


# --- Tools ------------------------------------------------------------------------------------


def _tools(agent: _Agent) -> list[Finding]:
    found = []
    for key in agentfile.TOOL_LIST_KEYS:
        line = agent.line(key)
        for name in agentfile.split_tools(agent.fm.get(key)):
            if name == "*" and key == "tools":
                continue
            kind, replacement = agentfile.classify_tool(name, agent.registry)
            if kind == "legacy":
                found.append(
                    finding(
                        "legacy-tool",
                        f"{name!r} is a legacy tool name: Claude Code maps it to "
                        f"{replacement!r} today; write {replacement!r}",
                        line,
                        key,
                    )
                )
            elif kind == "unknown":
                found.append(finding("unknown-tool", _unknown_tool(name, key, agent), line, key))
    names = [name for name in agent.tool_names if name != "*"]
    if (
        names
        and not agent.wildcard
        and all(agentfile.classify_tool(name, agent.registry)[0] == "unknown" for name in names)
    ):
        found.append(
            finding(
                "no-usable-tools",
                "no tool in 'tools' is one Claude Code knows, so it refuses to start the agent "
                '("would be spawned with zero tools"): use names such as Read, Grep, Bash',
                agent.line("tools"),
                "tools",
            )
        )

    read_only = agent.say(words.READ_ONLY_FILES, words.READ_ONLY_MODE)
    no_commands = agent.say(words.READ_ONLY_COMMANDS)
    tools_line = agent.line("tools") or _tools_fallback_line(agent)
    if agent.inherits_all:
        found.append(
            finding("inherits-all-tools", _inherits_message(agent, read_only), tools_line, "tools")
        )

    forbidden: dict[str, tuple[words.Phrase, int]] = {}
    if read_only:
        for tool in WRITE_TOOLS:
            forbidden[tool] = read_only
    if no_commands:
        for tool in COMMAND_TOOLS:
            forbidden.setdefault(tool, no_commands)
    # A restricted Bash (Bash(git diff:*)) is how a read-only agent is given safe commands.
    granted = [tool for tool in WRITE_TOOLS if tool in forbidden and tool in agent.granted]
    if agent.inherits_all:
        granted = [tool for tool in granted if tool != "PowerShell"]  # Windows only: noise
    if granted:
        phrase, line = forbidden[granted[0]]
        how = "inherits" if agent.inherits_all else "grants"
        fix = "remove the tools it must not use"
        if "Bash" in granted and not agent.inherits_all:
            fix += ", restrict Bash to the commands it needs (e.g. 'Bash(git diff:*)')"
        found.append(
            finding(
                "read-only-with-write-tools",
                f'{how} {", ".join(granted)} but the prompt says "{phrase.text}" (line {line}): '
                f"{fix}, or change the sentence",
                tools_line,
                "tools",
            )
        )

    if not agent.inherits_all:
        found += _needs(agent, read_only, tools_line)
        found += _mcp_servers(agent)
    return found


def _tools_fallback_line(agent: _Agent) -> int:
    for key in ("allowedTools", "allowed-tools", "allowed_tools", "name", "description"):
        if agent.line(key):
            return agent.line(key)
    return agent.first_line()


def _unknown_tool(name: str, key: str, agent: _Agent) -> str:
    message = f"unknown tool {name!r} in {key}: Claude Code drops names it does not know"
    folded = {known.lower(): known for known in agent.registry}
    alias = _TOOL_ALIASES.get(name.lower())
    if name.lower() in folded:
        known = folded[name.lower()]
        replacement = agent.registry.get(known)
        hint = f"{known!r}" + (f" (today {replacement!r})" if replacement else "")
        return f"{message}; tool names are case-sensitive: write {hint}"
    if alias:
        return f"{message}; the Claude Code tool for this is {alias!r}"
    if agentfile.NAME_RE.match(name) and "-" in name:
        return (
            f"{message}; if it is an agent this one may start, write 'Agent({name})'; if an "
            f"MCP server, 'mcp__{name}'"
        )
    return (
        f"{message}; use a built-in tool (Read, Edit, Bash, ...) or an MCP tool written "
        "mcp__<server>__<tool>"
    )


def _inherits_message(agent: _Agent, read_only: tuple[words.Phrase, int] | None) -> str:
    if agent.wildcard:
        start = "'tools: *' grants every tool, as leaving 'tools' out does"
    else:
        start = "no 'tools': the agent inherits every tool"
    start += ", MCP tools included"
    if agent.denied:
        start += f", except {', '.join(sorted(agent.denied))}"
    for key in ("allowedTools", "allowed-tools", "allowed_tools"):
        if key in agent.fm:
            start += f" ('{key}' is not read by Claude Code: the key is 'tools')"
            suggested = agentfile.split_tools(agent.fm[key])
            break
    else:
        suggested = _suggest_tools(agent, read_only)
    return (
        f"{start}. Grant only what it needs; its prompt suggests 'tools: "
        f"{agentfile.join_tools(suggested)}'"
    )


def _suggest_tools(agent: _Agent, read_only: tuple[words.Phrase, int] | None) -> list[str]:
    tools = ["Read", "Grep", "Glob"]
    if not read_only and agent.say(words.SUGGESTS_EDITS, words.SOMEONE_ELSE):
        tools += ["Edit", "Write"]
    if not agent.say(words.READ_ONLY_COMMANDS) and (
        agent.say(words.NEEDS_COMMANDS, words.SOMEONE_ELSE)
        or words.shows_commands(agent.parsed.body)
    ):
        tools.append("Bash")
    if agent.say(words.NEEDS_WEB, words.SOMEONE_ELSE):
        tools += ["WebSearch", "WebFetch"]
    return [tool for tool in tools if tool not in agent.denied]


def _web_mcp(agent: _Agent) -> bool:
    servers = [tool.split("__")[1].lower() for tool in agent.mcp_tools if tool.count("__") >= 1]
    return any(word in server for server in servers for word in _WEB_MCP_WORDS)


def _needs(agent: _Agent, read_only: tuple[words.Phrase, int] | None, line: int) -> list[Finding]:
    found = []
    checks = [
        (
            "prompt-needs-bash",
            words.NEEDS_COMMANDS,
            agent.has(COMMAND_TOOLS),
            "Bash",
            "running commands",
        ),
        (
            "prompt-needs-web",
            words.NEEDS_WEB,
            agent.has(WEB_TOOLS) or _web_mcp(agent),
            "WebSearch, WebFetch",
            "reaching the web",
        ),
        (
            "prompt-needs-edit",
            words.NEEDS_EDITS,
            read_only is not None or agent.has(EDIT_TOOLS),
            "Edit, Write",
            "changing files",
        ),
    ]
    for rule, patterns, satisfied, tools, what in checks:
        if satisfied:
            continue
        said = agent.say(patterns, words.SOMEONE_ELSE)
        if said:
            phrase, at = said
            found.append(
                finding(
                    rule,
                    f"the prompt asks it to \"{phrase.text}\" (line {at}) but 'tools' grants no "
                    f"tool for {what}: add {tools}, or reword the prompt",
                    line,
                    "tools",
                )
            )
    return found


def _declared_servers(value: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(value, dict):
        return {str(key) for key in value}
    if isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                names.add(item)
            elif isinstance(item, dict):
                names.update(str(key) for key in item)
    elif isinstance(value, str):
        names.update(part.strip() for part in value.split(",") if part.strip())
    return names


def _mcp_servers(agent: _Agent) -> list[Finding]:
    declared = _declared_servers(agent.fm.get("mcpServers"))
    if not declared:
        return []
    found = []
    for tool in agent.mcp_tools:
        server = tool.split("__")[1]
        if server not in declared:
            found.append(
                finding(
                    "undeclared-mcp-server",
                    f"{tool!r} is a tool of the MCP server {server!r}, which 'mcpServers' does "
                    f"not declare (it declares {', '.join(sorted(declared))}): declare the "
                    "server, or fix the tool name",
                    agent.line("tools"),
                    "tools",
                )
            )
    return found


# --- Delegation -------------------------------------------------------------------------------


def _delegation(agent: _Agent) -> list[Finding]:
    if not agent.description.strip() or words.says_when_to_use(agent.description):
        return []
    return [
        finding(
            "no-delegation-trigger",
            "the description says what the agent is but never when to use it, so Claude "
            "rarely hands work to it: add a sentence such as 'Use proactively after ...' or "
            "'Use when ...'",
            agent.line("description"),
            "description",
        )
    ]


# --- Context cost -----------------------------------------------------------------------------


def cost_summary(cost: ContextCost) -> str:
    examples = (
        f" ({cost.examples:,} of them in {cost.example_blocks} <example> block"
        f"{'s' if cost.example_blocks != 1 else ''})"
        if cost.example_blocks
        else ""
    )
    return (
        f"description ~{cost.description:,} tokens{examples}, loaded into the main conversation "
        f"for every installed agent; prompt ~{cost.prompt:,} tokens, loaded when the agent runs "
        f"({cost.method})"
    )


def _cost(agent: _Agent, limit: int) -> list[Finding]:
    cost = context_cost(agent.parsed)
    if cost.description <= limit:
        return []
    advice = (
        "move the <example> blocks into the prompt or cut them"
        if cost.examples > cost.description / 2
        else "say in a sentence or two what it does and when to use it"
    )
    return [
        finding(
            "description-cost",
            f"{cost_summary(cost)}; over {limit:,} tokens: {advice}",
            agent.line("description"),
            "description",
        )
    ]


# --- Settings that do nothing -----------------------------------------------------------------


def _normal_key(key: str) -> str:
    return key.lower().replace("-", "").replace("_", "")


_KNOWN_BY_NORMAL = {_normal_key(key): key for key in agentfile.KNOWN_KEYS}


def _settings(agent: _Agent, collection: str | None) -> list[Finding]:
    found = []
    if collection is not None:
        for key in PLUGIN_IGNORED_KEYS:
            if key in agent.fm:
                found.append(
                    finding(
                        "ignored-in-plugin",
                        f"'{key}' does nothing here: Claude Code ignores it on agents that come "
                        f"from a plugin ({collection}); configure it in the plugin or the user's "
                        "settings, or remove it",
                        agent.line(key),
                        key,
                    )
                )
    for key in agent.fm:
        if key in agentfile.KNOWN_KEYS:
            continue
        guess = _KEY_ALIASES.get(key.lower()) or _KNOWN_BY_NORMAL.get(_normal_key(key))
        hint = f"; did you mean '{guess}'?" if guess else ""
        found.append(
            finding(
                "unknown-key",
                f"Claude Code ignores the key '{key}'{hint}",
                agent.line(key),
                key,
            )
        )
    return found
