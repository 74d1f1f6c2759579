"""The agent-file format: parse a Claude Code subagent file into plain data and render it back.

Pure functions only: no request, no ORM. The admin, the views, the API, the management commands and
the tests all come here to read, write or check a file.

A file is a YAML frontmatter between two ``---`` lines, then a Markdown body. ``parse`` is lenient
(CRLF, a BOM, ``tools`` as a list, an unquoted ``: `` in a value are repaired with a warning that
says so); ``render`` is strict and always writes a file Claude Code loads: ``---`` at byte 0, LF
endings, no BOM, ``tools`` as a comma string, empty keys left out, YAML written by PyYAML.

Fidelity: ``parse`` also returns, for every top-level key, the exact YAML text the author wrote
for it (``sources``). ``render`` writes that text back unchanged whenever it still parses to the
value being rendered and follows the loading rules, so a clean file is never rewritten; a changed
or repaired value is emitted by PyYAML in the style the author used (plain, quoted, block scalar)
when that style is valid.
"""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

# --- The vocabulary of the format (see docs/agent-file-format.md) -----------------------------

NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MODEL_ALIASES = ("inherit", "sonnet", "opus", "haiku", "fable")
MODEL_ID_RE = re.compile(r"^claude-[a-z0-9]+(?:[-.][a-z0-9]+)*$")
COLORS = ("red", "blue", "green", "yellow", "purple", "orange", "pink", "cyan")
PERMISSION_MODES = (
    "default",
    "acceptEdits",
    "auto",
    "dontAsk",
    "bypassPermissions",
    "plan",
    "manual",
)
MEMORY_SCOPES = ("user", "project", "local")
EFFORTS = ("low", "medium", "high", "xhigh", "max")
ISOLATIONS = ("worktree",)

# Claude Code's built-in tools, and the legacy names still found in files with the tool that
# replaced each (late 2026). The portal's Tool table starts from the same lists (migration 0002)
# and admins extend it; code without a database (the linter) uses these.
BUILTIN_TOOLS = (
    "Agent",
    "Bash",
    "Edit",
    "Glob",
    "Grep",
    "Read",
    "Write",
    "NotebookEdit",
    "WebFetch",
    "WebSearch",
    "TodoWrite",
    "Skill",
    "TaskCreate",
    "TaskGet",
    "TaskList",
    "TaskUpdate",
    "TaskOutput",
    "TaskStop",
    "LSP",
    "Monitor",
    "PowerShell",
    "AskUserQuestion",
    "ToolSearch",
    "EnterWorktree",
    "ExitWorktree",
    "SendMessage",
    "Artifact",
    "CronCreate",
    "CronDelete",
    "CronList",
    "ListMcpResourcesTool",
    "ReadMcpResourceTool",
)
LEGACY_TOOLS = {
    "MultiEdit": "Edit",
    "NotebookRead": "Read",
    "LS": "Glob",
    "Task": "Agent",
    "BashOutput": "TaskOutput",
    "KillShell": "TaskStop",
    "KillBash": "TaskStop",
    "SlashCommand": "Skill",
}
# What each built-in tool does, in one line: what the portal shows next to a tool's name.
TOOL_SUMMARIES = {
    "Agent": "Hands a task to another subagent; Agent(a, b) allows only those.",
    "Bash": "Runs shell commands.",
    "Edit": "Changes part of a file by replacing exact text.",
    "Glob": "Finds files by name pattern.",
    "Grep": "Searches file contents.",
    "Read": "Reads files: text, images, PDFs and notebooks.",
    "Write": "Creates a file or overwrites a whole file.",
    "NotebookEdit": "Edits the cells of a Jupyter notebook.",
    "WebFetch": "Fetches a web page and reads it.",
    "WebSearch": "Searches the web.",
    "TodoWrite": "Keeps a checklist of the work in hand.",
    "Skill": "Runs a skill or a slash command.",
    "TaskCreate": "Adds a task to the shared task list.",
    "TaskGet": "Reads one task of the task list.",
    "TaskList": "Lists the tasks of the task list.",
    "TaskUpdate": "Changes a task's status or details.",
    "TaskOutput": "Reads what a background command or task printed.",
    "TaskStop": "Stops a background command or task.",
    "LSP": "Asks a language server for definitions, references and diagnostics.",
    "Monitor": "Watches a background process and reacts to its output.",
    "PowerShell": "Runs PowerShell commands (Windows).",
    "AskUserQuestion": "Asks the user a question with choices.",
    "ToolSearch": "Finds and loads tools that are deferred, such as MCP tools.",
    "EnterWorktree": "Moves the session into a git worktree.",
    "ExitWorktree": "Leaves the git worktree.",
    "SendMessage": "Sends a message to another running agent.",
    "Artifact": "Creates a document or file to share.",
    "CronCreate": "Schedules a prompt to run repeatedly.",
    "CronDelete": "Deletes a scheduled prompt.",
    "CronList": "Lists the scheduled prompts.",
    "ListMcpResourcesTool": "Lists the resources MCP servers offer.",
    "ReadMcpResourceTool": "Reads one resource of an MCP server.",
}

# mcp__server, mcp__server__tool, mcp__server__*
MCP_TOOL_RE = re.compile(r"^mcp__[A-Za-z0-9_.-]+?(?:__(?:[A-Za-z0-9_.-]+|\*))?$")
# A tool with an argument, e.g. Agent(worker, researcher) or Bash(git status:*).
TOOL_WITH_ARGS_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\((.*)\)$", re.DOTALL)

