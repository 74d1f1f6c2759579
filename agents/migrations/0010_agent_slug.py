"""Each agent's address in the portal: its name made safe for a path, unique."""

from django.db import migrations, models


def fill_slugs(apps, schema_editor):
    from agents import agentfile

    Agent = apps.get_model("agents", "Agent")
    taken: set[str] = set()
    for agent in Agent.objects.order_by("pk"):
        base = candidate = agentfile.file_stem(agent.name)
        n = 1
        while candidate in taken:
            n += 1
            candidate = f"{base}-{n}"
        taken.add(candidate)
        Agent.objects.filter(pk=agent.pk).update(slug=candidate)


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0009_latest_revision_and_listing"),
    ]

    operations = [
        migrations.AddField(
            model_name="agent",
            name="slug",
            field=models.CharField(editable=False, max_length=210, null=True),
        ),
        migrations.RunPython(fill_slugs, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="agent",
            name="slug",
            field=models.CharField(
                editable=False,
                help_text="The agent's address in the portal: its name made safe for a path.",
                max_length=210,
                unique=True,
            ),
        ),
    ]
