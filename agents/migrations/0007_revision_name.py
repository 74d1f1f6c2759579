"""Each revision records the agent's name in its file: downloads go by the published name."""

from django.db import migrations, models


def name_revisions(apps, schema_editor):
    from agents import agentfile

    Revision = apps.get_model("agents", "Revision")
    for revision in Revision.objects.select_related("agent").iterator():
        try:
            name = agentfile.parse(revision.text).frontmatter.get("name")
        except agentfile.AgentFileError:
            name = None
        name = name if isinstance(name, str) and name else revision.agent.name
        # An UPDATE: revisions are otherwise never changed once written.
        Revision.objects.filter(pk=revision.pk).update(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0006_staged_import"),
    ]

    operations = [
        migrations.AddField(
            model_name="revision",
            name="name",
            field=models.CharField(
                db_index=True,
                default="",
                help_text="The agent's name in this file.",
                max_length=200,
            ),
            preserve_default=False,
        ),
        migrations.RunPython(name_revisions, migrations.RunPython.noop),
    ]