# Keys Claude Code reads, in the order the portal writes a new file.
KNOWN_KEYS = (
    "name",
    "description",
    "tools",
    "disallowedTools",
    "model",
    "color",
    "permissionMode",
    "maxTurns",
    "skills",
    "mcpServers",
    "hooks",
    "memory",
    "background",
    "effort",
    "isolation",
    "initialPrompt",
)
TOOL_LIST_KEYS = ("tools", "disallowedTools")

MAX_FILE_BYTES = 1024 * 1024

# The longest text the portal stores for each of these keys: the database columns take their
# max_length from here, and validate() refuses a longer value before anything is saved.
MAX_LENGTH: dict[str, int] = {
    "name": 200,
    "model": 100,
    "color": 20,
    "permissionMode": 40,
    "memory": 20,
    "effort": 20,
    "isolation": 20,
}
MAX_TOOL_NAME_LENGTH = 300  # one entry of tools or disallowedTools
MAX_STEP_TITLE_LENGTH = 200  # a longer bold title stays part of the step's text
MAX_TURNS = 2**31 - 1  # PostgreSQL's integer; SQLite's is larger, so this is the one limit

# How much YAML aliases (*name) may repeat in one document, counting each value and each
# character of text once per time it is repeated. Aliases share one node, so reading stays
# cheap whatever they say; anything that walks the value (comparing, rendering, saving, turning
# it into text) pays for every repetition, and a few hundred bytes of nested aliases can ask for
# billions. Real files alias a tool list or a map now and then, far below this.
MAX_ALIAS_EXPANSION = 100_000

# libyaml's loader when PyYAML was built with it: same results, several times faster.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_HUGE_WIDTH = 2**30
_HUGE_NUMBER = 10**4000


