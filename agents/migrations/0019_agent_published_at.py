"""``Agent.published_at``: when the published revision was published, written by the workflow's
publishing steps (approve, and the operator's publish), so that a download reads its
Last-Modified from the agent's row rather than from a subquery on the events (issue 11: the
subquery was half of the one-file download's query time at 10,000 agents).

Filled here from the events as the downloads read it until now: the latest publishing event of
the published revision. An agent published with no such event (none is written without one)
keeps it empty, and its download falls back to the revision's own time, as before.
"""

from django.db import migrations, models


def fill_published_at(apps, schema_editor):
    Agent = apps.get_model("agents", "Agent")
    Event = apps.get_model("agents", "Event")
    latest = Event.objects.filter(
        revision=models.OuterRef("published_revision"), action__in=("approve", "publish")
    ).order_by("-created_at")
    Agent.objects.filter(published_revision__isnull=False).update(
        published_at=models.Subquery(latest.values("created_at")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0018_listing_index_with_id"),
    ]

    operations = [
        migrations.AddField(
            model_name="agent",
            name="published_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill_published_at, migrations.RunPython.noop),
    ]
