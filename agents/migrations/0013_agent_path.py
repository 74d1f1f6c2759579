"""Where each agent's file lives (relative to .claude/agents/): ``<name>.md`` for the agents
that exist, unique; staged imports keep the path of each file."""

from django.db import migrations, models


def fill_paths(apps, schema_editor):
    from agents.distribution import paths

    Agent = apps.get_model("agents", "Agent")
    taken: set[str] = set()
    for pk, name in Agent.objects.order_by("pk").values_list("pk", "name").iterator():
        base = candidate = paths.default_path(name)
        n = 1
        while candidate in taken:
            n += 1
            candidate = paths.numbered(base, n)
        taken.add(candidate)
        Agent.objects.filter(pk=pk).update(path=candidate)


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0012_revision_search"),
    ]

    operations = [
        migrations.AddField(
            model_name="agent",
            name="path",
            field=models.CharField(blank=True, max_length=500, null=True),
        ),
        migrations.RunPython(fill_paths, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="agent",
            name="path",
            field=models.CharField(
                blank=True,
                help_text="Where the file goes under .claude/agents/, e.g. "
                "engineering/code-reviewer.md (a new agent without one gets <name>.md). Imported "
                "agents keep the path they were imported from.",
                max_length=500,
                unique=True,
            ),
        ),
        migrations.AddField(
            model_name="stagedfile",
            name="path",
            field=models.TextField(blank=True, help_text="The path the agent keeps (Agent.path)."),
        ),
    ]