# --- Results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """Something parse or validate has to say about a file: a repair made, or a problem found."""

    message: str
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class AgentFileError(ValueError):
    """The file cannot be read as an agent file; nothing of it should be saved."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class YAMLAliasError(AgentFileError):
    """A YAML document whose aliases expand too far or contain themselves (``line`` counts from
    the first line of the YAML text given to the loader)."""


@dataclass
class ParsedFile:
    """An agent file as plain data.

    ``frontmatter`` holds every key in file order with the value YAML gives it (``tools`` may be a
    string or a list, as written); ``sources`` the YAML text of each key as written, for ``render``
    to reuse; ``prefix`` any comment lines before the first key.
    """

    frontmatter: dict[str, Any]
    body: str
    sources: dict[str, str] = field(default_factory=dict)
    prefix: str = ""
    warnings: list[Notice] = field(default_factory=list)
    key_lines: dict[str, int] = field(default_factory=dict)  # key -> 1-based line in the file

    def line_of(self, key: str | None) -> int | None:
        return self.key_lines.get(key) if key else None


# --- Tools ----------------------------------------------------------------------------------


def split_tools(value: Any) -> list[str]:
    """The tool names a ``tools`` value lists, in order: a comma string or a YAML list.

    Commas inside parentheses belong to the tool (``Agent(worker, researcher)``); empty entries
    (a trailing comma) and empty values are dropped. Any other value that is not text or a list
    of texts is a TypeError (``validate`` says so first, with the line): a list or map is never
    turned into text, since its text can be any size (an alias bomb's runs to gigabytes).
    """
    if is_empty(value):
        return []
    if isinstance(value, list):
        names: list[str] = []
        for item in value:
            if not isinstance(item, str):
                raise TypeError(f"a tool name must be text, not {type(item).__name__}")
            names.extend(split_tools(item))
        return names
    if not isinstance(value, str):
        raise TypeError(f"tools must be text or a list, not {type(value).__name__}")
    text = value
    if "(" not in text:  # no parentheses: every comma separates (most lines; lint splits often)
        return [name for name in (part.strip() for part in text.split(",")) if name]
    names, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        if char == "," and depth == 0:
            names.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    names.append("".join(current).strip())
    return [name for name in names if name]


def join_tools(names: Iterable[str]) -> str:
    return ", ".join(names)


def tool_list_problem(key: str, value: Any) -> str:
    """Why a ``tools``/``disallowedTools`` value is not a list of tool names, or ''."""
    if is_empty(value) or isinstance(value, str):
        return ""
    if not isinstance(value, list):
        return (
            f"{key} must be tool names separated by commas, not {_kind(value)}: "
            "write e.g. 'Read, Grep, Bash'"
        )
    for position, item in enumerate(value, 1):
        if not isinstance(item, str):
            return (
                f"entry {position} of {key} is {_kind(item)}, not a tool name: list tool names "
                "as text, e.g. 'Read, Grep, Bash'"
            )
    return ""


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"true/false ({value!r})"
    if isinstance(value, int | float):
        return f"a number ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def classify_tool(name: str, known: Mapping[str, str | None]) -> tuple[str, str | None]:
    """('builtin'|'legacy'|'mcp'|'unknown', replacement) for a tool name.

    ``known`` maps each registered tool name to its current equivalent (None when it is current).
    """
    match = TOOL_WITH_ARGS_RE.match(name)
    base = match.group(1) if match else name
    if MCP_TOOL_RE.match(name):
        return "mcp", None
    if base in known:
        replacement = known[base]
        return ("legacy", replacement) if replacement else ("builtin", None)
    return "unknown", None


# --- Loading YAML ---------------------------------------------------------------------------


class BoundedLoader(_Loader):
    """PyYAML's safe loader, refusing a document whose aliases repeat more than
    ``MAX_ALIAS_EXPANSION`` values and characters, or contain themselves.

    Every YAML the portal reads goes through it (``load_yaml``). The document's nodes are
    measured once composed and before any value is built, each node once (aliases share
    nodes), so a refusal costs as little as reading the text.
    """

    def get_single_node(self) -> yaml.Node | None:
        node = super().get_single_node()
        if node is not None:
            _check_aliases(node)
        return node

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # PyYAML lets Python's own errors through for a date like 2024-02-30 or a number of
        # thousands of digits; a number Python cannot even print would fail later, anywhere.
        try:
            value = super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            problem = "a number of more than 4,000 digits" if "digits" in str(exc) else str(exc)
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read this value: {problem}", node.start_mark
            ) from None
        if isinstance(value, int) and abs(value) >= _HUGE_NUMBER:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                "cannot read this value: a number of more than 4,000 digits",
                node.start_mark,
            )
        return value


def load_yaml(text: str) -> Any:
    """The value of a YAML document (safe types only).

    Raises ``yaml.YAMLError`` for text that is not YAML, and ``YAMLAliasError`` (with the line of
    the key or item whose aliases go too far) for an alias bomb or a recursive alias.
    """
    return yaml.load(text, Loader=BoundedLoader)  # noqa: S506 (a safe loader)


class _AliasProblem(Exception):
    pass


def _check_aliases(root: yaml.Node) -> None:
    tops: list[tuple[str, yaml.Node, list[yaml.Node]]] = []  # what to call it, where, its nodes
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            label = f"'{key.value}'" if isinstance(key, yaml.ScalarNode) else "this key"
            tops.append((label, key, [key, value]))
    elif isinstance(root, yaml.SequenceNode):
        tops = [("this item", item, [item]) for item in root.value]
    sizes: dict[int, int] = {}  # id(node) -> its size with every alias expanded
    repeated = 0
    for label, start, nodes in tops:
        try:
            for node in nodes:
                repeated = _measure(node, sizes, repeated)
        except _AliasProblem as problem:
            if problem.args[0] == "recursive":
                message = (
                    f"{label} holds a YAML alias inside its own anchor (&name ... *name): "
                    "a value cannot contain itself"
                )
            else:
                message = (
                    f"YAML aliases (*name) in {label} repeat more than "
                    f"{MAX_ALIAS_EXPANSION:,} values and characters: refused as an alias bomb; "
                    "write the values out instead"
                )
            raise YAMLAliasError(message, start.start_mark.line + 1) from None


def _measure(top: yaml.Node, sizes: dict[int, int], repeated: int) -> int:
    """Record the expanded size of ``top`` and everything under it in ``sizes``; return
    ``repeated`` plus what aliases under it repeat. Iterative: nesting may be deep."""

    def own(node: yaml.Node) -> int:
        return 1 + len(node.value) if isinstance(node, yaml.ScalarNode) else 1

    def children(node: yaml.Node) -> Iterable[yaml.Node]:
        if isinstance(node, yaml.MappingNode):
            return (child for pair in node.value for child in pair)
        return iter(node.value) if isinstance(node, yaml.SequenceNode) else iter(())

    def seen_again(size: int) -> int:
        if repeated + size > MAX_ALIAS_EXPANSION:
            raise _AliasProblem("too big")
        return repeated + size

    if id(top) in sizes:  # the whole item is an alias
        return seen_again(sizes[id(top)])
    open_nodes = {id(top)}  # being measured: meeting one of them again is a cycle
    stack: list[list[Any]] = [[top, children(top), own(top)]]
    while stack:
        frame = stack[-1]
        child = next(frame[1], None)
        if child is None:
            stack.pop()
            open_nodes.discard(id(frame[0]))
            sizes[id(frame[0])] = frame[2]
            if stack:
                stack[-1][2] += frame[2]
        elif id(child) in open_nodes:
            raise _AliasProblem("recursive")
        elif id(child) in sizes:
            repeated = seen_again(sizes[id(child)])
            frame[2] += sizes[id(child)]
        else:
            open_nodes.add(id(child))
            stack.append([child, children(child), own(child)])
    return repeated


# --- Parsing --------------------------------------------------------------------------------

_CLOSING_RE = re.compile(r"^-{3,}[ \t]*$")
# Control characters, and those that end a line somewhere (YAML 1.1, str.splitlines).
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_TOP_KEY_RE = re.compile(r"^([^\s#:\-?\[\]{},&*!|>'\"%@`][^:\n]*?)\s*:(?=\s|$)")


def parse(raw: bytes | str, filename: str | None = None) -> ParsedFile:
    """Read an agent file. Raises AgentFileError (with a line) when it cannot be an agent file.

    A file without a ``name`` gets one from ``filename`` (Claude Code would skip it otherwise).
    """
    warnings: list[Notice] = []
    text = _decode(raw)
    if text.startswith("\ufeff"):
        text = text[1:]
        warnings.append(Notice("removed a UTF-8 byte order mark before the frontmatter", 1))
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        warnings.append(Notice("converted CRLF line endings to LF", 1))

    lines = text.split("\n")
    start = 0
    while start < len(lines) and lines[start].strip() == "":
        start += 1
    if start >= len(lines) or lines[start].rstrip() != "---":
        misplaced = next(
            (
                i
                for i, line in enumerate(lines[:-1])
                if line.strip() == "---" and re.match(r"\s*(name|description)\s*:", lines[i + 1])
            ),
            None,
        )
        if misplaced is not None:
            raise AgentFileError(
                "the frontmatter must be the very first thing in the file: the '---' block here "
                "is indented or comes after other text (a heading, a code fence), so Claude Code "
                "would not see it",
                misplaced + 1,
            )
        raise AgentFileError(
            "no frontmatter: an agent file must start with a line '---', then YAML keys such as "
            "'name:' and 'description:', then another '---' line",
            1,
        )
    if start:
        warnings.append(Notice(f"removed {start} blank line(s) before the opening '---'", 1))
    if lines[start] != "---":
        warnings.append(Notice("removed spaces after the opening '---'", start + 1))
    end = next((i for i in range(start + 1, len(lines)) if _CLOSING_RE.match(lines[i])), None)
    if end is None:
        raise AgentFileError(
            "the frontmatter opened by '---' on this line is never closed by another '---' line",
            start + 1,
        )
    if lines[end] != "---":
        warnings.append(
            Notice(f"closed the frontmatter with '---' instead of {lines[end]!r}", end + 1)
        )
    first_yaml_line = start + 2  # 1-based file line of the first frontmatter line
    fm_text = "".join(line + "\n" for line in lines[start + 1 : end])
    body = "\n".join(lines[end + 1 :])

    frontmatter, sources, prefix, key_lines = _load_frontmatter(fm_text, first_yaml_line, warnings)
    for key in TOOL_LIST_KEYS:
        value = frontmatter.get(key)
        line = key_lines.get(key)
        if isinstance(value, list):
            warnings.append(
                Notice(
                    f"'{key}' is a YAML list; it will be written as a comma-separated string "
                    "(some Claude Code versions lose the first and last entries of a list)",
                    line,
                    key,
                )
            )
        elif isinstance(value, str) and "" in [part.strip() for part in value.split(",")]:
            warnings.append(
                Notice(f"'{key}' has an empty entry (a stray comma); it will be dropped", line, key)
            )
    if filename and is_empty(frontmatter.get("name")):
        name = name_from_filename(filename)
        if name:
            sources.pop("name", None)
            frontmatter = {"name": name, **frontmatter} | {"name": name}
            warnings.append(
                Notice(
                    f"no 'name' (Claude Code skips such a file); named it {name!r} after the file",
                    start + 1,
                    "name",
                )
            )
    return ParsedFile(frontmatter, body, sources, prefix, warnings, key_lines)


def name_from_filename(filename: str) -> str:
    """A valid agent name made from a file name: 'Code Reviewer.md' -> 'code-reviewer'."""
    stem = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem = stem[: -len(".md")] if stem.lower().endswith(".md") else stem
    return "-".join(re.findall(r"[a-z0-9]+", stem.lower()))


def file_stem(name: str) -> str:
    """The file name (without .md) an agent is written to: its name, made safe for a path."""
    stem = re.sub(r"[^\w.-]+", "-", name).strip(".-")
    return stem or "agent"


def _decode(raw: bytes | str) -> str:
    if isinstance(raw, str):
        if "\x00" in raw:
            raise AgentFileError(
                "binary content: the file contains NUL bytes", _line_of(raw, "\x00")
            )
        return raw
    if len(raw) > MAX_FILE_BYTES:
        raise AgentFileError(
            f"file too large: {len(raw):,} bytes; an agent file may be at most "
            f"{MAX_FILE_BYTES:,} bytes"
        )
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise AgentFileError("binary content: the file contains NUL bytes", line)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise AgentFileError(
            f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset {exc.start} is invalid", line
        ) from None


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


_Loaded = tuple[dict[str, Any], dict[str, str], str, dict[str, int]]


def _load_frontmatter(fm_text: str, first_line: int, warnings: list[Notice]) -> _Loaded:
    try:
        return _load_mapping(fm_text, first_line)
    except yaml.YAMLError as exc:
        original_error = exc
    repaired = _repair(fm_text, first_line, warnings)
    if repaired is None:
        raise AgentFileError(
            _yaml_message(original_error), _yaml_line(original_error, fm_text, first_line)
        )
    return repaired


def _load_mapping(fm_text: str, first_line: int) -> _Loaded:
    if not fm_text.strip():
        raise AgentFileError("the frontmatter is empty: it needs at least 'name' and 'description'")
    loader = BoundedLoader(fm_text)
    try:
        try:
            node = loader.get_single_node()
        except YAMLAliasError as exc:
            raise AgentFileError(exc.message, first_line + exc.line - 1) from None
        if not isinstance(node, yaml.MappingNode):
            raise AgentFileError(
                "the frontmatter must be YAML 'key: value' lines, not a single value or a list",
                first_line,
            )
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            key_line = first_line + key_node.start_mark.line
            if not isinstance(key_node, yaml.ScalarNode):
                raise AgentFileError("a frontmatter key must be a plain word", key_line)
            if key_node.value in seen:
                raise AgentFileError(
                    f"duplicate key '{key_node.value}' (first on line {seen[key_node.value]}): "
                    "YAML keeps only the last one, so the file is ambiguous",
                    key_line,
                )
            seen[key_node.value] = key_line
        data = loader.construct_document(node)
    finally:
        loader.dispose()
    frontmatter: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str):
            line = seen.get(str(key), first_line)
            raise AgentFileError(f"frontmatter key {key!r} is not text", line)
        frontmatter[key] = value

    lines = _yaml_lines(fm_text)
    starts = [key_node.start_mark.line for key_node, _ in node.value]
    prefix = "".join(lines[: starts[0]])
    sources = {}
    for index, (key_node, _) in enumerate(node.value):
        stop = starts[index + 1] if index + 1 < len(starts) else len(lines)
        sources[key_node.value] = "".join(lines[starts[index] : stop])
    return frontmatter, sources, prefix, seen


_YAML_LINE_RE = re.compile(r"[^\n\x85\u2028\u2029]*(?:[\n\x85\u2028\u2029]|\Z)")


def _yaml_lines(text: str) -> list[str]:
    """Lines as YAML counts them (its marks' line numbers), each with its line break.

    ``str.splitlines`` also breaks at form feeds and other separators YAML keeps inside values.
    """
    return [line for line in _YAML_LINE_RE.findall(text) if line]


def _yaml_message(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"the frontmatter is not valid YAML: {problem}"


def _yaml_line(exc: yaml.YAMLError, fm_text: str, first_line: int) -> int:
    problem = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context_mark", None)
    # "Got <stream end>" points past the last line; where the unclosed thing began says more.
    at_end = problem is not None and problem.index >= len(fm_text.rstrip("\n"))
    mark = context if (context and (at_end or problem is None)) else problem
    return first_line + mark.line if mark else first_line


def _repair(fm_text: str, first_line: int, warnings: list[Notice]) -> _Loaded | None:
    """Read a frontmatter that YAML refuses, one top-level key at a time.

    Authors often write a value YAML cannot read as a plain scalar: an unquoted ``: `` (``Use
    when: ...``, ``<example>Context: ...``), or a leading ``*``/``**``. Each key whose text does
    not parse on its own is taken as the plain text the author wrote, with a warning. Returns None
    when the file is not a list of ``key: value`` entries at all.
    """
    lines = _yaml_lines(fm_text)
    entries: list[tuple[str, int, list[str]]] = []  # key, 0-based line, its lines
    prefix: list[str] = []
    for index, line in enumerate(lines):
        match = _TOP_KEY_RE.match(line)
        if match:
            entries.append((match.group(1), index, [line]))
        elif entries:
            entries[-1][2].append(line)
        elif line.strip() == "" or line.lstrip().startswith("#"):
            prefix.append(line)
        else:
            return None
    if not entries:
        return None

    frontmatter: dict[str, Any] = {}
    sources: dict[str, str] = {}
    seen: dict[str, int] = {}
    for key, index, entry_lines in entries:
        key_line = first_line + index
        if key in seen:
            raise AgentFileError(
                f"duplicate key '{key}' (first on line {seen[key]}): YAML keeps only the last "
                "one, so the file is ambiguous",
                key_line,
            )
        seen[key] = key_line
        text = "".join(entry_lines)
        error: yaml.YAMLError | None = None
        try:
            value = load_yaml(text)
        except yaml.YAMLError as exc:
            value, error = None, exc
        except YAMLAliasError as exc:
            raise AgentFileError(exc.message, key_line + exc.line - 1) from None
        if isinstance(value, dict) and list(value) == [key]:
            frontmatter[key] = value[key]
            sources[key] = text
            continue
        plain = _as_written(entry_lines, key)
        if plain is None:
            return None
        frontmatter[key] = plain
        warnings.append(
            Notice(
                f"'{key}' is not valid YAML as written ({_why_plain_fails(plain, error)}); "
                "read it as the plain text the author wrote and will write it quoted",
                key_line,
                key,
            )
        )
    return frontmatter, sources, "".join(prefix), seen


def _as_written(entry_lines: list[str], key: str) -> str | None:
    """The text of an unquoted value as its author meant it: lines folded as YAML folds them."""
    first = entry_lines[0].split(":", 1)[1].strip()
    rest = [line.rstrip("\n") for line in entry_lines[1:]]
    while rest and not rest[-1].strip():
        rest.pop()
    if first[:1] and first[0] in "[{&!|>'\"":
        return None  # flow collections, quotes, tags, block scalars: a real YAML mistake
    if any(line.strip() and line[:1] not in (" ", "\t") for line in rest):
        return None  # YAML needs continuation lines indented; this is not one value
    pieces = [first] if first else []
    blank_run = 0
    for line in rest:
        stripped = line.strip()
        if not stripped:
            blank_run += 1
            continue
        if pieces:
            pieces.append("\n" * blank_run if blank_run else " ")
        pieces.append(stripped)
        blank_run = 0
    value = "".join(pieces)
    return value if value else None


def _why_plain_fails(value: str, error: yaml.YAMLError | None) -> str:
    if isinstance(error, yaml.constructor.ConstructorError) and error.problem:
        return error.problem  # a date that is not one, a number too long
    if value.startswith("*"):
        return "a value starting with '*' reads as a YAML alias"
    if value[:1] in ("`", "@", "%"):
        return f"YAML reserves '{value[0]}' at the start of a value"
    if ": " in value:
        return "an unquoted ': ' inside it"
    return "YAML syntax inside it"


# --- Rendering ------------------------------------------------------------------------------


class _StyledStr(str):
    """A string that asks the emitter for a particular scalar style."""

    style: str | None = None


class _Emitter(yaml.emitter.Emitter):
    def choose_scalar_style(self) -> str:
        style = super().choose_scalar_style()
        # Only the double-quoted form escapes everything predictably; when the plain form is not
        # safe and no style was asked for, use it rather than PyYAML's single quotes.
        if style == "'" and not self.event.style:
            return '"'
        if style in ("'", "|", ">"):
            text = self.event.value
            # NEL, LS and PS written raw are line breaks to YAML 1.1 (PyYAML folds or
            # normalises them) but text to YAML 1.2: only escaped do they read back the same.
            if set(text) & {"\x85", "\u2028", "\u2029"}:
                return '"'
            # A block scalar that must keep its trailing line breaks ('|+') makes PyYAML end the
            # document with a '...' line, which would close the frontmatter's YAML early.
            if style != "'" and self.determine_block_hints(text).endswith("+"):
                return '"'
        return style


class _Dumper(
    _Emitter,
    yaml.serializer.Serializer,
    yaml.representer.SafeRepresenter,
    yaml.resolver.Resolver,
):
    def __init__(self, stream: Any, **kwargs: Any):
        _Emitter.__init__(
            self,
            stream,
            canonical=False,
            indent=2,
            width=_HUGE_WIDTH,
            allow_unicode=True,
            line_break="\n",
        )
        yaml.serializer.Serializer.__init__(self, explicit_start=False, explicit_end=False)
        yaml.representer.SafeRepresenter.__init__(
            self, default_style=None, default_flow_style=False, sort_keys=False
        )
        yaml.resolver.Resolver.__init__(self)

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Block lists indented under their key ("skills:\n  - a"), as people write them.
        super().increase_indent(flow, False)


def _represent_styled(dumper: _Dumper, data: _StyledStr) -> yaml.ScalarNode:
    node = dumper.represent_str(str(data))
    node.style = data.style
    return node


_Dumper.add_representer(_StyledStr, _represent_styled)


def render(
    frontmatter: Mapping[str, Any],
    body: str,
    sources: Mapping[str, str] | None = None,
    prefix: str = "",
) -> str:
    """The agent file for this data: always one that Claude Code loads.

    ``tools`` and ``disallowedTools`` may be given as lists; they are written as comma strings.
    Keys whose value is empty (None, "", [], {}) are left out.
    """
    sources = sources or {}
    out = ["---\n", prefix if _is_comment_block(prefix) else ""]
    for key, value in frontmatter.items():
        if key in TOOL_LIST_KEYS and not is_empty(value):
            value = join_tools(split_tools(value))
        if is_empty(value):
            continue
        source = sources.get(key)
        if source is not None and _source_still_valid(key, value, source):
            out.append(source)
        else:
            out.append(_emit_entry(key, value, _style_of(source)))
    out.append("---\n")
    out.append(body)
    return "".join(out)


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and len(value) == 0)


def _is_comment_block(text: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines())


def _source_still_valid(key: str, value: Any, source: str) -> bool:
    try:
        loaded = load_yaml(source)
    except (yaml.YAMLError, YAMLAliasError):
        return False
    if not isinstance(loaded, dict) or list(loaded) != [key]:
        return False
    written = loaded[key]
    if key in TOOL_LIST_KEYS:
        # Kept as written only when it is already a clean comma string naming the same tools.
        return (
            isinstance(written, str)
            and split_tools(written) == split_tools(value)
            and "" not in [part.strip() for part in written.split(",")]
        )
    return same_value(written, value)


def same_value(a: Any, b: Any) -> bool:
    """Equality that also compares types: YAML's ``true`` is not ``1``, ``1.0`` is not ``1``."""
    if type(a) is not type(b) and not (isinstance(a, str) and isinstance(b, str)):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _style_of(source: str | None) -> str | None:
    """The scalar style a key's value was written in ('"', "'", '|', '>' or None for plain)."""
    if not source:
        return None
    try:
        node = yaml.compose(source, Loader=BoundedLoader)
    except (yaml.YAMLError, YAMLAliasError):
        return None
    if isinstance(node, yaml.MappingNode) and node.value:
        value_node = node.value[0][1]
        if isinstance(value_node, yaml.ScalarNode):
            return value_node.style
    return None


def _emit_entry(key: str, value: Any, style: str | None) -> str:
    if isinstance(value, str) and style:
        value = _StyledStr(value)
        value.style = style
    return dump_yaml({key: value})


def dump_yaml(value: Any) -> str:
    """YAML text for ``value``, written as ``render`` writes values: it reads back the same
    (PyYAML's own dump writes NEL raw in single quotes, which reads back as a space)."""
    stream = io.StringIO()
    dumper = _Dumper(stream)
    try:
        dumper.open()
        dumper.serialize(dumper.represent_data(value))
        dumper.close()
    finally:
        dumper.dispose()
    return stream.getvalue()


def unified_diff(old: str, new: str, old_label: str, new_label: str) -> str:
    """The unified diff between two versions of a file, as ``diff -u`` shows it."""
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), old_label, new_label
        )
    )


