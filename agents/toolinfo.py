"""What each tool name in an agent's ``tools`` line gives the agent, in one line a person reads.

Pure: no ORM. Pages pass the tool registry (``Tool.registry()``: name -> replacement or None) so
that names an admin added count as known; the explanations cover Claude Code's built-ins
(``agentfile.BUILTIN_TOOLS``, late 2026).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from . import agentfile

EXPLANATIONS: dict[str, str] = {
    "Agent": "Starts a subagent to work on a task on its own.",
    "Bash": "Runs shell commands.",
    "Edit": "Changes files by replacing exact pieces of text.",
    "Glob": "Finds files by name pattern.",
    "Grep": "Searches the contents of files.",
    "Read": "Reads files: text, images, PDFs and notebooks.",
    "Write": "Creates files or overwrites them.",
    "NotebookEdit": "Changes cells of Jupyter notebooks.",
    "WebFetch": "Fetches a web page and reads it.",
    "WebSearch": "Searches the web.",
    "TodoWrite": "Keeps a to-do list for the session.",
    "Skill": "Uses a skill or slash command available to the project.",
    "TaskCreate": "Adds a task to the shared task list.",
    "TaskGet": "Reads one task of the task list.",
    "TaskList": "Lists the tasks of the task list.",
    "TaskUpdate": "Updates a task of the task list.",
    "TaskOutput": "Reads the output of a background command or task.",
    "TaskStop": "Stops a background command or task.",
    "LSP": "Asks language servers for definitions, references and errors.",
    "Monitor": "Watches a background process and reacts to what it prints.",
    "PowerShell": "Runs PowerShell commands.",
    "AskUserQuestion": "Asks the user questions with choices to pick from.",
    "ToolSearch": "Finds and loads tools that are not loaded up front (such as MCP tools).",
    "EnterWorktree": "Moves the work into a new git worktree.",
    "ExitWorktree": "Leaves the git worktree it entered.",
    "SendMessage": "Sends a message to another agent.",
    "Artifact": "Shows the user a document or page it made.",
    "CronCreate": "Schedules a prompt to run later or repeatedly.",
    "CronDelete": "Cancels a scheduled prompt.",
    "CronList": "Lists the scheduled prompts.",
    "ListMcpResourcesTool": "Lists the resources MCP servers offer.",
    "ReadMcpResourceTool": "Reads a resource from an MCP server.",
}

NO_TOOLS_LINE = (
    "No tools line: the agent has every tool of the conversation that starts it, MCP tools "
    "included."
)


@dataclass(frozen=True)
class ToolInfo:
    """One entry of a tools line, explained."""

    name: str
    kind: str  # builtin, legacy, mcp or unknown (agentfile.classify_tool)
    explanation: str
    replacement: str | None = None  # for a legacy name: the tool Claude Code uses today
    server: str | None = None  # for an MCP tool: its server


def explain(name: str, registry: Mapping[str, str | None]) -> ToolInfo:
    """What the tool ``name`` (as written in a tools line) gives an agent."""
    kind, replacement = agentfile.classify_tool(name, registry)
    if kind == "mcp":
        server, _, tool = name.removeprefix("mcp__").partition("__")
        if tool in ("", "*"):
            text = f"Every tool of the MCP server {server}."
        else:
            text = f"The tool {tool} of the MCP server {server}."
        return ToolInfo(name, kind, text, server=server)
    match = agentfile.TOOL_WITH_ARGS_RE.match(name)
    base, arguments = (match.group(1), match.group(2).strip()) if match else (name, "")
    if kind == "unknown":
        return ToolInfo(
            name, kind, "Not a tool Claude Code knows: it drops the name when it loads the agent."
        )
    current = replacement or base
    text = EXPLANATIONS.get(current, "A tool registered in the portal.")
    if arguments:
        text += (
            f" Only these agents: {arguments}."
            if current == "Agent"
            else f" Limited to: {arguments}."
        )
    if kind == "legacy":
        text = f"Old name of {replacement}, which Claude Code uses today. {text}"
    return ToolInfo(name, kind, text, replacement=replacement)
