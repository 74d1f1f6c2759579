"""Fill the tool registry with Claude Code's built-in tools and the legacy names still in use.

The lists are a snapshot (late 2026, see docs/agent-file-format.md); admins add new tools in the
admin as Claude Code grows.
"""

from django.db import migrations

BUILTIN = [
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
]
LEGACY = {
    "MultiEdit": "Edit",
    "NotebookRead": "Read",
    "LS": "Glob",
    "Task": "Agent",
    "BashOutput": "TaskOutput",
    "KillShell": "TaskStop",
    "KillBash": "TaskStop",
    "SlashCommand": "Skill",
}


def add_tools(apps, schema_editor):
    Tool = apps.get_model("agents", "Tool")
    current = {name: Tool.objects.get_or_create(name=name)[0] for name in BUILTIN}
    for name, replacement in LEGACY.items():
        Tool.objects.update_or_create(name=name, defaults={"replaced_by": current[replacement]})


def remove_tools(apps, schema_editor):
    Tool = apps.get_model("agents", "Tool")
    Tool.objects.filter(name__in=[*BUILTIN, *LEGACY]).delete()


class Migration(migrations.Migration):
    dependencies = [("agents", "0001_initial")]

    operations = [migrations.RunPython(add_tools, remove_tools)]