# --- Body: sections and instruction steps ---------------------------------------------------

_HEADING_RE = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_INSTRUCTIONS_HEADING_RE = re.compile(
    r"\b(instructions?|steps|workflow|process|procedure)\b", re.IGNORECASE
)
_STEP_START_RE = re.compile(r"^(\d+)\. (.*)$")
_STEP_TITLE_RE = re.compile(r"^\*\*(?P<title>[^*\n]+?)\*\*(?P<sep>: |:$| |$)(?P<text>.*)$", re.S)


@dataclass
class Step:
    """One numbered instruction: an optional bold title and its text (nested lines as written)."""

    title: str
    text: str

    def render(self, number: int) -> str:
        if not self.title:
            return f"{number}. {self.text}"
        if self.title.endswith((":", ".", "?", "!")):
            separator = " " if self.text else ""
        else:
            separator = ": " if self.text and not self.text.startswith("\n") else ":"
        return f"{number}. **{self.title}**{separator}{self.text}"


@dataclass
class BodyPart:
    """A piece of the body: Markdown kept as written, or the numbered instruction steps."""

    markdown: str = ""
    steps: list[Step] | None = None
    tight: bool = False  # steps only: no blank line between them

    @property
    def is_steps(self) -> bool:
        return self.steps is not None


def render_steps(steps: list[Step], tight: bool = False) -> str:
    separator = "\n" if tight else "\n\n"
    return separator.join(step.render(n) for n, step in enumerate(steps, 1)) + "\n"


def join_body(parts: Iterable[BodyPart]) -> str:
    """The body these parts make, each written as it is.

    A part that does not end its last line (text typed in a form) is ended with a blank line
    when another part follows, so that parts are never glued onto one line: ``...edit files.``
    and ``1. Step`` stay two blocks. Parts read from a file always end their lines, so
    ``join_body(split_body(body)) == body`` still holds.
    """
    texts = [render_steps(p.steps, p.tight) if p.is_steps else p.markdown for p in parts]
    out = []
    for index, text in enumerate(texts):
        if not text.endswith("\n") and any(texts[index + 1 :]):
            text = blank_line_after(text)
        out.append(text)
    return "".join(out)


def blank_line_after(text: str) -> str:
    """``text`` ended with a blank line, so that what is written after it starts a new block
    (a heading, a list) instead of continuing its last paragraph. Empty text stays empty."""
    if not text or text.endswith("\n\n"):
        return text
    return text + ("\n" if text.endswith("\n") else "\n\n")


def markdown_sections(markdown: str) -> list[str]:
    """Markdown cut before each heading (code fences respected); joined, they give it back."""
    return _sections(markdown)


def split_body(body: str) -> list[BodyPart]:
    """The body as Markdown sections (one per heading, code fences respected), with the first
    numbered list under an Instructions-like heading lifted out as steps.

    ``join_body(split_body(body)) == body`` always: steps are only recognised when writing them
    back gives the same bytes.
    """
    sections = _sections(body)
    parts: list[BodyPart] = []
    found = False
    for section in sections:
        if not found and _is_instructions_section(section):
            lifted = _lift_steps(section)
            if lifted is not None:
                parts.extend(part for part in lifted if part.is_steps or part.markdown)
                found = True
                continue
        parts.append(BodyPart(markdown=section))
    if join_body(parts) != body:  # cannot happen; if it ever did, keep the body whole
        return [BodyPart(markdown=body)]
    return parts


# A line after the first that may be a heading: a section can start nowhere else.
_LATER_HEADING = ("\n#", "\n #", "\n  #", "\n   #")


def _sections(body: str) -> list[str]:
    if not any(start in body for start in _LATER_HEADING):
        return [body] if body else []  # one section (most of what the importer cuts again)
    lines = body.split("\n")
    lines = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    sections: list[list[str]] = [[]]
    fence: str | None = None
    for line in lines:
        # Cheap tests first: a fence or a heading starts within a line's first four characters.
        start = line[:4]
        fence_match = ("`" in start or "~" in start) and _FENCE_RE.match(line)
        if fence_match:
            marker = fence_match.group(1)
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence):
                fence = None
        elif (
            fence is None
            and "#" in start
            and line.endswith("\n")
            and _HEADING_RE.match(line.rstrip("\n"))
            # Blank lines before a heading stay with it rather than stand alone.
            and any(existing.strip() for existing in sections[-1])
        ):
            sections.append([])
        sections[-1].append(line)
    return ["".join(section) for section in sections if section]


def section_heading(markdown: str) -> str:
    """The heading text a Markdown section starts with, or ''."""
    for line in markdown.splitlines():
        if line.strip():
            match = _HEADING_RE.match(line)
            return match.group(2) if match else ""
    return ""


def _is_instructions_section(section: str) -> bool:
    return bool(_INSTRUCTIONS_HEADING_RE.search(section_heading(section)))


def _lift_steps(section: str) -> list[BodyPart] | None:
    lines = section.split("\n")
    lines = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    start = next((i for i, line in enumerate(lines) if line.startswith("1. ")), None)
    if start is None:
        return None
    items: list[list[str]] = []
    gaps: list[int] = []
    index = start
    while index < len(lines):
        line = lines[index]
        match = _STEP_START_RE.match(line.rstrip("\n"))
        if not (match and int(match.group(1)) == len(items) + 1):
            break
        item = [line]
        index += 1
        while index < len(lines):
            following = lines[index]
            if following[:1] in (" ", "\t"):
                item.append(following)
                index += 1
                continue
            if not following.strip():
                # A blank line belongs to the item only if indented text follows it.
                ahead = index
                while ahead < len(lines) and not lines[ahead].strip():
                    ahead += 1
                if ahead < len(lines) and lines[ahead][:1] in (" ", "\t"):
                    item.extend(lines[index:ahead])
                    index = ahead
                    continue
            break
        items.append(item)
        blank = index
        while blank < len(lines) and not lines[blank].strip():
            blank += 1
        next_is_step = blank < len(lines) and lines[blank].startswith(f"{len(items) + 1}. ")
        if not next_is_step:
            break
        gaps.append(blank - index)
        index = blank
    if len(items) < 2 or len(set(gaps)) != 1 or gaps[0] > 1:
        return None
    tight = gaps[0] == 0
    if not items[-1][-1].endswith("\n"):
        return None
    steps = []
    for item in items:
        raw = "".join(item)
        raw = raw[raw.index(". ") + 2 :].removesuffix("\n")
        title_match = _STEP_TITLE_RE.match(raw)
        if title_match and len(title_match.group("title")) <= MAX_STEP_TITLE_LENGTH:
            step = Step(title_match.group("title"), title_match.group("text"))
        else:
            step = Step("", raw)
        steps.append(step)
    end = index
    before = "".join(lines[:start])
    after = "".join(lines[end:])
    parts = [
        BodyPart(markdown=before),
        BodyPart(steps=steps, tight=tight),
        BodyPart(markdown=after),
    ]
    if join_body(parts) != section:
        return None
    return parts


# --- Validation -----------------------------------------------------------------------------


def validate(
    frontmatter: Mapping[str, Any],
    known_tools: Mapping[str, str | None],
    *,
    strict: bool,
) -> tuple[list[Notice], list[Notice]]:
    """(errors, warnings) for an agent's frontmatter.

    ``strict`` is for what people type in the portal: a name off the pattern, an unknown tool,
    model or color is an error. An imported file keeps them (the file is the author's) and gets a
    warning instead. An empty description, a value longer than the portal stores
    (``MAX_LENGTH``, ``MAX_TURNS``), a NUL character and a tool entry that is not text are errors
    either way.
    """
    errors: list[Notice] = []
    warnings: list[Notice] = []
    lenient = warnings if not strict else errors

    too_long = set()
    for key, limit in MAX_LENGTH.items():
        value = frontmatter.get(key)
        if isinstance(value, str) and len(value) > limit:
            too_long.add(key)
            errors.append(
                Notice(f"{key} is {len(value):,} characters long; at most {limit:,}", field=key)
            )
    for key, value in frontmatter.items():
        if "\x00" in key or (isinstance(value, str) and "\x00" in value):
            errors.append(Notice(_nul_message(key), field=key))

    name = frontmatter.get("name")
    if name is None or (isinstance(name, str) and not name.strip()):
        errors.append(Notice("'name' is required", field="name"))
    elif not isinstance(name, str):
        errors.append(Notice(f"'name' must be text, not {name!r}: put it in quotes", field="name"))
    elif "name" in too_long:
        pass
    elif _CONTROL_RE.search(name):
        errors.append(Notice("'name' must be one line, without control characters", field="name"))
    elif not NAME_RE.match(name):
        lenient.append(
            Notice(
                f"name {name!r} does not match the naming rule: use lowercase letters, digits "
                "and single hyphens, e.g. 'code-reviewer'",
                field="name",
            )
        )
    description = frontmatter.get("description")
    if not isinstance(description, str) or not description.strip():
        errors.append(
            Notice(
                "'description' is required: say when Claude should hand work to this agent",
                field="description",
            )
        )

    model = frontmatter.get("model")
    if (
        "model" not in too_long
        and model not in (None, "")
        and not (isinstance(model, str) and (model in MODEL_ALIASES or MODEL_ID_RE.match(model)))
    ):
        lenient.append(
            Notice(
                f"unknown model {model!r}: use one of {', '.join(MODEL_ALIASES)} or a full model "
                "id such as 'claude-sonnet-5'",
                field="model",
            )
        )
    for key, allowed in (
        ("color", COLORS),
        ("permissionMode", PERMISSION_MODES),
        ("memory", MEMORY_SCOPES),
        ("effort", EFFORTS),
        ("isolation", ISOLATIONS),
    ):
        value = frontmatter.get(key)
        if key not in too_long and value not in (None, "") and value not in allowed:
            lenient.append(
                Notice(f"unknown {key} {value!r}: use one of {', '.join(allowed)}", field=key)
            )
    max_turns = frontmatter.get("maxTurns")
    if isinstance(max_turns, int) and not isinstance(max_turns, bool) and max_turns > MAX_TURNS:
        errors.append(Notice(f"maxTurns is {max_turns:,}; at most {MAX_TURNS:,}", field="maxTurns"))
    elif max_turns is not None and (
        not isinstance(max_turns, int) or isinstance(max_turns, bool) or max_turns < 1
    ):
        lenient.append(
            Notice(f"maxTurns must be a positive whole number, not {max_turns!r}", field="maxTurns")
        )
    background = frontmatter.get("background")
    if background is not None and not isinstance(background, bool):
        lenient.append(
            Notice(f"background must be true or false, not {background!r}", field="background")
        )

    for key in TOOL_LIST_KEYS:
        problem = tool_list_problem(key, frontmatter.get(key))
        if problem:
            errors.append(Notice(problem, field=key))
            continue
        for tool in split_tools(frontmatter.get(key)):
            if len(tool) > MAX_TOOL_NAME_LENGTH:
                errors.append(
                    Notice(
                        f"a tool name in {key} is {len(tool):,} characters long; at most "
                        f"{MAX_TOOL_NAME_LENGTH:,}",
                        field=key,
                    )
                )
                continue
            if "\x00" in tool:
                if not isinstance(frontmatter[key], str):  # else said above
                    errors.append(Notice(_nul_message(key), field=key))
                continue
            kind, replacement = classify_tool(tool, known_tools)
            if kind == "unknown":
                lenient.append(
                    Notice(
                        f"unknown tool {tool!r} in {key}: Claude Code drops names it does not "
                        "know. Use a built-in tool (Read, Edit, Bash, ...) or an MCP tool "
                        "written mcp__<server>__<tool>",
                        field=key,
                    )
                )
            elif kind == "legacy":
                warnings.append(
                    Notice(
                        f"{tool!r} is a legacy tool name; today it is {replacement!r}", field=key
                    )
                )
    return errors, warnings


def _nul_message(key: str) -> str:
    return f"{key!r} holds a NUL character (\\0): the portal cannot store it; remove it"
